"""PDF signature validation with pyHanko: trust anchors and trusted lists, qualified status, binding
to the portal's generated PDF, a time limit. No Flask here: the portal maps reason codes to messages.

    from portal.signatures import TrustConfig, validate_signed_pdf

    verdict = validate_signed_pdf(upload, trust=trust, original=generated, deadline=end, received_at=now)
"""

from portal.signatures.trust import TrustConfig, TrustConfigError
from portal.signatures.validate import validate_signed_pdf
from portal.signatures.verdict import Reason, SignatureReport, SignerInfo, Verdict

__all__ = [
    "Reason",
    "SignatureReport",
    "SignerInfo",
    "TrustConfig",
    "TrustConfigError",
    "Verdict",
    "validate_signed_pdf",
]
