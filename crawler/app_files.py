"""The APK files a page offers outside its links: in scripts, click handlers, data attributes and page data.

A fake-app download page rarely links its APK plainly. The download button
runs a script (``onclick="location.href='/dl/app.apk'"``), picks a file by
the phone's system (``if (isAndroid) url = "https:\\/\\/cdn...\\/v2.apk"``), or
reads it from an attribute (``data-url="..."``) or from the page's JSON. A
crawler that follows anchors only never downloads the app the victim gets,
and rendering does not either (a browser's download is not a page).

:func:`apk_references` finds each reference to a ``.apk`` or ``.xapk`` file
anywhere in the HTML: every occurrence of the extension followed by the end
of a URL (a quote, a bracket, a space, a query or a fragment), read back to
where the URL starts. It is a scan for the extension, not a regular
expression over the page: a hostile page of megabytes without a delimiter
costs one pass, and each reference at most :data:`MAX_URL` characters.
Escaped slashes (``\\/`` in JSON, ``\\u002f`` and ``\\x2f`` in scripts) are
unescaped; the reference is resolved against the page's URL, and only http and
https URLs are kept. A file's name that is no link is left alone: the value
of a ``download`` attribute (the name the browser saves a link's file under),
of a title or an alt text (:mod:`fraudwall.file_names`), and a bare name in
the page's prose (``请下载 理财通.apk``); a browser requests none of them.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from fraudwall.file_names import NAME_ATTRIBUTES, names_a_file

#: The extensions of Android package files.
EXTENSIONS = (".apk", ".xapk")
#: The extensions of iOS sideloading files: an app, a configuration profile.
IOS_EXTENSIONS = (".ipa", ".mobileconfig")
#: Characters that end a URL written in HTML or JavaScript (a backslash does not: JSON escapes slashes).
_DELIMITERS = frozenset("\"'`()<>[]{},; \t\r\n")
#: Characters that may follow the extension in a URL: its query, its fragment.
_CONTINUATIONS = frozenset("?#")
#: The longest reference read back from an extension, in characters.
MAX_URL = 2048
#: Occurrences of the extension looked at in one page (a page of a million ".apk" strings is not read whole).
MAX_OCCURRENCES = 10_000
#: What ends a reference in prose rather than in markup or code.
_PROSE = frozenset(">\t\r\n ")
_ESCAPED_SLASH = re.compile(r"\\(?:/|u002f|x2f)", re.IGNORECASE)


def apk_references(html: str, base_url: str, limit: int) -> list[str]:
    """Up to ``limit`` distinct absolute http(s) URLs of APK files referred to anywhere in ``html``, in order."""
    lowered = html.lower()
    found: dict[str, None] = {}
    start = 0
    for _ in range(MAX_OCCURRENCES):
        if len(found) >= limit:
            break
        at = lowered.find("apk", start)
        if at < 0:
            break
        start = at + 3
        if lowered[at - 1:at] == ".":
            begin = at - 1
        elif lowered[at - 2:at] == ".x":
            begin = at - 2
        else:
            continue  # "apkpure", "/apk/": no extension
        end = at + 3
        if end < len(html) and html[end] not in _DELIMITERS and html[end] not in _CONTINUATIONS:
            continue  # ".apk.html", ".apks": not the end of a file name
        floor = max(0, begin - MAX_URL)
        while begin > floor and html[begin - 1] not in _DELIMITERS:
            begin -= 1
        ceiling = min(len(html), at + MAX_URL)
        while end < ceiling and html[end] not in _DELIMITERS:
            end += 1
        reference = html[begin:end]
        if "\\" in reference:
            reference = _ESCAPED_SLASH.sub("/", reference)
        name, equals, value = reference.partition("=")
        if equals and not any(mark in name for mark in "/:?"):
            if name.lower() in NAME_ATTRIBUTES:
                continue
            reference = value  # an attribute without quotes (data-url=/dl/app.apk): its value
        elif "/" not in reference and (begin == 0 or html[begin - 1] in _PROSE):
            continue  # a file's name in the page's text, not a link
        elif names_a_file(html, begin):
            continue
        if url := _absolute(base_url, reference):
            found.setdefault(url)
    return list(found)


def is_ios_install(url: str) -> bool:
    """True for an iOS sideloading lure: an ``itms-services:`` enterprise install, an ``.ipa`` app or a
    ``.mobileconfig`` configuration profile. Counted and judged where it is offered, never fetched."""
    if url[:14].lower() == "itms-services:":
        return True
    name = url.split("#", 1)[0].split("?", 1)[0].rsplit("/", 1)[-1].lower()
    return name.endswith(IOS_EXTENSIONS) and name not in IOS_EXTENSIONS


def _absolute(base_url: str, reference: str) -> str | None:
    """``reference`` resolved against ``base_url`` when it is an http(s) URL of a file, else None."""
    if not reference or reference.startswith(("#", "?")) or "\\" in reference:
        return None
    try:
        url = urljoin(base_url, reference)
        split = urlsplit(url)
    except ValueError:
        return None
    if split.scheme not in ("http", "https") or not split.hostname:
        return None
    name = split.path.rsplit("/", 1)[-1].lower()
    return url if name.endswith(EXTENSIONS) and name not in EXTENSIONS else None
