"""The points offered for a permit request: nearest to the outlet's wishes first, with the nearby load."""

from __future__ import annotations

import pytest

from portal.db import utcnow
from portal.filming import ranking, service
from portal.filming.errors import PointInvalid
from portal.filming.points import PointData, add_point
from tests.filming.conftest import JANA, processing_window


@pytest.fixture
def election(app, make_election):
    return make_election(code="prez2099")


def test_preferred_points_come_first_then_the_district_the_region_and_the_rest(
    election, make_point, make_permit_request
):
    make_point("OVA", region="Moravskoslezský kraj", district="Ostrava-město")
    make_point("ZNO", district="Znojmo")
    make_point("BRN2")
    make_point("BRN1")
    make_point("PREF", region="Plzeňský kraj", district="Plzeň-město")
    make_point("OFF", active=False)
    request = make_permit_request(election, points=("PREF",))
    assert [p.code for p in ranking.candidate_points(request)] == ["PREF", "BRN1", "BRN2", "ZNO", "OVA"]


def test_the_load_shows_the_preferred_points_and_the_district_with_their_peak(
    election, make_point, make_permit_request, make_staff
):
    brno = make_point("BRN1", capacity=1)
    make_point("ZNO", district="Znojmo")
    start, end = processing_window(election)
    (booked,) = make_permit_request(election, persons=[JANA]).persons
    service.approve_person(booked, point=brno, starts_at=start, ends_at=end, staff=make_staff(), at=utcnow())
    request = make_permit_request(election)
    loads = ranking.nearby_loads(request, ranking.candidate_points(request))
    assert [(load.point.code, load.peak, load.overbooked) for load in loads] == [("BRN1", 1, False)]
    assert loads[0].permits == [booked]


def test_a_request_without_its_round_has_no_load(election, make_point, make_permit_request):
    make_point("BRN1")
    request = make_permit_request(election)
    request.round_number = 9
    assert ranking.nearby_loads(request, ranking.candidate_points(request)) == []


def test_a_new_point_needs_a_free_code(app, make_point, make_staff):
    make_point("BRN1")
    data = PointData("BRN1", "Brno", "Dominikánské náměstí 196/1", "Jihomoravský kraj", "Brno-město", 2)
    with pytest.raises(PointInvalid) as refused:
        add_point(data, staff=make_staff(), at=utcnow())
    assert refused.value.errors == {"code": ("code_taken", {"code": "BRN1"})}
