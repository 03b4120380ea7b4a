"""APK files a page refers to outside its links: found wherever the HTML names them, and nowhere else."""

from __future__ import annotations

import time

from fraudwall.crawler.app_files import MAX_URL, apk_references

PAGE = r"""<button onclick="location.href='/dl/app-v2.apk'">下载</button>
<script>var cfg = {"android":"https:\/\/cdn-apk.top\/pkg\/loan.apk?v=3","ios":"itms-services://x"};
if (isAndroid) { window.location = "//files.top/x/game.XAPK#go"; }</script>
<div data-url=/dl/xapk/game2.xapk class=x></div><a href="file.apk.html">no</a> apkpure.com
<p>download.php?file=app.apk</p><span data-x="javascript:alert(1).apk"></span> ftp://x.top/y.apk /apk/list
<a href='/dl/app-v2.apk'>again</a>"""


def test_references_in_scripts_attributes_and_json_are_found_once_and_resolved() -> None:
    """A click handler, escaped JSON, a scheme-relative URL in upper case with a fragment and an unquoted attribute
    each give one absolute URL, in order; a page named .apk.html, words with "apk", a query naming a file, an
    extension with no file name and another scheme give none."""
    assert apk_references(PAGE, "https://scam.top/page/index.html", 20) == [
        "https://scam.top/dl/app-v2.apk", "https://cdn-apk.top/pkg/loan.apk?v=3", "https://files.top/x/game.XAPK#go",
        "https://scam.top/dl/xapk/game2.xapk",
    ]
    assert apk_references(PAGE, "https://scam.top/", 2) == ["https://scam.top/dl/app-v2.apk",
                                                              "https://cdn-apk.top/pkg/loan.apk?v=3"]


def test_a_hostile_page_costs_one_pass() -> None:
    """Ten megabytes with no delimiter before the extension, or two million "apk" words: each scanned in well under
    a second, a reference never longer than MAX_URL."""
    endless = "=a" * 5_000_000 + ".apk"
    started = time.process_time()
    [url] = apk_references(endless, "https://s.top/", 20)
    words = apk_references("apk " * 2_000_000, "https://s.top/", 20)
    assert time.process_time() - started < 1.0
    assert len(url) <= len("https://s.top/") + MAX_URL + 4 and words == []


def test_references_resolve_against_the_pages_base() -> None:
    """A page whose <base href> points elsewhere: its parsed observation names that base, and an APK named only in
    a script resolves against it, as the browser resolves it, not against the page's own URL."""
    from fraudwall.pages import parse_page

    html = ('<html><head><base href="http://cdn-loan.top/pkg/"></head><body>'
            '<button onclick="location.href=\'anquan.apk\'">下载</button></body></html>')
    page = parse_page("http://app-loan.top/index.html", html.encode(), headers=[("Content-Type", "text/html")])
    assert page.base_url == "http://cdn-loan.top/pkg/"
    assert apk_references(page.html, page.base_url, 20) == ["http://cdn-loan.top/pkg/anquan.apk"]
    assert parse_page("http://app-loan.top/", b"<p>x</p>").base_url == ""


def test_file_names_that_are_no_links_are_left_alone() -> None:
    """The name a download is saved under (a download attribute, quoted or not), a title, an alt text and a bare
    file name in the page's prose are no URL a browser requests; the link beside them, escaped slashes in a script
    (\\u002f, \\x2f) and a name in a script's string are."""
    page = ('<a href="/d/7" download="理财通.apk">下载</a> <a href=/d/8 download=app.apk>x</a>'
            '<img src="/i.png" alt="安装包 app.apk"><span title=\'v2.apk\'>x</span>'
            '<p>请下载 理财通.apk 并安装</p><p>app.apk</p>\n'
            '<script>var a = "\\u002fdl\\u002fj30.apk", b = "\\x2Fdl\\x2Fhex.apk"; go("plain.apk");</script>')
    assert apk_references(page, "https://licai.top/page/", 20) == [
        "https://licai.top/dl/j30.apk", "https://licai.top/dl/hex.apk", "https://licai.top/page/plain.apk",
    ]


def test_ios_installs_are_told_by_scheme_and_file_name() -> None:
    """An enterprise install, a profile and an .ipa (any case, with a query or fragment, relative) are iOS lures; a
    page about them, a bare extension and an APK are not."""
    from fraudwall.crawler.app_files import is_ios_install

    lures = ["itms-services://?action=download-manifest&url=https://x.top/m.plist", "ITMS-SERVICES://?x",
             "/profile/vip.mobileconfig", "https://x.top/app.IPA?v=2#go"]
    others = ["https://x.top/mobileconfig-guide.html", "https://x.top/.ipa", "/dl/app.apk", "https://x.top/ipa/"]
    assert [is_ios_install(url) for url in lures + others] == [True] * len(lures) + [False] * len(others)
