"""What the outlet's pages of a signed submission share: the upload's size limit, the uploaded file,
the outcome in words, and the PDF to sign as a download."""

from __future__ import annotations

from flask import Response, current_app, flash, request
from flask_wtf import FlaskForm

from portal.problems import describe
from portal.signatures.submission import UploadOutcome

#: Room for the form around the file in a request's body.
FORM_OVERHEAD_BYTES = 64 * 1024


def allow_signed_upload() -> None:
    """Accept a request body as large as the largest signed PDF the validator reads, and its form."""
    request.max_content_length = current_app.config["PORTAL_SIGNED_PDF_MAX_BYTES"] + FORM_OVERHEAD_BYTES


def uploaded_pdf(form: FlaskForm) -> bytes | None:
    """The file of a valid upload form (its field ``signed_pdf``); else None, with the form's errors said."""
    if not form.validate_on_submit():
        for message in form.signed_pdf.errors:
            flash(str(message), "error")
        return None
    return form.signed_pdf.data.read()


def report_upload(outcome: UploadOutcome, accepted: str) -> None:
    """Say ``accepted``, or why the file was refused."""
    if outcome.refusal is not None:
        flash(describe(outcome.refusal), "error")
    else:
        flash(accepted, "success")


def pdf_download(data: bytes, filename: str) -> Response:
    """``data`` as a PDF file to save (not to show in the browser)."""
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
