"""Tests for ``apk_api_calls``: calls the full analysis finds corroborate dangerous capabilities, modestly.

Observations are built by hand (the way ``apk_analysis`` fills ``api_calls``),
plus the fixture APKs and the corpus' FOSS SMS app analysed for real; every
verdict goes through fraudwall's judging road with every APK plugin and this one.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace

import pytest

from fraudwall.apk_analysis import observe_apk
from fraudwall.judging import judge
from fraudwall.models import ApkObservation, Category, SubjectKind, VerdictStatus
from fraudwall.plugin_host import PluginHost
from fraudwall.plugins import apk_api_calls, apk_capabilities, apk_signals
from fraudwall.settings import Settings
from fraudwall.testing import assert_finding, assert_no_finding, run_plugin
from tests.conftest import REPO, SHARED_DATA
from tests.plugins.detector_helpers import MALICIOUS
from tests.plugins.test_apk_detectors import (
    APK_PLUGINS, accessibility, apk, perms, receiver, service, sms_backup_app, weather_app,
)

SEND = "Landroid/telephony/SmsManager;->sendTextMessage"
ABORT = "Landroid/content/BroadcastReceiver;->abortBroadcast"
GESTURE = "Landroid/accessibilityservice/AccessibilityService;->dispatchGesture"
CAPTURE = "Landroid/media/projection/MediaProjectionManager;->createScreenCaptureIntent"
LOADER = "Ldalvik/system/DexClassLoader;-><init>"
INSTALL = "Landroid/content/pm/PackageInstaller;->createSession"
LOCK = "Landroid/app/admin/DevicePolicyManager;->lockNow"
OVERLAY = "Landroid/view/WindowManager;->addView"
FIXTURES = REPO / "tests" / "data" / "apks"
SMS_APP = SHARED_DATA / "apks" / "fd_souch.smsbypass_9.apk"


def host() -> PluginHost:
    """Every APK plugin, this one included, as setup.cfg registers them."""
    plugins = PluginHost(Settings())
    for plugin in APK_PLUGINS:
        plugins.register(plugin, origin="tests")
    plugins.configure()
    return plugins


def full(observation: ApkObservation, *calls: str) -> ApkObservation:
    """``observation`` as the full analysis leaves it, with ``calls``."""
    return replace(observation, api_calls=tuple(sorted(calls)), fully_analysed=True)


def score(observation: ApkObservation) -> float:
    """This detector's score for ``observation`` (0 without a finding)."""
    findings = run_plugin(apk_api_calls, apk=observation)
    return max((f.score for f in findings if f.detector == apk_api_calls.name), default=0.0)


def test_sms_permission_and_send_call_corroborate() -> None:
    """SEND_SMS and a sendTextMessage call: a weak fake_app finding that names the call."""
    found = run_plugin(apk_api_calls, apk=full(apk(permissions=perms("SEND_SMS")), SEND))
    finding = assert_finding(found, category=Category.FAKE_APP.value, detector="apk_api_calls",
                             min_score=0.08, max_score=0.08)
    assert finding.subject_kind is SubjectKind.APK
    assert "SmsManager.sendTextMessage" in finding.reason


@pytest.mark.parametrize(("observation", "calls", "weight"), [
    (dict(permissions=perms("RECEIVE_SMS")), (ABORT,), 0.10),
    (dict(components=(accessibility(),)), (GESTURE,), 0.12),
    (dict(components=(service("com.x.Rec", foregroundServiceType="mediaProjection"),)), (CAPTURE,), 0.10),
    (dict(permissions=perms("SYSTEM_ALERT_WINDOW")), (OVERLAY,), 0.05),
    (dict(permissions=perms("REQUEST_INSTALL_PACKAGES")), (LOADER,), 0.12),
    (dict(permissions=perms("REQUEST_INSTALL_PACKAGES"), nested=("ab" * 32,)), (INSTALL,), 0.08),
    (dict(components=(receiver("com.x.Admin", "android.permission.BIND_DEVICE_ADMIN",
                               ("android.app.action.DEVICE_ADMIN_ENABLED",)),)), (LOCK,), 0.10),
], ids=["hides_sms", "gestures", "screen_capture", "overlay", "dropper_code", "installs_payload", "device_admin"])
def test_each_corroboration_has_its_weight(observation: dict[str, object], calls: tuple[str, ...],
                                           weight: float) -> None:
    """Each capability and the call that uses it score their documented weight."""
    assert score(full(apk(**observation), *calls)) == weight


@pytest.mark.parametrize(("observation", "calls"), [
    (dict(permissions=perms("INTERNET")), (SEND,)),  # sends SMS without SEND_SMS: nothing to corroborate
    (dict(permissions=perms("SEND_SMS")), (ABORT,)),  # abortBroadcast without reading SMS
    (dict(permissions=perms("SYSTEM_ALERT_WINDOW")), (GESTURE,)),  # gestures without an accessibility service
    (dict(permissions=perms("INTERNET")), (LOADER,)),  # code loading without installing packages
    (dict(permissions=perms("REQUEST_INSTALL_PACKAGES")), (INSTALL,)),  # an updater: installs, carries nothing
    (dict(permissions=perms("ACCESS_FINE_LOCATION", "READ_CONTACTS")),
     ("Landroid/location/LocationManager;->requestLocationUpdates", "Landroid/content/ContentResolver;->query")),
], ids=["send-without-permission", "abort-without-sms", "gesture-without-service", "loader-without-installer",
        "updater", "ordinary-calls"])
def test_calls_without_the_capability_give_nothing(observation: dict[str, object], calls: tuple[str, ...]) -> None:
    """A call the manifest does not back, or an everyday one, gives no finding."""
    assert_no_finding(run_plugin(apk_api_calls, apk=full(apk(**observation), *calls)), detector="apk_api_calls")


def test_without_the_full_analysis_there_is_no_finding() -> None:
    """An observation from the fast path (no api_calls) gets nothing, whatever its manifest asks for."""
    observation = apk(permissions=perms("SEND_SMS", "RECEIVE_SMS", "REQUEST_INSTALL_PACKAGES"),
                      components=(accessibility(),))
    assert_no_finding(run_plugin(apk_api_calls, apk=observation), detector="apk_api_calls")


def test_everything_at_once_is_capped() -> None:
    """All corroborations together stay at the cap, below what would lift a capped capability finding to malicious."""
    observation = apk(
        permissions=perms("SEND_SMS", "RECEIVE_SMS", "SYSTEM_ALERT_WINDOW", "REQUEST_INSTALL_PACKAGES"),
        components=(accessibility(), service("com.x.Rec", foregroundServiceType="mediaProjection"),
                    receiver("com.x.Admin", "android.permission.BIND_DEVICE_ADMIN",
                             ("android.app.action.DEVICE_ADMIN_ENABLED",))),
        nested=("cd" * 32,),
    )
    observation = full(observation, SEND, ABORT, GESTURE, CAPTURE, OVERLAY, LOADER, INSTALL, LOCK)
    assert score(observation) == apk_signals.CORROBORATION_CAP
    capability = max(f.score for f in run_plugin(apk_capabilities, apk=observation))
    assert capability == apk_signals.CAPABILITY_CAP
    assert 1 - (1 - capability) * (1 - apk_signals.CORROBORATION_CAP) < MALICIOUS


def test_calls_alone_never_make_an_app_malicious() -> None:
    """A proper certificate and a plain label: capabilities and their calls together stay below malicious."""
    observation = full(apk(permissions=perms("READ_SMS", "RECEIVE_SMS", "SEND_SMS", "READ_CONTACTS", "READ_CALL_LOG",
                                             "SYSTEM_ALERT_WINDOW"), components=(accessibility(),)),
                       SEND, ABORT, GESTURE, OVERLAY)
    assert judge(host(), observation).verdict.status is not VerdictStatus.MALICIOUS


def test_benign_apps_stay_benign_or_suspicious_with_calls() -> None:
    """The SMS backup app that really sends SMS stays at most suspicious; the weather app that tracks location,
    benign."""
    sms = judge(host(), full(sms_backup_app(), SEND, "Landroid/content/ContentResolver;->query")).verdict
    assert sms.status is not VerdictStatus.MALICIOUS
    weather = judge(host(), full(weather_app(), "Landroid/location/LocationManager;->requestLocationUpdates")).verdict
    assert weather.status is VerdictStatus.BENIGN


def _fixtures() -> list[dict[str, object]]:
    manifest_file = FIXTURES / "MANIFEST.toml"
    return tomllib.loads(manifest_file.read_text(encoding="utf-8"))["apk"] if manifest_file.is_file() else []


@pytest.mark.parametrize("entry", [e for e in _fixtures() if e["expected"] in ("benign", "suspicious-at-most")],
                         ids=lambda entry: str(entry["file"]))
def test_benign_fixtures_keep_their_expected_verdict_with_the_full_analysis(entry: dict[str, object]) -> None:
    """MANIFEST.toml's benign and suspicious-at-most fixtures, fully analysed, keep their verdict."""
    (observation, *_) = observe_apk((FIXTURES / str(entry["file"])).read_bytes(), full=True)
    assert observation.fully_analysed
    verdict = judge(host(), observation).verdict
    if entry["expected"] == "benign":
        assert verdict.status is VerdictStatus.BENIGN
    else:
        assert verdict.status is not VerdictStatus.MALICIOUS


@pytest.mark.corpus
@pytest.mark.skipif(not SMS_APP.is_file(), reason=f"the shared APK samples are not at {SMS_APP.parent}")
def test_corpus_foss_sms_app_stays_at_most_suspicious() -> None:
    """The FOSS SMS app (RECEIVE_SMS, SEND_SMS, contacts, an SMS receiver) whose code sends SMS and aborts the
    broadcast gets the corroboration, and stays at most suspicious."""
    data = SMS_APP.read_bytes()
    (observation,) = observe_apk(data, full=True)
    judgement = judge(host(), observation, archive=data)
    assert [f.detector for f in judgement.findings if f.detector == "apk_api_calls"] == ["apk_api_calls"]
    assert judgement.verdict.status in (VerdictStatus.BENIGN, VerdictStatus.SUSPICIOUS)
