"""Packers, web shells (with their remote start page) and remote-control SDKs on synthetic APKs."""

from __future__ import annotations

import json

from fraudwall.apk_analysis import observe_apk
from fraudwall.apk_analysis.marks import ClassIndex, mark_rules
from tests.apk_analysis.apk_builders import Element, make_axml, make_dex, make_zip, manifest

ELF = b"\x7fELF" + b"\0" * 60


def _observe(entries: list[tuple[str, bytes]], strings: tuple[str, ...] = ("Lcom/example/Main;",),
             **manifest_args: object):
    apk = make_zip([("AndroidManifest.xml", manifest(**manifest_args)), ("classes.dex", make_dex(list(strings))),
                    *entries])
    return observe_apk(apk)[0]


def test_every_rule_has_some_evidence_to_look_for() -> None:
    """Each rule in marks.toml names files, classes or packages, and each shell with a start spec its files."""
    for rule in mark_rules():
        assert rule.files or rule.classes or rule.packages, rule.name
        assert bool(rule.start) == (rule.start_files is not None), rule.name
        assert rule.kind in ("packer", "shell", "sdk")


def test_class_index_forms() -> None:
    """Descriptors, JNI names and dotted names all name a class; package prefixes find one inside."""
    index = ClassIndex(["Lcom/stub/StubApp;", "org/webrtc/ScreenCapturerAndroid", "io.dcloud.PandoraEntry"],
                       ["com.teamviewer.sdk.Main"])
    assert index.has_class("com.stub.StubApp")
    assert index.has_class("org.webrtc.ScreenCapturerAndroid")
    assert index.has_class("io.dcloud.PandoraEntry")
    assert index.in_package("com.teamviewer") == "com.teamviewer.sdk.Main"
    assert index.in_package("com.stub.Stub") == ""
    assert not index.has_class("com.stub")


def test_jiagu_packer_by_library_and_application() -> None:
    """360 Jiagu is named by its stub Application and its library, and by the library alone."""
    by_class = _observe([("lib/armeabi-v7a/libjiagu.so", ELF)], application={"android:name": "com.stub.StubApp"})
    assert by_class.packers == (("jiagu", "class com.stub.StubApp"), ("jiagu", "file lib/armeabi-v7a/libjiagu.so"))
    by_file = _observe([("assets/libjiagu_x86.so", ELF)])
    assert by_file.packers == (("jiagu", "file assets/libjiagu_x86.so"),)
    assert by_file.native_libraries == ("assets/libjiagu_x86.so",)


def test_other_packers() -> None:
    """Bangcle, ijiami and legu are recognised from their libraries and classes."""
    found = _observe([("lib/arm64-v8a/libsecexe.so", ELF), ("lib/arm64-v8a/libexecmain.so", ELF)],
                     strings=("Lcom/tencent/StubShell/TxAppEntry;",))
    assert {name for name, _ in found.packers} == {"bangcle", "ijiami", "legu"}
    assert found.native_libraries == ("libsecexe.so", "libexecmain.so")


def test_uniapp_shell_with_remote_start_page() -> None:
    """A DCloud shell whose launch_path is remote names the URL, which joins urls and hosts."""
    start = "https://usdt-licai.vip/#/pages/index"
    found = _observe([("assets/apps/__UNI__8F3A2B1/www/manifest.json",
                       json.dumps({"id": "__UNI__8F3A2B1", "launch_path": start}).encode())],
                     strings=("Lio/dcloud/PandoraEntry;",))
    assert found.shells == (("dcloud", "class io.dcloud.PandoraEntry"),
                            ("dcloud", "file assets/apps/__UNI__8F3A2B1/www/manifest.json"),
                            ("dcloud", f"start url {start}"))
    assert start in found.urls
    assert "usdt-licai.vip" in found.hosts


def test_local_start_page_is_not_reported() -> None:
    """A shell of bundled pages is named, but its local start page is no URL."""
    found = _observe([("assets/apps/__UNI__1/www/manifest.json", b'{"launch_path": "__uniappview.html"}')])
    assert found.shells == (("dcloud", "file assets/apps/__UNI__1/www/manifest.json"),)
    assert found.urls == ()


def test_cordova_start_page_in_compiled_config() -> None:
    """Cordova's res/xml/config.xml is compiled XML; its <content src> is read from it."""
    config = make_axml(Element("widget", {"id": "com.jd.kefu"}, [Element("content", {"src": "https://jd-kefu.top/"})]))
    found = _observe([("res/xml/config.xml", config)], strings=("Lorg/apache/cordova/CordovaActivity;",))
    assert ("cordova", "start url https://jd-kefu.top/") in found.shells
    assert "jd-kefu.top" in found.hosts


def test_gonative_and_apicloud_start_pages() -> None:
    """GoNative's appConfig.json initialUrl and APICloud's plain config.xml content src are read."""
    gonative = _observe([("assets/appConfig.json", b'{"general": {"initialUrl": "https://loan.fraud.top"}}')],
                        strings=("Lio/gonative/android/MainActivity;",))
    assert ("gonative", "start url https://loan.fraud.top") in gonative.shells
    apicloud = _observe([("assets/widget/config.xml",
                          b'<?xml version="1.0"?><widget><content src="http://a.fraud.cc/index.html"/></widget>')])
    assert ("apicloud", "start url http://a.fraud.cc/index.html") in apicloud.shells


def test_hostile_start_files_do_not_raise() -> None:
    """Broken JSON, XML with an external entity, and binary junk as start files give no start page."""
    found = _observe([
        ("assets/appConfig.json", b"{not json"),
        ("assets/widget/config.xml",
         b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><w><content src="&e;"/></w>'),
    ], strings=("Lio/gonative/X;", "Lcom/uzmap/pkg/X;"))
    assert {name for name, _ in found.shells} == {"gonative", "apicloud"}
    assert not any(evidence.startswith("start url") for _, evidence in found.shells)


def test_remote_control_and_screen_sharing_sdks() -> None:
    """RustDesk, TeamViewer, Agora screen sharing and WebRTC screen capture are named from their classes."""
    found = _observe([], strings=("com/carriez/flutter_hbb/MainService", "Lcom/teamviewer/sdk/Session;",
                                  "Lio/agora/rtc/ss/ScreenSharingClient;", "org.webrtc.ScreenCapturerAndroid"))
    assert {name for name, _ in found.sdks} == {"rustdesk", "teamviewer", "agora_screen_sharing",
                                                "webrtc_screen_capture"}


def test_no_marks_on_a_plain_app() -> None:
    """An app with none of the marks gets none."""
    found = _observe([("assets/index.html", b"<html></html>")])
    assert (found.packers, found.shells, found.sdks) == ((), (), ())
