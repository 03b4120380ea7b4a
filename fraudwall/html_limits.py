"""HTML that a browser shows and libxml2 chokes on, made parseable first: :func:`parseable`.

Pages are parsed with lxml (libxml2's HTML parser, through parsel). Two
shapes of markup, harmless to a browser, break it, and a hostile page can use
either on purpose:

* **deep nesting**: libxml2 stops at 2,048 open elements and drops *the rest
  of the document*. Ten kilobytes of empty ``<div>`` tags ahead of a scam page
  made its text, links and forms vanish, while Chromium, which stops nesting
  at 512 levels and goes on, shows the page as it is. Opening tags past
  :data:`MAX_DEPTH` levels are turned into void elements here (``<div`` reads
  as ``<br data-div``: same attributes, no nesting), as a browser flattens them;
* **attribute floods**: libxml2 checks each attribute of a tag against all
  the ones before it. A single ``<div>`` with 200,000 attributes (2 MB) held
  the crawl process for minutes; past :data:`MAX_ATTRIBUTES` a tag's further
  attributes are left out here.

Crowded tags are found by one regular expression over the page (a few
hundredths of a millisecond on a common page); nesting is counted only on a
page with more than :data:`MAX_DEPTH` ``<`` in all. Both scans are linear,
whatever the page.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

#: Open elements kept nested (Chromium's HTML parser nests at most 512 levels, libxml2 at most 2,048).
MAX_DEPTH = 512
#: Attributes read of one tag.
MAX_ATTRIBUTES = 1000

#: Elements that do not nest: void ones, and those a parser closes when a sibling opens (``<li><li>``, ``<p><p>``).
_FLAT = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                   "track", "wbr", "keygen", "frame", "basefont", "isindex",
                   "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot",
                   "colgroup", "caption", "rt", "rp"})
#: Elements whose content is text, not markup, up to their end tag; and comments.
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "noembed", "noframes", "plaintext"})
_TAG = re.compile(r"<!--|<(/?)([A-Za-z][A-Za-z0-9-]*)")
_RAW_TEXT_END = {name: re.compile(f"</{name}", re.IGNORECASE) for name in _RAW_TEXT}
#: One attribute of a start tag, with its value quoted either way or not at all.
_ATTRIBUTE_SOURCE = r"""\s+[^\s=/<>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s<>"']*))?"""
_ATTRIBUTE = re.compile(_ATTRIBUTE_SOURCE)
_TAG_NAME_SOURCE = r"<[A-Za-z][^\s/<>]*"
_TAG_NAME = re.compile(_TAG_NAME_SOURCE)
#: A start tag with more than MAX_ATTRIBUTES attributes, up to its last one (the tag's end follows). No part of
#: it can be matched in more than one way, so a near miss costs its length, not more.
_CROWDED_START_TAG = re.compile(r"%s(?:%s){%d,}(?=\s*(?:/?>|<|$))" % (_TAG_NAME_SOURCE, _ATTRIBUTE_SOURCE, MAX_ATTRIBUTES + 1))


def parseable(html: str) -> str:
    """``html`` with nesting flattened past :data:`MAX_DEPTH` and tags cut to :data:`MAX_ATTRIBUTES` attributes."""
    crowded = list(_CROWDED_START_TAG.finditer(html))
    if crowded:
        html = _with_fewer_attributes(html, crowded)
    if html.count("<") > MAX_DEPTH:
        html = _flattened(html)
    return html


def _with_fewer_attributes(html: str, crowded: list[re.Match[str]]) -> str:
    """``html`` with each of the ``crowded`` start tags cut to MAX_ATTRIBUTES attributes, but the ones inside a
    script, a style or a comment (text that only looks like a tag, such as a long array after ``a<b``)."""
    text_only = _raw_text_spans(html)
    parts, last = [], 0
    for match in crowded:
        inside = bisect.bisect_right(text_only, (match.start(), len(html))) - 1
        if inside >= 0 and text_only[inside][1] > match.start():
            continue
        parts += [html[last:match.start()], _fewer_attributes(match)]
        last = match.end()
    parts.append(html[last:])
    return "".join(parts)


def _tags(html: str) -> Iterator[tuple[re.Match[str], int]]:
    """Each tag (and comment opening) of ``html`` outside comments and raw-text contents, with where the markup
    goes on after it: past the comment, past a raw-text element's content (up to its end tag), or right after."""
    skip_to = 0
    for match in _TAG.finditer(html):
        if match.start() < skip_to:
            continue
        if match.group(0) == "<!--":
            end = html.find("-->", match.end())
            skip_to = len(html) if end < 0 else end + 3
        elif not match.group(1) and (name := match.group(2).lower()) in _RAW_TEXT:
            end_tag = _RAW_TEXT_END[name].search(html, match.end())
            skip_to = len(html) if end_tag is None else end_tag.start()
        else:
            skip_to = match.end()
        yield match, skip_to


def _raw_text_spans(html: str) -> list[tuple[int, int]]:
    """Where the comments and the raw-text elements' contents (scripts, styles...) of ``html`` are, in order."""
    return [(match.end(), after) for match, after in _tags(html) if after > match.end()]


def _fewer_attributes(match: re.Match[str]) -> str:
    """A crowded start tag (up to its last attribute), with its name and first MAX_ATTRIBUTES attributes only."""
    tag = match.group(0)
    position = _TAG_NAME.match(tag).end()  # type: ignore[union-attr]
    for _ in range(MAX_ATTRIBUTES):
        attribute = _ATTRIBUTE.match(tag, position)
        if attribute is None:
            break
        position = attribute.end()
    return tag[:position]


def _flattened(html: str) -> str:
    """``html`` with every opening tag that would nest past MAX_DEPTH made a void one; unchanged when none would.

    Tags are read by name only (where a tag ends does not matter for nesting); comments and the content of
    raw-text elements (scripts, styles) are skipped, as a parser skips them, and never changed.
    """
    depth = 0
    deep: list[int] = []  # where the names of the tags to make void start
    for match, _ in _tags(html):
        if match.group(0) == "<!--":
            continue
        closing, name = match.group(1), match.group(2).lower()
        if closing:
            depth = max(0, depth - 1)
        elif name in _RAW_TEXT:  # nests like any element; its content is no markup, and _tags skipped it
            depth += 1
        elif name not in _FLAT:
            if depth >= MAX_DEPTH:
                deep.append(match.start(2))
            else:
                depth += 1
    if not deep:
        return html
    parts, last = [], 0
    for start in deep:
        parts.append(html[last:start])
        parts.append("br data-")
        last = start
    parts.append(html[last:])
    return "".join(parts)
