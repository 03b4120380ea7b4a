"""The full analysis on request: androguard's cross-references, the calls they show, and their bounds.

The fixture APKs (tests/data/apks) are built from smali templates whose code
only calls its superclasses' constructors, so the full analysis must read
that code and find no sensitive call in it. Calls are planted with
:func:`~tests.apk_analysis.apk_builders.make_code_dex`, which assembles DEX
files with real ``invoke`` instructions. The real samples in
``../shared/data/apks`` are corpus tests. Timing is not asserted anywhere:
the full analysis is slower, by how much is the benchmarks' business.
"""

from __future__ import annotations

import hashlib
import signal
import struct
import time
import tomllib
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from fraudwall.apk_analysis import ApkBudget, ApkRejected, ApkResult, observe_apk, observe_files
from fraudwall.apk_analysis import full_analysis, pool
from fraudwall.apk_analysis.full_analysis import ApiRules, api_rules, capabilities, sensitive_calls
from fraudwall.apk_analysis.notes import Notes
from fraudwall.models import ApkObservation
from fraudwall.plugins import apk_signals
from tests.apk_analysis.apk_builders import (
    PNG_1X1, CodeClass, CodeMethod, make_code_dex, make_dex, make_zip, manifest, prepend,
)
from tests.conftest import REPO, SHARED_DATA

FIXTURES = REPO / "tests" / "data" / "apks"
CORPUS = SHARED_DATA / "apks"

SEND_SMS = ("Landroid/telephony/SmsManager;->sendTextMessage(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;"
            "Landroid/app/PendingIntent;Landroid/app/PendingIntent;)V")
GET_DEFAULT = "Landroid/telephony/SmsManager;->getDefault()Landroid/telephony/SmsManager;"
GET_RUNTIME = "Ljava/lang/Runtime;->getRuntime()Ljava/lang/Runtime;"
EXEC = "Ljava/lang/Runtime;->exec(Ljava/lang/String;)Ljava/lang/Process;"
DEX_LOADER = ("Ldalvik/system/DexClassLoader;-><init>(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;"
              "Ljava/lang/ClassLoader;)V")
LOG = "Landroid/util/Log;->d(Ljava/lang/String;Ljava/lang/String;)I"
ADD_VIEW = "Landroid/view/WindowManager;->addView(Landroid/view/View;Landroid/view/ViewGroup$LayoutParams;)V"
SET_DATA_AND_TYPE = ("Landroid/content/Intent;->setDataAndType(Landroid/net/Uri;Ljava/lang/String;)"
                     "Landroid/content/Intent;")
APK_MIME = "application/vnd.android.package-archive"


def _fixtures() -> list[dict[str, object]]:
    manifest_file = FIXTURES / "MANIFEST.toml"
    return tomllib.loads(manifest_file.read_text(encoding="utf-8"))["apk"] if manifest_file.is_file() else []


READABLE = [entry["file"] for entry in _fixtures() if entry["expected"] != "rejected"]
REJECTED = [entry["file"] for entry in _fixtures() if entry["expected"] == "rejected"]


def _stealer_dex() -> bytes:
    """An SMS stealer's code: a receiver that sends SMS, runs a shell command and hides the broadcast."""
    return make_code_dex([
        CodeClass("Lcom/fraud/sms/Relay;", "Landroid/content/BroadcastReceiver;", (
            CodeMethod("onReceive", (GET_DEFAULT, SEND_SMS, "Lcom/fraud/sms/Relay;->abortBroadcast()V", LOG),
                       static=(GET_DEFAULT, LOG)),
        )),
        CodeClass("Lcom/fraud/sms/Shell;", methods=(CodeMethod("run", (GET_RUNTIME, EXEC), static=(GET_RUNTIME,)),)),
    ])


def _app(dex: bytes, package: str = "com.fraud.sms", *extra: tuple[str, bytes]) -> bytes:
    axml = manifest(package, permissions=("android.permission.SEND_SMS", "android.permission.RECEIVE_SMS"))
    return make_zip([("AndroidManifest.xml", axml), ("classes.dex", dex), *extra])


def _fix_checksum(dex: bytes) -> bytes:
    """``dex`` with its Adler-32 checksum recomputed, as a hostile author would leave it."""
    return dex[:8] + struct.pack("<I", zlib.adler32(dex[12:])) + dex[12:]


def _string_data_past_the_end() -> bytes:
    """A DEX whose map list claims more strings than the file holds (androguard 4.1 would read for ever)."""
    dex = bytearray(_stealer_dex())
    (map_off,) = struct.unpack_from("<I", dex, 0x34)
    (count,) = struct.unpack_from("<I", dex, map_off)
    for index in range(count):
        at = map_off + 4 + 12 * index
        if struct.unpack_from("<H", dex, at)[0] == 0x2002:
            size = struct.unpack_from("<I", dex, at + 4)[0]
            struct.pack_into("<I", dex, at + 4, size + 1000)
    return _fix_checksum(bytes(dex))


def _fast_fields(observation: ApkObservation) -> ApkObservation:
    """``observation`` without what the full analysis adds (and without its time)."""
    tamper = tuple(note for note in observation.tamper if not note.startswith(full_analysis.PREFIX))
    return replace(observation, api_calls=(), fully_analysed=False, tamper=tamper, observed_at=None)


# -- the fixture APKs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READABLE)
def test_fixture_code_is_fully_analysed_and_calls_nothing_sensitive(name: str) -> None:
    """Every readable fixture (nested APKs, the Janus prefix DEX included) is analysed whole; its smali only calls
    superclass constructors, so api_calls is empty, and nothing else in the observation changes."""
    data = (FIXTURES / name).read_bytes()
    fast = observe_apk(data)
    full = observe_apk(data, full=True)
    assert [observation.fully_analysed for observation in full] == [True] * len(full)
    assert [observation.api_calls for observation in full] == [()] * len(full)
    assert [_fast_fields(observation) for observation in full] == [_fast_fields(observation) for observation in fast]


@pytest.mark.parametrize("name", READABLE)
def test_fast_path_leaves_the_full_analysis_fields_empty(name: str) -> None:
    """Without ``full``, api_calls is empty and fully_analysed false, for the APK and the APKs inside it."""
    for observation in observe_apk((FIXTURES / name).read_bytes()):
        assert observation.api_calls == ()
        assert observation.fully_analysed is False


@pytest.mark.skipif(not READABLE, reason=f"no fixture APKs at {FIXTURES}")
def test_fixture_calls_are_what_their_smali_makes() -> None:
    """The analysis reads the fixtures' real code: with the superclass constructors listed as sensitive, each app
    calls those of the classes its templates extend (Activity, BroadcastReceiver, AccessibilityService, Service)."""
    constructors = ("Landroid/app/Activity;-><init>", "Landroid/content/BroadcastReceiver;-><init>",
                    "Landroid/accessibilityservice/AccessibilityService;-><init>", "Landroid/app/Service;-><init>")
    rules = ApiRules(calls=dict.fromkeys(constructors, "constructor"))

    def calls(name: str) -> tuple[str, ...]:
        return sensitive_calls((FIXTURES / name).read_bytes(), budget=ApkBudget(), rules=rules)

    assert calls("fake_bank_security.apk") == ("Landroid/app/Activity;-><init>",
                                               "Landroid/content/BroadcastReceiver;-><init>")
    assert set(calls("anti_fraud_centre_fake.apk")) == set(constructors)
    assert calls("benign_weather.apk") == ("Landroid/app/Activity;-><init>",)
    # The Janus file's prefix DEX is the fake bank's: its receivers are analysed, not only the weather activity.
    assert calls("tamper_janus.apk") == ("Landroid/app/Activity;-><init>",
                                         "Landroid/content/BroadcastReceiver;-><init>")


@pytest.mark.parametrize("name", REJECTED)
def test_rejected_fixtures_give_no_calls_and_a_note(name: str) -> None:
    """Bytes that are no APK (a PNG, half a zip, nothing) give () and a note, without raising."""
    notes = Notes()
    assert sensitive_calls((FIXTURES / name).read_bytes(), budget=ApkBudget(), notes=notes) == ()
    assert any(note.startswith(full_analysis.PREFIX) for note in notes.result())


# -- calls planted in built DEX files ----------------------------------------------------------------------


def test_calls_the_code_makes_are_found_sorted() -> None:
    """sendTextMessage, Runtime.exec and the inherited abortBroadcast are found; Log.d and getDefault are not
    listed, so they are not reported."""
    found = sensitive_calls(_app(_stealer_dex()), budget=ApkBudget())
    assert found == tuple(sorted({"Landroid/content/BroadcastReceiver;->abortBroadcast", "Ljava/lang/Runtime;->exec",
                                  "Landroid/telephony/SmsManager;->sendTextMessage"}))


def test_a_bare_dex_is_analysed_too() -> None:
    """sensitive_calls takes a DEX file as well as an APK."""
    assert "Landroid/telephony/SmsManager;->sendTextMessage" in sensitive_calls(_stealer_dex(), budget=ApkBudget())


def test_names_in_the_string_table_are_not_calls() -> None:
    """Code that only names a method (const-string) does not call it: the fast path's strings are no evidence."""
    dex = make_code_dex([CodeClass("Lcom/a/Reflect;", methods=(
        CodeMethod("run", strings=("Landroid/telephony/SmsManager;", "sendTextMessage", "dispatchGesture")),
    ))])
    assert sensitive_calls(dex, budget=ApkBudget()) == ()


def test_inherited_methods_are_credited_to_the_framework_class() -> None:
    """this.performGlobalAction() in a subclass of a subclass of AccessibilityService is the framework's method."""
    dex = make_code_dex([
        CodeClass("Lcom/a/BaseService;", "Landroid/accessibilityservice/AccessibilityService;"),
        CodeClass("Lcom/a/Helper;", "Lcom/a/BaseService;", (
            CodeMethod("back", ("Lcom/a/Helper;->performGlobalAction(I)Z",)),
            CodeMethod("tap", ("Lcom/a/Helper;->dispatchGesture(Landroid/accessibilityservice/GestureDescription;"
                               "Landroid/accessibilityservice/AccessibilityService$GestureResultCallback;"
                               "Landroid/os/Handler;)Z",)),
        )),
    ])
    assert sensitive_calls(dex, budget=ApkBudget()) == (
        "Landroid/accessibilityservice/AccessibilityService;->dispatchGesture",
        "Landroid/accessibilityservice/AccessibilityService;->performGlobalAction",
    )


def test_a_call_that_reaches_the_apps_own_override_is_not_the_frameworks() -> None:
    """When an app class on the way up defines the method (its own performGlobalAction), the call is the app's."""
    dex = make_code_dex([
        CodeClass("Lcom/a/BaseService;", "Landroid/accessibilityservice/AccessibilityService;", (
            CodeMethod("performGlobalAction", signature="(I)Z"),)),
        CodeClass("Lcom/a/Helper;", "Lcom/a/BaseService;", (
            CodeMethod("back", ("Lcom/a/Helper;->performGlobalAction(I)Z",)),)),
    ])
    assert sensitive_calls(dex, budget=ApkBudget()) == ()


def test_library_code_is_not_the_apps() -> None:
    """A class loader made by AndroidX or Play services is left out; the same call from the app's own class is not."""
    def loader(owner: str) -> CodeClass:
        return CodeClass(owner, methods=(CodeMethod("load", (DEX_LOADER,)),))

    libraries = make_code_dex([loader("Landroidx/startup/Loader;"), loader("Lcom/google/android/gms/dynamite/M;")])
    assert sensitive_calls(libraries, budget=ApkBudget()) == ()
    own = make_code_dex([loader("Landroidx/startup/Loader;"), loader("Lcom/fraud/Payload;")])
    assert sensitive_calls(own, budget=ApkBudget()) == ("Ldalvik/system/DexClassLoader;-><init>",)


@pytest.mark.parametrize(("constants", "found"), [
    ({"ints": (2038,)}, True),  # TYPE_APPLICATION_OVERLAY
    ({"ints": (2003,)}, True),  # TYPE_SYSTEM_ALERT
    ({"ints": (2,)}, False),  # TYPE_APPLICATION: a window of the app's own
    ({}, False),
])
def test_add_view_counts_with_an_overlay_window_type(constants: dict[str, tuple[int, ...]], found: bool) -> None:
    """WindowManager.addView is reported only when the calling class loads an overlay window type."""
    dex = make_code_dex([CodeClass("Lcom/a/Float;", methods=(
        CodeMethod("params", **constants), CodeMethod("show", (ADD_VIEW,)),
    ))])
    assert (sensitive_calls(dex, budget=ApkBudget()) == ("Landroid/view/WindowManager;->addView",)) is found


def test_install_intent_counts_with_the_apk_mime_type() -> None:
    """Intent.setDataAndType is an install only with the APK MIME type in the calling class."""
    def dex(*strings: str) -> bytes:
        return make_code_dex([CodeClass("Lcom/a/Update;", methods=(
            CodeMethod("install", (SET_DATA_AND_TYPE,), strings=strings),))])

    assert sensitive_calls(dex(APK_MIME), budget=ApkBudget()) == ("Landroid/content/Intent;->setDataAndType",)
    assert sensitive_calls(dex("image/png"), budget=ApkBudget()) == ()


# -- observe_apk(full=True) -------------------------------------------------------------------------------


def test_full_observation_carries_the_calls() -> None:
    """With full, the APK's observation gets its calls and fully_analysed; the fast path's fields are the same."""
    data = _app(_stealer_dex())
    (fast,) = observe_apk(data)
    (full,) = observe_apk(data, full=True)
    assert full.fully_analysed is True
    assert "Landroid/telephony/SmsManager;->sendTextMessage" in full.api_calls
    assert (fast.api_calls, fast.fully_analysed) == ((), False)
    assert _fast_fields(full) == _fast_fields(fast)


def test_every_dex_of_the_app_is_one_analysis() -> None:
    """A call whose class is in classes2.dex and whose superclass is in classes.dex is credited across the files."""
    first = make_code_dex([CodeClass("Lcom/a/Base;", "Landroid/content/BroadcastReceiver;")])
    second = make_code_dex([CodeClass("Lcom/a/Sms;", "Lcom/a/Base;", (
        CodeMethod("hide", ("Lcom/a/Sms;->abortBroadcast()V",)),))])
    (found,) = observe_apk(_app(first, "com.a", ("classes2.dex", second)), full=True)
    assert found.api_calls == ("Landroid/content/BroadcastReceiver;->abortBroadcast",)


def test_nested_apks_are_analysed_too() -> None:
    """A dropper's payload gets its own calls; the dropper gets the calls of its own code only."""
    payload = _app(_stealer_dex(), "com.payload")
    loader = make_code_dex([CodeClass("Lcom/dropper/Main;", methods=(CodeMethod("load", (DEX_LOADER,)),))])
    dropper = _app(loader, "com.dropper", ("assets/update.apk", payload))
    outer, inner = observe_apk(dropper, full=True)
    assert inner.sha256 == hashlib.sha256(payload).hexdigest() and inner.sha256 in outer.nested
    assert outer.api_calls == ("Ldalvik/system/DexClassLoader;-><init>",)
    assert "Landroid/telephony/SmsManager;->sendTextMessage" in inner.api_calls
    assert outer.fully_analysed and inner.fully_analysed


def test_dex_budget_goes_to_the_outer_apk_first() -> None:
    """With room for one DEX only, the APK's own code is analysed and the nested APK's is left out, with a note."""
    payload = _app(_stealer_dex(), "com.payload")
    dropper_dex = make_code_dex([CodeClass("Lcom/dropper/Main;", methods=(CodeMethod("load", (DEX_LOADER,)),))])
    budget = ApkBudget(full_dex_bytes=len(dropper_dex) + 10)
    outer, inner = observe_apk(_app(dropper_dex, "com.dropper", ("payload.apk", payload)), full=True, budget=budget)
    assert outer.fully_analysed and outer.api_calls == ("Ldalvik/system/DexClassLoader;-><init>",)
    assert not inner.fully_analysed and inner.api_calls == ()
    assert any("over the budget" in note and note.startswith(full_analysis.PREFIX) for note in inner.tamper)


def test_over_the_dex_budget_the_fast_observation_stays() -> None:
    """A DEX over ``full_dex_bytes`` is not analysed: no calls, fully_analysed false, a note; the rest as usual."""
    data = _app(_stealer_dex())
    (fast,) = observe_apk(data)
    (found,) = observe_apk(data, full=True, budget=ApkBudget(full_dex_bytes=100))
    assert (found.api_calls, found.fully_analysed) == ((), False)
    assert any("classes.dex not analysed" in note for note in found.tamper)
    assert _fast_fields(found) == _fast_fields(fast)


def test_full_analysis_has_its_own_deadline() -> None:
    """With no full_seconds left, DEX files are not analysed (a note says the budget is spent); the fast path's
    own seconds are untouched."""
    (found,) = observe_apk(_app(_stealer_dex()), full=True, budget=ApkBudget(full_seconds=0))
    assert (found.api_calls, found.fully_analysed) == ((), False)
    assert f"{full_analysis.PREFIX}classes.dex not analysed (analysis budget spent)" in found.tamper
    assert found.package == "com.fraud.sms"


def test_an_app_without_code_calls_nothing() -> None:
    """No DEX at all is a complete analysis that found no call."""
    (found,) = observe_apk(make_zip([("AndroidManifest.xml", manifest("com.nocode"))]), full=True)
    assert (found.api_calls, found.fully_analysed) == ((), True)


# -- hostile input -----------------------------------------------------------------------------------------


HOSTILE_DEX = {
    "magic only": b"dex\n035\0" + bytes(0x68),
    "garbage after the magic": b"dex\n035\0" + bytes(range(256)) * 4,
    "string table only": make_dex(["https://c2.fraud.top/"]),
    "truncated": _stealer_dex()[:300],
    "truncated, checksum fixed": _fix_checksum(_stealer_dex()[:300]),
    "string data past the end": _string_data_past_the_end(),
    "every seventh byte flipped, checksum fixed": _fix_checksum(bytes(
        byte ^ 0x5A if index >= 0x70 and index % 7 == 0 else byte for index, byte in enumerate(_stealer_dex()))),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_DEX))
def test_hostile_dex_gives_no_calls_and_a_note(name: str) -> None:
    """A DEX androguard cannot read (or must not: one it would read for ever) gives () and a note, never an error."""
    notes = Notes()
    assert sensitive_calls(HOSTILE_DEX[name], budget=ApkBudget(), notes=notes) == ()
    assert any(note.startswith(full_analysis.PREFIX) for note in notes.result())


@pytest.mark.parametrize("name", sorted(HOSTILE_DEX))
def test_hostile_dex_in_an_apk_keeps_the_fast_observation(name: str) -> None:
    """observe_apk(full=True) of an APK with a hostile DEX still observes it; the full analysis says it failed."""
    data = _app(HOSTILE_DEX[name])
    (fast,) = observe_apk(data)
    (found,) = observe_apk(data, full=True)
    assert (found.api_calls, found.fully_analysed) == ((), False)
    assert _fast_fields(found) == _fast_fields(fast)


def test_a_hostile_dex_does_not_hide_the_good_one() -> None:
    """Beside a DEX androguard cannot read, the other DEX's calls are still found (the analysis is not complete)."""
    (found,) = observe_apk(_app(_stealer_dex(), "com.a", ("classes2.dex", _string_data_past_the_end())), full=True)
    assert "Landroid/telephony/SmsManager;->sendTextMessage" in found.api_calls
    assert found.fully_analysed is False


def test_janus_prefix_dex_is_analysed_as_the_runtime_reads_it() -> None:
    """A DEX before the zip, its header covering the whole file, is analysed; its calls count."""
    app = _app(make_code_dex([CodeClass("Lcom/a/Main;", "Landroid/app/Activity;")]))
    prefix = bytearray(_stealer_dex())
    data = bytearray(prepend(bytes(prefix), app))
    struct.pack_into("<I", data, 32, len(data))  # file_size: the runtime reads the whole file as the DEX
    data[12:32] = hashlib.sha1(bytes(data[32:])).digest()
    (found,) = observe_apk(_fix_checksum(bytes(data)), full=True)
    assert "Landroid/telephony/SmsManager;->sendTextMessage" in found.api_calls


# -- limits: the worker's timer and memory cap, the in-process timer --------------------------------------


def _slow_analysis(*args: object, **kwargs: object) -> tuple[tuple[str, ...], bool]:
    time.sleep(10)
    raise AssertionError("not interrupted")


def test_worker_timeout_during_the_full_analysis_keeps_the_fast_observation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the worker's timer fires inside the full analysis, the APK is observed (not rejected) without calls."""
    path = tmp_path / "slow.apk"
    path.write_bytes(_app(_stealer_dex()))
    monkeypatch.setattr(full_analysis, "_analyse", _slow_analysis)
    previous = signal.getsignal(signal.SIGALRM)
    try:
        result = pool._work(0, str(path), 0.5, 1024, ApkBudget(), 2, True)
    finally:
        signal.signal(signal.SIGALRM, previous)  # pytest-timeout owns the alarm
    assert result.ok, result.rejected
    (found,) = result.observations
    assert found.package == "com.fraud.sms" and (found.api_calls, found.fully_analysed) == ((), False)
    assert any("stopped by the time limit" in note for note in found.tamper)


def test_memory_limit_during_the_full_analysis_keeps_the_fast_observation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Running out of memory inside androguard drops the full analysis only."""
    def hungry(*args: object, **kwargs: object) -> tuple[tuple[str, ...], bool]:
        raise MemoryError

    monkeypatch.setattr(full_analysis, "_analyse", hungry)
    (found,) = observe_apk(_app(_stealer_dex()), full=True)
    assert (found.api_calls, found.fully_analysed) == ((), False)
    assert any("memory limit" in note for note in found.tamper)


def test_in_process_timer_stops_androguard_and_is_put_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the main thread with no timer running, the full analysis sets its own at the budget's deadline, and
    leaves the SIGALRM handler as it found it."""
    monkeypatch.setattr(full_analysis, "_analyse", _slow_analysis)
    monkeypatch.setattr(full_analysis, "TIMER_GRACE", 0.1)
    outer_handler = signal.getsignal(signal.SIGALRM)
    outer_timer = signal.setitimer(signal.ITIMER_REAL, 0)  # pytest-timeout's, suspended for this test
    try:
        signal.signal(signal.SIGALRM, signal.SIG_IGN)  # whatever was there before must be there after
        (found,) = observe_apk(_app(_stealer_dex()), full=True, budget=ApkBudget(full_seconds=0.3))
        assert signal.getsignal(signal.SIGALRM) is signal.SIG_IGN
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    finally:
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_timer[0]:
            signal.setitimer(signal.ITIMER_REAL, *outer_timer)
    assert (found.api_calls, found.fully_analysed) == ((), False)
    assert any("stopped by the time limit" in note for note in found.tamper)


def test_batch_passes_full_through(tmp_path: Path) -> None:
    """ApkBatch / observe_files with full=True analyse in the workers; without it, nothing is added."""
    path = tmp_path / "stealer.apk"
    path.write_bytes(_app(_stealer_dex()))
    png = tmp_path / "png.apk"
    png.write_bytes(PNG_1X1)
    full: list[ApkResult] = observe_files([path, png], workers=2, timeout=60, full=True)
    fast: list[ApkResult] = observe_files([path], workers=1, timeout=60)
    assert "Ljava/lang/Runtime;->exec" in full[0].observations[0].api_calls
    assert full[0].observations[0].fully_analysed
    assert full[1].rejected == "not a zip archive (starts with 89504e47)"
    assert (fast[0].observations[0].api_calls, fast[0].observations[0].fully_analysed) == ((), False)


# -- the data file -------------------------------------------------------------------------------------------


def test_sensitive_api_list_is_well_formed() -> None:
    """Every entry names a class descriptor and a method; every [needs] entry is a listed call."""
    rules = api_rules()
    assert len(rules.calls) >= 40
    for call, capability in rules.calls.items():
        owner, _, method = call.partition("->")
        assert owner.startswith("L") and owner.endswith(";") and method and "(" not in method, call
        assert capability.isidentifier(), capability
    assert set(rules.needs) <= set(rules.calls)
    assert all(prefix.startswith("L") and prefix.endswith("/") for prefix in rules.libraries)


def test_capabilities_group_calls() -> None:
    """capabilities() names what the calls show, in the order of the data file; unknown calls are ignored."""
    found = capabilities(["Ljava/lang/Runtime;->exec", "Landroid/telephony/SmsManager;->sendTextMessage",
                          "Landroid/telephony/SmsManager;->sendMultipartTextMessage", "Lcom/x/Y;->z"])
    assert found == {"send_sms": ("Landroid/telephony/SmsManager;->sendTextMessage",
                                  "Landroid/telephony/SmsManager;->sendMultipartTextMessage"),
                     "shell_command": ("Ljava/lang/Runtime;->exec",)}


def test_every_call_the_detector_reads_is_in_the_data_file() -> None:
    """The detector (plugins/apk_signals.py) and the analysis (data/sensitive_apis.toml) name calls alike."""
    listed = set(api_rules().calls)
    read = {call for name in dir(apk_signals) if name.startswith("CALLS_") for call in getattr(apk_signals, name)}
    assert read and read <= listed, sorted(read - listed)


# -- the real samples (corpus) -----------------------------------------------------------------------------


def _corpus() -> list[Path]:
    return sorted(CORPUS.glob("*.apk")) if CORPUS.is_dir() else []


@pytest.mark.parametrize("path", _corpus(), ids=lambda path: path.name)
@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared APK samples are not at {CORPUS}")
def test_corpus_full_analysis_never_raises_and_changes_nothing_else(path: Path) -> None:
    """Every real sample the fast path observes is observed with full too, the fast path's fields unchanged."""
    data = path.read_bytes()
    try:
        fast = observe_apk(data)
    except ApkRejected:
        pytest.skip("rejected by the fast path (test_corpus.py covers why)")
    full = observe_apk(data, full=True)
    assert [_fast_fields(observation) for observation in full] == [_fast_fields(observation) for observation in fast]
    for observation in full:
        assert observation.api_calls == tuple(sorted(observation.api_calls))


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "fd_souch.smsbypass_9.apk").is_file(), reason=f"no SMS sample in {CORPUS}")
def test_corpus_sms_app_sends_and_aborts() -> None:
    """The FOSS SMS app's code sends SMS and aborts the SMS broadcast; its string table alone could not say so."""
    (found,) = observe_apk((CORPUS / "fd_souch.smsbypass_9.apk").read_bytes(), full=True)
    assert found.fully_analysed
    assert {"Landroid/telephony/SmsManager;->sendTextMessage",
            "Landroid/content/BroadcastReceiver;->abortBroadcast"} <= set(found.api_calls)


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "fd_apk.embedded_1.apk").is_file(), reason=f"no nested sample in {CORPUS}")
def test_corpus_nested_apk_gets_its_own_calls() -> None:
    """The APK inside fdroidserver's embedded sample is analysed on its own: it opens the camera, the outer app not."""
    outer, inner = observe_apk((CORPUS / "fd_apk.embedded_1.apk").read_bytes(), full=True)
    assert outer.api_calls == () and outer.fully_analysed
    assert inner.api_calls == ("Landroid/hardware/Camera;->open",) and inner.fully_analysed


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "fd_janus.apk").is_file(), reason=f"no Janus sample in {CORPUS}")
def test_corpus_janus_sample_is_analysed_whole() -> None:
    """fdroidserver's Janus sample: the DEX before the zip reads as the runtime reads it (the whole file)."""
    (found,) = observe_apk((CORPUS / "fd_janus.apk").read_bytes(), full=True)
    assert found.fully_analysed
