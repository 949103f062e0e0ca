"""Verification of a detached CMS (PKCS#7) signature against one registered certificate.

`cryptography` can make CMS signatures but not verify them, so the structure is parsed with
`asn1crypto` and the cryptographic checks are done with `cryptography`: the signer identifier
must name the registered certificate (and an embedded signer certificate must be that very
certificate), the signed attributes' message digest must match the data, and the signature over
the signed attributes must verify with the certificate's public key.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class CmsError(Exception):
    """The signature was refused; `reason` is a short machine-readable word."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _digest(algorithm: type[hashes.HashAlgorithm], data: bytes) -> bytes:
    h = hashes.Hash(algorithm())
    h.update(data)
    return h.finalize()


def _names_certificate(sid: cms.SignerIdentifier, certificate: x509.Certificate) -> bool:
    if sid.name == "issuer_and_serial_number":
        chosen = sid.chosen
        return (
            chosen["serial_number"].native == certificate.serial_number
            and chosen["issuer"].dump() == certificate.issuer.public_bytes()
        )
    if sid.name == "subject_key_identifier":
        try:
            ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        except x509.ExtensionNotFound:
            return False
        return hmac.compare_digest(sid.chosen.native, ski.value.digest)
    return False


def _signed_bytes(signer: cms.SignerInfo, message: bytes, digest: type[hashes.HashAlgorithm]):
    """What the signature covers: the signed attributes (checked first), or the data itself."""
    attrs = signer["signed_attrs"]
    if not attrs:
        return message
    values = {attr["type"].native: attr["values"] for attr in attrs}
    if "message_digest" not in values or "content_type" not in values:
        raise CmsError("missing_signed_attributes")
    if values["content_type"][0].native != "data":
        raise CmsError("wrong_content_type")
    if not hmac.compare_digest(values["message_digest"][0].native, _digest(digest, message)):
        raise CmsError("digest_mismatch")
    # The signature is over the attributes as a DER SET OF, not with their [0] IMPLICIT tag.
    encoded = attrs.dump()
    return b"\x31" + encoded[1:]


def verify_detached_signature(
    signature: bytes, message: bytes, certificate: x509.Certificate, now: datetime
) -> None:
    """Return if `signature` is a valid detached CMS signature of `message` by `certificate`."""
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise CmsError("certificate_expired")
    try:
        info = cms.ContentInfo.load(signature, strict=True)
        if info["content_type"].native != "signed_data":
            raise CmsError("not_signed_data")
        signed = info["content"]
        if signed["encap_content_info"]["content"].native is not None:
            raise CmsError("not_detached")
        signers = list(signed["signer_infos"])
        if len(signers) != 1:
            raise CmsError("signer_count")
        signer = signers[0]
        if not _names_certificate(signer["sid"], certificate):
            raise CmsError("foreign_certificate")
        # A signer certificate shipped inside the signature must be the registered one itself,
        # not merely one with the same issuer and serial number.
        for embedded in signed["certificates"] or []:
            if embedded.name != "certificate":
                continue
            parsed = x509.load_der_x509_certificate(embedded.chosen.dump())
            if _names_certificate(signer["sid"], parsed) and parsed != certificate:
                raise CmsError("foreign_certificate")
        digest_name = signer["digest_algorithm"]["algorithm"].native
        if digest_name not in DIGESTS:
            raise CmsError("unsupported_digest")
        digest = DIGESTS[digest_name]
        if signer["signature_algorithm"].signature_algo != "rsassa_pkcs1v15":
            raise CmsError("unsupported_signature_algorithm")
        signed_bytes = _signed_bytes(signer, message, digest)
        raw_signature = signer["signature"].native
    except CmsError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise CmsError("malformed") from exc
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise CmsError("unsupported_key")
    try:
        public_key.verify(raw_signature, signed_bytes, padding.PKCS1v15(), digest())
    except InvalidSignature:
        raise CmsError("bad_signature") from None
