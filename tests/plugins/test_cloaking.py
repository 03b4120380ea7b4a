"""Unit tests for the cloaking page detector."""

from __future__ import annotations

from tests.plugins.detector_helpers import MALICIOUS, SUSPICIOUS, html_doc, page_findings

from fraudwall.plugins import cloaking


def signs(html: str, url: str = "http://land-x.top/") -> dict[str, str]:
    found = page_findings(cloaking, html, url)
    return {sign: "" for sign in cloaking.WEIGHTS if found and sign.replace("_", " ") in found[0].reason}


def test_redirect_only_pages() -> None:
    """A near-empty page that only redirects elsewhere is a sign; more when it leaves for another domain."""
    meta = "<html><head><meta http-equiv='refresh' content='0;url=http://103.4.5.6/x'></head><body>跳转中</body></html>"
    assert {"redirect", "foreign_redirect"} <= signs(meta).keys()
    script = html_doc("<script>window.location.href = '/home';</script>")
    assert signs(script).keys() == {"redirect"}
    finding = page_findings(cloaking, meta, "http://land-x.top/")[0]
    assert ("redirect", "http://103.4.5.6/x") in finding.indicators


def test_pages_with_content_are_not_redirect_only() -> None:
    """A page with real content and a login redirect in a handler is no redirect-only page."""
    html = html_doc("<p>" + "本店经营各类家居用品，欢迎选购，全场包邮，七天无理由退货。" * 4 + "</p><script>function go(){location.href='/login'}</script>")
    assert page_findings(cloaking, html) == []


def test_visitor_checks_and_decoded_payloads() -> None:
    """Crawler checks and document.write(atob(...)) are signs of their own."""
    html = html_doc("<p>x</p><script>if(navigator.webdriver){}else{document.write(atob('PHA+aGk8L3A+'))}</script>")
    assert {"visitor_check", "decoded_payload"} <= signs(html).keys()


def test_obfuscation_signs() -> None:
    """The p,a,c,k,e,d packer, JSFuck, javascript-obfuscator names and escape-only scripts are recognised."""
    packer = html_doc("<script>eval(function(p,a,c,k,e,d){return p}('0',1,1,'x'.split('|'),0,{}))</script>")
    assert "packer" in signs(packer)
    jsfuck = html_doc("<script>" + "(![]+[])[+!+[]]" * 8 + "</script>")
    assert "jsfuck" in signs(jsfuck)
    names = html_doc("<script>" + ";".join(f"var _0x{i:04x}=1" for i in range(30)) + "</script>")
    assert "obfuscator_names" in signs(names)
    escaped = html_doc("<script>var s='" + "\\x61" * 80 + "';</script>")
    assert "escaped_script" in signs(escaped)


def test_cloaking_alone_never_reaches_malicious() -> None:
    """Every sign at once is capped below malicious: hiding only matters beside what other detectors find."""
    html = ("<html><head><meta http-equiv='refresh' content='0;url=http://1.2.3.4/'></head><body><script>"
            "if(navigator.webdriver){}eval(atob('YQ=='));eval(function(p,a,c,k,e,d){return p}('',0,0,[],0,{}))"
            "</script></body></html>")
    finding = page_findings(cloaking, html)[0]
    assert SUSPICIOUS <= finding.score < MALICIOUS


def test_vouched_names_get_nothing() -> None:
    """A brand's own redirect page is not cloaking."""
    html = "<html><head><meta http-equiv='refresh' content='0;url=https://www.icbc.com.cn/'></head></html>"
    assert page_findings(cloaking, html, "https://icbc.com.cn/") == []
