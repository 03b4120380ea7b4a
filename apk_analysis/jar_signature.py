"""APK Signature Scheme v1: JAR signing, ``META-INF/*.SF`` signed by ``META-INF/*.RSA|DSA|EC``.

A v1 signer verifies when its PKCS#7 SignedData (read with asn1crypto) holds
a signature over the ``.SF`` file (directly, or over signed attributes whose
message digest is the ``.SF`` file's) that checks out with the signer
certificate's key, and the ``.SF`` file's ``*-Digest-Manifest`` matches
``META-INF/MANIFEST.MF``. The per-entry digests inside ``MANIFEST.MF`` are
not recomputed (that would decompress every member): v1 says the manifest is
the one the signer signed, not that each file is unchanged. An ``.SF`` file
that claims v2 or later (``X-Android-APK-Signed``) while the APK has no
such signature means the newer signature was stripped.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from asn1crypto import cms
from cryptography import x509

from fraudwall.apk_analysis.archive import Archive, Member
from fraudwall.apk_analysis.notes import Notes
from fraudwall.apk_analysis.public_keys import verifies

SIGNATURE_EXTENSIONS = ("RSA", "DSA", "EC")
MANIFEST_MF = "META-INF/MANIFEST.MF"
#: ``.SF`` main attributes: ``SHA-256-Digest-Manifest: <base64>``.
_MANIFEST_DIGEST = re.compile(rb"^([A-Za-z0-9-]+)-Digest-Manifest: *([A-Za-z0-9+/=]+)\r?$", re.MULTILINE)
_APK_SIGNED = re.compile(rb"^X-Android-APK-Signed: *([0-9, ]+)\r?$", re.MULTILINE)
_SF_HASHES = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512", "SHA1": "sha1", "SHA-1": "sha1",
              "MD5": "md5"}


@dataclass(frozen=True, slots=True)
class JarSigner:
    """One v1 signature file: the signer's certificate (DER), whether it verified, the schemes its .SF claims."""

    certificate: bytes | None
    verified: bool
    claimed_schemes: tuple[int, ...] = ()


def verify_jar(archive: Archive, notes: Notes) -> list[JarSigner]:
    """Every v1 signature block in ``META-INF/``, verified against its ``.SF`` and ``MANIFEST.MF``."""
    signers = []
    for member in archive.members:
        directory, _, file_name = member.name.rpartition("/")
        stem, _, extension = file_name.rpartition(".")
        if directory != "META-INF" or extension.upper() not in SIGNATURE_EXTENSIONS or not stem:
            continue
        signers.append(_signer(archive, member, f"META-INF/{stem}", notes))
    return signers


def _signer(archive: Archive, block: Member, stem: str, notes: Notes) -> JarSigner:
    try:
        signed = cms.ContentInfo.load(archive.read(block))["content"]
        signer_info = signed["signer_infos"][0]
        certificate = _signer_certificate(signed, signer_info)
    except (ValueError, TypeError, KeyError, IndexError):
        notes.add("signing", f"v1 signature {block.name} is not PKCS#7 SignedData")
        return JarSigner(None, False)
    sf_member = archive.member(stem + ".SF")
    if sf_member is None:
        notes.add("signing", f"v1 signature {block.name} has no .SF file")
        return JarSigner(certificate, False)
    sf = archive.read(sf_member)
    claimed = tuple(int(number) for number in re.findall(rb"\d+", m.group(1))) if (m := _APK_SIGNED.search(sf)) else ()
    manifest = archive.member(MANIFEST_MF)
    try:
        signature_ok = certificate is not None and _signature_verifies(signer_info, certificate, sf)
    except (ValueError, TypeError, KeyError):  # asn1crypto parses lazily: malformed fields raise here
        signature_ok = False
    verified = signature_ok and manifest is not None and _digests_manifest(sf, archive.read(manifest))
    return JarSigner(certificate, verified, claimed)


def _signer_certificate(signed: cms.SignedData, signer_info: cms.SignerInfo) -> bytes | None:
    """The DER of the certificate the signer info names (issuer and serial), else the first one."""
    certificates = [choice.chosen for choice in signed["certificates"] if choice.name == "certificate"]
    sid = signer_info["sid"]
    if sid.name == "issuer_and_serial_number":
        issuer, serial = sid.chosen["issuer"], sid.chosen["serial_number"].native
        for certificate in certificates:
            if certificate.serial_number == serial and certificate.issuer == issuer:
                return certificate.dump()
    return certificates[0].dump() if certificates else None


def _signature_verifies(signer_info: cms.SignerInfo, certificate: bytes, sf: bytes) -> bool:
    hash_name = signer_info["digest_algorithm"]["algorithm"].native
    signature = signer_info["signature"].native
    signed_attributes = signer_info["signed_attrs"]
    data = sf
    if signed_attributes.native:
        wanted = next((attribute["values"][0].native for attribute in signed_attributes
                       if attribute["type"].native == "message_digest"), None)
        if hash_name not in hashlib.algorithms_available or wanted != hashlib.new(hash_name, sf).digest():
            return False
        data = b"\x31" + signed_attributes.dump()[1:]  # signed as a SET OF, not as the [0] it is stored as
    try:
        key = x509.load_der_x509_certificate(certificate).public_key()
    except ValueError:
        return False
    return verifies(key, signature, data, hash_name)


def _digests_manifest(sf: bytes, manifest: bytes) -> bool:
    """True when one of the ``.SF`` file's whole-manifest digests matches ``MANIFEST.MF``."""
    main_section = re.split(rb"\r?\n\r?\n", sf, maxsplit=1)[0]
    for algorithm, value in _MANIFEST_DIGEST.findall(main_section):
        hash_name = _SF_HASHES.get(algorithm.decode("ascii").upper())
        if hash_name and base64.b64encode(hashlib.new(hash_name, manifest).digest()) == value:
            return True
    return False
