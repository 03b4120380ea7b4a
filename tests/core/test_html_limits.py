"""Markup a browser shows and libxml2 chokes on: deep nesting and crowded tags are parsed as a browser reads them.

Each case is a page a hostile site can serve. Before :mod:`fraudwall.html_limits`,
2,100 empty nested ``<div>`` tags in front of a scam page made its text and links
vanish (libxml2 drops the rest of a document nested past 2,048 levels), and a
tag of 40,000 attributes held the crawl process for a quarter of a minute
(libxml2 compares each attribute with all those before it).
"""

from __future__ import annotations

import time

import pytest

from fraudwall.html_limits import MAX_ATTRIBUTES, MAX_DEPTH, parseable
from fraudwall.pages import parse_page

HEADERS = [("Content-Type", "text/html; charset=utf-8")]
SCAM = '<p>刷单返利 日赚300 联系客服</p><a href="/task">领取任务</a><form><input name="card" placeholder="银行卡号"></form>'


def _page(html: str):  # type: ignore[no-untyped-def]
    return parse_page("http://task-hall.top/", html.encode(), headers=HEADERS)


def test_a_scam_behind_thousands_of_empty_nested_tags_is_read_whole() -> None:
    """Empty nested divs (invisible in a browser) ahead of the page, and the scam's text nested deeper than any
    parser nests: its text, links and form are read as without them."""
    plain = _page(f"<html><body>{SCAM}</body></html>")
    for html in (f"<html><body>{'<div>' * 3000}{'</div>' * 3000}{SCAM}</body></html>",
                 f"<html><body>{'<div>' * 50_000}{SCAM}{'</div>' * 50_000}</body></html>",
                 f"<html><body>{'<b><i>' * 20_000}{SCAM}"):
        page = _page(html)
        assert page.text == plain.text and page.links == plain.links and page.forms == plain.forms


@pytest.mark.parametrize("attribute", ["a{}=1", "a{}", 'a{}="x>y<z"'])
def test_a_tag_crowded_with_attributes_is_parsed_at_once(attribute: str) -> None:
    """40,000 attributes on one tag (values unquoted, none, or quoted with angle brackets inside): the page is
    parsed in well under a second, its first attributes kept, and the page after the tag read."""
    crowded = " ".join(attribute.format(number) for number in range(40_000))
    started = time.process_time()
    page = _page(f"<html><body><div id=first {crowded}>{SCAM}</div></body></html>")
    assert time.process_time() - started < 1.0
    assert "刷单返利" in page.text and "银行卡号" in page.forms[0].fields[0].label
    kept = parseable(f"<div {crowded}>")
    assert kept.count(" a") == MAX_ATTRIBUTES and kept.startswith("<div a0")


def test_ordinary_pages_and_script_text_are_left_as_they_are() -> None:
    """A page with fewer open elements than the limit is returned unchanged (the same string); list items and
    paragraphs left open do not count as nesting; markup inside a script or a comment is text, never changed,
    whatever its case, also where it looks like a tag of thousands of attributes."""
    ordinary = "<ul>" + "<li>item" * 5000 + "</ul>" + "<p>para" * 3000
    assert parseable(ordinary) is ordinary
    script = "<SCRIPT>var s = '" + "<DIV>" * 3000 + "';</script><!-- " + "<div>" * 3000 + " --><p>ok</p>"
    assert parseable(script) is script
    comparison = "<script>if (a<b" + " x," * 5000 + ") {}</script><p>ok</p>"  # a tag's shape, in a script
    assert parseable(comparison) is comparison
    page = _page(script)
    assert page.scripts == ("var s = '" + "<DIV>" * 3000 + "';",) and page.text == "ok"


def test_nesting_is_flattened_past_the_browsers_limit_only() -> None:
    """Up to MAX_DEPTH open elements stay nested; the ones past it become void elements with their attributes,
    and a name whose lower case is longer (İ) does not shift what is changed."""
    nested = "İ" + '<div class="x">' * (MAX_DEPTH + 2) + "text"
    flattened = parseable(nested)
    assert flattened.count('<div class="x">') == MAX_DEPTH
    assert flattened.count('<br data-div class="x">') == 2 and flattened.endswith("text")


def test_floods_cost_one_pass() -> None:
    """Megabytes of tag openings with no end, of spaces inside one tag, or of '=': each page is made parseable
    in a few seconds at most."""
    for flood in ("<a" * 2_000_000, "<a " * 1_000_000, "<p " + "a=" * 2_000_000 + ">"):
        started = time.process_time()
        _page(flood)
        assert time.process_time() - started < 5.0
