"""The office's pages: reachable by anyone, in both languages, their content replaceable per office."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.legal.office import OfficeFileError, load_office
from tests.factories import post_form


@pytest.mark.parametrize(
    ("path", "czech", "english"),
    [
        ("/accessibility", "Prohlášení o přístupnosti", "Accessibility statement"),
        ("/privacy", "Ochrana osobních údajů", "Personal data protection"),
        ("/contact", "Kontakt", "Contact"),
    ],
)
def test_each_legal_page_is_public_linked_from_the_footer_and_in_both_languages(app, path, czech, english):
    client = app.test_client()
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"<h1>{czech}</h1>" in html
    footer = html.split('<footer class="site-footer">')[1]
    assert f'href="{path}"' in footer
    post_form(client, "/language", {"language": "en"})
    assert f"<h1>{english}</h1>" in client.get(path).get_data(as_text=True)


def test_the_privacy_notice_gives_the_retention_of_every_category(app):
    html = app.test_client().get("/privacy").get_data(as_text=True)
    for who in (
        "Žadatelé a kontaktní osoby médií",
        "Zaměstnanci úřadu",
        "Osoby natáčející na přebíracích místech",
        "Účastníci technické porady",
        "auditní záznam",
    ):
        assert who in html
    assert html.count('<th scope="row">') == 5
    assert "Doba uložení" in html and "5 let po konci voleb" in html


def test_an_office_file_replaces_the_defaults_key_by_key(make_app, tmp_path: Path):
    office_file = tmp_path / "office.toml"
    office_file.write_text(
        'email = "media@volby.example"\n'
        '[accessibility]\nstatus = "full"\n'
        '[accessibility.enforcement]\nname = {cs = "Dozorový orgán", en = "The supervisor"}\n',
        encoding="utf-8",
    )
    app = make_app(PORTAL_OFFICE_FILE=str(office_file))
    client = app.test_client()
    contact = client.get("/contact").get_data(as_text=True)
    assert "mailto:media@volby.example" in contact and "2gfaasy" in contact  # the data box kept
    statement = client.get("/accessibility").get_data(as_text=True)
    assert "plně v souladu" in statement and "Dozorový orgán" in statement
    assert "Na Vápence 915/14" in statement  # the enforcement body's address kept from the defaults


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[accessibility]\nstatus = "mostly"\n', "accessibility.status must be one of full, partial, none"),
        ('data_box = ""\n', "the office's data_box is empty"),
        ("email = \n", "PORTAL_OFFICE_FILE="),
    ],
)
def test_a_bad_office_file_is_refused_with_the_key(tmp_path: Path, content: str, message: str):
    office_file = tmp_path / "office.toml"
    office_file.write_text(content, encoding="utf-8")
    with pytest.raises(OfficeFileError, match=message.replace(".", r"\.")):
        load_office(str(office_file))


def test_every_page_keeps_its_scripts_external_and_has_a_favicon(app):
    client = app.test_client()
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert '<script src="/static/portal.js" defer></script>' in html
    assert html.count("<script") == 1  # no inline script anywhere in the layout
    assert '<link rel="icon" href="/static/favicon.svg"' in html
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.mimetype == "image/svg+xml"
    stylesheet = client.get("/static/gov/gov.css").get_data(as_text=True)
    assert stylesheet.startswith("/* @gov-design-system-ce/styles 4.2.7 (EUPL-1.2)")
