"""Signing certificates and signature schemes: v1 (JAR), v2 and v3 (APK Signing Block), verified or not."""

from __future__ import annotations

import pytest

from fraudwall.apk_analysis import observe_apk
from fraudwall.apk_analysis.certificates import describe
from fraudwall.models import ApkObservation
from tests.apk_analysis.apk_builders import Signer, make_dex, make_signer, make_zip, manifest, sign_block, v1_entries


@pytest.fixture(scope="module")
def signer() -> Signer:
    """One RSA key and self-signed certificate for the module (key generation is slow)."""
    return make_signer("Fraud Dev")


def _entries() -> list[tuple[str, bytes]]:
    return [("AndroidManifest.xml", manifest("com.x")), ("classes.dex", make_dex(["https://c2.fraud.top/"]))]


def _observe(data: bytes) -> ApkObservation:
    return observe_apk(data)[0]


def test_v1_signature_verifies(signer: Signer) -> None:
    """A JAR signature with signed attributes verifies; the certificate is described."""
    found = _observe(make_zip(v1_entries(_entries(), signer)))
    (certificate,) = found.certificates
    assert certificate.schemes == (("v1", True),)
    assert certificate.subject == "O=Test,CN=Fraud Dev"
    assert certificate.serial == "1234abcd"
    assert certificate.self_signed and not certificate.debug
    assert certificate.not_before is not None and certificate.not_before.year == 2024
    assert found.tamper == ()


def test_v1_signature_without_signed_attributes(signer: Signer) -> None:
    """A PKCS#7 signature straight over the .SF file (no signed attributes) verifies too."""
    found = _observe(make_zip(v1_entries(_entries(), signer, attributes=False)))
    assert found.certificates[0].schemes == (("v1", True),)


def test_v1_manifest_changed_after_signing(signer: Signer) -> None:
    """A MANIFEST.MF that no longer matches the .SF digest makes v1 fail."""
    entries = v1_entries(_entries(), signer)
    entries = [(name, content + b"Name: x\r\n\r\n" if name == "META-INF/MANIFEST.MF" else content)
               for name, content in entries]
    found = _observe(make_zip(entries))
    assert found.certificates[0].schemes == (("v1", False),)
    assert "v1 signature does not verify" in found.tamper


def test_v1_block_without_sf(signer: Signer) -> None:
    """A signature block without its .SF file (a partial signature) lists the certificate, unverified."""
    entries = [entry for entry in v1_entries(_entries(), signer) if not entry[0].endswith(".SF")]
    found = _observe(make_zip(entries))
    assert found.certificates[0].schemes == (("v1", False),)
    assert "v1 signature META-INF/CERT.RSA has no .SF file" in found.tamper


def test_v1_block_that_is_not_pkcs7(signer: Signer) -> None:
    """Junk in a .RSA file is reported, not raised."""
    entries = [(name, b"junk" if name.endswith(".RSA") else content)
               for name, content in v1_entries(_entries(), signer)]
    found = _observe(make_zip(entries))
    assert found.certificates == ()
    assert "v1 signature META-INF/CERT.RSA is not PKCS#7 SignedData" in found.tamper


@pytest.mark.parametrize("scheme", ["v2", "v3"])
def test_signing_block_verifies(signer: Signer, scheme: str) -> None:
    """A v2 or v3 signer verifies: signature over signed data, key matching the certificate, content digest."""
    found = _observe(sign_block(make_zip(_entries()), signer, scheme=scheme))
    assert found.certificates[0].schemes == ((scheme, True),)
    assert found.tamper == ()


def test_signing_block_over_changed_content(signer: Signer) -> None:
    """One byte changed in an entry after signing breaks the content digest: v2 does not verify."""
    signed = bytearray(sign_block(make_zip(_entries()), signer))
    signed[60] ^= 0x01
    found = _observe(bytes(signed))
    assert found.certificates[0].schemes == (("v2", False),)
    assert "v2 signature does not verify" in found.tamper


def test_same_certificate_in_every_scheme(signer: Signer) -> None:
    """v1 and v2 signed by one key give one certificate carrying both schemes."""
    found = _observe(sign_block(make_zip(v1_entries(_entries(), signer)), signer))
    (certificate,) = found.certificates
    assert certificate.schemes == (("v1", True), ("v2", True))


def test_duplicate_block_ids(signer: Signer) -> None:
    """A signing block holding the v2 entry twice (signer confusion) is noted; the first entry counts."""
    found = _observe(sign_block(make_zip(_entries()), signer, duplicate=True))
    assert found.certificates[0].schemes == (("v2", True),)
    assert "duplicate APK Signing Block entry 0x7109871a" in found.tamper


def test_stripped_newer_scheme(signer: Signer) -> None:
    """An .SF file saying the APK had a v2 signature, without one, means it was stripped."""
    entries = v1_entries(_entries(), signer)
    entries = [(name, content.replace(b"Created-By: test\r\n", b"X-Android-APK-Signed: 2\r\n", 1)
                if name.endswith(".SF") else content) for name, content in entries]
    found = _observe(make_zip(entries))
    assert "v2 signature stripped (the .SF file says the APK had one)" in found.tamper


def test_unsigned() -> None:
    """An APK without any signature says so."""
    assert "unsigned" in _observe(make_zip(_entries())).tamper


def test_debug_certificate() -> None:
    """A certificate named CN=Android Debug is marked as the public debug key."""
    debug = make_signer("Android Debug")
    certificate = describe(debug.der, (("v1", True),))
    assert certificate.debug and certificate.self_signed
    assert len(certificate.sha256) == 64


def test_describe_junk() -> None:
    """Bytes that are no certificate still give an entry (its sha256) rather than an error."""
    certificate = describe(b"\x30\x03\x02\x01\x01")
    assert certificate.subject == "" and len(certificate.sha256) == 64
