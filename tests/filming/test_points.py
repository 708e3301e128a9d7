"""Collection points: admin editing, the CSV import (all or nothing, every problem named) and export,
the command-line import, and the demo set."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.cli import main
from portal.db import utcnow
from portal.extensions import db
from portal.filming.demo import DEMO_POINTS, seed_demo_points
from portal.filming.errors import PointsCsvInvalid
from portal.filming.models import CollectionPoint
from portal.filming.points import point_by_code
from portal.filming.points_csv import export_points_csv, parse_points_csv
from tests.factories import csrf_token, post_form, sign_in

GOOD = (
    "code,name,address,region,district,capacity\n"
    'brn1,Brno-střed,"Dominikánské náměstí 196/1, Brno",Jihomoravský kraj,Brno-město,3\n'
    "KLA,Kladno,Náměstí Starosty Pavla 44,Středočeský kraj,Kladno,2\n"
)


@pytest.fixture
def admin_client(client, make_staff):
    admin = make_staff(role=Role.ADMIN)
    db.session.commit()
    sign_in(client, admin)
    return client


def upload(client, data: bytes, filename: str = "mista.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        "/staff/filming/points/import",
        data={"csrf_token": csrf_token(client, "/staff/filming/points"), "points_csv": (BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(CollectionPoint))


def test_the_import_creates_then_updates_by_code(app, admin_client):
    response = upload(admin_client, GOOD.encode())
    assert response.status_code == 302
    assert "Importováno: 2 nových, 0 změněných, 0 beze změny." in admin_client.get("/staff/filming/points").get_data(
        as_text=True
    )
    assert point_by_code("BRN1").capacity == 3
    # Semicolons and a byte-order mark, as a spreadsheet saves it; one change, one new point, one the same.
    again = (
        "\ufeffcode;name;address;region;district;capacity;active\n"
        "BRN1;Brno-střed;Dominikánské náměstí 196/1, Brno;Jihomoravský kraj;Brno-město;4;ano\n"
        "KLA;Kladno;Náměstí Starosty Pavla 44;Středočeský kraj;Kladno;2;1\n"
        "OVA;Ostrava;Prokešovo náměstí 8;Moravskoslezský kraj;Ostrava-město;2;0\n"
    )
    upload(admin_client, again.encode())
    db.session.expire_all()
    assert point_by_code("BRN1").capacity == 4 and point_by_code("OVA").active is False and count() == 3
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("collection_point.created") == 3 and actions.count("collection_point.updated") == 1


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xfec\x00o\x00", "není v kódování UTF-8"),
        (b"", "Soubor je prázdný."),
        (b"code,name,address,region,district\n", "řádek 1, sloupec capacity: Sloupec chybí."),
        (b"code,name,address,region,district,capacity,colour\n", "sloupec colour: Neznámý sloupec"),
        (
            GOOD.replace("Brno-město,3", "Brno-město,0").encode(),
            "řádek 2, sloupec capacity: Zadejte celé číslo od 1 do 50.",
        ),
        (GOOD.replace("Středočeský kraj,Kladno", "Středočeský kraj,Brno-město").encode(), "řádek 3, sloupec district"),
        (GOOD.replace("Jihomoravský kraj", "Morava").encode(), "Morava není kraj"),
        (GOOD.replace("KLA,", "BRN1,").encode(), "řádek 3, sloupec code: Stejný kód už je na řádku 2."),
        (GOOD.replace("KLA,", "K L A,").encode(), "sloupec code: Použijte 1 až 20"),
        ((GOOD + "X,Y\n").encode(), "řádek 4: Řádek má 2 sloupců místo 6."),
        ((GOOD + 'X,"open\n').encode(), "není čitelný soubor CSV"),
    ],
)
def test_a_bad_file_imports_nothing_and_names_every_problem(app, admin_client, make_point, data, expected):
    make_point("BRN1", capacity=2)
    db.session.commit()
    response = upload(admin_client, data)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Nic nebylo importováno" in text and expected in text
    db.session.expire_all()
    assert count() == 1 and point_by_code("BRN1").capacity == 2


def test_only_csv_files_of_reasonable_size_are_taken(app, admin_client):
    assert upload(admin_client, GOOD.encode(), "mista.xlsx").status_code == 302
    assert count() == 0
    with pytest.raises(PointsCsvInvalid) as invalid:
        parse_points_csv(b"x" * (1024 * 1024 + 1))
    assert invalid.value.problems[0].code == "too_large"


def test_the_export_reads_back_in_as_the_same_points(app, make_point):
    make_point("BRN1", capacity=3, name='Brno, "střed"; pracoviště')
    make_point("KLA", region="Středočeský kraj", district="Kladno", active=False)
    exported = export_points_csv()
    assert exported.startswith("\ufeffcode,name,address,region,district,capacity,active\r\n")
    points = parse_points_csv(exported.encode())
    assert [(p.code, p.name, p.capacity, p.active) for p in points] == [
        ("BRN1", 'Brno, "střed"; pracoviště', 3, True),
        ("KLA", "Přebírací místo KLA", 2, False),
    ]


def test_the_export_neutralises_formulas_and_reads_them_back(app, make_point):
    make_point("BRN1", name="=1+2")
    exported = export_points_csv()
    assert "\r\nBRN1,'=1+2," in exported
    assert [p.name for p in parse_points_csv(exported.encode())] == ["=1+2"]


def test_admins_edit_points_reviewers_only_read_them(app, client, make_staff, make_point):
    make_point("BRN1")
    reviewer = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, reviewer)
    assert client.get("/staff/filming/points").status_code == 200
    assert client.get("/staff/filming/points/new").status_code == 403
    assert client.get("/staff/filming/points/BRN1/edit").status_code == 403
    assert upload(client, GOOD.encode()).status_code == 403


def test_the_point_form_checks_and_saves(app, admin_client, make_point):
    make_point("KLA", region="Středočeský kraj", district="Kladno")
    db.session.commit()
    form = {
        "code": "brn1",
        "name": "Brno-střed",
        "address": "Dominikánské náměstí 1",
        "region": "Jihomoravský kraj",
        "district": "Kladno",
        "capacity": "many",
        "active": "y",
    }
    refused = post_form(admin_client, "/staff/filming/points/new", form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "Kladno není okres kraje Jihomoravský kraj." in text
    assert "Zadejte celé číslo od 1 do 50." in text and count() == 1
    taken = post_form(
        admin_client, "/staff/filming/points/new", {**form, "code": "kla", "district": "Brno-město", "capacity": "2"}
    )
    assert "Kód KLA už má jiné přebírací místo." in taken.get_data(as_text=True)
    assert (
        post_form(
            admin_client, "/staff/filming/points/new", {**form, "district": "Brno-město", "capacity": "2"}
        ).status_code
        == 302
    )
    assert (
        post_form(
            admin_client, "/staff/filming/points/BRN1/edit", {**form, "district": "Brno-město", "capacity": "5"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert point_by_code("BRN1").capacity == 5
    assert admin_client.get("/staff/filming/points/NOPE/edit").status_code == 404


def test_the_command_line_import(app, tmp_path):
    runner = app.test_cli_runner()
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(GOOD.replace("Brno-město,3", "Brno-město,x"), encoding="utf-8")
    refused = runner.invoke(main, ["filming", "import-points", str(bad)])
    assert refused.exit_code == 1 and "line 2, column capacity: capacity_range" in refused.output
    assert count() == 0
    result = runner.invoke(main, ["filming", "import-points", str(good)])
    assert result.exit_code == 0 and "2 created, 0 updated, 0 unchanged" in result.output
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "collection_point.created"))
    assert event.actor_label == "cli"
    assert runner.invoke(main, ["filming", "import-points", str(tmp_path / "missing.csv")]).exit_code == 2


def test_the_demo_points_are_seeded_once_and_valid(app):
    assert seed_demo_points(utcnow()) == len(DEMO_POINTS)
    assert seed_demo_points(utcnow()) == 0
    assert {p.region for p in DEMO_POINTS} >= {"Hlavní město Praha", "Jihomoravský kraj", "Moravskoslezský kraj"}
    assert parse_points_csv(export_points_csv().encode())  # every demo point passes the import's checks
