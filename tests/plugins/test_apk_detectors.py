"""Tests for the APK detectors (``apk_impersonation``, ``apk_capabilities``, ``apk_remote_control``,
``apk_shells``, ``apk_signing``, ``apk_indicators``) and the signals they share (``apk_signals``).

Observations are built by hand below, the way ``apk_analysis`` fills them; each test runs the
plugin through the real plugin host (:func:`fraudwall.testing.run_plugin`), or all of them through
:func:`fraudwall.judging.judge`, and checks the finding and the verdict the scores add up to.
"""

from __future__ import annotations

import configparser
import itertools
from datetime import datetime
from pathlib import Path

import pytest
from tests.conftest import REPO
from tests.plugins.detector_helpers import MALICIOUS, SUSPICIOUS, noisy_or

from fraudwall import reference
from fraudwall.exceptions import ConfigError
from fraudwall.judging import judge
from fraudwall.models import (
    ApkCertificate, ApkComponent, ApkObservation, Category, Finding, IntentFilter, SubjectKind, VerdictStatus,
)
from fraudwall.plugin_host import PluginHost
from fraudwall.plugins import (
    apk_api_calls,
    apk_capabilities, apk_impersonation, apk_indicators, apk_remote_control, apk_shells, apk_signals, apk_signing,
)
from fraudwall.reference import Brand
from fraudwall.settings import Settings
from fraudwall.testing import assert_finding, assert_no_finding, run_plugin

APK_PLUGINS = (apk_impersonation, apk_capabilities, apk_remote_control, apk_shells, apk_signing, apk_indicators,
               apk_api_calls)
_SHA = (f"{n:064x}" for n in itertools.count(0xA000))

# A TRON (USDT-TRC20) and a Bitcoin address whose checksums hold.
TRON = "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW"
BTC = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"


# -- building observations -------------------------------------------------------------------


def perms(*names: str) -> tuple[tuple[str, str], ...]:
    """Requested permissions by short name: ``perms("READ_SMS")``."""
    return tuple((f"android.permission.{name}", "dangerous") for name in names)


def service(name: str, permission: str = "", actions: tuple[str, ...] = (), **attributes: str) -> ApkComponent:
    """A service, with the permission that guards it, its intent actions and attributes."""
    filters = (IntentFilter(actions=actions),) if actions else ()
    return ApkComponent("service", name, True, permission, filters, tuple(attributes.items()))


def receiver(name: str, permission: str = "", actions: tuple[str, ...] = (), priority: int = 0) -> ApkComponent:
    """A broadcast receiver answering ``actions`` at ``priority``."""
    filters = (IntentFilter(actions=actions, priority=priority),) if actions else ()
    return ApkComponent("receiver", name, True, permission, filters)


def accessibility(name: str = "com.app.AccessHelper") -> ApkComponent:
    """An accessibility service as the manifest declares one."""
    return service(name, "android.permission.BIND_ACCESSIBILITY_SERVICE",
                   ("android.accessibilityservice.AccessibilityService",))


def cert(subject: str = "CN=Jane Developer, OU=Mobile, O=Open Source Apps, C=DE", *, sha: str = "", debug: bool = False,
         start: datetime = datetime(2016, 3, 1), end: datetime = datetime(2046, 3, 1),
         verified: bool = True) -> ApkCertificate:
    """A signing certificate; by default a proper long-lived self-signed developer key that verifies."""
    return ApkCertificate(sha or next(_SHA), subject, subject, "1", start, end, True, debug, (("v2", verified),))


def proper_cert() -> ApkCertificate:
    """A proper developer certificate."""
    return cert()


def junk_cert() -> ApkCertificate:
    """A certificate made in a hurry: one-letter name, no organisation."""
    return cert("CN=a", start=datetime(2024, 1, 1), end=datetime(2124, 1, 1))


def apk(**fields: object) -> ApkObservation:
    """An observation with a fresh sha256, a proper certificate unless given, and the given fields."""
    fields.setdefault("certificates", (proper_cert(),))
    if isinstance(fields.get("labels"), str):
        fields["labels"] = (("", fields["labels"]),)
    return ApkObservation(next(_SHA), 4_000_000, **fields)  # type: ignore[arg-type]


def findings(plugin: object, observation: ApkObservation) -> list[Finding]:
    """One plugin's findings for the observation, through the real plugin host."""
    return run_plugin(plugin, apk=observation)


def apk_finding(plugin: object, observation: ApkObservation, category: str | None = None) -> Finding | None:
    """The plugin's finding about the APK itself (of ``category``), or ``None``."""
    found = [f for f in findings(plugin, observation)
             if f.subject == observation.sha256 and (category is None or f.category == category)]
    assert len(found) <= 1
    return found[0] if found else None


def all_apk_host() -> PluginHost:
    """A plugin host with every APK plugin, loaded and configured as ``PluginHost.from_settings`` does."""
    host = PluginHost(Settings())
    for plugin in APK_PLUGINS:
        host.register(plugin, origin="tests")
    host.configure()
    return host


def fake_antifraud_app() -> ApkObservation:
    """A clone of the anti-fraud centre app as the screen-sharing scripts ship it."""
    return apk(
        package="com.gjfz.safe", labels="国家反诈中心",
        permissions=perms("INTERNET", "READ_SMS", "RECEIVE_SMS", "READ_CONTACTS", "READ_CALL_LOG", "SYSTEM_ALERT_WINDOW"),
        components=(accessibility(),), certificates=(junk_cert(),), sdks=(("sunlogin", "com/oray/sunlogin/sdk"),),
        wallets=(("trc20", TRON),), handles=(("telegram", "@FZ_kefu888"),),
        hosts=("api.fz-kefu.top", "api.jpush.cn", "mps.gov.cn", "cdn.jsdelivr.net", "github.io"),
        urls=("http://45.76.12.34:8088/api/upload",),
    )


def sms_backup_app(**extra: object) -> ApkObservation:
    """An open-source SMS backup app: alarming permissions, nothing else."""
    fields: dict[str, object] = dict(
        package="org.opensource.smsbackup", labels=(("", "SMS Backup"), ("zh-CN", "短信备份")),
        permissions=perms("INTERNET", "READ_SMS", "RECEIVE_SMS", "SEND_SMS", "READ_CONTACTS", "READ_CALL_LOG"),
        components=(receiver("org.opensource.smsbackup.SmsReceiver", actions=("android.provider.Telephony.SMS_RECEIVED",)),
                    receiver("org.opensource.smsbackup.Deliver", "android.permission.BROADCAST_SMS",
                             ("android.provider.Telephony.SMS_DELIVER",))),
        hosts=("sync.smsbackup-project.org",), wallets=(("btc", BTC),),
    )
    fields.update(extra)
    return apk(**fields)


def weather_app() -> ApkObservation:
    """A plain weather app."""
    return apk(package="com.example.weather", labels="Weather", permissions=perms("INTERNET", "ACCESS_COARSE_LOCATION"),
               hosts=("api.weather-data.example.com",))


def brands_with_certificate(fingerprint: str) -> tuple[Brand, ...]:
    """The bundled brands, with ICBC's signing certificate recorded as ``fingerprint``."""
    return tuple(
        Brand(**{**{f: getattr(b, f) for f in Brand.__slots__}, "certificates": (fingerprint,)}) if b.id == "icbc" else b
        for b in reference.brands()
    )


# -- reference data ----------------------------------------------------------------------------------


def test_brand_packages_cover_prefixes_and_certificates_normalise(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``com.tencent.*`` owns com.tencent and what is under it, not com.tencentx; a bank's exact packages own only
    themselves (com.icbc, not com.icbc.anquan); fingerprints compare without colons or case."""
    brands = {b.id: b for b in reference.brands()}
    tencent, icbc = brands["tencent"], brands["icbc"]
    assert tencent.owns_package("com.tencent") and tencent.owns_package("com.tencent.wemeet.app")
    assert not tencent.owns_package("com.tencentx.app")
    assert icbc.owns_package("com.icbc") and icbc.owns_package("com.icbc.elife") and not icbc.owns_package("com.icbc.anquan")
    extra = tmp_path / "mine.toml"
    colons = ":".join(["AB"] * 32)
    extra.write_text(f'[[brand]]\nid = "icbc"\nkind = "bank"\ncertificates = ["{colons}"]\n', encoding="utf-8")
    merged = next(b for b in reference.load_brands([extra]) if b.id == "icbc")
    assert merged.certificates == ("ab" * 32,) and merged.signed(["AB" * 32]) and "com.icbc" in merged.packages


@pytest.mark.parametrize(("field", "value"), [("packages", "not a package"), ("certificates", "abc123")])
def test_bad_package_or_certificate_is_refused(tmp_path, field: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """A package that is no Java package name, or a fingerprint that is no SHA-256, stops the load with its brand."""
    extra = tmp_path / "bad.toml"
    extra.write_text(f'[[brand]]\nid = "x"\nkind = "bank"\n{field} = ["{value}"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=field):
        reference.load_brands([extra])


def test_big_payment_and_bank_apps_have_packages() -> None:
    """The apps most impersonated have their real packages in the reference data."""
    owners = {b.id: b for b in reference.brands()}
    for brand_id, package in [("alipay", "com.eg.android.AlipayGphone"), ("unionpay", "com.unionpay"),
                              ("wechatpay", "com.tencent.mm"), ("icbc", "com.icbc"), ("ccb", "com.chinamworld.main"),
                              ("abc", "com.android.bankabc"), ("boc", "com.chinamworld.bocmbci"), ("cmb", "cmb.pb")]:
        assert owners[brand_id].owns_package(package), brand_id


# -- impersonation -------------------------------------------------------------------------------------


def test_cloned_antifraud_app_is_police_impersonation() -> None:
    """An app labelled 国家反诈中心 on a foreign package impersonates the anti-fraud centre (冒充公检法) and is
    suspicious on that alone; on the real app's package it is the real app, whatever it asks for."""
    found = apk_finding(apk_impersonation, apk(package="com.safe.center", labels="国家反诈中心"))
    assert found is not None and found.category == Category.IMPERSONATION.value
    assert found.subject_kind is SubjectKind.APK and ("brand", "antifraud") in found.indicators
    assert found.score >= SUSPICIOUS and "not in the reference data" not in found.reason
    assert apk_finding(apk_impersonation, apk(package="com.hicorenational.antifraud", labels="国家反诈中心")) is None


def test_a_brand_whose_app_is_unknown_weighs_less() -> None:
    """A claim on a brand whose package and certificate the reference data lacks (the procuratorate) cannot be
    told from the real app: it stays below suspicious, and the reason says why."""
    found = apk_finding(apk_impersonation, apk(package="com.case.query", labels="最高人民检察院"))
    assert found is not None and found.score < SUSPICIOUS and "not in the reference data" in found.reason


def test_traditional_chinese_label_reads_as_simplified() -> None:
    """國家反詐中心 and 中國工商銀行 are the same claims as their simplified forms."""
    for traditional, simplified in [("國家反詐中心", "国家反诈中心"), ("中國工商銀行", "中国工商银行"), ("雲閃付", "云闪付")]:
        t = apk_finding(apk_impersonation, apk(package="com.fake.app", labels=traditional))
        s = apk_finding(apk_impersonation, apk(package="com.fake.app", labels=simplified))
        assert t is not None and s is not None and t.score == s.score and t.indicators == s.indicators


def test_label_in_any_locale_counts() -> None:
    """A harmless default label does not hide a Chinese one that names a bank."""
    found = apk_finding(apk_impersonation, apk(package="com.tools.helper", labels=(("", "Helper"), ("zh-CN", "工商银行"))))
    assert found is not None and ("brand", "icbc") in found.indicators


def test_bank_label_and_package_token_is_a_strong_claim() -> None:
    """The bank's name as label and its token in a foreign package: suspicious on its own, close to malicious."""
    found = apk_finding(apk_impersonation, apk(package="com.icbcpay.mobile", labels="中国工商银行"))
    assert found is not None and found.category == Category.BRAND_IMPERSONATION.value
    assert SUSPICIOUS <= found.score < MALICIOUS and any("icbc" in item for item in found.evidence)


def test_label_carrying_a_bank_name_is_weaker_than_being_it() -> None:
    """工商银行信用卡助手 carries the bank's name, a weaker claim than the label 工商银行 itself."""
    carries = apk_finding(apk_impersonation, apk(package="com.card.helper", labels="工商银行信用卡助手"))
    exact = apk_finding(apk_impersonation, apk(package="com.card.helper", labels="工商银行"))
    assert carries is not None and exact is not None and carries.score < exact.score


def test_official_app_names_count_too() -> None:
    """The name of one of the brand's apps (工银融e联, 云闪付App) is a claim like the brand's name."""
    found = apk_finding(apk_impersonation, apk(package="com.rel.app", labels="工银融e联"))
    assert found is not None and ("brand", "icbc") in found.indicators


def test_fake_under_the_banks_package_namespace_is_flagged() -> None:
    """com.icbc.anquan.kongjian is not one of ICBC's packages: its 工商银行 label and icbc token are a claim."""
    found = apk_finding(apk_impersonation, apk(package="com.icbc.anquan.kongjian", labels="工商银行安全控件"))
    assert found is not None and ("brand", "icbc") in found.indicators and found.score >= SUSPICIOUS


def test_real_bank_app_on_owner_package_is_not_flagged() -> None:
    """The ICBC app on ICBC's own package, with no certificate data to contradict it, is not impersonation."""
    assert apk_finding(apk_impersonation, apk(package="com.icbc", labels="中国工商银行")) is None
    assert apk_finding(apk_impersonation, apk(package="com.eg.android.AlipayGphone", labels="支付宝")) is None


def test_real_bank_app_signed_by_owner_certificate_is_not_flagged() -> None:
    """Signed by the bank's recorded certificate, the bank's app is its own, on its package or a new one."""
    owner = cert("CN=ICBC, O=Industrial and Commercial Bank of China, C=CN")
    brands = brands_with_certificate(owner.sha256)
    for package in ("com.icbc", "cn.icbc.newapp"):
        assert apk_impersonation.judge(apk(package=package, labels="中国工商银行", certificates=(owner,)), brands) == []


def test_owner_package_signed_by_someone_else_is_repackaged() -> None:
    """ICBC's own package under another certificate, when ICBC's certificate is known: a repackaged fake."""
    brands = brands_with_certificate("cd" * 32)
    found = apk_impersonation.judge(apk(package="com.icbc", labels="中国工商银行", certificates=(junk_cert(),)), brands)
    assert len(found) == 1 and found[0].score >= MALICIOUS and "repackaged" in found[0].reason


def test_certificates_recorded_in_an_analysts_brand_file_are_used(tmp_path: Path) -> None:
    """ICBC's certificate recorded in a brand file named by APK_BRAND_FILES: the bank's app signed by it is its own,
    the same package under another key is a repackaged fake, and the file's digest joins the plugin's version."""
    owner = cert("CN=ICBC, O=Industrial and Commercial Bank of China, C=CN")
    brand_file = tmp_path / "brands.toml"
    brand_file.write_text(f'[[brand]]\nid = "icbc"\nkind = "bank"\ncertificates = ["{owner.sha256}"]\n',
                          encoding="utf-8")
    host = PluginHost.from_settings(Settings({"APK_BRAND_FILES": [str(brand_file)]}), hooks={"analyze_apk"})
    real = judge(host, apk(package="com.icbc", labels="中国工商银行", certificates=(owner,)))
    fake = judge(host, apk(package="com.icbc", labels="中国工商银行", certificates=(junk_cert(),)))
    assert not any(f.detector == "apk_impersonation" for f in real.verdict.findings)
    assert fake.verdict.status is VerdictStatus.MALICIOUS
    assert any("repackaged" in f.reason for f in fake.verdict.findings if f.detector == "apk_impersonation")
    assert "+" in host.versions()["apk_impersonation"]


def test_an_unreadable_brand_file_keeps_the_detector_out(tmp_path: Path) -> None:
    """A brand file that is missing is a load error naming the setting and the file, and the detector does not
    run without the brands it was told to use (as for a plugin whose rules cannot load)."""
    missing = tmp_path / "missing.toml"
    host = PluginHost.from_settings(Settings({"APK_BRAND_FILES": [str(missing)]}), hooks={"analyze_apk"})
    assert "apk_impersonation" not in host.versions()
    assert [(name, "APK_BRAND_FILES" in error and str(missing) in error) for name, error in host.load_errors] == [
        ("apk_impersonation", True)]


def test_known_owner_certificate_raises_a_foreign_claim() -> None:
    """A claim on a foreign package weighs more once the brand's certificates are known and none signs the app."""
    observation = apk(package="com.bank.fake", labels="工商银行")
    without = apk_impersonation.judge(observation)
    with_certs = apk_impersonation.judge(observation, brands_with_certificate("cd" * 32))
    assert without and with_certs and with_certs[0].score > without[0].score


def test_unlisted_bank_label_is_a_weak_claim_stronger_with_sms() -> None:
    """A bank the reference data does not list (珠江银行) is a weak claim; reading SMS too doubles it."""
    alone = apk_finding(apk_impersonation, apk(package="com.zhujiang.bank", labels="珠江银行"))
    with_sms = apk_finding(apk_impersonation, apk(package="com.zhujiang.bank", labels="珠江银行",
                                                  permissions=perms("READ_SMS", "RECEIVE_SMS")))
    assert alone is not None and with_sms is not None and alone.score < with_sms.score < SUSPICIOUS
    assert alone.category == Category.BRAND_IMPERSONATION.value
    police = apk_finding(apk_impersonation, apk(package="com.x.case", labels="公安案件查询"))
    assert police is not None and police.category == Category.IMPERSONATION.value


def test_everyday_brand_names_count_only_as_the_whole_label() -> None:
    """Platform and global brands claim only when the label is their name (iCloud), never inside one (QQ音乐助手)."""
    assert apk_finding(apk_impersonation, apk(package="com.music.helper", labels="QQ音乐助手")) is None
    assert apk_finding(apk_impersonation, apk(package="com.x.metadata", labels="Metadata Viewer")) is None
    found = apk_finding(apk_impersonation, apk(package="com.cloud.sync", labels="iCloud"))
    assert found is not None and ("brand", "apple") in found.indicators


def test_unrelated_app_is_not_impersonation() -> None:
    """A weather app claims no brand."""
    assert apk_finding(apk_impersonation, weather_app()) is None


# -- capabilities ------------------------------------------------------------------------------------------


def test_each_capability_alone_is_weak() -> None:
    """Reading SMS, an overlay, an accessibility service or installing packages alone scores 0.10 or less."""
    for fields in [dict(permissions=perms("READ_SMS")), dict(permissions=perms("SYSTEM_ALERT_WINDOW")),
                   dict(components=(accessibility(),)), dict(permissions=perms("REQUEST_INSTALL_PACKAGES"))]:
        found = apk_finding(apk_capabilities, apk(**fields), Category.FAKE_APP.value)
        assert found is not None and found.score <= 0.10


def test_sms_with_contacts_and_call_log_is_the_stealer_harvest() -> None:
    """SMS with contacts is stronger than SMS alone, and with the call log stronger still."""
    scores = [apk_finding(apk_capabilities, apk(permissions=perms(*names)), Category.FAKE_APP.value).score  # type: ignore[union-attr]
              for names in (("READ_SMS",), ("READ_SMS", "READ_CONTACTS"), ("READ_SMS", "READ_CONTACTS", "READ_CALL_LOG"))]
    assert scores[0] < scores[1] < scores[2] < SUSPICIOUS


def test_accessibility_with_overlay_is_listed_in_the_evidence() -> None:
    """An accessibility service with SYSTEM_ALERT_WINDOW scores as the banking-trojan pair, naming both."""
    found = apk_finding(apk_capabilities, apk(permissions=perms("SYSTEM_ALERT_WINDOW"),
                                              components=(accessibility("com.x.Helper"),)))
    assert found is not None and found.score == pytest.approx(0.35)
    assert any("com.x.Helper" in item and "SYSTEM_ALERT_WINDOW" in item for item in found.evidence)


def test_screen_capture_with_overlay() -> None:
    """A mediaProjection foreground service (or its permission) with an overlay counts as hidden screen capture."""
    by_type = apk(permissions=perms("SYSTEM_ALERT_WINDOW"),
                  components=(service("com.x.Rec", foregroundServiceType="mediaProjection|microphone"),))
    by_permission = apk(permissions=perms("SYSTEM_ALERT_WINDOW", "FOREGROUND_SERVICE_MEDIA_PROJECTION"))
    for observation in (by_type, by_permission):
        found = apk_finding(apk_capabilities, observation)
        assert found is not None and any(item.startswith("media_projection+overlay") for item in found.evidence)


def test_high_priority_sms_receiver_adds_but_an_ordinary_one_does_not() -> None:
    """An SMS_RECEIVED receiver at priority 2^31-1 adds to the score; at the default priority it does not."""
    def score(priority: int) -> float:
        observation = apk(permissions=perms("RECEIVE_SMS"), components=(
            receiver("com.x.Sms", actions=("android.provider.Telephony.SMS_RECEIVED",), priority=priority),))
        return apk_finding(apk_capabilities, observation).score  # type: ignore[union-attr]
    assert score(2147483647) > score(0)


def test_device_admin_installer_and_default_roles_are_read() -> None:
    """Device admin, REQUEST_INSTALL_PACKAGES, default-SMS and in-call components each appear in the evidence."""
    observation = apk(permissions=perms("REQUEST_INSTALL_PACKAGES"), components=(
        receiver("com.x.Admin", "android.permission.BIND_DEVICE_ADMIN", ("android.app.action.DEVICE_ADMIN_ENABLED",)),
        receiver("com.x.Deliver", "android.permission.BROADCAST_SMS", ("android.provider.Telephony.SMS_DELIVER",)),
        service("com.x.Call", "android.permission.BIND_INCALL_SERVICE", ("android.telecom.InCallService",)),
    ))
    found = apk_finding(apk_capabilities, observation)
    assert found is not None
    keys = {item.split(":", 1)[0] for item in found.evidence}
    assert {"device_admin", "installer", "sms_role", "dialer_role"} <= keys


def test_dropper_carries_an_apk_and_may_install_it() -> None:
    """An app that carries another APK and requests REQUEST_INSTALL_PACKAGES is a dropper: suspicious on its own."""
    dropper = apk_finding(apk_capabilities, apk(permissions=perms("REQUEST_INSTALL_PACKAGES"), nested=("cd" * 32,)))
    carrier = apk_finding(apk_capabilities, apk(nested=("cd" * 32,)))
    assert dropper is not None and dropper.score >= SUSPICIOUS
    assert carrier is not None and carrier.score < SUSPICIOUS


def test_capabilities_alone_never_make_an_app_malicious() -> None:
    """Every dangerous capability together is capped below malicious: capabilities corroborate, they do not convict."""
    observation = apk(
        permissions=perms("READ_SMS", "RECEIVE_SMS", "SEND_SMS", "READ_CONTACTS", "READ_CALL_LOG", "SYSTEM_ALERT_WINDOW",
                          "REQUEST_INSTALL_PACKAGES", "FOREGROUND_SERVICE_MEDIA_PROJECTION", "PROCESS_OUTGOING_CALLS"),
        components=(accessibility(), receiver("com.x.Admin", "android.permission.BIND_DEVICE_ADMIN"),
                    receiver("com.x.Sms", actions=("android.provider.Telephony.SMS_RECEIVED",), priority=1000)),
    )
    found = apk_finding(apk_capabilities, observation, Category.FAKE_APP.value)
    assert found is not None and SUSPICIOUS <= found.score < MALICIOUS


def test_benign_sms_backup_app_is_at_most_suspicious() -> None:
    """An SMS backup app (SMS, contacts, call log, default-SMS components) is at most suspicious on every plugin."""
    observation = sms_backup_app()
    total = noisy_or(f for plugin in APK_PLUGINS for f in findings(plugin, observation) if f.subject == observation.sha256)
    assert total < MALICIOUS


def test_weather_app_has_no_findings() -> None:
    """INTERNET and coarse location are nobody's concern."""
    observation = weather_app()
    assert [f for plugin in APK_PLUGINS for f in findings(plugin, observation)] == []


# -- loan profile -------------------------------------------------------------------------------------------


def test_loan_app_collecting_everything_is_a_loan_profile() -> None:
    """A 借/贷-named app asking for contacts, call log, SMS, location and camera has the illegal lender's profile."""
    observation = apk(package="com.flash.app", labels="閃電借",  # traditional: 闪电借
                      permissions=perms("READ_CONTACTS", "READ_CALL_LOG", "READ_SMS", "ACCESS_FINE_LOCATION", "CAMERA"))
    found = apk_finding(apk_capabilities, observation, Category.LOAN.value)
    assert found is not None and found.score == pytest.approx(0.55) and "harass" in found.reason


def test_loan_words_in_the_package_count() -> None:
    """A pinyin loan word in the package (daikuan) with contacts and call log makes the harassment profile."""
    observation = apk(package="com.daikuan.quick", labels="Quick Money",
                      permissions=perms("READ_CONTACTS", "READ_CALL_LOG"))
    assert_finding(findings(apk_capabilities, observation), category=Category.LOAN.value, min_score=0.4, max_score=0.4)


def test_same_permissions_without_loan_words_make_no_loan_finding() -> None:
    """Contacts, call log, SMS, location and camera without a loan word are not a loan profile."""
    observation = apk(package="com.social.chat", labels="Chat",
                      permissions=perms("READ_CONTACTS", "READ_CALL_LOG", "READ_SMS", "ACCESS_FINE_LOCATION", "CAMERA"))
    assert_no_finding(findings(apk_capabilities, observation), category=Category.LOAN.value)


# -- remote control -------------------------------------------------------------------------------------------


def test_homegrown_remote_control_kit_in_a_meeting_app() -> None:
    """No SDK, but a 云会议 app with accessibility, screen capture and an overlay carries the whole kit: stronger
    than accessibility with one of them."""
    kit = apk(package="com.yunhuiyi.meeting", labels="云会议",
              permissions=perms("SYSTEM_ALERT_WINDOW", "FOREGROUND_SERVICE_MEDIA_PROJECTION"), components=(accessibility(),))
    partial = apk(package="com.yunhuiyi.meeting", labels="云会议", permissions=perms("SYSTEM_ALERT_WINDOW"),
                  components=(accessibility(),))
    assert apk_finding(apk_remote_control, kit).score > apk_finding(apk_remote_control, partial).score  # type: ignore[union-attr]


def test_remote_control_sdk_in_a_meeting_app_with_accessibility() -> None:
    """A remote-control SDK, an accessibility service and a 会议 label: the fake meeting app of customer-service scams."""
    observation = apk(package="com.yunhui.meeting", labels="云会议", components=(accessibility(),),
                      sdks=(("anydesk", "com/anydesk/jni"),))
    found = apk_finding(apk_remote_control, observation)
    assert found is not None and found.category == Category.CUSTOMER_SERVICE.value
    assert SUSPICIOUS <= found.score < MALICIOUS and any("会议" in item for item in found.evidence)


def test_rtc_sdk_in_a_chat_app_is_weak() -> None:
    """An RTC SDK in an app with no lure and no control is a weak mark, well below suspicious."""
    found = apk_finding(apk_remote_control, apk(package="com.dating.chat", labels="Chat", sdks=(("agora", "io/agora"),)))
    assert found is not None and found.score <= 0.10


def test_remote_support_vendors_and_brand_apps_are_left_alone() -> None:
    """Zoom and 腾讯会议 (on Tencent's package) carry screen sharing and meeting names by right."""
    for package, label in (("us.zoom.videomeetings", "Zoom"), ("com.tencent.wemeet.app", "腾讯会议")):
        observation = apk(package=package, labels=label, permissions=perms("SYSTEM_ALERT_WINDOW"),
                          sdks=(("screen_sharing", "mediaprojection"),))
        assert apk_finding(apk_remote_control, observation) is None


def test_homegrown_remote_control_under_an_antifraud_name() -> None:
    """No SDK, but an anti-fraud label with accessibility and an overlay: a home-made remote control."""
    observation = apk(package="com.x.guard", labels="反诈安全防护", permissions=perms("SYSTEM_ALERT_WINDOW"),
                      components=(accessibility(),))
    found = apk_finding(apk_remote_control, observation)
    assert found is not None and found.score == pytest.approx(0.20)


# -- web shells --------------------------------------------------------------------------------------------------


def test_remote_web_shell_is_suspicious_and_reports_its_start_host() -> None:
    """A DCloud shell around a remote site: the APK is suspicious, and the site's host gets a finding of its own."""
    observation = apk(package="io.dcloud.H5A1B2C3D", labels="My Shop",
                      shells=(("dcloud", "manifest launch_path https://m.shop-mall88.cn/#/index"),))
    found = findings(apk_shells, observation)
    app = next(f for f in found if f.subject == observation.sha256)
    assert app.category == Category.FAKE_APP.value and SUSPICIOUS <= app.score < MALICIOUS
    host = next(f for f in found if f.subject_kind is SubjectKind.HOST)
    assert host.subject == "m.shop-mall88.cn" and ("apk", observation.sha256) in host.indicators


def test_web_shell_named_for_usdt_is_malicious() -> None:
    """A remote shell labelled USDT理财 is a fake investment platform: malicious, and so is its start host's finding."""
    observation = apk(package="io.dcloud.H5F00D", labels="USDT理财", shells=(("uniapp", "https://h5.licai-usdt.vip/"),))
    found = findings(apk_shells, observation)
    assert {f.subject_kind for f in found} == {SubjectKind.APK, SubjectKind.HOST}
    assert all(f.category == Category.INVESTMENT.value and f.score >= MALICIOUS for f in found)


def test_shell_around_a_vouched_site_is_not_flagged() -> None:
    """A shell whose start page is a bank's own or an allowlisted site is that site's app."""
    for start in ("https://m.icbc.com.cn/app", "https://www.baidu.com/"):
        assert findings(apk_shells, apk(labels="Portal", shells=(("cordova", start),))) == []


def test_shell_on_a_shared_platform_reports_the_tenant_and_an_ip_as_ip() -> None:
    """A start page on a shared platform is reported by the tenant's name; one on an address as an IP."""
    observation = apk(labels="刷单返利", shells=(("gonative", "https://task-888.vercel.app/"),
                                              ("median", "http://45.76.12.34:8080/h5")))
    subjects = {(f.subject, f.subject_kind) for f in findings(apk_shells, observation) if f.subject != observation.sha256}
    assert subjects == {("task-888.vercel.app", SubjectKind.HOST), ("45.76.12.34", SubjectKind.IP)}


def test_local_shell_counts_only_with_fraud_words() -> None:
    """A shell of bundled pages is an ordinary hybrid app, unless its label carries a fraud script's words."""
    assert findings(apk_shells, apk(labels="Notes", shells=(("apicloud", "widget://index.html"),))) == []
    found = apk_finding(apk_shells, apk(labels="在线客服", shells=(("apicloud", "widget://index.html"),)))
    assert found is not None and found.category == Category.CUSTOMER_SERVICE.value and found.score < SUSPICIOUS


# -- signing ----------------------------------------------------------------------------------------------------


def test_debug_certificate_is_a_weak_signal() -> None:
    """The public Android debug key scores 0.20: weak on its own."""
    found = apk_finding(apk_signing, apk(certificates=(cert("CN=Android Debug, O=Android, C=US", debug=True),)))
    assert found is not None and found.score == pytest.approx(0.20)


def test_throwaway_certificate_marks() -> None:
    """One-letter names without an organisation, validity from 1970 or after the app was seen are junk marks."""
    seen = datetime(2024, 6, 1)
    assert apk_signals.junk_marks(cert("CN=a"), seen) == ["placeholder common name 'a'", "no organisation"]
    assert apk_signals.junk_marks(cert(start=datetime(1970, 1, 1)), seen) == ["valid from 1970"]
    assert apk_signals.junk_marks(cert(end=datetime(2300, 1, 1)), seen) == ["valid for 284 years"]
    assert any("after the app was seen" in mark
               for mark in apk_signals.junk_marks(cert(start=datetime(2025, 1, 1), end=datetime(2050, 1, 1)), seen))
    assert apk_signals.junk_marks(proper_cert(), seen) == []
    assert apk_signals.junk_marks(cert("CN=Wang Wei"), seen) == []  # no organisation alone is honest


def test_one_lowercase_word_for_person_and_organisation_is_a_mark() -> None:
    """CN=kefu, O=kefu is how throw-away keys are filled in; CN=Tencent, O=Tencent is a company's own name."""
    seen = datetime(2024, 6, 1)
    assert apk_signals.junk_marks(cert("CN=kefu,OU=kefu,O=kefu,C=CN"), seen) == [
        "one lowercase word 'kefu' for both person and organisation"]
    assert apk_signals.junk_marks(cert("CN=Tencent,O=Tencent,C=CN"), seen) == []


def test_janus_is_malicious_on_its_own() -> None:
    """A DEX before the zip (Janus, CVE-2017-13156) runs code the signature does not cover: no honest app does it."""
    found = apk_finding(apk_signing, apk(tamper=("DEX before the zip (Janus, CVE-2017-13156)",)))
    assert found is not None and found.score >= MALICIOUS


def test_tamper_messages_are_read_by_kind() -> None:
    """Zip tricks, stripped signatures and zip-slip names count; nested APKs and unverified signatures are left to
    the fields that say them."""
    kinds = apk_signals.tamper_kinds((
        "invalid compression method 30208 on AndroidManifest.xml", "v2 signature stripped (the .SF file says so)",
        "path-traversal member name ../../evil.sh", "nested APK assets/update.apk", "v3 signature does not verify"))
    assert set(kinds) == {"zip", "stripped", "hostile"}
    assert apk_finding(apk_signing, apk(tamper=("nested APK assets/update.apk",))) is None


def test_proper_certificate_gives_no_finding() -> None:
    """A proper developer certificate that verifies, no packer, no zip tricks: nothing to say."""
    assert apk_finding(apk_signing, apk()) is None


def test_unsigned_and_unverified_apps() -> None:
    """No certificate, or signatures that do not verify, are weak signals of their own."""
    assert apk_finding(apk_signing, apk(certificates=())).score == pytest.approx(0.15)  # type: ignore[union-attr]
    found = apk_finding(apk_signing, apk(certificates=(cert(verified=False),)))
    assert found is not None and "changed after signing" in found.reason


def test_packer_is_weak_and_signing_never_suspicious_alone() -> None:
    """A packer alone scores 0.05; every signing and packaging sign together stays below suspicious."""
    assert apk_finding(apk_signing, apk(packers=(("jiagu", "libjiagu.so"),))).score == pytest.approx(0.05)  # type: ignore[union-attr]
    worst = apk(certificates=(cert("CN=a", debug=True, verified=False),), packers=(("bangcle", "libsecexe.so"),),
                tamper=("invalid compression method", "data before the central directory end"))
    found = apk_finding(apk_signing, worst)
    assert found is not None and found.score < SUSPICIOUS


# -- indicators ----------------------------------------------------------------------------------------------------


def test_malicious_app_reports_its_wallets_handles_certificate_and_hosts() -> None:
    """A malicious app's wallet, handle and certificate carry its score; its hosts stay suspicious; SDK, brand,
    library and platform hosts are not reported."""
    observation = fake_antifraud_app()
    found = findings(apk_indicators, observation)
    by_kind = {kind: {f.subject: f for f in found if f.subject_kind is kind} for kind in SubjectKind}
    assert by_kind[SubjectKind.WALLET][TRON].score >= MALICIOUS
    assert by_kind[SubjectKind.HANDLE]["telegram:@fz_kefu888"].score >= MALICIOUS
    assert by_kind[SubjectKind.CERTIFICATE][observation.certificates[0].sha256].score >= MALICIOUS
    assert set(by_kind[SubjectKind.HOST]) == {"api.fz-kefu.top"}
    assert set(by_kind[SubjectKind.IP]) == {"45.76.12.34"}
    assert all(SUSPICIOUS <= f.score < MALICIOUS for f in (*by_kind[SubjectKind.HOST].values(), *by_kind[SubjectKind.IP].values()))
    assert_finding(found, category=Category.DIVERSION.value, min_score=0.2, max_score=0.2)


def test_debug_key_is_never_an_indicator() -> None:
    """A key anyone can sign with links nobody: a malicious app's debug certificate is not reported."""
    observation = apk(package="io.dcloud.H5BEEF", labels="USDT交易所", shells=(("dcloud", "https://h5.usdt-ex.top/"),),
                      certificates=(cert("CN=Android Debug, O=Android, C=US", debug=True),), wallets=(("trc20", TRON),))
    found = findings(apk_indicators, observation)
    assert not [f for f in found if f.subject_kind is SubjectKind.CERTIFICATE]
    assert [f.subject for f in found if f.subject_kind is SubjectKind.WALLET] == [TRON]


def test_benign_sms_app_reports_no_indicators() -> None:
    """One concept short of malicious (the SMS app's capabilities) is not fraud-like: its wallet, host and certificate
    are nobody's business."""
    assert findings(apk_indicators, sms_backup_app()) == []


def test_suspicious_app_on_two_concepts_reports_suspicious_indicators() -> None:
    """An app suspicious on two independent concepts reports its indicators at its own, suspicious, score."""
    observation = apk(package="com.kuaidai.app", labels="闪电借",
                      permissions=perms("READ_CONTACTS", "READ_CALL_LOG", "READ_SMS", "ACCESS_FINE_LOCATION", "CAMERA"),
                      wallets=(("trc20", TRON),))
    wallet = next(f for f in findings(apk_indicators, observation) if f.subject_kind is SubjectKind.WALLET)
    assert SUSPICIOUS <= wallet.score < MALICIOUS


def test_invalid_wallets_and_spaced_handles_are_dropped() -> None:
    """A wallet whose checksum fails and a handle with spaces inside are not indicators."""
    observation = fake_antifraud_app()
    observation = ApkObservation(**{**{f: getattr(observation, f) for f in ApkObservation.__slots__},
                                    "wallets": (("trc20", TRON[:-1] + "X"),), "handles": (("qq", "12 34"),)})
    found = findings(apk_indicators, observation)
    assert not [f for f in found if f.subject_kind in (SubjectKind.WALLET, SubjectKind.HANDLE)]


def test_host_named_after_a_brand_is_an_endpoint_sign() -> None:
    """An embedded host carrying a bank's token on a name the bank does not own counts; the bank's own hosts and
    the many unlisted domains of global platforms (googlevideo.com) do not."""
    found = apk_finding(apk_indicators, apk(urls=("https://icbc-anquan.com/api/upload",)))
    assert found is not None and any("icbc" in item for item in found.evidence)
    assert apk_finding(apk_indicators, apk(urls=("https://mybank.icbc.com.cn/login",))) is None
    assert apk_finding(apk_indicators, apk(urls=("https://r3.googlevideo.com/videoplayback",))) is None


def test_fraud_style_endpoints_are_weak_suspicious_url_findings() -> None:
    """A URL on a bare IP and an odd port, a dynamic-DNS host and a .top host named kefu score, weakly, on their own."""
    observation = apk(urls=("http://103.45.67.89:8899/api", "https://c2.duckdns.org/ws"), hosts=("kefu-online.top",))
    found = apk_finding(apk_indicators, observation, Category.SUSPICIOUS_URL.value)
    assert found is not None and 0.2 <= found.score <= 0.35 < SUSPICIOUS
    assert apk_finding(apk_indicators, apk(urls=("https://api.example.com/v1", "http://8.8.8.8/"))) is None


# -- the whole road ---------------------------------------------------------------------------------------------------


def test_fraud_app_is_malicious_through_judge() -> None:
    """The anti-fraud clone (impersonation, SMS harvest, accessibility with overlay, remote-control SDK, junk key)
    is malicious through fraudwall's own judging road."""
    judgement = judge(all_apk_host(), fake_antifraud_app())
    assert judgement.verdict.status is VerdictStatus.MALICIOUS and judgement.verdict.subject_kind is SubjectKind.APK
    assert {f.detector for f in judgement.findings} >= {
        "apk_impersonation", "apk_capabilities", "apk_remote_control", "apk_signing", "apk_indicators"}


def test_fake_bank_app_with_several_signals_is_malicious() -> None:
    """A traditional-Chinese 工商银行 label on an icbc-named foreign package, a junk key and SMS reading: malicious."""
    observation = apk(package="com.icbcpay.mobile", labels="中國工商銀行", permissions=perms("READ_SMS", "RECEIVE_SMS"),
                      certificates=(junk_cert(),))
    assert judge(all_apk_host(), observation).verdict.status is VerdictStatus.MALICIOUS


def test_benign_sms_app_is_not_malicious_through_judge() -> None:
    """The SMS backup app is at most suspicious through the judging road."""
    verdict = judge(all_apk_host(), sms_backup_app()).verdict
    assert verdict.status is not VerdictStatus.MALICIOUS and verdict.score < MALICIOUS


def test_weather_app_is_benign_through_judge() -> None:
    """The weather app is benign, with no findings at all."""
    judgement = judge(all_apk_host(), weather_app())
    assert judgement.verdict.status is VerdictStatus.BENIGN and judgement.findings == ()


def test_real_bank_app_is_benign_through_judge() -> None:
    """ICBC's app on ICBC's package, packed and reading SMS and contacts like real bank apps do, stays benign."""
    observation = apk(package="com.icbc", labels="中国工商银行", permissions=perms("READ_SMS", "READ_CONTACTS", "CAMERA"),
                      packers=(("ijiami", "libexec.so"),))
    judgement = judge(all_apk_host(), observation)
    assert judgement.verdict.status is VerdictStatus.BENIGN
    assert not [f for f in judgement.findings if f.detector == "apk_impersonation"]


def test_real_antifraud_app_is_not_published_and_its_clone_is() -> None:
    """The real 国家反诈中心 app asks for SMS, contacts, call log, overlay and screen recording itself: on its own
    package it is never published; the same app on another package is a clone and is."""
    def antifraud_app(package: str) -> ApkObservation:
        return apk(package=package, labels="国家反诈中心",
                   permissions=perms("READ_SMS", "RECEIVE_SMS", "READ_CONTACTS", "READ_CALL_LOG", "SYSTEM_ALERT_WINDOW"),
                   components=(service("com.x.Record", foregroundServiceType="mediaProjection"),))

    real = judge(all_apk_host(), antifraud_app("com.hicorenational.antifraud")).verdict
    clone = judge(all_apk_host(), antifraud_app("com.unknown.govapp")).verdict
    assert real.status is not VerdictStatus.MALICIOUS and clone.status is VerdictStatus.MALICIOUS


def test_shell_host_is_judged_on_its_own() -> None:
    """Where judge() files findings about other subjects into verdicts of their own, a USDT shell's start host is
    malicious beside the app."""
    judgement = judge(all_apk_host(), apk(labels="USDT理财", shells=(("dcloud", "https://h5.licai-usdt.vip/"),)))
    if not hasattr(judgement, "related"):
        pytest.skip("this judge() scores every finding into the APK's verdict (no related verdicts)")
    related = {verdict.subject: verdict for verdict in judgement.related}
    assert related["h5.licai-usdt.vip"].status is VerdictStatus.MALICIOUS
    assert judgement.verdict.status is VerdictStatus.MALICIOUS


# -- registration -----------------------------------------------------------------------------------------------------


def test_apk_plugins_are_registered_and_share_one_version() -> None:
    """setup.cfg registers every APK plugin, each under its own name, all at the version of the signals they report."""
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg", encoding="utf-8")
    lines = config["options.entry_points"]["fraudwall.plugins"].strip().splitlines()
    entries = {line.split("=", 1)[0].strip(): line.split("=", 1)[1].strip() for line in lines}
    for plugin in APK_PLUGINS:
        assert entries[plugin.name] == plugin.__name__
        assert plugin.version == apk_signals.VERSION
    assert "apk_signals" not in entries  # a shared reading, not a plugin


def test_a_fraud_apps_download_url_and_host_are_published() -> None:
    """Where a malicious app was downloaded from carries its score: the URL always, the host unless it is a
    shared platform's (then the URL alone names the fraud)."""
    from dataclasses import replace

    from fraudwall.plugins import apk_indicators

    fraud = ApkObservation(
        "ab" * 32, 5000, package="com.fanzha.center.app", labels=(("", "国家反诈中心"),),
        permissions=tuple((p, "dangerous") for p in (
            "android.permission.READ_SMS", "android.permission.RECEIVE_SMS", "android.permission.READ_CONTACTS",
            "android.permission.READ_CALL_LOG", "android.permission.SYSTEM_ALERT_WINDOW")),
        download_url="http://app-xiazai-vip.top/dl/fzzx.apk")
    found = {(f.subject, f.subject_kind): f.score for f in apk_indicators.judge(fraud)}
    url_score = found[("http://app-xiazai-vip.top/dl/fzzx.apk", SubjectKind.URL)]
    assert url_score >= 0.4 and found[("app-xiazai-vip.top", SubjectKind.HOST)] == url_score
    shared = replace(fraud, download_url="https://fzzx.github.io/fzzx.apk")
    subjects = {f.subject for f in apk_indicators.judge(shared)}
    assert "https://fzzx.github.io/fzzx.apk" in subjects and "fzzx.github.io" not in subjects
