"""Unit tests for fraudwall.page_view: what the page detectors read of a page, and the view that holds it."""

from __future__ import annotations

import base64
import dataclasses
import time

import pytest

from fraudwall import page_view
from fraudwall.page_view import InstallPath, PageView
from fraudwall.testing import make_page


def doc(body: str) -> str:
    """A minimal UTF-8 HTML document around ``body``."""
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title></title></head><body>{body}</body></html>"


def flat(html: str) -> str:
    """The matching text of a page built from ``html``."""
    return PageView(make_page(html)).text.flat


# -- hidden text --------------------------------------------------------------------


def test_script_strings_decode_every_escape() -> None:
    """\\u, \\x, %u, %XX escapes, HTML entities and String.fromCharCode lists all come out as text."""
    strings = page_view.script_strings([
        'var a = "\\u5237\\u5355"; var b = \'\\x41\\x42\'; var c = unescape("%u8fd4%u5229");'
        ' var d = decodeURIComponent("%E6%97%A5%E7%BB%93"); var e = "&#20323;&#37329;";'
        " var f = String.fromCharCode(0x57ab, 20184);",
        "https://cdn.example/app.js",
    ])
    assert {"刷单", "AB", "返利", "日结", "佣金", "垫付"} <= set(strings)


def test_empty_literals_keep_the_scan_in_step() -> None:
    """An empty string literal does not throw the quote scanner out of step (packer code is full of them)."""
    assert page_view.script_strings(["if(!''.replace(/^/,String)){x='刷单|返利'}"]) == ["刷单|返利"]


def test_attribute_texts_are_read() -> None:
    """Tooltips, aria labels, button values and data-* payloads are text a page shows."""
    html = '<div title="导师带单" data-tip="&#31283;&#36186;" aria-label="日收益"><input type=button value="立即充值"></div>'
    assert {"导师带单", "稳赚", "日收益", "立即充值"} <= set(page_view.attribute_texts(html))


def test_base64_blocks_decode_only_to_text() -> None:
    """A base64 block of UTF-8 text decodes; images, identifiers and random bytes do not."""
    assert page_view.decode_base64_text(base64.b64encode("刷单返利，日结佣金".encode()).decode()) == "刷单返利，日结佣金"
    assert page_view.decode_base64_text(base64.urlsafe_b64encode("导师带单稳赚不赔".encode()).decode()) == "导师带单稳赚不赔"
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256))).decode()
    assert page_view.decode_base64_text(png) is None
    assert page_view.decode_base64_text("abcdefghijklmnopqrstuvwxyz") is None  # a word, not an encoding
    assert page_view.decode_base64_text("short") is None


def test_nested_base64_payloads_are_unwrapped() -> None:
    """A decoded payload that carries its own base64 block is unwrapped too (two layers)."""
    inner = base64.b64encode("名下资金转入安全账户".encode()).decode()
    outer = base64.b64encode(f'<script>var x = atob("{inner}");</script>'.encode()).decode()
    assert any("安全账户" in text for text in page_view.decoded_blocks([outer]))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<img src=a.png alt='导师带单'>", "导师带单"),
        ("<script>var s = {\"notice\": \"\\u7a33\\u8d5a\\u4e0d\\u8d54\"};</script>", "稳赚不赔"),
        ('<iframe src="data:text/html;base64,' + base64.b64encode("<p>刷单返利</p>".encode()).decode() + '"></iframe>', "刷单返利"),
        ("<button data-msg='&#35299;&#20923;&#36153;'>x</button>", "解冻费"),
        ("<script>var w=['Remote','app','optimization','tasks'];el.textContent=w.join(' ')</script>",
         "remote app optimization tasks"),
        ("<script>var w=['安','全','账','户'];</script>", "安全账户"),
        ("<style>.n::before{content:'\\5B89\\5168 \\8D26\\6237'}</style><p class=n></p>", "安全账户"),
        ('<p style="--x:1" class=a></p><style>.a:after { content: "pay the unfreezing fee" }</style>', "pay the unfreezing fee"),
        ('<iframe srcdoc="&lt;p&gt;银行卡号填写错误，资金已冻结&lt;/p&gt;"></iframe>', "银行卡号填写错误"),
        ('<script type="text/template" id="t"><p>下载腾讯会议共享屏幕</p></script>', "下载腾讯会议共享屏幕"),
    ],
)
def test_view_reads_hidden_places(body: str, expected: str) -> None:
    """Alts, JSON blobs in scripts, base64 data: frames, entity-encoded attributes, sentences spread one word per
    array element, the generated content of style sheets (CSS escapes decoded), an iframe's inline document
    (srcdoc) and markup kept in a script (text/template) are all in the page text."""
    assert expected in flat(doc(body))


def test_meta_and_title_are_read() -> None:
    """The title and meta descriptions are part of the text (image-only pages put their words there)."""
    html = "<html><head><title>日结兼职</title><meta name='description' content='点赞任务 先垫付'></head><body></body></html>"
    assert "日结兼职" in flat(html) and "点赞任务先垫付" in flat(html)


def test_code_identifiers_are_not_text() -> None:
    """One-word literals of minified code (class names, API paths) are not read as words; sentences are."""
    text = flat(doc('<script>api("refund"); show("Refund your order now")</script>'))
    assert "refund your order now" in text and "\nrefund\n" not in f"\n{text}\n"


# -- decoding (fraudwall.pages) -------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gbk", "big5"])
def test_legacy_encodings_decode_without_a_declared_charset(encoding: str) -> None:
    """GBK and Big5 pages that declare no charset are detected and decoded, not read as mojibake."""
    text = "導師帶單，穩賺不賠，每日收益百分之三，名額有限，請聯繫客服領取內部消息。" * 3
    body = f"<html><head><title>投資</title></head><body><p>{text}</p></body></html>".encode(encoding)
    page = make_page(body)
    assert "穩賺不賠" in page.text or "稳赚不赔" in page.text


def test_a_guessed_cp1252_decoding_is_redone() -> None:
    """A body Scrapy decoded with its last-resort cp1252 guess is decoded again with detection."""
    from fraudwall.pages import parse_page

    body = "<html><body><p>無需抵押，即日批核，最快一小時放款，請先繳付解凍費。</p></body></html>".encode("big5")
    page = parse_page("http://x.example/", body, text=body.decode("cp1252", errors="replace"), encoding="cp1252")
    assert "即日批核" in page.text


# -- the view ------------------------------------------------------------------------------

FRAUD_PAGE = doc(
    "<p>在家刷单，日结佣金。请先垫付。微信：kefu-vip888</p>"
    "<a href='https://t.me/tasks_boss'>联系导师</a><a href='/dl/task.apk'>下载APP</a>"
    "<form><label for=c>银行卡号</label><input id=c name=card><input type=password name=pin placeholder='取款密码'></form>"
)


def test_view_holds_the_facts_several_detectors_weigh() -> None:
    """Install paths, chat IDs and links, credential fields and lexicon hits are read off the page once, in the view."""
    view = PageView(make_page(FRAUD_PAGE, "http://task-example.top/"))
    assert view.install_paths == (InstallPath("apk", "http://task-example.top/dl/task.apk"),)
    assert {("wechat", "kefu-vip888"), ("telegram", "@tasks_boss")} <= set(view.contacts)
    assert view.opens_chat
    assert {"bank_card", "card_pin"} <= dict(view.credential_fields).keys()
    assert view.lexicon_hits["task_rebate"] and not view.warning_frame.warns
    assert "刷单" in view.strings and view.page.final_url == "http://task-example.top/"


def test_fields_a_script_builds_after_load_are_read() -> None:
    """A form drawn by script from a table of names and labels (createElement, or markup written into the page)
    asks for what its labels say; a script that builds no control asks for nothing, whatever its strings."""
    table = "[['cc','Card number','text'],['exp','Expiration MM/YY','text'],['otp','One-time code','tel']]"
    built = ("<div id=app></div><script>var f=" + table + ";f.forEach(function(x){var i=document.createElement('input');"
             "i.name=x[0];i.placeholder=x[1];app.appendChild(i);});</script>")
    written = ("<div id=app></div><script>var f=" + table + ";var h='';f.forEach(function(x){h+='<label>'+x[1]+"
               "'</label><input name=\"'+x[0]+'\">';});app.innerHTML=h;</script>")
    for html in (built, written):
        assert {"bank_card", "card_security", "sms_code"} <= dict(PageView(make_page(doc(html))).credential_fields).keys()
    talk = "<script>var help=['Card number','CVV','One-time code'];console.log(help);</script>"
    assert PageView(make_page(doc(talk))).credential_fields == ()


def test_warning_frame_needs_several_words_one_narrative() -> None:
    """A page warns when it has three or more warning words, one of them narrating fraud in the third person."""
    warns = PageView(make_page(doc("<p>警方提示：谨防骗子，切勿轻信，受害人请报警。</p>"))).warning_frame
    assert warns.warns and warns.factor(0.3) < 0.1
    ordinary = PageView(make_page(doc("<p>请勿吸烟。</p>"))).warning_frame
    assert not ordinary.warns and ordinary.factor(0.3) == 1.0


def test_each_fact_is_computed_once_per_view_and_never_shared_between_views() -> None:
    """A view keeps what it computed for the page's other detectors; another view of the same page starts afresh.

    Nothing is cached across views: a page's results live exactly as long as its view.
    """
    page = make_page(FRAUD_PAGE)
    view = PageView(page)
    assert view.text is view.text and view.install_paths is view.install_paths
    other = PageView(page)
    assert other.text == view.text and other.text is not view.text
    assert other.contacts == view.contacts and other.contacts is not view.contacts


def test_view_and_its_facts_cannot_be_changed_by_a_detector() -> None:
    """The view is frozen and its facts immutable, so no detector can change what the next one reads."""
    view = PageView(make_page(FRAUD_PAGE))
    assert view.contacts
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.contacts = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.page = make_page("<p>x</p>")  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.lexicon_hits["task_rebate"] = ()  # type: ignore[index]
    assert all(isinstance(value, tuple) for value in (view.install_paths, view.contacts, view.credential_fields))


def test_a_view_computes_nothing_it_is_not_asked_for() -> None:
    """Facts are computed on first use: detectors that read only the page (cloaking, YARA) cost the view nothing."""
    view = PageView(make_page(FRAUD_PAGE))
    assert set(vars(view)) == {"page"}
    assert view.contacts
    assert set(vars(view)) == {"page", "text", "canonical_strings", "strings", "hidden_sources", "contacts",
                                "_chat_links"}  # the chat links, which opens_chat reads too


def test_hostile_arrays_and_style_strings_are_read_in_linear_time() -> None:
    """An endless array that never closes, unclosed quotes after every `content:` and a string that never ends
    cost one pass each, not a pass per start (a page of 100,000 of them is read in well under a second)."""
    hostile = ["['a'," * 100_000, "['" * 100_000, "var w=['" + "x" * 500_000]
    started = time.monotonic()
    assert page_view.joined_arrays(hostile) == []
    page_view.css_content_texts("content:'" + "x" * 100 + "\\" * 50_000 + 'content:"' * 100_000)
    assert time.monotonic() - started < 1.0


def test_concatenated_literals_and_template_markup_are_read() -> None:
    """A base64 payload split into literals joined by '+', and markup kept in a <template> until a script clones
    it, are read: the decoded payload's words and the template's words reach the view's strings."""
    import base64

    payload = base64.b64encode("<h1>Pay your outstanding driving penalty today</h1>".encode()).decode()
    pieces = " +\n".join(f"'{payload[i:i + 16]}'" for i in range(0, len(payload), 16))
    html = (f"<html><body><p>nginx default page</p><script>var p={pieces};</script>"
            "<template id=job><li>Premium lucky order pays 6x commission</li></template></body></html>")
    view = PageView(make_page(html))
    assert "outstanding driving penalty" in view.strings
    assert "lucky order pays 6x commission" in view.strings


def test_hostile_concatenations_and_unclosed_templates_are_read_in_linear_time() -> None:
    """100,000 concatenated literals and 100,000 unclosed <template> starts cost one pass each."""
    started = time.monotonic()
    assert len(page_view.concatenated_strings(["var a=" + "'ab'+" * 100_000 + "'c';"])[0]) == 200_001
    assert page_view.template_texts("<template>" * 100_000) == []
    assert time.monotonic() - started < 1.0


def test_character_code_arrays_and_base64_chunk_arrays_are_read() -> None:
    """A sentence kept as an array of character codes and turned into text by ``fromCharCode``, and a base64
    payload cut into an array of chunks that the script reverses before joining, both reach the view's strings;
    an array of numbers in a script that never calls ``fromCharCode`` (a chart's data) does not."""
    import base64

    sentence = "Withdrawal pending: pay the 15% release fee"
    codes = ",".join(str(ord(ch)) for ch in sentence)
    payload = base64.b64encode("<p>联系接待员领取今日刷单任务</p>".encode()).decode()
    chunks = [payload[i:i + 8] for i in range(0, len(payload), 8)]
    backwards = ",".join(f"'{chunk}'" for chunk in reversed(chunks))
    html = (f"<html><body><p>Site under maintenance</p><script>var a=[{codes}];"
            f"el.innerHTML=String.fromCharCode.apply(null,a);var _=[{backwards}];"
            "document.body.innerHTML=atob(_.slice().reverse().join(''));</script></body></html>")
    strings = PageView(make_page(html)).strings
    assert sentence in strings and "联系接待员领取今日刷单任务" in strings
    chart = f"<html><body><script>drawChart([{codes}]);</script></body></html>"
    assert sentence not in PageView(make_page(chart)).strings


def test_hostile_code_arrays_are_read_in_linear_time() -> None:
    """An endless array of numbers in a script that calls fromCharCode costs one pass, not a pass per start."""
    started = time.monotonic()
    assert page_view.char_code_arrays(["String.fromCharCode(x);var a=[" + "65," * 200_000]) == []
    assert time.monotonic() - started < 1.0


def test_lines_drawn_on_a_canvas_read_as_one_text() -> None:
    """A paragraph a script draws on a canvas one line per ``fillText`` call reads as one text, so a sentence cut
    across two lines is whole again; a script that draws one label only adds nothing."""
    html = ("<html><body><canvas id=c></canvas><script>var x=c.getContext('2d');"
            "x.fillText('Your relationship manager will send the account',30,628);"
            "x.fillText(\"details and confirm your allocation on Telegram.\",30,650);</script></body></html>")
    assert "send the account details and confirm" in PageView(make_page(html)).strings
    assert page_view.drawn_texts(["x.fillText('Q3 revenue',10,10);"]) == []


def test_hostile_canvas_scripts_are_read_in_linear_time() -> None:
    """100,000 fillText calls, or one whose string never closes, cost one pass."""
    started = time.monotonic()
    assert len(page_view.drawn_texts(["x.fillText('a',1,1);" * 100_000])[0]) == 199_999
    page_view.drawn_texts(["x.fillText('" + "x" * 500_000])
    assert time.monotonic() - started < 1.0


def test_packed_scripts_are_unpacked_and_read() -> None:
    """A script packed with Dean Edwards' packer (words replaced by base-62 numbers into a word list) is unpacked
    as the packer would, and the sentence it writes reaches the view's strings; a number with no word stays."""
    words = "|".join(["", "", "document", "innerHTML", "Call", "Microsoft", "support", "now", "Your", "PC", "is",
                      "locked", "body", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
                      "", "", "", "", "", "", "", "Windows"])
    packed = ("eval(function(p,a,c,k,e,d){e=function(c){return c.toString(36)};return p}"
              f"('2.c.3=\"8 C 9 a b. 4 5 6 7 at 1\";',62,39,'{words}'.split('|'),0,{{}}))")
    assert page_view.unpacked_scripts([packed]) == ['document.body.innerHTML="Your Windows PC is locked. '
                                                    'Call Microsoft support now at 1";']
    strings = PageView(make_page(f"<html><body><script>{packed}</script></body></html>")).strings
    assert "Your Windows PC is locked. Call Microsoft support now" in strings


def test_hostile_packed_scripts_are_read_in_linear_time() -> None:
    """A packer header followed by 100,000 unclosed payload starts, or one endless payload, costs one pass."""
    started = time.monotonic()
    assert page_view.unpacked_scripts(["function(p,a,c,k,e,d)" + "}('x" * 100_000]) == []
    assert page_view.unpacked_scripts(["function(p,a,c,k,e,d)}('" + "\\x" * 200_000]) == []
    assert time.monotonic() - started < 1.0


def test_install_paths_resolve_against_the_pages_base() -> None:
    """An APK named in a script of a page whose <base href> points to a CDN is that CDN's file, as the browser
    fetches it."""
    html = doc("<base href='http://cdn-apps.top/v2/'><button onclick=\"location.href='loan.apk'\">下载</button>")
    view = PageView(make_page(html, "http://task-example.top/"))
    assert view.install_paths == (InstallPath("apk", "http://cdn-apps.top/v2/loan.apk"),)


def test_install_paths_read_download_names_as_browsers_do() -> None:
    """A link whose download attribute saves its file under an app's name is an install of that app at its href,
    whatever its URL; so are a URL a button's handler decodes (atob) and a javascript: link's; the download name
    itself, an alt text or a title reading like a file's name, and a script's bare extension (half of a
    concatenation) are no install path."""
    page = make_page(
        '<a href="/d/7" download="理财通.apk">下载</a> <a download=v2.ipa href=/d/8>iOS</a>'
        '<img alt="app.apk" src="/x.png"><span title="old.apk">x</span>'
        "<script>var u = '/dl/' + 'concat' + '.apk';</script>"
        "<button onclick=\"location.href=atob('L2RsL2I2NC5hcGs=')\">x</button><a href=\"javascript:go('/dl/js.apk')\">y</a>",
        url="http://licai.top/x",
    )
    paths = {(path.kind, path.url) for path in PageView(page).install_paths}
    assert paths == {("apk", "http://licai.top/d/7"), ("ipa", "http://licai.top/d/8"),
                     ("apk", "http://licai.top/dl/concat.apk"), ("apk", "http://licai.top/dl/b64.apk"),
                     ("apk", "http://licai.top/dl/js.apk")}


def test_install_paths_read_json_with_escaped_slashes() -> None:
    """A page's JSON config names its app with slashes escaped (http:\\/\\/cdn...): the install path is that URL, not
    the escaped text taken for a path under the page (which the crawl then requested, garbled)."""
    page = make_page('<script>window.__CONFIG__={"android_url":"http:\\/\\/cdn-apk.xyz\\/v2\\/app.apk"};</script>',
                     url="http://licai.top/c/index.html")
    assert [path.url for path in PageView(page).install_paths] == ["http://cdn-apk.xyz/v2/app.apk"]
