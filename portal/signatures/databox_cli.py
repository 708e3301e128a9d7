"""``portal databox inspect``: read and verify a ``.zfo`` data message outside the staff form.

Exit codes: 0 read and verified, 1 refused (the code and reason on stderr, or in the JSON), 2 usage.
Nothing but the answer is written: no traceback and no warning for any input file.
"""

from __future__ import annotations

import json
import warnings
from datetime import datetime
from pathlib import Path

import click

__all__ = ["databox_group"]


@click.group("databox")
def databox_group() -> None:
    """Data messages (.zfo) from the data-box system (ISDS)."""


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise click.BadParameter(f"not an ISO 8601 instant: {text}", param_hint="--at") from error
    if moment.tzinfo is None:
        raise click.BadParameter("give the offset, for example 2022-09-09T10:00:00+02:00", param_hint="--at")
    return moment


@databox_group.command("inspect")
@click.argument("zfo", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option(
    "--trust-roots",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="PEM or DER certificates: self-signed ones are roots, others intermediates for the path.",
)
@click.option(
    "--crl",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="CRL, PEM or DER (nothing is fetched).",
)
@click.option(
    "--at", "at_text", help="Judge the path at this instant (ISO 8601 with an offset); default: signing time."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on standard output.")
def inspect_command(
    zfo: Path, trust_roots: tuple[Path, ...], crl: tuple[Path, ...], at_text: str | None, as_json: bool
) -> None:
    """Read and verify a data message: exit 0 when verified, 1 when refused, 2 on usage errors."""
    from portal.signatures.databox import DEFAULT_MAX_BYTES, DataboxError, parse_zfo, refusal_json

    at = _instant(at_text)
    try:
        roots = [path.read_bytes() for path in trust_roots]
        crls = [path.read_bytes() for path in crl]
        with zfo.open("rb") as handle:
            data = handle.read(DEFAULT_MAX_BYTES + 1)
    except OSError as error:
        raise click.UsageError(f"cannot read {error.filename}: {error.strerror}") from error
    with warnings.catch_warnings():
        # Belt and braces: a library warning about a hostile file must not reach the terminal.
        warnings.simplefilter("ignore")
        try:
            message = parse_zfo(data, trust_roots=roots, crls=crls, expected_recipient=None, at=at)
        except DataboxError as error:
            if as_json:
                click.echo(json.dumps(refusal_json(error), ensure_ascii=False, indent=2))
            else:
                click.echo(f"refused: {error.code}: {error.message}", err=True)
            raise SystemExit(1) from None
        except ValueError as error:  # a trust root or CRL that does not parse: the configuration
            raise click.UsageError(str(error)) from None
    if as_json:
        click.echo(json.dumps(message.to_json(), ensure_ascii=False, indent=2))
        raise SystemExit(0)
    facts = message.to_json()
    lines = [
        f"accepted: message {message.message_id}",
        f"sender: {message.sender_box_id} {message.sender_name}".rstrip(),
        f"recipient: {message.recipient_box_id} {message.recipient_name}".rstrip(),
        f"delivered: {facts['delivered_at']}",
        f"annotation: {message.annotation}",
        f"signer: {message.signer_subject}",
        f"signing time: {facts['signing_time'] or 'not given'}",
    ]
    lines += [f"chain: {subject}" for subject in message.chain] or ["chain: not checked (no --trust-roots)"]
    for attachment in message.attachments:
        lines.append(
            f"attachment: {attachment.filename} ({attachment.kind}, {attachment.mime_type}, "
            f"{attachment.size} bytes, sha256 {attachment.sha256})"
        )
    click.echo("\n".join(lines))
    raise SystemExit(0)
