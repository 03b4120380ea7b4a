"""observe_apk end to end: what an observation holds, nested APKs, budgets, and rejections."""

from __future__ import annotations

import hashlib

import pytest

from fraudwall.apk_analysis import ApkBudget, ApkRejected, observe_apk
from tests.apk_analysis.apk_builders import PNG_1X1, Element, make_dex, make_zip, manifest, prepend

TRON = "TRTPLGm13bggWoHH36hTyd9JMBd49NqaVD"


def _app(package: str = "com.icbc.anquan", *, extra: list[tuple[str, bytes]] | None = None,
         strings: tuple[str, ...] = ("https://icbc-anquan.top/api/upload",)) -> bytes:
    axml = manifest(package, label="工商银行安全控件", permissions=("android.permission.READ_SMS",), components=(
        Element("receiver", {"android:name": ".Sms"}, [Element("intent-filter", {"android:priority": 999}, [
            Element("action", {"android:name": "android.provider.Telephony.SMS_RECEIVED"})])]),
    ))
    return make_zip([("AndroidManifest.xml", axml), ("classes.dex", make_dex(list(strings))), *(extra or [])])


def test_observation_of_a_fraud_like_app() -> None:
    """One observation with identity, label, permissions, components and indicators from DEX and assets."""
    data = _app(strings=("https://icbc-anquan.top/api/upload", f"充值地址：{TRON}"),
                extra=[("assets/config.json", b'{"kefu": "https://t.me/icbc_kefu", "tel": "+8613912563478"}')])
    (found,) = observe_apk(data, download_url="https://xiazai.top/a.apk", referrer="https://xiazai.top/")
    assert found.sha256 == hashlib.sha256(data).hexdigest() and found.size == len(data)
    assert found.package == "com.icbc.anquan"
    assert found.labels == (("", "工商银行安全控件"),)
    assert found.permissions == (("android.permission.READ_SMS", "dangerous"),)
    assert found.components[0].intent_filters[0].priority == 999
    assert found.urls == ("https://icbc-anquan.top/api/upload", "https://t.me/icbc_kefu")
    assert found.hosts == ("icbc-anquan.top", "t.me")
    assert found.wallets == (("trc20", TRON),)
    assert found.handles == (("telegram", "@icbc_kefu"),)
    assert found.phones == ("+8613912563478",)
    assert (found.download_url, found.referrer) == ("https://xiazai.top/a.apk", "https://xiazai.top/")
    assert found.observed_at is not None
    assert hash(found)  # plain values all the way down: it can be a key, and sent between processes


def test_dex_without_manifest_is_still_observed() -> None:
    """A zip with a DEX and no manifest is an observation with an empty package and a note."""
    (found,) = observe_apk(make_zip([("classes.dex", make_dex(["https://c2.fraud.top/x"]))]))
    assert found.package == ""
    assert "no AndroidManifest.xml" in found.tamper
    assert found.urls == ("https://c2.fraud.top/x",)


def test_every_dex_is_read() -> None:
    """classes2.dex and DEX files hidden in assets are read as well as classes.dex."""
    data = _app(extra=[("classes2.dex", make_dex(["https://second.fraud.top/"])),
                       ("assets/payload.dex", make_dex(["https://hidden.fraud.top/"]))])
    (found,) = observe_apk(data)
    assert {"second.fraud.top", "hidden.fraud.top"} <= set(found.hosts)


def test_janus_prefix_dex_is_read() -> None:
    """The DEX in front of a Janus file is what old Android runs: its strings are read and the layout noted."""
    data = prepend(make_dex(["https://janus.fraud.top/"]), _app())
    (found,) = observe_apk(data)
    assert "janus.fraud.top" in found.hosts
    assert "DEX before the zip (Janus, CVE-2017-13156)" in found.tamper


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty file"),
    (PNG_1X1, "not a zip archive (starts with 89504e47)"),
    (make_zip([("res/a.png", PNG_1X1)]), "no AndroidManifest.xml and no classes.dex"),
], ids=["empty", "png", "no-app"])
def test_rejections(data: bytes, reason: str) -> None:
    """Bytes that are no APK raise ApkRejected with the reason."""
    with pytest.raises(ApkRejected) as caught:
        observe_apk(data)
    assert caught.value.reason == reason


def test_nested_apk_is_observed_after_the_outer() -> None:
    """An APK inside the APK gets its own observation; the outer lists its sha256 and notes it."""
    inner = _app("com.payload")
    outer = _app("com.player", strings=(), extra=[("assets/update.apk", inner), ("payload.bin", inner)])
    observations = observe_apk(outer)
    assert [o.package for o in observations] == ["com.player", "com.payload"]
    assert observations[0].nested == (hashlib.sha256(inner).hexdigest(),)
    assert "nested APK assets/update.apk" in observations[0].tamper
    assert "nested APK payload.bin (the same as assets/update.apk)" in observations[0].tamper
    assert observations[1].download_url == ""


def test_nesting_depth_is_bounded() -> None:
    """Beyond max_depth a nested APK is listed by sha256 but not observed."""
    level2 = _app("com.level2")
    level1 = _app("com.level1", extra=[("a.apk", level2)])
    outer = _app("com.level0", extra=[("b.apk", level1)])
    assert [o.package for o in observe_apk(outer, max_depth=2)] == ["com.level0", "com.level1", "com.level2"]
    shallow = observe_apk(outer, max_depth=1)
    assert [o.package for o in shallow] == ["com.level0", "com.level1"]
    assert shallow[1].nested == (hashlib.sha256(level2).hexdigest(),)
    assert any("beyond depth 1" in note for note in shallow[1].tamper)


def test_a_zip_that_is_no_apk_is_not_nested() -> None:
    """A plain zip inside (a resource pack) is no nested APK."""
    (found,) = observe_apk(_app(extra=[("assets/skins.zip", make_zip([("a.png", PNG_1X1)]))]))
    assert found.nested == ()


def test_time_budget_gives_partial_results_not_errors() -> None:
    """An analysis past its deadline returns what it has, with a note."""
    (found,) = observe_apk(_app(), budget=ApkBudget(seconds=-1))
    assert found.package == "com.icbc.anquan"
    assert any("budget" in note for note in found.tamper)


def test_dex_string_budget() -> None:
    """The DEX string allowance is shared by every DEX; what is beyond it is noted."""
    data = _app(strings=tuple(f"s{index}" for index in range(50)),
                extra=[("classes2.dex", make_dex(["https://late.fraud.top/"]))])
    (found,) = observe_apk(data, budget=ApkBudget(dex_strings=10))
    assert "late.fraud.top" not in found.hosts
    assert any("budget" in note for note in found.tamper)


def test_resources_strings_are_searched() -> None:
    """Text in the manifest's own strings (meta-data values) is searched for indicators."""
    axml = manifest("com.x", application={"android:description": "客服QQ：12345678"})
    (found,) = observe_apk(make_zip([("AndroidManifest.xml", axml), ("classes.dex", make_dex([]))]))
    assert ("qq", "12345678") in found.handles
