"""The real APK samples in ../shared/data/apks: every one observed or rejected with a reason, as Android reads it.

The samples come from the test suites of androguard, apkInspector and
fdroidserver (see their SOURCES.md): ordinary apps, signing edge cases and
archives built to break zip parsers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudwall.apk_analysis import ApkRejected, observe_apk, observe_files
from fraudwall.models import ApkObservation
from tests.conftest import SHARED_DATA

APKS = SHARED_DATA / "apks"

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not APKS.is_dir(), reason=f"the shared APK samples are not at {APKS}"),
]

#: Samples that are no APK, and why.
REJECTED = {
    "ag_CertChain.apk": "no AndroidManifest.xml and no classes.dex",
    "ag_apksig_empty-unsigned.apk": "zip archive has no entries",
}


def _samples() -> list[Path]:
    return sorted(APKS.glob("*.apk")) if APKS.is_dir() else []


def _observe(name: str) -> list[ApkObservation]:
    return observe_apk((APKS / name).read_bytes())


@pytest.mark.parametrize("path", _samples(), ids=lambda path: path.name)
def test_every_sample_is_observed_or_rejected(path: Path) -> None:
    """Each sample gives observations, or ApkRejected with the expected reason: never another exception."""
    data = path.read_bytes()
    if path.name in REJECTED:
        with pytest.raises(ApkRejected) as caught:
            observe_apk(data)
        assert caught.value.reason == REJECTED[path.name]
        return
    observations = observe_apk(data)
    assert observations and observations[0].size == len(data)
    assert all(hash(observation) for observation in observations)


def test_tampered_archives_read_like_android() -> None:
    """The zip tricks are read through and named: invalid method, garbage before the end record, Janus."""
    def_mod = _observe("ai_minimal_def_mod.apk")[0]
    assert def_mod.package == "com.erev0s.minimal"
    assert "invalid compression method 30208 on AndroidManifest.xml" in def_mod.tamper
    garbage = _observe("ag_apksig_v2-only-garbage-between-cd-and-eocd.apk")[0]
    assert garbage.package == "android.appsecurity.cts.tinyapp"
    assert "7 bytes between the central directory and its end record" in garbage.tamper
    janus = _observe("fd_janus.apk")[0]
    assert janus.package == "com.example"
    assert "DEX before the zip (Janus, CVE-2017-13156)" in janus.tamper
    extra = _observe("ai_minimal_SIZE_ExtraField.apk")[0]
    assert extra.labels == (("", "erev0s.com - Minimal"),)
    assert "central directory entry 1 misaligned by 1 bytes" in extra.tamper
    zero = _observe("ai_minimal_zero_sized_end_ns.apk")[0]
    assert zero.package == "com.erev0s.minimal"
    assert any("bogus chunk 0x0101 of size 0" in note for note in zero.tamper)
    assert _observe("ai_eocd_at_offset_1026.apk")[0].package == "android.appsecurity.cts.tinyapp"


def test_signatures() -> None:
    """Debug keys, v1+v2 signing, a v1 signature that fails, a partial signature, duplicate block IDs."""
    (hello,) = _observe("ag_hello-world.apk")[0].certificates
    assert hello.schemes == (("v1", True), ("v2", True))
    (debug,) = _observe("ag_TestActivity.apk")[0].certificates
    assert debug.debug and debug.subject == "CN=Android Debug,O=Android,C=US"
    badsig = _observe("fd_urzip-badsig.apk")[0]
    assert badsig.certificates[0].schemes == (("v1", False),)
    assert "v1 signature does not verify" in badsig.tamper
    partial = _observe("ag_partialsignature.apk")[0]
    assert "v1 signature META-INF/CERT.RSA has no .SF file" in partial.tamper
    verified = sorted(verified for certificate in partial.certificates for _, verified in certificate.schemes)
    assert verified == [False, True]
    confusion = _observe("fd_issue-1128-poc1.apk")[0]
    assert {scheme for certificate in confusion.certificates for scheme, _ in certificate.schemes} == {"v1", "v2", "v3"}
    duplicated = _observe("fd_issue-1128-poc2.apk")[0]
    assert "duplicate APK Signing Block entry 0x7109871a" in duplicated.tamper
    assert "unsigned" in _observe("ai_eocd_at_offset_1026.apk")[0].tamper


def test_manifests_and_resources() -> None:
    """Labels resolved through resources.arsc in every locale, permissions, the SMS-stealer look-alike."""
    jamendo = _observe("ag_com.teleca.jamendo_35.apk")[0]
    assert jamendo.labels[0] == ("", "Jamendo") and ("fi", "Jamendo") in jamendo.labels
    assert len(jamendo.permissions) == 5
    a2dp = _observe("ag_a2dp.Vol_137.apk")[0]
    assert len(a2dp.permissions) == 17
    assert ("android.permission.RECEIVE_SMS", "dangerous") in a2dp.permissions
    assert a2dp.ips == ()  # its version name, 2.12.9.2, is a DEX string that looks like an address
    sms = _observe("fd_souch.smsbypass_9.apk")[0]
    assert sms.labels == (("", "Battery level"),)
    receivers = [component for component in sms.components if component.kind == "receiver"]
    assert any("android.provider.Telephony.SMS_RECEIVED" in item.actions
               for component in receivers for item in component.intent_filters)
    assert _observe("ag_Invalid.apk")[0].target_sdk == 15


def test_no_manifest_multidex_and_nested() -> None:
    """DEX files without a manifest are observed; an APK inside an APK is observed after it."""
    multidex = _observe("ag_multidex.apk")[0]
    assert multidex.package == "" and "no AndroidManifest.xml" in multidex.tamper
    dropper = _observe("fd_apk.embedded_1.apk")
    assert len(dropper) == 2 and dropper[0].nested == (dropper[1].sha256,)
    assert dropper[1].package
    assert _observe("fd_org.dyndns.fules.ck_20.apk")[0].native_libraries == ("libsymlink.so",)


def test_pool_agrees_with_in_process() -> None:
    """The worker-process batch gives the same outcome per sample as the in-process path."""
    paths = _samples()
    results = observe_files(paths, workers=2, timeout=60)
    for path, result in zip(paths, results):
        if path.name in REJECTED:
            assert result.rejected == REJECTED[path.name]
        else:
            expected = observe_apk(path.read_bytes())
            assert [o.sha256 for o in result.observations] == [o.sha256 for o in expected]
            assert [o.tamper for o in result.observations] == [o.tamper for o in expected]
