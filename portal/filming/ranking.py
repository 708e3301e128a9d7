"""Which collection points the office is offered for a permit request, and how busy the nearby ones are.

The request page lists every active point, nearest to the outlet's wishes first, and the load of the
points it asked for (and of its district) during the round, so staff see a full point before choosing it.
"""

from __future__ import annotations

from portal.filming import capacity
from portal.filming.models import CollectionPoint, PermitRequest
from portal.filming.points import all_points
from portal.filming.service import PointLoad, round_of

#: At most this many nearby points have their load shown.
NEARBY_LIMIT = 10


def candidate_points(permit_request: PermitRequest) -> list[CollectionPoint]:
    """Active points: the preferred ones first, then the preferred district, the region, the rest."""
    preferred = [p.code for p in permit_request.preferred_points]

    def rank(point: CollectionPoint) -> tuple[int, str, str]:
        if point.code in preferred:
            return (0, point.district, point.code)
        if permit_request.preferred_district and point.district == permit_request.preferred_district:
            return (1, point.district, point.code)
        if point.region == permit_request.preferred_region:
            return (2, point.district, point.code)
        return (3, point.region + point.district, point.code)

    return sorted(all_points(active_only=True), key=rank)


def nearby_loads(permit_request: PermitRequest, candidates: list[CollectionPoint]) -> list[PointLoad]:
    """Who is already booked during the round at the preferred points and those of the preferred district."""
    round_ = round_of(permit_request)
    if round_ is None:
        return []
    shown = [
        p
        for p in candidates
        if p in permit_request.preferred_points
        or (permit_request.preferred_district and p.district == permit_request.preferred_district)
    ][:NEARBY_LIMIT]
    loads = []
    for point in shown:
        booked = capacity.overlapping(point, round_.voting_starts_at, round_.live_ends_at)
        windows = [(p.starts_at, p.ends_at) for p in booked if p.starts_at and p.ends_at]
        loads.append(PointLoad(point, booked, capacity.peak(windows)))
    return loads
