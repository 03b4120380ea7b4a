"""Signing certificates of an APK, across schemes, with what each scheme says about them.

v1 (:mod:`.jar_signature`) and v2/v3/v3.1 (:mod:`.signing_block`) are read
and verified separately; here each certificate (identified by the SHA-256 of
its DER) becomes one :class:`~fraudwall.models.ApkCertificate` listing the
schemes that carry it and whether each verified. Fraud apps are often signed
with the public Android debug key or a throw-away self-signed certificate,
and the same certificate links apps of one gang, so both are marked.
Tamper signs: no signature at all, a scheme that does not verify, a v2/v3
signature stripped although the ``.SF`` file says it was there.
"""

from __future__ import annotations

import hashlib
import warnings
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID

from fraudwall.apk_analysis.archive import Archive
from fraudwall.apk_analysis.jar_signature import verify_jar
from fraudwall.apk_analysis.notes import Notes
from fraudwall.apk_analysis.public_keys import verifies
from fraudwall.apk_analysis.signing_block import verify_block
from fraudwall.models import ApkCertificate

DEBUG_COMMON_NAME = "Android Debug"
#: Scheme numbers an ``.SF`` file's ``X-Android-APK-Signed`` names, and the scheme each is.
CLAIMED_SCHEMES = {2: "v2", 3: "v3"}


def read_certificates(archive: Archive, notes: Notes) -> tuple[ApkCertificate, ...]:
    """The APK's signing certificates with their schemes; signing problems go to ``notes``."""
    schemes: dict[bytes, dict[str, bool]] = {}
    claimed: set[int] = set()
    failed: list[str] = []
    for jar_signer in verify_jar(archive, notes):
        claimed.update(jar_signer.claimed_schemes)
        if not jar_signer.verified:
            failed.append("v1")
        if jar_signer.certificate is not None:
            _add(schemes, jar_signer.certificate, "v1", jar_signer.verified)
    block_schemes = set()
    for signer in verify_block(archive, notes):
        block_schemes.add(signer.scheme)
        if not signer.verified:
            failed.append(signer.scheme)
        if signer.certificates:
            _add(schemes, signer.certificates[0], signer.scheme, signer.verified)
    if not schemes and not failed:
        notes.add("unsigned", "unsigned")
    for scheme in dict.fromkeys(failed):
        notes.add("signature", f"{scheme} signature does not verify")
    for number, scheme in CLAIMED_SCHEMES.items():
        if number in claimed and scheme not in block_schemes:
            notes.add("signature", f"{scheme} signature stripped (the .SF file says the APK had one)")
    return tuple(describe(der, tuple(found.items())) for der, found in schemes.items())


def _add(schemes: dict[bytes, dict[str, bool]], der: bytes, scheme: str, verified: bool) -> None:
    found = schemes.setdefault(der, {})
    found[scheme] = found.get(scheme, False) or verified


def describe(der: bytes, schemes: tuple[tuple[str, bool], ...] = ()) -> ApkCertificate:
    """An :class:`ApkCertificate` for a DER certificate; asn1crypto reads what ``cryptography`` refuses."""
    sha256 = hashlib.sha256(der).hexdigest()
    with warnings.catch_warnings():  # odd but harmless encodings (a 7-letter country name) warn
        warnings.simplefilter("ignore")
        try:
            return _strict(der, sha256, schemes)
        except ValueError:
            pass
    try:
        return _loose(der, sha256, schemes)
    except (ValueError, TypeError, KeyError):
        return ApkCertificate(sha256=sha256, schemes=schemes)


def _strict(der: bytes, sha256: str, schemes: tuple[tuple[str, bool], ...]) -> ApkCertificate:
    certificate = x509.load_der_x509_certificate(der)
    subject, issuer = certificate.subject, certificate.issuer
    return ApkCertificate(
        sha256=sha256,
        subject=subject.rfc4514_string(),
        issuer=issuer.rfc4514_string(),
        serial=format(certificate.serial_number, "x"),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        self_signed=subject == issuer and _signs_itself(certificate),
        debug=any(attribute.value == DEBUG_COMMON_NAME
                  for attribute in subject.get_attributes_for_oid(NameOID.COMMON_NAME)),
        schemes=schemes,
    )


def _loose(der: bytes, sha256: str, schemes: tuple[tuple[str, bool], ...]) -> ApkCertificate:
    certificate = asn1_x509.Certificate.load(der)
    validity = certificate["tbs_certificate"]["validity"]
    return ApkCertificate(
        sha256=sha256,
        subject=certificate.subject.human_friendly,
        issuer=certificate.issuer.human_friendly,
        serial=format(certificate.serial_number, "x"),
        not_before=_datetime(validity["not_before"].native),
        not_after=_datetime(validity["not_after"].native),
        self_signed=certificate.self_issued,
        debug=certificate.subject.native.get("common_name") == DEBUG_COMMON_NAME,
        schemes=schemes,
    )


def _signs_itself(certificate: x509.Certificate) -> bool:
    """True when the certificate's signature checks out with its own key (names alone can be copied).

    Checked here rather than by ``verify_directly_issued_by``, which refuses the
    SHA-1 and MD5 signatures that old Android certificates carry.
    """
    try:
        algorithm = certificate.signature_hash_algorithm
        key = certificate.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return False
    if algorithm is None:
        return False
    pss = isinstance(certificate.signature_algorithm_parameters, padding.PSS)
    return verifies(key, certificate.signature, certificate.tbs_certificate_bytes, algorithm.name, pss=pss)


def _datetime(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None
