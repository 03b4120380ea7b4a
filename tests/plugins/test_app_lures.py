"""Unit tests for the app_lures page detector."""

from __future__ import annotations

import base64
import io

import pytest
from tests.plugins.detector_helpers import MALICIOUS, SUSPICIOUS, html_doc, page_findings, view_of

from fraudwall import page_view
from fraudwall.models import Category
from fraudwall.plugins import app_lures


def paths(html: str, url: str = "http://x.top/") -> set[tuple[str, str]]:
    """(kind, url) of the install paths app_lures reads in the page (PageView.install_paths)."""
    return {(path.kind, path.url) for path in view_of(html_doc(html), url).install_paths}


def score(html: str, url: str = "http://x.top/") -> float:
    found = page_findings(app_lures, html_doc(html), url)
    return found[0].score if found else 0.0


def test_install_paths_in_links_scripts_and_data_attributes() -> None:
    """.apk links, itms-services installs, and APKs named only in a script or a data-* attribute are all found."""
    found = paths(
        '<a href="/dl/app_v2.apk">安卓下载</a><a href="itms-services://?action=download-manifest&amp;url=https://x.top/m.plist">iOS</a>'
        "<script>function go(){location.href='https://cdn.x.top/pkg/fin.apk?v=3';}</script>"
        '<button data-pkg="https://oss.example-cdn.com/pkg/dyzl.apk">下载</button>'
        "<script>var u = '\\x68ttps://d.example-cdn.com/b.apk';</script>"
    )
    assert {("apk", "http://x.top/dl/app_v2.apk"), ("apk", "https://cdn.x.top/pkg/fin.apk"),
            ("apk", "https://oss.example-cdn.com/pkg/dyzl.apk"), ("apk", "https://d.example-cdn.com/b.apk")} <= found
    assert any(kind == "itms" for kind, _ in found)


def test_profiles_ipas_and_testflight() -> None:
    """Configuration profiles, .ipa files and TestFlight invitations are install paths of their own kinds."""
    found = paths('<a href="/ios/a.mobileconfig">x</a><a href="/ios/a.ipa">y</a><a href="https://testflight.apple.com/join/AbC123">z</a>')
    assert {kind for kind, _ in found} == {"mobileconfig", "ipa", "testflight"}


def test_installs_from_vouched_names_do_not_count() -> None:
    """An APK served from an allowlisted or brand name is not a lure."""
    assert paths('<a href="https://www.icbc.com.cn/m/icbc.apk">x</a>') == set()


def test_fake_app_page_is_malicious() -> None:
    """An APK push with lure words and warning-bypass instructions is a fake-app page."""
    html = "<h1>鼎盛财富APP</h1><p>日收益5%，稳赚不赔。</p><a href='/d/ds.apk'>安卓下载</a><p>如遇报毒请忽略，选择继续安装。</p>"
    finding = page_findings(app_lures, html_doc(html), "http://dingsheng-app.top/")[0]
    assert finding.category == Category.FAKE_APP.value and finding.score >= MALICIOUS
    assert ("apk", "http://dingsheng-app.top/d/ds.apk") in finding.indicators


def test_enterprise_trust_instructions_with_a_profile() -> None:
    """A configuration profile plus 'trust the enterprise developer' steps is a fake app even without lure words."""
    html = "<a href='/i/app.mobileconfig'>iOS安装</a><p>打开设置-通用-设备管理，点击信任该企业级开发者。</p>"
    assert score(html) >= MALICIOUS - 0.05


def test_plain_download_pages_stay_low() -> None:
    """A weather app's APK, or a beta on TestFlight, is ordinary: low, below suspicious."""
    assert 0 < score("<h1>天气预报APP</h1><a href='/weather.apk'>安卓下载</a>", "https://weather-example.cn/") < SUSPICIOUS
    assert score("<a href='https://testflight.apple.com/join/AbC123'>Join the beta</a>") < SUSPICIOUS


def test_official_sites_get_nothing() -> None:
    """A brand's own download page is never a fake-app page."""
    html = "<h1>工行手机银行</h1><a href='/m/icbc.apk'>安卓下载</a><p>如遇报毒请忽略</p>"
    assert page_findings(app_lures, html_doc(html), "https://www.icbc.com.cn/mobile/") == []


def test_brand_named_package_on_a_foreign_host() -> None:
    """An APK named after a brand, served from a name the brand does not own, is a branded fake."""
    finding = page_findings(app_lures, html_doc("<a href='/pkg/icbc_mobile.apk'>下载</a>"), "http://m-bank.top/")[0]
    assert ("brand", "icbc") in finding.indicators
    assert finding.score > score("<a href='/pkg/notes.apk'>下载</a>", "http://m-bank.top/")


def test_warning_pages_that_offer_nothing_are_scaled_down() -> None:
    """A police notice describing the 'ignore the virus warning' trick, offering no install, stays low."""
    html = "<p>警方提示：骗子会让你下载APP，并称“如遇报毒请忽略，继续安装”，受害人切勿轻信，谨防诈骗。</p>"
    assert score(html) < 0.1


def test_qr_code_images_are_decoded() -> None:
    """A QR code inlined as a data: image is decoded and judged like a link (needs zxing-cpp and Pillow)."""
    zxingcpp = pytest.importorskip("zxingcpp")
    image_module = pytest.importorskip("PIL.Image")
    barcode = zxingcpp.create_barcode("https://dl.example-loan.top/app.apk", zxingcpp.BarcodeFormat.QRCode).to_image(scale=4)
    image = image_module.frombytes("L", (barcode.shape[1], barcode.shape[0]), memoryview(barcode).tobytes())
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    html = f"<img src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}' alt='扫码下载'>"
    assert ("apk", "https://dl.example-loan.top/app.apk") in paths(html)


def test_broken_data_images_are_ignored() -> None:
    """A data: URI that claims to be an image but is not decodes to nothing, without an error."""
    assert page_view.decode_qr_images("<img src='data:image/png;base64,bm90IGFuIGltYWdl'>") == []
