"""Imported by the validation fork server, so that worker processes start with pyHanko loaded."""

import pyhanko.pdf_utils.reader
import pyhanko.sign.diff_analysis
import pyhanko.sign.fields
import pyhanko.sign.validation.pdf_embedded
import pyhanko.sign.validation.qualified.assess
import pyhanko.sign.validation.qualified.eutl_parse  # noqa: F401
import pyhanko_certvalidator  # noqa: F401

from portal.signatures import engine, speedups
from portal.signatures.logs import quiet_pyhanko_logging

speedups.install()
quiet_pyhanko_logging()

__all__ = ["engine"]
