"""The outlets' applications and the staff's decisions, over HTTP against the running portal.

Outlets create their applications through the API and submit them signed through the portal's pages,
or from their data box, which the staff record; staff approve and reject through the API; the
allowlist the agents fetch is checked against the plan. After the deadline the late outlets are
refused, and during the live window staff revoke one approval. See :mod:`drill.web` for how the drill
talks to the portal.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from drill.office import Office, OutletAccount
from drill.plan import Check, Fate, Outlet, Plan
from drill.web import (
    Answer,
    Browser,
    DrillError,
    _Checks,
    api,
    databox_clerk_browser,
    find_form,
    flash_messages,
    outlet_browser,
    parse_page,
    sign_pdf,
)

PRAGUE = ZoneInfo("Europe/Prague")
#: Outlets working at the same time (threads): the portal runs on 2 cores.
PARALLEL = 4
#: The office's data box (ČSÚ), the recipient of every data message.
OFFICE_BOX_ID = "2gfaasy"
NS_ISDS = "http://isds.czechpoint.cz/v20"
NS_MESSAGE = "http://isds.czechpoint.cz/v20/message"

REGISTRATION, DEADLINE, REVOCATION = "registration", "deadline", "revocation"


# --- the data box ------------------------------------------------------------------------------------


def _isds_time(moment: datetime) -> str:
    return moment.astimezone(PRAGUE).isoformat(timespec="milliseconds")


def data_message(
    pdf: bytes,
    *,
    message_id: str,
    sender_box_id: str,
    sender: str,
    delivered_at: datetime,
    signer_certificate: Path,
    signer_key: Path,
) -> bytes:
    """A .zfo as the data-box system exports a received message: the ISDS XML with the PDF, in CMS."""
    encoded = base64.encodebytes(pdf).decode("ascii").strip()
    envelope = (
        "<p:dmDm>"
        f"<p:dmID>{escape(message_id)}</p:dmID>"
        f"<p:dbIDSender>{escape(sender_box_id)}</p:dbIDSender>"
        f"<p:dmSender>{escape(sender)}</p:dmSender>"
        "<p:dmSenderAddress>Vinohradská 1, 12000 Praha 2, CZ</p:dmSenderAddress>"
        "<p:dmSenderType>10</p:dmSenderType>"
        "<p:dmRecipient>Český statistický úřad</p:dmRecipient>"
        "<p:dmRecipientAddress>Na padesátém 3268/81, 10082 Praha 10, CZ</p:dmRecipientAddress>"
        f"<p:dbIDRecipient>{OFFICE_BOX_ID}</p:dbIDRecipient>"
        "<p:dmAnnotation>Žádost o přístup k výsledkům voleb</p:dmAnnotation>"
        "<p:dmFiles>"
        f'<p:dmFile dmMimeType="application/pdf" dmFileMetaType="main" dmFileDescr={quoteattr("zadost.pdf")}>'
        f"<p:dmEncodedContent>{encoded}</p:dmEncodedContent></p:dmFile>"
        "</p:dmFiles>"
        "</p:dmDm>"
    )
    digest = base64.b64encode(hashlib.sha256(envelope.encode()).digest()).decode()
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<q:MessageDownloadResponse xmlns:q="{NS_MESSAGE}" xmlns:p="{NS_ISDS}">'
        f"<q:dmReturnedMessage>{envelope}"
        f'<q:dmHash algorithm="SHA-256">{digest}</q:dmHash>'
        f"<q:dmDeliveryTime>{_isds_time(delivered_at)}</q:dmDeliveryTime>"
        f"<q:dmAcceptanceTime>{_isds_time(delivered_at)}</q:dmAcceptanceTime>"
        "<q:dmMessageStatus>6</q:dmMessageStatus>"
        "</q:dmReturnedMessage></q:MessageDownloadResponse>"
    ).encode()
    certificate = x509.load_pem_x509_certificate(signer_certificate.read_bytes())
    key = serialization.load_pem_private_key(signer_key.read_bytes(), password=None)
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(document)
        .add_signer(certificate, key, hashes.SHA256())  # type: ignore[arg-type]
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


# --- registration ------------------------------------------------------------------------------------


@dataclass
class Registration:
    application_ids: dict[int, int] = field(default_factory=dict)  #: outlet index -> application id
    checks: list[Check] = field(default_factory=list)
    #: seconds each part took, for the report
    timings: dict[str, float] = field(default_factory=dict)


def phone_of(outlet: Outlet) -> str:
    return f"+420 601 {100 + outlet.index:03d} {200 + outlet.index:03d}"


def application_body(plan: Plan, outlet: Outlet, *, submit: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "election": plan.election,
        "contact_email": outlet.email,
        "contact_phone": phone_of(outlet),
        "production": list(outlet.production),
        "test": list(outlet.test),
        "accept_terms": True,
        "note": f"{outlet.name}: drill application",
    }
    if submit:
        body["submit"] = True
    return body


def _state(answer: Answer) -> str | None:
    return answer.body.get("state") if isinstance(answer.body, dict) else None


def _nothing_in_force(answer: Answer) -> bool:
    body = answer.body
    return isinstance(body, dict) and "in_force_version" in body and body["in_force_version"] is None


def register_on_time(portal_url: str, plan: Plan, office: Office) -> Registration:
    """Every outlet but the late ones applies; staff record, approve and reject; the allowlist is checked."""
    result = Registration()
    checks = _Checks(REGISTRATION)
    started = time.monotonic()

    # 1. Applications through the API (drafts: the election requires a signed submission).
    created_name = "applications created through the API (201, draft)"
    refused_name = "six production addresses refused (422 naming production)"
    nothing_name = "nothing created for the refused outlets"
    applying = [o for o in plan.outlets if o.fate not in (Fate.LATE, Fate.OVER_LIMIT)]
    over = [o for o in plan.outlets if o.fate is Fate.OVER_LIMIT]
    checks.expect(created_name, len(applying))
    checks.expect(refused_name, len(over))
    checks.expect(nothing_name, len(over))
    for outlet in plan.outlets:
        if outlet.fate is Fate.LATE:
            continue
        token = office.outlets[outlet.index].token
        answer = api(portal_url, token, "POST", "/applications", application_body(plan, outlet))
        if outlet.fate is Fate.OVER_LIMIT:
            fields = (answer.body.get("error") or {}).get("fields", {}) if isinstance(answer.body, dict) else {}
            if answer.status == 422 and answer.code == "validation_failed" and "production" in fields:
                checks.ok(refused_name)
            else:
                checks.fail(refused_name, f"{outlet.name}: {answer.describe()}")
            _check_nothing_created(portal_url, token, plan, outlet, checks, nothing_name)
            continue
        if answer.status == 201 and _state(answer) == "draft":
            result.application_ids[outlet.index] = int(answer.body["id"])
            checks.ok(created_name)
        else:
            checks.fail(created_name, f"{outlet.name}: {answer.describe()}")
    result.timings["create"] = time.monotonic() - started

    # 2. Submission: signed uploads in the portal, or data messages the staff record.
    mark = time.monotonic()
    staff: Browser | None = None
    try:
        staff = databox_clerk_browser(portal_url, office)
    except (DrillError, LookupError) as error:
        result.checks.append(Check(REGISTRATION, "staff signed in (password and second factor)", False, str(error)))
    else:
        result.checks.append(Check(REGISTRATION, "staff signed in (password and second factor)", True, staff.email))
    uploaded_name = "signed PDFs uploaded through the portal (submitted)"
    unsigned_name = "unsigned API submit refused (409 signature_required)"
    databox_name = "data-box submissions recorded by staff (submitted)"
    before_name = "submissions received before the deadline"
    signed = sum(1 for o in applying if o.signed)
    checks.expect(uploaded_name, signed)
    checks.expect(unsigned_name, len(applying) - signed)
    checks.expect(databox_name, len(applying) - signed)
    checks.expect(before_name, len(applying))

    def submit_one(outlet: Outlet) -> None:
        application_id = result.application_ids[outlet.index]
        account = office.outlets[outlet.index]
        try:
            if outlet.signed:
                _submit_signed(portal_url, office, account, application_id)
            else:
                answer = api(portal_url, account.token, "POST", f"/applications/{application_id}/submit")
                if answer.status == 409 and answer.code == "signature_required":
                    checks.ok(unsigned_name)
                else:
                    checks.fail(unsigned_name, f"{outlet.name}: {answer.describe()}")
                _submit_by_databox(portal_url, office, staff, outlet, account, application_id)
        except (DrillError, LookupError) as error:
            checks.fail(uploaded_name if outlet.signed else databox_name, f"{outlet.name}: {error}")
            return
        answer = api(portal_url, account.token, "GET", f"/applications/{application_id}")
        name = uploaded_name if outlet.signed else databox_name
        if answer.status == 200 and _state(answer) == "submitted":
            checks.ok(name)
            submitted_at = answer.body["versions"][-1]["submitted_at"]
            when = datetime.fromisoformat(submitted_at.replace("Z", "+00:00"))
            if when < plan.schedule.applications_close_at:
                checks.ok(before_name)
            else:
                checks.fail(before_name, f"{outlet.name}: received {submitted_at}")
        else:
            checks.fail(name, f"{outlet.name}: state {answer.describe()}")

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(submit_one, [o for o in applying if o.index in result.application_ids]))
    result.timings["submit"] = time.monotonic() - mark

    # 3. The office decides, with the reviewer's token.
    mark = time.monotonic()
    _decide(portal_url, plan, office, result, checks)
    result.timings["decide"] = time.monotonic() - mark

    result.checks.extend(checks.close())
    # 4. The allowlist the firewall agents and feed proxies will fetch.
    result.checks.append(check_allowlist(portal_url, plan, office, admitted=_admitted_now(plan)))
    result.timings["total"] = time.monotonic() - started
    return result


def _application_page(browser_: Browser, account: OutletAccount, application_id: int) -> str:
    return browser_.page(f"/organisations/{account.organisation_id}/applications/{application_id}")


def _download_pdf(browser_: Browser, html: str) -> bytes:
    """The generated PDF, through the link on the application's page (Czech)."""
    link = next((href for href in parse_page(html).links if "application.pdf" in href and "lang=cs" in href), None)
    if link is None:
        raise DrillError("the application page has no PDF link")
    response = browser_.get(link)
    if response.status_code != 200 or not response.content.startswith(b"%PDF-"):
        raise DrillError(f"the application PDF: {response.status_code} {response.headers.get('Content-Type')}")
    return response.content


def _submit_signed(portal_url: str, office: Office, account: OutletAccount, application_id: int) -> None:
    editor = outlet_browser(portal_url, account)
    with editor.lock:
        html = _application_page(editor, account, application_id)
        pdf = _download_pdf(editor, html)
        signed = sign_pdf(pdf, office)
        form = find_form(html, "/signed")
        response = editor.post(
            form.action, dict(form.fields), files={"signed_pdf": ("zadost-podepsana.pdf", signed, "application/pdf")}
        )
        if response.status_code != 302:
            raise DrillError(f"upload answered {response.status_code}")
        landing = editor.get(response.headers["Location"]).text
        if 'notice-error"' in landing:
            raise DrillError(f"upload refused: {flash_messages(landing)}")


def _submit_by_databox(
    portal_url: str,
    office: Office,
    staff: Browser | None,
    outlet: Outlet,
    account: OutletAccount,
    application_id: int,
) -> None:
    """The editor downloads the PDF and sends it from the outlet's data box; staff record the message."""
    if staff is None:
        raise DrillError("no staff session to record the data message")
    editor = outlet_browser(portal_url, account)
    with editor.lock:
        pdf = _download_pdf(editor, _application_page(editor, account, application_id))
    zfo = data_message(
        pdf,
        message_id=str(1_000_000_000 + application_id),
        sender_box_id=f"drl{outlet.index:04d}",
        sender=outlet.name,
        delivered_at=datetime.now(UTC),
        signer_certificate=office.databox.certificate,
        signer_key=office.databox.key,
    )
    with staff.lock:
        path = f"/staff/applications/{application_id}/databox"
        form = find_form(staff.page(path), having="message_id")
        data = {name: value for name, value in form.fields if name == "csrf_token"}
        shown = staff.post(form.action or path, data, files={"zfo": ("zprava.zfo", zfo, "application/pkcs7-mime")})
        if shown.status_code != 200 or 'id="databox-confirm"' not in shown.text:
            raise DrillError(
                f"staff reading the data message answered {shown.status_code}: {flash_messages(shown.text)}"
            )
        # The message is shown as read and verified; staff record it with the second button.
        confirm = find_form(shown.text, having="zfo_data")
        response = staff.post(confirm.action or path, dict(confirm.fields))
    if response.status_code != 302:
        raise DrillError(f"staff recording answered {response.status_code}: {flash_messages(response.text)}")


def _admitted_now(plan: Plan) -> set[int]:
    return {o.index for o in plan.outlets if o.admitted_ever}


def _decide(portal_url: str, plan: Plan, office: Office, result: Registration, checks: _Checks) -> None:
    token = office.reviewer_token
    approved_name = "staff approved (200, approved)"
    rejected_name = "staff rejected (200, rejected; reason hidden from the outlet)"
    flagged_name = "shared address flagged: approval without acknowledge_conflicts refused (409)"
    acknowledged_name = "duplicates approved with acknowledge_conflicts (200, approved)"
    fates = [o.fate for o in plan.outlets]
    checks.expect(approved_name, fates.count(Fate.APPROVED) + fates.count(Fate.REVOKED))
    checks.expect(rejected_name, fates.count(Fate.REJECTED))
    checks.expect(flagged_name, fates.count(Fate.DUPLICATE))
    checks.expect(acknowledged_name, fates.count(Fate.DUPLICATE))
    duplicates = [o for o in plan.outlets if o.fate is Fate.DUPLICATE]
    shared = set(duplicates[0].production) & set(duplicates[1].production) if len(duplicates) == 2 else set()
    for outlet in plan.outlets:
        application_id = result.application_ids.get(outlet.index)
        if application_id is None or outlet.fate not in (Fate.APPROVED, Fate.REVOKED, Fate.REJECTED, Fate.DUPLICATE):
            continue
        path = f"/applications/{application_id}"
        if outlet.fate is Fate.REJECTED:
            answer = api(portal_url, token, "POST", f"{path}/reject", {"internal_reason": "Drill: not a newsroom."})
            seen = api(portal_url, office.outlets[outlet.index].token, "GET", path)
            hidden = seen.status == 200 and all("internal_reason" not in v for v in seen.body.get("versions", []))
            if answer.status == 200 and _state(answer) == "rejected" and _state(seen) == "rejected" and hidden:
                checks.ok(rejected_name)
            else:
                checks.fail(rejected_name, f"{outlet.name}: {answer.describe()}; outlet sees {seen.describe()}")
            continue
        if outlet.fate is Fate.DUPLICATE:
            first = api(portal_url, token, "POST", f"{path}/approve", {})
            view = api(portal_url, token, "GET", path)
            flagged = {c.get("address") for c in view.body.get("conflicts", [])} if view.status == 200 else set()
            if first.status == 409 and first.code == "conflicts_not_acknowledged" and shared <= flagged and shared:
                checks.ok(flagged_name)
            else:
                checks.fail(flagged_name, f"{outlet.name}: {first.describe()}; conflicts {sorted(flagged)}")
            answer = api(portal_url, token, "POST", f"{path}/approve", {"acknowledge_conflicts": True})
            if answer.status == 200 and _state(answer) == "approved":
                checks.ok(acknowledged_name)
            else:
                checks.fail(acknowledged_name, f"{outlet.name}: {answer.describe()}")
            continue
        answer = api(portal_url, token, "POST", f"{path}/approve", {})
        if answer.status == 200 and _state(answer) == "approved":
            checks.ok(approved_name)
        else:
            checks.fail(approved_name, f"{outlet.name}: {answer.describe()}")


def _canonical(address: str) -> str:
    return str(ip_address(address))


def expected_entries(plan: Plan, admitted: Iterable[int]) -> set[tuple[str, str]]:
    """(canonical address, kind) of every address of the admitted outlets."""
    wanted = set(admitted)
    entries: set[tuple[str, str]] = set()
    for outlet in plan.outlets:
        if outlet.index in wanted:
            entries |= {(_canonical(a), "production") for a in outlet.production}
            entries |= {(_canonical(a), "test") for a in outlet.test}
    return entries


def fetch_allowlist(portal_url: str, office: Office) -> tuple[Answer, Any]:
    """The signed snapshot as the agents fetch it, verified with the portal's public key."""
    from allowlist.addresses import AddressPolicy
    from allowlist.snapshot import load_public_key, load_snapshot

    answer = api(portal_url, office.ops_token, "GET", f"/elections/{office.election}/allowlist")
    if answer.status != 200:
        return answer, None
    snapshot = load_snapshot(
        json.dumps(answer.body),
        public_key=load_public_key(office.allowlist_public_key_pem),
        policy=AddressPolicy(allow_documentation=True),
    )
    return answer, snapshot


def check_allowlist(
    portal_url: str,
    plan: Plan,
    office: Office,
    *,
    admitted: set[int],
    stage: str = REGISTRATION,
) -> Check:
    """The snapshot is signed, has the plan's windows, and lists exactly the admitted outlets' addresses."""
    name = "allowlist snapshot signed, with the plan's windows and exactly the approved addresses"
    try:
        answer, snapshot = fetch_allowlist(portal_url, office)
    except ValueError as error:  # SnapshotError is a ValueError
        return Check(stage, name, False, f"refused: {error}")
    if snapshot is None:
        return Check(stage, name, False, answer.describe())
    got = {(e.address, e.kind) for e in snapshot.entries}
    want = expected_entries(plan, admitted)
    problems = []
    if got != want:
        problems.append(f"missing {sorted(want - got)[:6]}, unexpected {sorted(got - want)[:6]}")
    windows = [(w.starts_at, w.ends_at) for w in snapshot.live_windows]
    if windows != list(plan.schedule.live) or snapshot.closes_at != plan.schedule.closes_at:
        problems.append(f"windows {windows} / closes {snapshot.closes_at} differ from the plan")
    detail = f"version {snapshot.version}, {len(got)} entries ({len(admitted)} outlets)"
    return Check(stage, name, not problems, detail if not problems else "; ".join(problems))


# --- after the deadline -------------------------------------------------------------------------------


def _check_nothing_created(portal_url: str, token: str, plan: Plan, outlet: Outlet, checks: _Checks, name: str) -> None:
    """A refused outlet's own listing of the election is empty: the refusal left nothing behind."""
    listing = api(portal_url, token, "GET", f"/applications?election={plan.election}")
    if listing.status == 200 and listing.body.get("total") == 0:
        checks.ok(name)
    else:
        checks.fail(name, f"{outlet.name}: {listing.describe()}")


def apply_late(portal_url: str, plan: Plan, office: Office) -> list[Check]:
    """Each late outlet tries to create and submit at once: refused (409 deadline_passed), nothing created."""
    checks = _Checks(DEADLINE)
    refused_name = "late applications refused (409 deadline_passed)"
    nothing_name = "nothing created for the late outlets"
    late = sum(1 for o in plan.outlets if o.fate is Fate.LATE)
    checks.expect(refused_name, late)
    checks.expect(nothing_name, late)
    now = datetime.now(UTC)
    if now < plan.schedule.applications_close_at:
        checks.fail(refused_name, f"called before the deadline ({now.isoformat()})")
    for outlet in plan.outlets:
        if outlet.fate is not Fate.LATE:
            continue
        token = office.outlets[outlet.index].token
        answer = api(portal_url, token, "POST", "/applications", application_body(plan, outlet, submit=True))
        if answer.status == 409 and answer.code == "deadline_passed":
            checks.ok(refused_name)
        else:
            checks.fail(refused_name, f"{outlet.name}: {answer.describe()}")
        _check_nothing_created(portal_url, token, plan, outlet, checks, nothing_name)
    return checks.close()


# --- a stolen host token during the live window -------------------------------------------------------


def host_token_cannot_touch_outlets(
    portal_url: str, plan: Plan, office: Office, registration: Registration, checks: list[Check]
) -> None:
    """The firewall agent's allowlist-only token asks to withdraw an approved outlet and to replace its
    addresses: both refused (403), the application and the allowlist unchanged."""
    outlet = next(o for o in plan.outlets if o.fate is Fate.APPROVED and o.index in registration.application_ids)
    application_id = registration.application_ids[outlet.index]
    before_application = api(portal_url, office.reviewer_token, "GET", f"/applications/{application_id}")
    before_allowlist, _ = fetch_allowlist(portal_url, office)
    withdraw = api(portal_url, office.ops_token, "POST", f"/applications/{application_id}/withdraw", {})
    replace = api(portal_url, office.ops_token, "PUT", f"/applications/{application_id}", {"production": []})
    after_application = api(portal_url, office.reviewer_token, "GET", f"/applications/{application_id}")
    after_allowlist, _ = fetch_allowlist(portal_url, office)
    unchanged = (
        before_application.status == after_application.status == 200
        and before_application.body == after_application.body
        and _state(after_application) == "approved"
        and isinstance(before_allowlist.body, dict)
        and before_allowlist.body == after_allowlist.body
    )
    ok = withdraw.status == 403 and replace.status == 403 and unchanged
    detail = f"withdraw {withdraw.status}, replace {replace.status}, {outlet.name} unchanged: {unchanged}"
    checks.append(Check(REVOCATION, "a host's allowlist-only token is refused an outlet's withdrawal", ok, detail))


# --- revocation during the live window -----------------------------------------------------------------


def revoke(
    portal_url: str, plan: Plan, office: Office, registration: Registration, checks: list[Check] | None = None
) -> datetime:
    """Staff revoke the REVOKED outlet's approval; the UTC instant the portal answered success.

    Through the API, as staff decide everywhere in the drill (``POST /applications/<id>/revoke``): the
    version in force leaves the next allowlist version. Raises DrillError when the portal refuses.
    """
    outlet = plan.outlet(Fate.REVOKED)
    application_id = registration.application_ids.get(outlet.index)
    if application_id is None:
        raise DrillError(f"{outlet.name} has no application to revoke")
    reason = {"internal_reason": "Drill: revoked on election night."}
    answer = api(portal_url, office.reviewer_token, "POST", f"/applications/{application_id}/revoke", reason)
    answered_at = datetime.now(UTC)
    if answer.status != 200 or _state(answer) != "rejected" or not _nothing_in_force(answer):
        raise DrillError(f"revoking {outlet.name}: {answer.describe()}")
    if checks is not None:
        name = "approval revoked by staff (200, nothing in force)"
        checks.append(Check(REVOCATION, name, True, answered_at.isoformat()))
    return answered_at


__all__ = [
    "Registration",
    "apply_late",
    "check_allowlist",
    "data_message",
    "expected_entries",
    "host_token_cannot_touch_outlets",
    "register_on_time",
    "revoke",
]
