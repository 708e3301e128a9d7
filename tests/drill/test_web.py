"""The drill's way with the portal's pages, without a running portal: forms, notices, collected checks."""

from __future__ import annotations

import pytest

from drill.web import _Checks, find_form, flash_messages

PAGE = """
<form class="language-switch" method="post" action="/language">
  <input type="hidden" name="csrf_token" value="tok"><button name="language" value="en">English</button>
</form>
<div class="notice notice-error" role="alert">Podpis nelze ověřit.</div>
<form method="post" enctype="multipart/form-data" action="/organisations/3/applications/7/signed" class="form">
  <input id="csrf_token" name="csrf_token" type="hidden" value="tok">
  <input id="signed_pdf" name="signed_pdf" type="file">
  <button type="submit">Nahrát</button>
</form>
<a href="/organisations/3/applications/7/application.pdf?lang=cs">PDF</a>
<form method="post" novalidate>
  <input name="csrf_token" type="hidden" value="tok">
  <select name="round_number"><option value="1" selected>1</option><option value="2">2</option></select>
  <select name="preferred_area"><option value="">–</option><option value="district:Brno-město">Brno</option></select>
  <input type="checkbox" name="kinds" value="video" checked><input type="checkbox" name="kinds" value="audio">
  <textarea name="scope">
Záznam</textarea>
  <input name="newsroom_name" value="Drill &amp; Co">
</form>
"""


def test_forms_are_read_as_a_browser_would_post_them() -> None:
    upload = find_form(PAGE, "/signed")
    assert upload.enctype == "multipart/form-data"
    assert upload.fields == [("csrf_token", "tok")]  # file inputs are the caller's
    request = find_form(PAGE, having="newsroom_name")
    assert request.action == ""
    assert dict(request.fields)["round_number"] == "1"
    assert ("kinds", "video") in request.fields and ("kinds", "audio") not in request.fields
    assert request.value("scope") == "Záznam"
    assert request.value("newsroom_name") == "Drill & Co"
    assert request.options["preferred_area"] == ["", "district:Brno-město"]
    with pytest.raises(LookupError):
        find_form(PAGE, "/approve")
    assert flash_messages(PAGE) == ["Podpis nelze ověřit."]


def test_checks_fail_when_fewer_succeeded_than_expected() -> None:
    checks = _Checks("registration")
    checks.expect("all", 2)
    checks.expect("some")
    checks.ok("all")
    checks.fail("some", "Drill Media 01: 500")
    result = {c.name: c for c in checks.close()}
    assert not result["all"].ok and "only 1 of 2" in result["all"].detail
    assert not result["some"].ok and "Drill Media 01" in result["some"].detail
