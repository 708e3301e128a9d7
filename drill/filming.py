"""Filming permits and the technical meeting, over HTTP against the running portal.

A few approved outlets ask for filming permits with a signed request, staff grant them, and the permit
PDFs and public verification pages are checked; then staff schedule the technical meeting and every
registered outlet must get its invitation (.ics) through the SMTP capture.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from drill.mail import MailCapture, attachments_of
from drill.office import Office, OutletAccount
from drill.plan import Check, Fate, Outlet, Plan
from drill.registration import PRAGUE, phone_of
from drill.web import (
    TIMEOUT,
    Browser,
    DrillError,
    Form,
    _Checks,
    api,
    find_form,
    flash_messages,
    outlet_browser,
    parse_page,
    sign_pdf,
    staff_browser,
)

#: How long the invitations may take from the staff's click to the SMTP capture.
INVITATION_TIMEOUT = 30.0

FILMING, MEETING = "filming", "meeting"


def _prague_minutes(instant: datetime) -> str:
    return instant.astimezone(PRAGUE).strftime("%Y-%m-%dT%H:%M")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _film_round(portal_url: str, office: Office, margin: timedelta) -> tuple[int, datetime, datetime] | None:
    """The first round whose whole-minute window still ends ``margin`` from now: (number, from, until)."""
    answer = api(portal_url, office.reviewer_token, "GET", f"/elections/{office.election}")
    now = datetime.now(UTC)
    for item in answer.body.get("rounds", []) if answer.status == 200 else []:
        opens = _instant(item["voting_starts_at"])
        if opens.second or opens.microsecond:  # the form takes whole minutes: the next one
            opens = opens.replace(second=0, microsecond=0) + timedelta(minutes=1)
        until = _instant(item["live_ends_at"]).replace(second=0, microsecond=0)
        if until - now > margin and until > opens:
            return int(item["number"]), opens, until
    return None


@dataclass(frozen=True)
class _Crew:
    outlet: Outlet
    account: OutletAccount
    point: str
    persons: list[tuple[str, str, str]]  # name, phone, e-mail


def _crews(plan: Plan, office: Office, count: int = 4) -> list[_Crew]:
    """Approved outlets that sign (their editors are signed in already), one collection point each."""
    chosen = [o for o in plan.outlets if o.fate is Fate.APPROVED and o.signed][:count]
    crews = []
    for number, outlet in enumerate(chosen):
        size = 2 if number == 0 else 1
        local = outlet.email.split("@")[0]
        persons = [
            (
                f"Kameraman {number + 1}.{p + 1}",
                f"+420 602 {300 + outlet.index:03d} {400 + p:03d}",
                f"crew{p + 1}.{local}@drill.example",
            )
            for p in range(size)
        ]
        point = office.collection_points[number % len(office.collection_points)]
        crews.append(_Crew(outlet, office.outlets[outlet.index], point, persons))
    return crews


def _request_filming(portal_url: str, office: Office, crew: _Crew, round_number: int) -> str:
    """Save the draft, download its PDF, sign it, upload it; returns the request's reference."""
    editor = outlet_browser(portal_url, crew.account)
    path = f"/organisations/{crew.account.organisation_id}/filming/{office.election}"
    with editor.lock:
        form = find_form(editor.page(path), having="newsroom_name")
        data: list[tuple[str, str]] = [(n, v) for n, v in form.fields if n == "csrf_token"]
        data += [
            ("round_number", str(round_number)),
            ("applicant_name", f"Editor of {crew.outlet.name}"),
            ("applicant_phone", phone_of(crew.outlet)),
            ("applicant_email", crew.outlet.email),
            ("newsroom_name", crew.outlet.name),
            ("newsroom_address", "Vinohradská 1, 120 00 Praha 2"),
            ("scope", "The arrival of the precinct results at the collection point."),
            ("kinds", "video"),
            ("kinds", "photo"),
            ("preferred_area", _area_of(form, crew.point)),
            ("preferred_points", crew.point),
            ("preferred_times", "From the close of the polls until the end of processing."),
            ("save", "Uložit koncept"),
        ]
        for number, (name, phone, email) in enumerate(crew.persons):
            data += [(f"persons-{number}-name", name), (f"persons-{number}-phone", phone)]
            data.append((f"persons-{number}-email", email))
        response = editor.post(form.action or path, data)
        if response.status_code != 302:
            raise DrillError(f"saving the draft answered {response.status_code}: {flash_messages(response.text)}")
        html = editor.page(path)
        download = find_form(html, "/request.pdf", having="lang")
        pdf = editor.post(download.action, dict(download.fields) | {"lang": "cs"})
        if pdf.status_code != 200 or not pdf.content.startswith(b"%PDF-"):
            raise DrillError(f"the request PDF: {pdf.status_code}")
        upload = find_form(html, "/signed")
        signed = sign_pdf(pdf.content, office)
        response = editor.post(
            upload.action,
            dict(upload.fields),
            files={"signed_pdf": ("povoleni-podepsano.pdf", signed, "application/pdf")},
        )
        landing = editor.page(path)
        if response.status_code != 302 or 'notice-error"' in landing:
            raise DrillError(f"the signed request was refused: {flash_messages(landing)}")
    found = re.findall(rf"{re.escape(office.election)}-P\d{{4,}}", landing)
    if not found:
        raise DrillError("the submitted request is not listed on the outlet's page")
    return found[0]


def _area_of(form: Form, point_code: str) -> str:
    from drill.office import POINTS

    district = next(p[4] for p in POINTS if p[0] == point_code)
    region = next(p[3] for p in POINTS if p[0] == point_code)
    choices = form.options.get("preferred_area", [])
    wanted = f"district:{district}" if f"district:{district}" in choices else f"region:{region}"
    return wanted


def _office_signed(pdf: bytes, office: Office) -> str | None:
    """None when the PDF carries the office's valid signature (chaining to the test CA), else why not."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    expected = x509.load_pem_x509_certificate((office.pki_folder / "office-signer.pem").read_bytes())
    root = x509.load_pem_x509_certificate((office.pki_folder / "demo-roots.pem").read_bytes())
    try:
        signatures = PdfFileReader(BytesIO(pdf)).embedded_signatures
        if not signatures:
            return "not signed"
        signature = signatures[0]
        if signature.signer_cert.dump() != expected.public_bytes(serialization.Encoding.DER):
            return f"signed by {signature.signer_cert.subject.human_friendly}, not the office"
        from asn1crypto import x509 as asn1_x509

        context = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))],
            allow_fetching=False,
        )
        status = validate_pdf_signature(signature, context)
    except Exception as error:  # pyHanko raises many kinds on a broken file
        return f"unreadable: {type(error).__name__}: {error}"
    if not status.bottom_line:
        return f"signature not valid: {status.summary()}"
    return None


def filming_and_meeting(portal_url: str, plan: Plan, office: Office, mail: MailCapture) -> list[Check]:
    """A few approved outlets ask for filming permits (signed), staff grant them; the technical meeting."""
    return [*_filming(portal_url, plan, office), *_meeting(portal_url, plan, office, mail)]


def _filming(portal_url: str, plan: Plan, office: Office) -> list[Check]:
    checks = _Checks(FILMING)
    requested_name = "permit requests submitted with a signed PDF"
    granted_name = "staff granted every person a permit"
    pdf_name = "permit PDFs signed by the office; the outlet downloads the same file"
    verify_name = "verification pages say valid"
    crews = _crews(plan, office)
    persons = sum(len(c.persons) for c in crews)
    checks.expect(requested_name, len(crews))
    for name in (granted_name, pdf_name, verify_name):
        checks.expect(name, persons)
    chosen = _film_round(portal_url, office, timedelta(seconds=60))
    if chosen is None:
        checks.fail(requested_name, "no round's live window ends a minute from now: too late for permits")
        return checks.close()
    round_number, opens, until = chosen
    try:
        staff = staff_browser(portal_url, office)
    except (DrillError, LookupError) as error:
        checks.fail(granted_name, f"staff cannot sign in: {error}")
        return checks.close()
    for crew in crews:
        try:
            reference = _request_filming(portal_url, office, crew, round_number)
        except (DrillError, LookupError) as error:
            checks.fail(requested_name, f"{crew.outlet.name}: {error}")
            continue
        checks.ok(requested_name)
        try:
            tokens = _grant(staff, reference, crew, opens, until, checks, granted_name)
        except (DrillError, LookupError) as error:
            checks.fail(granted_name, f"{reference}: {error}")
            continue
        for person_id, token in tokens:
            with staff.lock:
                response = staff.get(f"/staff/filming/requests/{reference}/permit.pdf?person={person_id}")
            problem = (
                _office_signed(response.content, office)
                if response.status_code == 200
                else f"answered {response.status_code}"
            )
            if problem is None:
                problem = _outlet_permit_differs(portal_url, office, crew, person_id, response.content)
            if problem is None:
                checks.ok(pdf_name)
            else:
                checks.fail(pdf_name, f"{reference} person {person_id}: {problem}")
            public = requests.get(f"{portal_url.rstrip('/')}/permits/verify/{token}", timeout=TIMEOUT)
            if public.status_code == 200 and "notice-success permit-status" in public.text:
                checks.ok(verify_name)
            else:
                checks.fail(verify_name, f"{reference} person {person_id}: {public.status_code}")
    detail = {requested_name: f"{len(crews)} requests for round {round_number}"}
    return checks.close(detail)


def _outlet_permit_differs(portal_url: str, office: Office, crew: _Crew, person_id: int, issued: bytes) -> str | None:
    """None when the outlet's download of the permit (its form on the election page) is the issued file."""
    editor = outlet_browser(portal_url, crew.account)
    path = f"/organisations/{crew.account.organisation_id}/filming/{office.election}"
    with editor.lock:
        forms = [f for f in parse_page(editor.page(path)).forms if urlsplit(f.action).path.endswith("/permit.pdf")]
        form = next((f for f in forms if f.value("person") == str(person_id)), None)
        if form is None:
            return "the outlet's page offers no download of the permit"
        response = editor.post(form.action, dict(form.fields))
    if response.status_code != 200:
        return f"the outlet's download answered {response.status_code}"
    return None if response.content == issued else "the outlet's download differs from the issued permit"


def _grant(
    staff: Browser, reference: str, crew: _Crew, opens: datetime, until: datetime, checks: _Checks, name: str
) -> list[tuple[int, str]]:
    """Approve every person of the request at the crew's point for the round; (person id, verify token)."""
    path = f"/staff/filming/requests/{reference}"
    with staff.lock:
        html = staff.page(path)
        forms = [f for f in parse_page(html).forms if urlsplit(f.action).path.endswith("/approve")]
        if len(forms) != len(crew.persons):
            raise DrillError(f"{len(forms)} approval forms for {len(crew.persons)} persons")
        for form in forms:
            person = form.value("person") or ""
            prefix = f"p{person}-"
            data = dict(form.fields) | {
                f"{prefix}point": crew.point,
                f"{prefix}starts_at": _prague_minutes(opens),
                f"{prefix}ends_at": _prague_minutes(until),
            }
            response = staff.post(form.action, data)
            if response.status_code == 302:
                checks.ok(name)
            else:
                checks.fail(
                    name, f"{reference} person {person}: {response.status_code} {flash_messages(response.text)}"
                )
        html = staff.page(path)
    found = re.findall(r"/filming/requests/[^/]+/permit\.pdf\?person=(\d+)", html)
    tokens = re.findall(r"/permits/verify/([A-Za-z0-9_-]+)", html)
    return list(zip((int(p) for p in found), tokens, strict=False))


def _registered_contacts(portal_url: str, office: Office) -> dict[str, str]:
    """Contact e-mail -> outlet name of every application in force (who the meeting invites)."""
    answer = api(portal_url, office.reviewer_token, "GET", f"/applications?election={office.election}&per_page=500")
    if answer.status != 200:
        raise DrillError(f"listing applications: {answer.describe()}")
    contacts = {}
    for application in answer.body["applications"]:
        number = application.get("in_force_version")
        if number is None:
            continue
        version = next(v for v in application["versions"] if v["number"] == number)
        contacts[version["contact_email"].lower()] = application["organisation"]["name"]
    return contacts


def _is_invitation(message: EmailMessage) -> bool:
    return any(kind == "text/calendar" for _name, kind in attachments_of(message))


def _meeting(portal_url: str, plan: Plan, office: Office, mail: MailCapture) -> list[Check]:
    scheduled_name = "technical meeting scheduled by staff"
    invited_name = f"invitations with .ics reached every registered outlet within {INVITATION_TIMEOUT:g} s"
    only_name = "no invitation to outlets without an approved application"
    day = (datetime.now(PRAGUE) + timedelta(days=1)).date()
    path = f"/staff/elections/{office.election}/meeting"
    try:
        staff = staff_browser(portal_url, office)
        expected = _registered_contacts(portal_url, office)
        with staff.lock:
            form = find_form(staff.page(path), having="day")
            data = dict(form.fields) | {
                "day": day.isoformat(),
                "starts": "10:00",
                "ends": "11:30",
                "place": "ČSÚ, Na padesátém 81, Praha 10, zasedací místnost 2",
                "video_link": f"https://meet.drill.example/{office.election}",
                "agenda": "Provoz XML serveru ve volební noc; přístupové adresy; kontakty.",
            }
            clicked = time.monotonic()
            response = staff.post(form.action or path, data)
    except (DrillError, LookupError) as error:
        return [Check(MEETING, scheduled_name, False, str(error))]
    if response.status_code != 302:
        return [Check(MEETING, scheduled_name, False, f"{response.status_code}: {flash_messages(response.text)}")]
    checks = [Check(MEETING, scheduled_name, True, f"{day.isoformat()} 10:00-11:30 Prague")]

    def arrived(messages: list[EmailMessage]) -> bool:
        got = {str(m["To"]).lower() for m in messages if _is_invitation(m)}
        return set(expected) <= got

    messages = mail.wait_for(arrived, INVITATION_TIMEOUT)
    elapsed = time.monotonic() - clicked
    invitations = [m for m in messages if _is_invitation(m)]
    got = {str(m["To"]).lower() for m in invitations}
    missing = sorted(set(expected) - got)
    ics_ok = all(
        "METHOD:REQUEST" in str(part.get_content())
        for m in invitations
        for part in m.iter_attachments()
        if part.get_content_type() == "text/calendar"
    )
    checks.append(
        Check(
            MEETING,
            invited_name,
            not missing and ics_ok,
            f"{len(expected)} outlets in {elapsed:.1f} s"
            if not missing and ics_ok
            else f"missing {missing[:8]}"
            if missing
            else "an .ics without METHOD:REQUEST",
        )
    )
    outsiders = {o.email.lower() for o in plan.outlets if not o.admitted_ever}
    wrong = sorted(got & outsiders)
    checks.append(Check(MEETING, only_name, not wrong, "none" if not wrong else f"invited: {wrong}"))
    return checks


__all__ = ["filming_and_meeting"]
