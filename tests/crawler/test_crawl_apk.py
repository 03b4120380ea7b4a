"""Fake-app capture in a real crawl: APK links by extension, by link text and by zip magic, judged and stored once."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fraudwall.blocklists.store import Store
from fraudwall.demo.server import SiteServer
from tests.conftest import REPO

APKS = REPO / "tests" / "data" / "apks"

INDEX = """<html><head><title>云会议 官方下载</title></head><body>
<a href="/download/meeting.apk">立即下载</a>
<a href="/download/copy.apk">备用下载</a>
<a href="/img/banner.jpg">点击下载APP</a>
<a href="/img/logo.png">logo</a>
<a href="http://cdn-apps.xyz:{port}/files/bank.apk">下载安全控件</a>
<a href="/download/broken.apk">旧版本</a>
<a href="itms-services://?action=download-manifest&amp;url=https://app.top/m.plist">iPhone 安装</a>
<a href="/ios/profile.mobileconfig">描述文件</a>
</body></html>"""

FILES = {
    "app-meeting.top/download/meeting.apk": APKS / "meeting_remote_control.apk",
    "app-meeting.top/download/copy.apk": APKS / "meeting_remote_control.apk",  # the same file at another URL
    "app-meeting.top/img/banner.jpg": APKS / "benign_weather.apk",  # an APK served as image/jpeg
    "app-meeting.top/img/logo.png": APKS / "benign_sms_backup.apk",  # linked as a picture: never fetched
    "cdn-apps.xyz/files/bank.apk": APKS / "demo_bank_fake.apk",  # off the seed's domain: one hop
}


def _copy_files(root: Path, files: dict[str, Path]) -> None:
    for relative, source in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)


def _crawl(db: Path, server: SiteServer, seed_host: str, other_host: str) -> subprocess.CompletedProcess[str]:
    """``fraudwall crawl`` of ``seed_host``'s front page, both hosts mapped to loopback."""
    resolve = [arg for host in (seed_host, other_host) for arg in ("--resolve", f"{host}:127.0.0.1")]
    result = subprocess.run(
        [sys.executable, "-m", "fraudwall.cli", "crawl", "--db", str(db), "--allow-net", "127.0.0.0/8", *resolve,
         server.url(seed_host)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteServer]:
    """An app-download site whose links offer APKs in every disguise."""
    root = tmp_path / "site"
    with SiteServer(root) as server:
        (root / "app-meeting.top").mkdir(parents=True)
        (root / "app-meeting.top" / "index.html").write_text(INDEX.format(port=server.port), encoding="utf-8")
        (root / "app-meeting.top" / "download").mkdir()
        (root / "app-meeting.top" / "download" / "broken.apk").write_text("<html>gone</html>", encoding="utf-8")
        _copy_files(root, FILES)
        yield server


def test_crawl_captures_judges_and_stores_each_apk_once(tmp_path: Path, site: SiteServer) -> None:
    """APKs linked by extension, by download text (an image URL) and on another host are downloaded, analysed,
    judged and stored once by sha256; a picture link and an .apk link serving HTML store nothing; iOS lures
    are counted, not fetched."""
    db = tmp_path / "f.db"
    assert "APKs captured" in _crawl(db, site, "app-meeting.top", "cdn-apps.xyz").stdout
    with Store.open(db) as store:
        rows = list(store.db.query(
            "SELECT o.sha256, o.payload, v.status FROM observations o JOIN verdicts v ON v.subject = o.sha256 "
            "WHERE o.kind = 'apk'"))
        by_package = {json.loads(row["payload"])["package"]: row for row in rows}
        assert set(by_package) == {"com.yunhuiyi.meeting", "com.zhujiang.bank.secure", "org.example.weather"}, by_package
        assert by_package["com.yunhuiyi.meeting"]["status"] == "malicious"
        assert by_package["com.zhujiang.bank.secure"]["status"] == "malicious"
        assert by_package["org.example.weather"]["status"] == "benign"
        download = json.loads(by_package["org.example.weather"]["payload"])["download_url"]
        assert download == site.url("app-meeting.top", "/img/banner.jpg")
        bank_host = store.db.execute("SELECT status FROM verdicts WHERE subject = 'cdn-apps.xyz'").fetchone()
        assert bank_host is not None and bank_host[0] in ("malicious", "suspicious"), "the download host is a subject"


SCRIPTED = r"""<html><head><title>极速贷 官方下载</title></head><body>
<button onclick="location.href='/dl/loan-v2.apk'">安卓下载</button>
<div class="btn" data-url=/dl/xapk/weather.xapk>备用通道</div>
<a href="/guide/install.apk.html">安装教程</a> <span>apkpure</span>
<script>
var cfg = {"android": "http:\/\/cdn-loan.top:{port}\/pkg\/anquan.apk?v=3", "ios": "itms-services://?action=x"};
if (/android/i.test(navigator.userAgent)) { document.querySelector('.btn').onclick = function () {
  window.location = cfg.android; }; }
</script></body></html>"""

SCRIPTED_FILES = {
    "app-loan.top/dl/loan-v2.apk": APKS / "loan_app.apk",
    "app-loan.top/dl/xapk/weather.xapk": APKS / "benign_weather.apk",
    "cdn-loan.top/pkg/anquan.apk": APKS / "fake_bank_security.apk",
}


def test_crawl_captures_apks_a_page_offers_only_in_scripts_and_attributes(tmp_path: Path) -> None:
    """A download page whose buttons are scripts: the APK in a click handler, the one in an unquoted data attribute
    and the one on another host in the page's JSON (slashes escaped) are each downloaded and judged; a page whose
    name only contains ".apk" and a word starting with "apk" are not fetched as APKs."""
    root = tmp_path / "site"
    with SiteServer(root) as server:
        (root / "app-loan.top").mkdir(parents=True)
        (root / "app-loan.top" / "index.html").write_text(SCRIPTED.replace("{port}", str(server.port)),
                                                          encoding="utf-8")
        _copy_files(root, SCRIPTED_FILES)
        (root / "app-loan.top" / "guide").mkdir()
        (root / "app-loan.top" / "guide" / "install.apk.html").write_text("<title>安装教程</title>", encoding="utf-8")
        db = tmp_path / "f.db"
        _crawl(db, server, "app-loan.top", "cdn-loan.top")
    with Store.open(db) as store:
        downloads = {json.loads(row["payload"])["package"]: json.loads(row["payload"])["download_url"]
                     for row in store.db.query("SELECT payload FROM observations WHERE kind = 'apk'")}
        pages = [row["url"] for row in store.db.query("SELECT url FROM observations WHERE kind = 'page'")]
    assert downloads == {
        "com.jisu.daikuan": server.url("app-loan.top", "/dl/loan-v2.apk"),
        "org.example.weather": server.url("app-loan.top", "/dl/xapk/weather.xapk"),
        "com.icbc.anquan.kongjian": server.url("cdn-loan.top", "/pkg/anquan.apk") + "?v=3",
    }
    assert server.url("app-loan.top", "/guide/install.apk.html") in pages  # a page, linked: fetched as one


class _WeChatOnly(BaseHTTPRequestHandler):
    """A scam shown in WeChat alone: everyone else gets 404, for the page and for the app; each request's
    User-Agent kept by path."""

    agents: dict[str, list[str]] = {}

    def log_message(self, *args: object) -> None:
        """Quiet: the test reads ``agents``."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        agent = self.headers.get("User-Agent", "")
        self.agents.setdefault(self.path, []).append(agent)
        if "MicroMessenger" not in agent:
            body, kind, status = "<title>页面不存在</title>".encode(), "text/html; charset=utf-8", 404
        elif self.path == "/":
            body = ('<title>微信专享 极速贷款</title><p>无需征信，不看负债，身份证即可申请，最快三分钟到账。'
                    '额度最高二十万元，日息低至万分之二，随借随还。新用户首借免息七天，'
                    '请下载官方APP完成实名认证后领取额度，如有疑问请联系在线客服。</p>'
                    '<a href="/dl/wx.apk">立即下载</a>').encode()
            kind, status = "text/html; charset=utf-8", 200
        else:
            body, kind, status = (APKS / "loan_app.apk").read_bytes(), "application/vnd.android.package-archive", 200
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_an_app_offered_to_one_client_only_is_fetched_as_that_client(tmp_path: Path) -> None:
    """A seed that shows its loan scam and its app to WeChat's browser alone (404 to the others, the app too): the
    APK its WeChat variant links is downloaded as WeChat, judged and stored."""
    _WeChatOnly.agents = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WeChatOnly)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        db = tmp_path / "f.db"
        result = subprocess.run(
            [sys.executable, "-m", "fraudwall.cli", "crawl", "--db", str(db), "--allow-net", "127.0.0.0/8",
             "--resolve", "wx-daikuan.top:127.0.0.1", f"http://wx-daikuan.top:{server.server_address[1]}/"],
            capture_output=True, text=True, timeout=180)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    with Store.open(db) as store:
        packages = [json.loads(row["payload"])["package"]
                    for row in store.db.query("SELECT payload FROM observations WHERE kind = 'apk'")]
    assert packages == ["com.jisu.daikuan"]
    assert [agent for agent in _WeChatOnly.agents["/dl/wx.apk"] if "MicroMessenger" in agent]


class _LoggingSite(SiteServer):
    """The loopback site, keeping the path of every request it is sent."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.paths: list[str] = []
        site = self
        base: Any = self.httpd.RequestHandlerClass

        class Logging(base):  # type: ignore[misc]
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                site.paths.append(self.path)
                super().do_GET()

        self.httpd.RequestHandlerClass = Logging  # type: ignore[assignment]

    def __enter__(self) -> _LoggingSite:
        super().__enter__()
        return self


DISGUISED = """<html><head><title>理财通 官方下载</title></head><body>
<a href="/dl/licai.apk">安卓下载</a>
<a href="/dl/front.apk">备用下载</a>
<a href="/d/7" download="理财通.apk">高速下载</a>
<p>请下载 理财通.apk 并允许未知来源安装</p>
<script>var backup = "\\u002fdl\\u002fbackup.apk";</script>
<script>var mirror = '/dl/' + 'concat' + '.apk'; btn.onclick = function () { location.href = mirror; };</script>
<a href="/dl/licai-full.xapk">完整安装包</a>
<button onclick="location.href=atob('L2RsL2I2NC5hcGs=')">会议版下载</button>
<script>var mirrors = ["ftp://127.0.0.1:9/pub/licai.apk", "file:///sdcard/licai.apk"];</script>
</body></html>"""


def test_crawl_captures_apks_with_data_in_front_and_leaves_file_names_alone(tmp_path: Path) -> None:
    """An .apk link serving a DEX in front of the zip (the Janus layout) and one serving a page in front of it are
    APKs, as Android's installer reads them from the end: both are stored and judged, the Janus one malicious. A
    script's URL with slashes written as \\u002f is fetched, and so are one a script builds by concatenation and
    one a button's handler decodes (atob), which judging reads (the page's install paths) and the crawl's own scan
    does not; the name a download is saved
    under, a file name in the page's prose and the bare extension of the concatenation are never requested. An app
    bundle (.xapk, its APK compressed inside) is captured and judged by the app it carries; ftp: and file: install
    paths in a script are never fetched."""
    root = tmp_path / "site"
    with _LoggingSite(root) as server:
        (root / "licai-app.top" / "dl").mkdir(parents=True)
        (root / "licai-app.top" / "index.html").write_text(DISGUISED, encoding="utf-8")
        shutil.copy(APKS / "tamper_janus.apk", root / "licai-app.top" / "dl" / "licai.apk")
        (root / "licai-app.top" / "dl" / "front.apk").write_bytes(
            b"<html><body>loading</body></html>\n" + (APKS / "benign_sms_backup.apk").read_bytes())
        shutil.copy(APKS / "loan_app.apk", root / "licai-app.top" / "dl" / "backup.apk")
        shutil.copy(APKS / "benign_weather.apk", root / "licai-app.top" / "dl" / "concat.apk")
        shutil.copy(APKS / "meeting_remote_control.apk", root / "licai-app.top" / "dl" / "b64.apk")
        with zipfile.ZipFile(root / "licai-app.top" / "dl" / "licai-full.xapk", "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("manifest.json", '{"package_name": "com.icbc.anquan.kongjian"}')
            bundle.write(APKS / "fake_bank_security.apk", "com.icbc.anquan.kongjian.apk")
        db = tmp_path / "f.db"
        result = _crawl(db, server, "licai-app.top", "unused.top")
    with Store.open(db) as store:
        # Downloads by file name; an APK found inside another (the bundle's) by its member name.
        rows = {(payload["download_url"].rsplit("/", 1)[-1] or "inside:" + payload["member"]): row["status"]
                for row in store.db.query("SELECT o.payload, v.status FROM observations o "
                                          "JOIN verdicts v ON v.subject = o.sha256 WHERE o.kind = 'apk'")
                if (payload := json.loads(row["payload"]))}
    assert rows.keys() == {"licai.apk", "front.apk", "backup.apk", "concat.apk", "licai-full.xapk", "b64.apk",
                           "inside:com.icbc.anquan.kongjian.apk"}, \
        (rows, result.stdout[-3000:])
    assert rows["licai-full.xapk"] == "malicious"  # the bundle carries the fake bank app
    # ftp: and file: install paths are evidence, never fetched: the one failed fetch is /d/7's 404.
    assert re.search(r"fetches failed or refused\W+1\b", result.stdout), result.stdout[-3000:]
    assert rows["licai.apk"] == "malicious"
    assert "fraudwall/apk/not-an-apk" not in result.stdout
    assert set(server.paths) == {"/", "/d/7", "/dl/backup.apk", "/dl/front.apk", "/dl/licai.apk",  # "/": four clients
                                 "/dl/concat.apk", "/dl/licai-full.xapk", "/dl/b64.apk"}
