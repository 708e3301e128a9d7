"""The CMS side of a ``.zfo`` data message: parse the ``SignedData``, verify the signature over the
content, refuse retired algorithms, and validate the signer's certificate path with
pyhanko-certvalidator at a given moment. No Flask here; :mod:`portal.signatures.databox` is the API.

Certificates are handled as asn1crypto objects throughout (cryptography's X.509 parser warns on the
over-long organisation names real PostSignum certificates carry); only the signer's public key is
loaded into cryptography to verify the signature.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# asn1crypto.tsp registers CMS attribute names (signing_certificate_v2, ...) in cms's tables, which are
# frozen by the first attribute parsed: parsing a data message first would break every later pyhanko
# signature in this process (the permits). So the names are registered before anything is parsed.
import asn1crypto.tsp  # noqa: F401
from asn1crypto import cms, pem
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from portal.signatures.databox_errors import DataboxError

__all__ = [
    "RETIRED_DIGESTS",
    "TrustAnchors",
    "VerifiedSignature",
    "load_crls",
    "load_trust_anchors",
    "parse_signed_data",
    "subject_string",
    "validate_signer_path",
    "verify_signature",
]

#: Digest algorithms that no longer protect a signature (ETSI TS 119 312): verified for integrity, then
#: refused as ``weak_algorithm``.
RETIRED_DIGESTS = frozenset({"md2", "md5", "sha1"})
#: RSA and DSA keys shorter than this are retired too.
MIN_KEY_BITS = 2048

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "md5": hashes.MD5,
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha3_256": hashes.SHA3_256,
    "sha3_384": hashes.SHA3_384,
    "sha3_512": hashes.SHA3_512,
}
_ALGORITHM_LABELS = {"md2": "MD2", "md5": "MD5", "sha1": "SHA-1"}


# --- parsing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedContent:
    """The parts of a ``SignedData`` the reader uses, eagerly parsed."""

    content: bytes
    content_type: str
    signer_infos: tuple[cms.SignerInfo, ...]
    certificates: tuple[asn1_x509.Certificate, ...]


def parse_signed_data(data: bytes) -> SignedContent:
    """The ``SignedData`` structure (BER or DER); every failure here is ``not_cms``."""
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            raise DataboxError("not_cms", "the file is CMS but not SignedData")
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]
        content_type = encap["content_type"].native
        content_value = encap["content"]
        content = None if content_value is None or content_value.native is None else content_value.native
        signer_infos = tuple(signed_data["signer_infos"])
        for signer_info in signer_infos:
            signer_info.native  # noqa: B018 -- parse eagerly so that later access cannot fail
        certificates = []
        for choice in signed_data["certificates"] or ():
            if choice.name == "certificate":
                choice.chosen.native  # noqa: B018
                certificates.append(choice.chosen)
    except DataboxError:
        raise
    except Exception as exc:  # asn1crypto raises many types on hostile input; all mean "not CMS"
        raise DataboxError("not_cms", "the file is not a CMS SignedData structure") from exc
    if not isinstance(content, bytes):
        raise DataboxError("not_cms", "the CMS structure carries no encapsulated content")
    return SignedContent(
        content=content,
        content_type=content_type,
        signer_infos=signer_infos,
        certificates=tuple(certificates),
    )


# --- the signature --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedSignature:
    """The first signer: its certificate and the signed ``signingTime`` (aware UTC), if any."""

    certificate: asn1_x509.Certificate
    signing_time: datetime | None


def verify_signature(signed: SignedContent) -> VerifiedSignature:
    """Verify every SignerInfo (``signature_invalid``), then refuse retired algorithms
    (``weak_algorithm``): a changed file is reported as changed even when it is also old."""
    if not signed.signer_infos:
        raise DataboxError("signature_invalid", "the CMS structure has no signature")
    results: list[tuple[VerifiedSignature, list[str]]] = []
    for signer_info in signed.signer_infos:
        try:
            results.append(_verify_signer_info(signer_info, signed))
        except DataboxError:
            raise
        except Exception as exc:  # a hostile structure that passed parsing but not the key maths
            raise DataboxError("signature_invalid", "the signature cannot be verified") from exc
    for _verified, retired in results:
        if retired:
            label = retired[0]
            raise DataboxError(
                "weak_algorithm",
                f"the message is signed with {label}, an algorithm retired for signatures",
                algorithm=label,
            )
    return results[0][0]


def _verify_signer_info(signer_info: cms.SignerInfo, signed: SignedContent) -> tuple[VerifiedSignature, list[str]]:
    cert = _find_signer_certificate(signer_info["sid"], signed)
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    retired: list[str] = []
    if digest_name in RETIRED_DIGESTS:
        retired.append(_ALGORITHM_LABELS[digest_name])
    if digest_name == "md2":  # not even computable any more: refused as retired without a check
        return VerifiedSignature(cert, None), retired
    digest_cls = _hash_class(digest_name)
    signed_attrs = signer_info["signed_attrs"]
    signing_time: datetime | None = None

    if signed_attrs is not None and len(signed_attrs) > 0:
        attrs = _attributes(signed_attrs)
        content_types = attrs.get("content_type", [])
        if len(content_types) != 1 or content_types[0] != signed.content_type:
            raise DataboxError("signature_invalid", "the signed content-type attribute does not match the content")
        digests = attrs.get("message_digest", [])
        if len(digests) != 1:
            raise DataboxError("signature_invalid", "the signature has no single message-digest attribute")
        hasher = hashes.Hash(digest_cls())
        hasher.update(signed.content)
        actual = hasher.finalize()
        if not isinstance(digests[0], bytes) or digests[0] != actual:
            raise DataboxError("signature_invalid", "the message content does not match the signed digest")
        times = attrs.get("signing_time", [])
        if len(times) > 1:
            raise DataboxError("signature_invalid", "the signature has more than one signing-time attribute")
        if times and isinstance(times[0], datetime):
            signing_time = times[0].astimezone(UTC)
        # The signature covers the DER encoding of the attributes as a SET OF (tag 0x31, not [0]).
        encoded = signed_attrs.dump()
        candidates = [b"\x31" + encoded[1:]]
        reencoded = signed_attrs.untag().dump(force=True)
        if reencoded not in candidates:
            candidates.append(reencoded)
    else:
        candidates = [signed.content]

    signature = signer_info["signature"].native
    algorithm = signer_info["signature_algorithm"]
    try:
        hash_name = algorithm.hash_algo
    except ValueError:  # rsaEncryption / plain ecdsa: the hash is the SignerInfo's digest algorithm
        hash_name = digest_name
    if hash_name in RETIRED_DIGESTS and _ALGORITHM_LABELS[hash_name] not in retired:
        retired.append(_ALGORITHM_LABELS[hash_name])
    key = _public_key(cert)
    if isinstance(key, rsa.RSAPublicKey | dsa.DSAPublicKey) and key.key_size < MIN_KEY_BITS:
        retired.append(f"{'RSA' if isinstance(key, rsa.RSAPublicKey) else 'DSA'}-{key.key_size}")
    for signed_bytes in candidates:
        if _signature_matches(key, algorithm, hash_name, signature, signed_bytes):
            return VerifiedSignature(cert, signing_time), retired
    raise DataboxError("signature_invalid", "the signature does not match the signer's certificate")


def _attributes(signed_attrs: cms.CMSAttributes) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for attr in signed_attrs:
        name = attr["type"].native
        out.setdefault(name, []).extend(value.native for value in attr["values"])
    return out


def _find_signer_certificate(sid: cms.SignerIdentifier, signed: SignedContent) -> asn1_x509.Certificate:
    for cert in signed.certificates:
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if cert.serial_number == ias["serial_number"].native and cert.issuer == ias["issuer"]:
                return cert
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return cert
    raise DataboxError("signature_invalid", "the signer's certificate is not included in the file")


def _public_key(cert: asn1_x509.Certificate) -> Any:
    try:
        return load_der_public_key(cert.public_key.dump())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise DataboxError("signature_invalid", "the signer's public key cannot be read") from exc


def _hash_class(name: str) -> type[hashes.HashAlgorithm]:
    try:
        return _HASHES[name]
    except KeyError:
        raise DataboxError("signature_invalid", f"digest algorithm {name} is not supported") from None


def _signature_matches(key: Any, algorithm: Any, hash_name: str, signature: bytes, signed_bytes: bytes) -> bool:
    kind = algorithm.signature_algo
    hash_alg = _hash_class(hash_name)()
    try:
        if isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pkcs1v15":
            key.verify(signature, signed_bytes, padding.PKCS1v15(), hash_alg)
        elif isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pss":
            params = algorithm["parameters"]
            mgf = params["mask_gen_algorithm"]
            if mgf["algorithm"].native != "mgf1":
                return False
            mgf_hash = _hash_class(mgf["parameters"]["algorithm"].native)()
            salt = params["salt_length"].native
            key.verify(signature, signed_bytes, padding.PSS(padding.MGF1(mgf_hash), salt), hash_alg)
        elif isinstance(key, ec.EllipticCurvePublicKey) and kind == "ecdsa":
            key.verify(signature, signed_bytes, ec.ECDSA(hash_alg))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey) and kind in ("ed25519", "ed448"):
            key.verify(signature, signed_bytes)
        else:
            raise DataboxError("signature_invalid", f"signature algorithm {kind} does not fit the signer's key")
    except InvalidSignature:
        return False
    return True


# --- trust ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustAnchors:
    """Configured certificates: the self-signed ones are trust anchors; the others (the PostSignum
    intermediates, say) only help build a path, as in OpenSSL's certificate store."""

    roots: tuple[asn1_x509.Certificate, ...] = ()
    intermediates: tuple[asn1_x509.Certificate, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.roots or self.intermediates)


def _pem_or_der(item: bytes, pem_type: str) -> list[bytes]:
    if pem.detect(item):
        return [der for kind, _headers, der in pem.unarmor(item, multiple=True) if kind == pem_type]
    return [item]


def load_trust_anchors(items: Iterable[bytes]) -> TrustAnchors:
    """Certificates given as PEM (possibly several in one item) or DER. Raises :class:`ValueError`
    (a configuration error, not a :class:`DataboxError`) for anything that is not a certificate."""
    roots: list[asn1_x509.Certificate] = []
    intermediates: list[asn1_x509.Certificate] = []
    for item in items:
        ders = _pem_or_der(bytes(item), "CERTIFICATE")
        if not ders:
            raise ValueError("a configured data-box trust root holds no certificate")
        for der in ders:
            try:
                cert = asn1_x509.Certificate.load(der, strict=True)
                cert.native  # noqa: B018
            except Exception as exc:  # asn1crypto raises several types for a non-certificate
                raise ValueError("a configured data-box trust root is not a certificate") from exc
            (roots if cert.self_signed in ("maybe", "yes") else intermediates).append(cert)
    return TrustAnchors(tuple(roots), tuple(intermediates))


def load_crls(items: Iterable[bytes]) -> tuple[asn1_crl.CertificateList, ...]:
    """CRLs given as PEM or DER; :class:`ValueError` for anything else."""
    out = []
    for item in items:
        for der in _pem_or_der(bytes(item), "X509 CRL"):
            try:
                parsed = asn1_crl.CertificateList.load(der, strict=True)
                parsed.native  # noqa: B018
            except Exception as exc:
                raise ValueError("a configured CRL is not a CRL") from exc
            out.append(parsed)
    return tuple(out)


def validate_signer_path(
    signer: asn1_x509.Certificate,
    carried: Sequence[asn1_x509.Certificate],
    anchors: TrustAnchors,
    crls: Sequence[asn1_crl.CertificateList],
    moment: datetime,
) -> tuple[str, ...]:
    """Validate the signer's path to a configured root at ``moment`` with pyhanko-certvalidator, the
    certificates carried in the message and the configured intermediates as candidates, revocation
    checked against the configured CRLs (no fetching). Returns the subjects from the signer to the root.
    """
    return _run(_validate_path(signer, carried, anchors, crls, moment))


async def _validate_path(
    signer: asn1_x509.Certificate,
    carried: Sequence[asn1_x509.Certificate],
    anchors: TrustAnchors,
    crls: Sequence[asn1_crl.CertificateList],
    moment: datetime,
) -> tuple[str, ...]:
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import (
        DisallowedAlgorithmError,
        ExpiredError,
        NotYetValidError,
        PathBuildingError,
        RevokedError,
        ValidationError,
    )
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule

    from portal.signatures.logs import quiet_pyhanko_logging

    quiet_pyhanko_logging()
    rule = RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
    context = ValidationContext(
        trust_roots=list(anchors.roots),
        other_certs=[*anchors.intermediates, *carried],
        crls=list(crls),
        allow_fetching=False,
        revinfo_policy=CertRevTrustPolicy(
            RevocationCheckingPolicy(ee_certificate_rule=rule, intermediate_ca_cert_rule=rule),
            # A CRL published after the message still says whether the certificate was revoked before it.
            retroactive_revinfo=True,
        ),
        moment=moment,
        best_signature_time=moment,
    )
    who = subject_string(signer.subject)
    when = moment.astimezone(UTC).isoformat()
    try:
        path = await CertificateValidator(signer, validation_context=context).async_validate_path()
    except RevokedError as exc:
        raise DataboxError("revoked", f"a certificate on the path of {who} was revoked before {when}") from exc
    except DisallowedAlgorithmError as exc:
        label = _retired_in_path(exc.current_path)
        raise DataboxError(
            "weak_algorithm",
            f"a certificate on the path of {who} is signed with {label}, an algorithm retired for signatures",
            algorithm=label,
        ) from exc
    except (ExpiredError, NotYetValidError) as exc:
        raise DataboxError("signer_not_trusted", f"a certificate on the path of {who} was not valid at {when}") from exc
    except (PathBuildingError, ValidationError) as exc:
        raise DataboxError("signer_not_trusted", f"the signer {who} does not chain to a configured trust root") from exc
    except Exception as exc:  # the boundary: certificates carried in a hostile file reach
        # certvalidator's parsers, which may raise anything; no path was found, so not trusted.
        raise DataboxError("signer_not_trusted", f"the path of the signer {who} cannot be validated") from exc
    certs = list(path.iter_certs(include_root=True))
    return tuple(subject_string(cert.subject) for cert in reversed(certs))


def _retired_in_path(path: Any) -> str:
    """The retired algorithm a path uses (a certificate signed with SHA-1, or a short issuer key)."""
    for cert in path.iter_certs(include_root=False):
        hash_name = cert["signature_algorithm"].hash_algo
        if hash_name in RETIRED_DIGESTS:
            return _ALGORITHM_LABELS[hash_name]
    for cert in path.iter_certs(include_root=True):
        bits = cert.public_key.bit_size
        if cert.public_key.algorithm in ("rsa", "dsa") and bits < MIN_KEY_BITS:
            return f"{cert.public_key.algorithm.upper()}-{bits}"
    return "a retired algorithm"


def _run(coroutine: Coroutine[Any, Any, tuple[str, ...]]) -> tuple[str, ...]:
    """Run the coroutine; in a thread of its own when this thread already has a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


# --- names ----------------------------------------------------------------------------------------

_SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "STREET",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.4": "SN",
    "2.5.4.42": "GN",
    "2.5.4.12": "title",
    "2.5.4.5": "serialNumber",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
    "1.2.840.113549.1.9.1": "emailAddress",
}


def _escape(value: str) -> str:
    out = []
    for index, ch in enumerate(value):
        if ch in ',+"\\<>;' or (index == 0 and ch in "# ") or (index == len(value) - 1 and ch == " "):
            out.append("\\" + ch)
        elif ch == "\x00":
            out.append("\\00")
        else:
            out.append(ch)
    return "".join(out)


def subject_string(name: asn1_x509.Name) -> str:
    """An RFC 4514 string of ``name`` (most specific first), without cryptography's length warnings."""
    parts = []
    for rdn in reversed(list(name.chosen)):
        items = []
        for attribute in rdn:
            oid = attribute["type"].dotted
            value = attribute["value"].native
            text = _escape(value) if isinstance(value, str) else "#" + attribute["value"].dump().hex()
            items.append(f"{_SHORT_NAMES.get(oid, oid)}={text}")
        parts.append("+".join(items))
    return ",".join(parts)
