"""File names that are no links: the attributes where markup names a file without pointing at it.

``<a href="/d/7" download="理财通.apk">`` saves what ``/d/7`` serves under the
name 理财通.apk; ``title="v2.apk"`` and ``alt="app.apk"`` describe. A browser
requests none of these values, so the crawler's scan for app files
(:mod:`fraudwall.crawler.app_files`) and the page view's install paths
(:mod:`fraudwall.page_view`) leave them alone, through :func:`names_a_file`.
"""

from __future__ import annotations

import re

#: Attributes whose value names a file without linking it.
NAME_ATTRIBUTES = frozenset({"download", "title", "alt", "aria-label", "placeholder"})
#: Characters read back from a value's opening quote to its attribute's name.
_REACH = 64


def attribute_name(markup: str, value_start: int) -> str:
    """The lower-cased name of the attribute whose value starts at ``value_start`` (after its opening quote,
    if any), or "" when the text there is no attribute value."""
    at = value_start - 1
    floor = max(0, value_start - _REACH)
    if at >= 0 and markup[at] in "\"'":
        at -= 1
    while at > floor and markup[at].isspace():
        at -= 1
    if at < 0 or markup[at] != "=":
        return ""
    at -= 1
    while at > floor and markup[at].isspace():
        at -= 1
    end = at + 1
    while at >= floor and (markup[at].isalnum() or markup[at] in "-_:"):
        at -= 1
    return markup[at + 1:end].lower()


def names_a_file(markup: str, value_start: int) -> bool:
    """True when the text at ``value_start`` is the value of an attribute that names a file
    (:data:`NAME_ATTRIBUTES`)."""
    return attribute_name(markup, value_start) in NAME_ATTRIBUTES


_NAMED_VALUE = re.compile(
    r"""\s(?:%s)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""" % "|".join(sorted(NAME_ATTRIBUTES)), re.IGNORECASE
)
#: A link whose file is saved under an app's name (``<a href="/d/7" download="理财通.apk">``): its href and the
#: extension.
_DOWNLOAD_LINK = re.compile(
    r"""<a\s(?=[^>]*\bdownload\s*=\s*["']?[^"'>]*\.(apk|xapk|ipa)["'\s>])[^>]*?\bhref\s*=\s*["']?([^"'\s>]+)""",
    re.IGNORECASE,
)


def named_values(markup: str) -> set[str]:
    """Every value of a file-naming attribute in ``markup``, stripped: texts that are no URL however they read."""
    return {next(group for group in match.groups() if group is not None).strip()
            for match in _NAMED_VALUE.finditer(markup)}


def download_links(markup: str) -> list[tuple[str, str]]:
    """``(href, extension)`` of each link whose ``download`` attribute saves its file under an app's name."""
    return [(match.group(2), match.group(1).lower()) for match in _DOWNLOAD_LINK.finditer(markup)]
