"""HTML to PageObservation: the same parse for live crawls and saved files."""

from __future__ import annotations

import time

from fraudwall.pages import MAX_FORM_FIELDS, decode_body, parse_page

HTML = """<html><head><title>刷单 返利</title><meta name="description" content="日结 佣金">
<base href="/sub/"></head><body><p>做任务</p><script>var code = "垫付";</script><script src="app.js"></script>
<style>.x{}</style><a href="vip.apk">下载</a><a href="javascript:void(0)">x</a><a href="#top">top</a>
<form action="submit" method="POST"><label for="i">身份证号</label><input id="i" name="idcard">
<input type="password" placeholder="支付密码"><input type="hidden" name="t"><select name="bank"></select></form>
<img alt="工商银行"></body></html>"""


def test_page_fields_are_extracted() -> None:
    """Title, meta, visible text, links, forms, scripts and image alts are all captured."""
    page = parse_page("http://a.top/p/index.html", HTML.encode("utf-8"), headers=[("Content-Type", "text/html; charset=utf-8")])
    assert page.title == "刷单 返利"
    assert ("description", "日结 佣金") in page.meta
    assert "做任务" in page.text and "垫付" not in page.text  # script text is not visible text
    assert [link.url for link in page.links] == ["http://a.top/sub/vip.apk"]  # <base> honoured
    form = page.forms[0]
    assert (form.action, form.method) == ("http://a.top/sub/submit", "post")
    assert [(f.name, f.type, f.label) for f in form.fields] == [
        ("idcard", "text", "身份证号"), ("", "password", "支付密码"), ("bank", "select", "")]
    assert 'var code = "垫付";' in page.scripts and "http://a.top/sub/app.js" in page.scripts
    assert page.image_alts == ("工商银行",)
    assert len(page.content_hash) == 64


def test_controls_without_a_label_are_named_by_the_text_beside_them() -> None:
    """Forms laid out without <label>: the text just before a control, the element before it, an image drawn
    there as its label (alt text), the table cell before its own, or the element before the wrapper it opens
    names it; long prose or another control does not."""
    html = (
        "<form><p>家长身份证号</p><input name=jzsfz>卡号：<input name=yhk>"
        "<img src=/l/5.png alt=信用卡號碼><input name=img>"
        "<table><tr><td>CVV</td><td><input name=c></td></tr></table>"
        "<p>短信验证码</p><div><input name=yzm><button>获取验证码</button></div>"
        "<input name=after><p>" + "这是一段很长的说明文字" * 5 + "</p><input name=prose>"
        "<label for=x>Name</label><input id=x name=named placeholder=例如></form>"
    )
    labels = {field.name: field.label for field in parse_page("http://example-test.top/", html.encode()).forms[0].fields}
    assert labels == {"jzsfz": "家长身份证号", "yhk": "卡号：", "img": "信用卡號碼", "c": "CVV", "yzm": "短信验证码", "after": "",
                      "prose": "", "named": "Name 例如"}


def test_controls_outside_any_form_are_one_scripted_form() -> None:
    """Inputs outside a <form> (a script reads and posts them) are kept as one form with method 'script', labelled
    like any other; a page without such controls gets no such form."""
    html = ("<form action=/s><input name=q></form><label>卡號</label><input id=cc placeholder='•••• ••••'>"
            "<div><label>安全碼</label><input placeholder=CVV></div><button>申請退款</button>")
    forms = parse_page("http://example-test.top/", html.encode()).forms
    assert [form.method for form in forms] == ["get", "script"]
    assert [field.label for field in forms[1].fields] == ["卡號 •••• ••••", "安全碼 CVV"]
    assert [form.method for form in parse_page("http://example-test.top/", b"<form><input name=q></form>").forms] == ["get"]


def test_gbk_page_decodes_from_meta_charset() -> None:
    """A GBK page without an HTTP charset is decoded from its <meta charset>."""
    body = '<html><head><meta charset="gbk"><title>无抵押贷款</title></head><body>解冻费</body></html>'.encode("gbk")
    page = parse_page("http://loan.xyz/", body)
    assert page.title == "无抵押贷款" and page.text == "解冻费"


def test_garbage_body_does_not_crash() -> None:
    """Binary junk still yields an observation (empty or garbled text), never an exception."""
    page = parse_page("http://x.top/", bytes(range(256)) * 10)
    assert page.url == "http://x.top/" and page.links == ()


def test_mislabelled_chinese_pages_decode_whatever_the_labels_claim() -> None:
    """GBK under a header that says UTF-8 and Big5 under a <meta> that says GB2312 come out readable; a UTF-8
    page with a few broken bytes stays UTF-8 (its broken bytes replaced, its text kept)."""
    gbk = "<html><head><title>兼职刷单返利</title></head><body><p>日赚500元，佣金当日结算，联系客服</p></body></html>"
    assert "兼职刷单返利" in decode_body(gbk.encode("gbk"), "text/html; charset=utf-8")[1]
    big5 = ('<html><head><meta charset="gb2312"><title>詐騙防範</title></head>'
            "<body><p>投資詐騙防範：保證獲利、穩賺不賠？請加LINE線上客服專員。</p></body></html>")
    assert "穩賺不賠" in decode_body(big5.encode("big5"), "text/html")[1]
    article = "<html><body><p>" + "警方提醒：不要向陌生账户转账，谨防电信诈骗。" * 20 + "</p></body></html>"
    broken = article.encode("utf-8").replace("账户".encode(), b"\xff\xfe", 1)
    encoding, text = decode_body(broken, "text/html; charset=utf-8")
    assert encoding == "utf-8" and "谨防电信诈骗" in text and "\ufffd" in text


def test_text_reads_words_split_by_inline_markup_as_the_browser_shows_them() -> None:
    """`Win<span>dows</span>` is one word on screen and in the text; block edges (divs, list items, breaks)
    still separate words, and script, style and comment text stays out."""
    page = parse_page("https://x.example/", (
        b"<html><body><div>Win<span>dows</span> <b>Def</b><i>ender</i></div><div>Call</div>"
        b"<p>one<br>two</p><label>Expiry</label><input name=e><label>CVV</label><ul><li>a</li><li>b</li></ul><td>c</td><script>var s='x'</script>"
        b"<style>p{}</style>pay<!-- hidden -->ment</body></html>"
    ))
    assert page.text == "Windows Defender Call one two Expiry CVV a b c payment"


def test_text_with_control_characters_keeps_its_words() -> None:
    """Control characters lxml keeps from a hostile body but will not write back do not stop the text."""
    page = parse_page("https://x.example/", b"<body><div>re\x01fund</div><p>\x0bcall\x00 now</p></body>")
    assert "call" in page.text and "now" in page.text and "fund" in page.text


def test_a_page_of_a_hundred_thousand_inputs_is_read_in_bounded_time() -> None:
    """A 4 MB form of 100,000 inputs (a hostile page): its first MAX_FORM_FIELDS data controls are read, with their
    labels, in a second or two; labelling every control walked the page around each one and took hours."""
    inputs = "".join(f'<p>字段{i}</p><input name="f{i}" id="i{i}">' for i in range(100_000))
    html = f"<html><body><form action=/s><label for=i0>身份证号</label>{inputs}</form><p>提交</p></body></html>"
    started = time.process_time()
    page = parse_page("http://example-test.top/", html.encode())
    assert time.process_time() - started < 10
    fields = page.forms[0].fields
    assert len(fields) == MAX_FORM_FIELDS
    assert (fields[0].label, fields[1].label, fields[-1].label) == ("身份证号", "字段1", f"字段{MAX_FORM_FIELDS - 1}")
    assert page.text.startswith("身份证号 字段0 字段1") and page.text.endswith("字段99999 提交")


def test_text_inside_script_style_and_template_is_not_visible_but_their_tails_are() -> None:
    """Visible text skips script, style and template contents (templates nested in templates too) and comments,
    and keeps the text that follows each of them."""
    html = ("<body>a<!-- 注释 -->b<script>var s = '脚本';</script>c<style>.x{}</style>d"
            "<template><p>模板<template>内</template></p>尾</template>e<p>段落</p></body>")
    assert parse_page("http://example-test.top/", html.encode()).text == "abcde 段落"


# -- link joining: the cached path gives what urljoin gives --------------------------------------------------

from urllib.parse import urljoin  # noqa: E402

from hypothesis import assume, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fraudwall.pages import _join, _origin  # noqa: E402

#: Bases with paths, parameters, queries and fragments that a relative link would take from them; one not http(s).
_BASES = ["http://shop.top/a/b/c.html?x=1#f", "https://kefu.top:8443/dir/;p?q", "http://[::1]:8080/", "https://a.top",
          "http://user@b.top/x/../y/", "ftp://files.top/pub/", "https://c.top/a//b/./c?"]
_HREF_PARTS = st.lists(st.sampled_from(["/", "//", "?", "#", ";", ".", "..", "a", "b.top", "x:y", "@", "%2F", "\t", "\n",
                                        "\\", " ", ":80", "[::1]", "http:", "https:", "HTTP://"]), max_size=8)


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(_BASES), st.sampled_from(["", "/", "//", "http://", "https://", "?", "#", "./"]), _HREF_PARTS)
@example("https://kefu.top:8443/dir/;p?q", "http://", ["\t"])
@example("http://shop.top/a/b/c.html?x=1#f", "//", ["?", "a"])
@example("http://shop.top/a/b/c.html?x=1#f", "https://", [])
def test_links_are_joined_as_urljoin_joins_them(base: str, start: str, parts: list[str]) -> None:
    """Whatever the href (root paths, host-named and scheme-relative links, empty hosts, removed characters, dot
    segments; not backslashes, read as slashes on purpose) and the base, the cached join gives urljoin's answer."""
    href = start + "".join(parts)
    assume("\\" not in href)  # read as a slash, on purpose: test_backslashes_in_links_read_as_a_browser_reads_them
    assert _join(base, _origin(base), href) == urljoin(base, href)


def test_backslashes_in_links_read_as_a_browser_reads_them() -> None:
    """In an http(s) link a backslash is a slash up to the query, as browsers read it (pages made on Windows
    link "images\\app.apk"): a path, a host after "/\\", a scheme-relative host; the query and fragment keep theirs,
    and a link in another scheme is left alone."""
    hrefs = ["\\u\\ok\\backslash", "/\\cdn-apps.top/x", "images\\app.apk", "a\\b?q=\\x#f\\g", "http:\\\\cdn-apps.top\\y",
             "javascript:a\\b"]
    html = "".join(f'<a href="{href}">x</a>' for href in hrefs)
    page = parse_page("http://hub.top/u/page.html", html.encode(), headers=[("Content-Type", "text/html")])
    assert [link.url for link in page.links] == [
        "http://hub.top/u/ok/backslash", "http://cdn-apps.top/x", "http://hub.top/u/images/app.apk",
        "http://hub.top/u/a/b?q=\\x#f\\g", "http://cdn-apps.top/y"]
