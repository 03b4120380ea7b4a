"""What the page detectors read of one page, extracted once per page: :class:`PageView`.

:func:`fraudwall.judging.judge` builds one view per page observation and
passes it to every ``analyze_page`` implementation that declares a ``view``
argument. Several detectors read the same things of a page: its text, hidden
places included, and facts such as the app installs it offers or the chat IDs
it shows. The view extracts each of them once, on first use, and keeps it for
the other detectors of that page only: nothing is cached across pages, and no
detector depends on another detector's module. A detector's findings depend on
the page, on the view and on the reference data in ``fraudwall/data/``, all of
which belong to fraudwall's own version.

**Everything a visitor can be shown is read** (:attr:`PageView.strings`), not
just the visible body text: the title, meta tags, image alts, form labels,
attribute texts (title, aria-label, data-*, button values, an iframe's ``srcdoc``), the string
literals of inline scripts and JSON blobs (with ``\\u``/``\\x`` escapes, HTML
entities and ``%u``/``%XX`` escapes decoded), ``String.fromCharCode`` lists and
arrays of character codes, the lines a script draws on a canvas (joined, so that a
sentence cut across lines reads whole), scripts packed with ``eval(function(p,a,c,k,e,d)``
(unpacked first), and base64 blocks that decode to text
(``atob("...")`` payloads, arrays of chunks joined at run time,
``data:text/html;base64`` frames, hidden values), two layers deep. Fraud kits
hide their words in exactly those places so that a crawler reading ``<body>``
sees nothing. How that text is normalised against evasion is
:mod:`fraudwall.matching`.

**Page facts** several detectors weigh: the app install paths the page offers
(:class:`InstallPath`), the chat IDs and chat links it shows, the credentials
its forms ask for, its warning frame and the fraud lexicon's hits in its text.
"""

from __future__ import annotations

import base64
import binascii
import functools
import html
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from fraudwall import chat_ids, reference
from fraudwall.file_names import download_links, named_values, names_a_file
from fraudwall.matching import (
    CompiledLexicon,
    Frame,
    Hit,
    Text,
    canonical,
    compile_lexicon,
    find_terms,
    has_chinese,
    lexicon_hits,
    normalize,
    normalize_canonical,
    warning_frame,
)
from fraudwall.models import FormField, PageObservation


#: Bumped whenever the view reads a page differently (a hidden place more, words joined or split
#: otherwise): it joins every bundled detector's recorded version
#: (:func:`fraudwall.plugin_host.bundled_inputs_digest`), so reanalyze judges stored pages again.
#: 2: words split by inline markup joined, string concatenations and ``<template>`` markup read.
#: 3: arrays of character codes, base64 payloads cut into arrays of chunks, iframes' srcdoc and scripts
#: that hold markup (``text/template``) read.
#: 4: the lines a script draws on a canvas read as one text; scripts packed with Dean Edwards' packer unpacked.
VERSION = "4"

#: A base64 block must be at least this long to be worth decoding (shorter runs are ids and hashes).
BASE64_MIN = 16
#: ... and at most this long: larger blocks are images or fonts, not hidden words.
BASE64_MAX = 200_000
#: Decoded text must be at least this printable to count as text.
PRINTABLE_MIN = 0.85
#: Layers of encoding unwrapped (base64 of HTML carrying another base64 block).
DECODE_DEPTH = 2
#: QR decoding limits: images decoded per page, and the largest inline image read.
QR_MAX_IMAGES = 4
QR_MAX_BASE64 = 400_000

# Every literal is matched, empty ones too, so that the scan stays in step with the quotes.
_JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`([^`]*)`')
_JS_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})")
_PERCENT_U = re.compile(r"%u([0-9a-fA-F]{4})")
_PERCENT_RUN = re.compile(r"(?:%[0-9a-fA-F]{2})+")
_CHAR_CODES = re.compile(
    r"fromCharCode\s*\(\s*((?:0x[0-9a-f]+|\d+)(?:\s*,\s*(?:0x[0-9a-f]+|\d+))*)\s*\)", re.IGNORECASE
)
_TAG = re.compile(r"<[^>]+>")
# What may stand between two string literals of one concatenation.
_CONCATENATION = re.compile(r"\s{0,40}\+\s{0,40}")
_TEMPLATE_START = re.compile(r"<template\b[^>]{0,500}>", re.IGNORECASE)
_TEMPLATE_END = re.compile(r"</template\s{0,20}>", re.IGNORECASE)
# An array of four or more string literals: kits spread a sentence over one word per element
# and join them at run time, so no single literal reads as text. Elements are words (at most 300
# characters) and the repetition is possessive: a hostile script's endless or unclosed array is
# given up in one pass, never backtracked into.
_LITERAL = r"""(?:"(?:[^"\\\n]|\\.){0,300}"|'(?:[^'\\\n]|\\.){0,300}')"""
_STRING_ARRAY = re.compile(rf"\[\s*{_LITERAL}(?:\s*,\s*{_LITERAL}){{3,}}+\s*,?\s*\]")
# Generated content of a style sheet (``::before { content: "..." }``): text a visitor reads that is in no
# element. A CSS string holds no raw line break, and these are short: both bound what one unclosed quote costs.
# An array of integers a script turns into text (``String.fromCharCode.apply(null, codes)``,
# ``codes.map(c => String.fromCharCode(c))``): at least eight codes, each of at most seven digits,
# possessive so that an endless array is read once.
_CODE_ARRAY = re.compile(r"\[\s*(\d{1,7}(?:\s*,\s*\d{1,7}){7,}+)\s*,?\s*\]")
# A base64 chunk: kits cut a payload into an array of these and join them, often reversed first.
_BASE64_CHUNK = re.compile(r"[A-Za-z0-9+/=_-]+")
_CSS_CONTENT = re.compile(
    r"""content\s*:\s*(?:"((?:[^"\\\n]|\\.){0,2000})"|'((?:[^'\\\n]|\\.){0,2000})')""", re.IGNORECASE)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t]?|\\(.)", re.DOTALL)
# Attribute values a visitor sees (tooltips, button values, an iframe's inline document) or that scripts
# render (data-*).
_ATTRIBUTE = re.compile(
    r"""\s(?:title|aria-label|data-[\w.:-]+|value|label|alt|srcdoc)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE
)
# Script in attributes: event handlers (onclick="location.href=atob('...')") and javascript: links.
_HANDLER = re.compile(
    r"""\s(?:on[a-z]+\s*=\s*(?:"([^"]*)"|'([^']*)')|href\s*=\s*["']\s*javascript:([^"']*))""", re.IGNORECASE
)
_DATA_URI_TEXT = re.compile(r"data:text/(?:html|plain)[^,\"'\s]*;base64,([A-Za-z0-9+/=_-]+)", re.IGNORECASE)
_BASE64_BLOCK = re.compile(r"\s*([A-Za-z0-9+/]+|[A-Za-z0-9_-]+)(={0,2})\s*")
_BASE64_URLSAFE = str.maketrans("-_", "+/")


# -- hidden text -----------------------------------------------------------------


def _is_url(entry: str) -> bool:
    return not any(ch.isspace() for ch in entry) and entry.startswith(("http://", "https://", "//"))


def _literal_body(match: re.Match[str]) -> str:
    """The body of a JS string literal :data:`_JS_STRING` matched, whichever its quotes."""
    return next(group for group in match.groups() if group is not None)


def _code_point(match: re.Match[str]) -> str:
    """The character a ``\\u{...}``, ``\\uXXXX`` or ``\\xXX`` escape :data:`_JS_ESCAPE` matched stands for."""
    return chr(int(match.group(1) or match.group(2) or match.group(3), 16))


def _unescape_js(literal: str) -> str:
    """JS string escapes (code points, and the escaped slashes of JSON: ``http:\\/\\/cdn``), ``%u``/``%XX``
    escapes and HTML entities decoded."""
    if "\\" in literal:
        literal = _JS_ESCAPE.sub(_code_point, literal).replace("\\/", "/")
    if "%" in literal:
        literal = _PERCENT_U.sub(lambda m: chr(int(m.group(1), 16)), literal)
        literal = _PERCENT_RUN.sub(lambda m: unquote(m.group(0)), literal)
    if "&" in literal:
        literal = html.unescape(literal)
    return literal


def strip_tags(markup: str) -> str:
    """``markup`` with its tags replaced by spaces: what a visitor would read of it."""
    return _TAG.sub(" ", markup) if "<" in markup else markup


def script_strings(scripts: Iterable[str]) -> list[str]:
    """String literals of inline scripts (JSON blobs included), decoded, markup kept; external script URLs skipped."""
    strings = []
    for body in scripts:
        if _is_url(body):
            continue
        for match in _JS_STRING.finditer(body):
            literal = _literal_body(match)
            if len(literal) >= 2:
                strings.append(_unescape_js(literal))
        for match in _CHAR_CODES.finditer(body):
            codes = (int(code, 0) for code in re.split(r"\s*,\s*", match.group(1).lower()))
            strings.append("".join(chr(code) for code in codes if 0 < code <= 0x10FFFF))
    return strings


# Dean Edwards' packer, common in kits: eval(function(p,a,c,k,e,d){...}('payload',base,count,'w|o|r|d|s'.split('|'),0,{})).
_PACKED = re.compile(r"\}\('((?:[^'\\]|\\.)*)',\s*(\d+),\s*(\d+),\s*'((?:[^'\\]|\\.)*)'\.split\('\|'\)")
# The code-point escapes of _JS_ESCAPE, or any other escaped character (group 4).
_JS_SOURCE_ESCAPE = re.compile(_JS_ESCAPE.pattern + r"|\\(.)", re.DOTALL)
_JS_CONTROL = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_PACKER_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_WORD = re.compile(r"\b\w+\b")


def _js_literal_value(literal: str) -> str:
    """The value of a JS string literal's body: every escape decoded (quotes, backslashes, controls, code points)."""
    def value(match: re.Match[str]) -> str:
        escaped = match.group(4)
        return _code_point(match) if escaped is None else _JS_CONTROL.get(escaped, escaped)
    return _JS_SOURCE_ESCAPE.sub(value, literal) if "\\" in literal else literal


def unpacked_scripts(scripts: Iterable[str]) -> list[str]:
    """The source each packed inline script (``eval(function(p,a,c,k,e,d)...``) unpacks to, as the packer restores it.

    Each word of the payload is a number in the packer's base standing for the word list's entry of
    that index; numbers with no entry stay as they are.
    """
    sources = []
    for body in scripts:
        if _is_url(body) or "function(p,a,c,k,e," not in body:
            continue
        for match in _PACKED.finditer(body):
            base, count = int(match.group(2)), int(match.group(3))
            if not 2 <= base <= len(_PACKER_DIGITS):
                continue
            words = _js_literal_value(match.group(4)).split("|")
            table = {}
            for index in range(min(count, len(words))):
                if words[index]:
                    table[_packer_number(index, base)] = words[index]
            payload = _js_literal_value(match.group(1))
            sources.append(_WORD.sub(lambda word: table.get(word.group(0), word.group(0)), payload))
    return sources


def _packer_number(value: int, base: int) -> str:
    digits = ""
    while True:
        digits = _PACKER_DIGITS[value % base] + digits
        value //= base
        if not value:
            return digits


_DRAWN_TEXT = re.compile(r"\.(?:fillText|strokeText)\(\s*(?:" + _JS_STRING.pattern + ")")


def drawn_texts(scripts: Iterable[str]) -> list[str]:
    """The literal texts each inline script draws on a canvas (``fillText``, ``strokeText``), in order, joined by spaces.

    A canvas draws a paragraph one line per call; joined, a sentence cut across lines reads whole again.
    """
    texts = []
    for body in scripts:
        if _is_url(body) or "Text(" not in body:
            continue
        lines = [_unescape_js(_literal_body(match)) for match in _DRAWN_TEXT.finditer(body)]
        if len(lines) > 1:
            texts.append(" ".join(line for line in lines if line.strip()))
    return texts


def concatenated_strings(scripts: Iterable[str]) -> list[str]:
    """Runs of string literals joined by ``+`` in inline scripts (``'PGRp' + 'dj4'``), decoded and joined.

    Payloads are split this way so that no literal holds a whole base64 block or a whole sentence.
    One pass over each script's literals: a run goes on while only ``+`` and spaces stand between two.
    """
    joined = []
    for body in scripts:
        if _is_url(body) or "+" not in body:
            continue
        run: list[str] = []
        end = -1
        for match in _JS_STRING.finditer(body):
            literal = _literal_body(match)
            if run and not _CONCATENATION.fullmatch(body, end, match.start()):
                if len(run) > 1:
                    joined.append("".join(run))
                run = []
            run.append(_unescape_js(literal))
            end = match.end()
        if len(run) > 1:
            joined.append("".join(run))
    return joined


def markup_scripts(scripts: Iterable[str]) -> list[str]:
    """Inline scripts that hold markup, not code (``<script type="text/template">``, ``text/html``, a
    framework's ``text/x-template``): a page clones them into view, as it does ``<template>`` markup."""
    return [body for body in scripts if body.startswith("<") and not body.startswith("<!--")]


def template_texts(page_html: str) -> list[str]:
    """The markup inside ``<template>`` elements: shown only when a script clones it, so no visible text."""
    texts = []
    position = 0
    while (start := _TEMPLATE_START.search(page_html, position)) is not None:
        end = _TEMPLATE_END.search(page_html, start.end())
        if end is None:  # unclosed: nothing more to find, and no rescan from every later start
            break
        texts.append(page_html[start.end():end.start()])
        position = end.end()
    return texts


#: An array of string literals of an inline script: (the script, the array's raw elements).
StringArray = tuple[str, list[str]]


def _string_arrays(scripts: Iterable[str]) -> Iterable[StringArray]:
    """Each array of four or more string literals in inline scripts, as (its script, its raw elements)."""
    for body in scripts:
        if _is_url(body) or "[" not in body:
            continue
        for array in _STRING_ARRAY.finditer(body):
            yield body, [_literal_body(match)
                         for match in _JS_STRING.finditer(array.group(0))]


def joined_arrays(scripts: Iterable[str]) -> list[str]:
    """Arrays of string literals in inline scripts, their elements decoded and joined by spaces."""
    return _joined(_string_arrays(scripts))


def _joined(arrays: Iterable[StringArray]) -> list[str]:
    return [" ".join(map(_unescape_js, elements)) for _, elements in arrays]


def char_code_arrays(scripts: Iterable[str]) -> list[str]:
    """Arrays of character codes in inline scripts that turn them into text, as that text.

    Only scripts that call ``fromCharCode`` are read, and only arrays whose every code is a character a
    page can show (tab, line feed, or printable): a chart's data or a lookup table decodes to neither.
    """
    texts = []
    for body in scripts:
        if _is_url(body) or "fromCharCode" not in body:
            continue
        for array in _CODE_ARRAY.finditer(body):
            codes = [int(code) for code in re.split(r"\s*,\s*", array.group(1))]
            if all(code in (9, 10, 13) or 32 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF for code in codes):
                text = "".join(map(chr, codes))
                if text.isprintable() or all(ch.isprintable() or ch in "\t\n\r" for ch in text):
                    texts.append(text)
    return texts


def _chunked_payloads(arrays: Iterable[StringArray]) -> list[str]:
    """The arrays of base64 chunks among ``arrays``, joined as their script assembles them: candidates for
    :func:`decoded_blocks` (a chunk alone is no block).

    In order, or reversed where the script reverses an array and the reversed join decodes: chunks whose
    lengths fall on character boundaries decode in either order, and only one order is the text.
    """
    joined = []
    for body, chunks in arrays:
        if not all(_BASE64_CHUNK.fullmatch(chunk) for chunk in chunks):
            continue
        backwards = "".join(reversed(chunks))
        reversed_decodes = ".reverse()" in body and decode_base64_text(backwards) is not None
        joined.append(backwards if reversed_decodes else "".join(chunks))
    return joined


def _css_unescape(match: re.Match[str]) -> str:
    if match.group(1) is None:
        return match.group(2)
    code = int(match.group(1), 16)
    return chr(code) if 0 < code <= 0x10FFFF else ""


def css_content_texts(page_html: str) -> list[str]:
    """The ``content`` strings of the page's style sheets and style attributes, CSS escapes decoded."""
    if "content" not in page_html:
        return []
    texts = []
    for match in _CSS_CONTENT.finditer(page_html):
        value = match.group(1) if match.group(1) is not None else match.group(2)
        if value.strip():
            texts.append(_CSS_ESCAPE.sub(_css_unescape, value) if "\\" in value else value)
    return texts


def handler_scripts(page_html: str) -> list[str]:
    """The script a page keeps in attributes: event handlers' code and ``javascript:`` links, entities decoded."""
    return [html.unescape(next(group for group in match.groups() if group is not None))
            for match in _HANDLER.finditer(page_html)]


def attribute_texts(page_html: str) -> list[str]:
    """Texts held in attributes: tooltips, aria labels, button values and data-* payloads, entities decoded."""
    return [
        html.unescape(value)
        for match in _ATTRIBUTE.finditer(page_html)
        if (value := match.group(1) if match.group(1) is not None else match.group(2)).strip()
    ]


def decode_base64_text(candidate: str) -> str | None:
    """The text a base64 block decodes to, or ``None`` when it is not a plausible text block.

    Plausible: long enough, only base64 characters (standard or URL-safe),
    decoding to UTF-8 that is almost all printable. Images, keys and hashes fail.
    """
    if not BASE64_MIN <= len(candidate) <= BASE64_MAX:
        return None
    block = _BASE64_BLOCK.fullmatch(candidate)
    if block is None:
        return None
    body = block.group(1).translate(_BASE64_URLSAFE)
    if not (any(ch.isdigit() or ch in "+/" for ch in body) or (body.lower() != body and body.upper() != body)):
        return None  # a plain word or identifier, not an encoding
    try:
        decoded = base64.b64decode(body + "=" * (-len(body) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in decoded)
    if len(decoded) < 4 or printable < PRINTABLE_MIN * len(decoded):
        return None
    return decoded


def decoded_blocks(candidates: Iterable[str], depth: int = DECODE_DEPTH) -> list[str]:
    """Texts hidden as base64 among ``candidates`` (and inside what they decode to), as readable text."""
    found: list[str] = []
    layer = list(candidates)
    for _ in range(depth):
        decoded = [text for text in map(decode_base64_text, layer) if text]
        if not decoded:
            break
        found += [_unescape_js(text) for text in decoded]
        # A decoded payload is often HTML or JS carrying its own strings and blocks.
        layer = [*script_strings(decoded), *attribute_texts("\n".join(decoded))]
    return found


def readable(source: str) -> bool:
    """True for a string that can carry words (Chinese, or several words): not an identifier, class or URL."""
    return has_chinese(source) or " " in source.strip()


# -- app installs ----------------------------------------------------------------

_FILE_REF = re.compile(
    r"""["'(=]\s*([^"'()\s<>]+?\.(apk|xapk|ipa|mobileconfig))(?:[?#][^"'()\s<>]*)?\s*["')]""", re.IGNORECASE
)
_ITMS_REF = re.compile(r"itms-services://[^\s\"'<>]+", re.IGNORECASE)

# Install paths that count wherever they are served from: enterprise installs name
# no store, and TestFlight and beta services live on reputable hosts by design.
_ANY_HOST = {"itms", "testflight", "distribution"}
_EXTENSION_KIND = {".apk": "apk", ".xapk": "apk", ".ipa": "ipa", ".mobileconfig": "mobileconfig"}
_DATA_IMAGE = re.compile(
    r"""src\s*=\s*["']?data:image/(?:png|jpe?g|gif|webp|bmp);base64,([A-Za-z0-9+/=\s]+)""", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class InstallPath:
    """One way the page offers to install an app: its kind, where it points, how it was found.

    The kinds the view finds: ``apk`` (``.apk``, ``.xapk``), ``ipa``, ``itms``
    (``itms-services://`` enterprise installs), ``mobileconfig`` (configuration
    profiles), ``testflight``, ``distribution`` (beta-distribution hosts,
    ``[apps]`` in ``fraudwall/data/page_signals.toml``) and ``qr_url`` (a
    decoded QR code leading to a page, not to an install). ``via`` is ``link``
    (a link, the HTML or a hidden source), or ``qr`` for what a QR code image encodes.
    """

    kind: str
    url: str
    via: str = "link"

    @property
    def host(self) -> str:
        """The lowercase host ``url`` points to ("" when it has none or is malformed)."""
        return _host(self.url)

    @property
    def path(self) -> str:
        """The lowercase path of ``url`` ("" when it is malformed)."""
        return _path(self.url)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # hostile pages carry malformed URLs
        return ""


def _path(url: str) -> str:
    try:
        return urlsplit(url).path.lower()
    except ValueError:
        return ""


def classify(url: str, base: str) -> InstallPath | None:
    """The install path ``url`` (relative to ``base``) is, or ``None`` for an ordinary link."""
    lowered = url.lower()
    if lowered.startswith("itms-services:"):
        return InstallPath("itms", url)
    if not _may_install(lowered) and not _base_may_install(base):
        # Most links of most pages: neither they nor the page they resolve against carry an app file's
        # extension or an install host's name, so no join and parse can make them one.
        return None
    absolute = urljoin(base, url)
    host = _host(absolute)
    path = _path(absolute)
    for extension, kind in _EXTENSION_KIND.items():
        # A file's name, not the bare extension: a script's "'.apk'" literal is half of a concatenation.
        if path.endswith(extension) and not path.endswith("/" + extension):
            return InstallPath(kind, absolute)
    if host == "testflight.apple.com" and path.startswith("/join/"):
        return InstallPath("testflight", absolute)
    if host and host in reference.page_signals().app_distribution_hosts:
        return InstallPath("distribution", absolute)
    return None


def _may_install(lowered: str) -> bool:
    """Whether the lower-cased URL (or URL part) names an app file's extension or an install host at all."""
    return (any(extension in lowered for extension in _EXTENSION_KIND) or "testflight.apple.com" in lowered
            or any(host in lowered for host in reference.page_signals().app_distribution_hosts))


@functools.lru_cache(maxsize=256)
def _base_may_install(base: str) -> bool:
    """:func:`_may_install` for the page a link resolves against (the same for all the links of a page)."""
    return _may_install(base.lower())


def _references(markup: str) -> Iterable[str]:
    """App file and itms-services references written anywhere in ``markup`` (entities decoded); a file's name that
    is no link (a download attribute's, a title's: :func:`~fraudwall.file_names.names_a_file`) is none.

    References still written with escapes (``\\x68ttps://...``) are skipped here:
    their decoded form comes from the page's hidden sources.
    """
    for match in _FILE_REF.finditer(markup):
        if "\\" not in match.group(1) and not names_a_file(markup, match.start(1)):
            yield match.group(1).replace("&amp;", "&")

    for match in _ITMS_REF.finditer(markup):
        yield match.group(0).replace("&amp;", "&")


def decode_qr_images(page_html: str) -> list[str]:
    """What the QR codes inlined as ``data:`` images encode (empty without the optional decoder)."""
    matches = list(_DATA_IMAGE.finditer(page_html))[:QR_MAX_IMAGES]
    if not matches:
        return []
    try:  # imported on first use: few pages inline an image, and loading the decoder costs every command
        import zxingcpp
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - optional: QR codes are then judged by alt texts and file names only
        return []
    texts = []
    for match in matches:
        encoded = re.sub(r"\s+", "", match.group(1))
        if len(encoded) > QR_MAX_BASE64:
            continue
        try:
            image = Image.open(io.BytesIO(base64.b64decode(encoded, validate=True)))
            image.load()
        except (binascii.Error, UnidentifiedImageError, OSError, ValueError):
            continue  # not an image after all: hostile pages lie about their data URIs
        texts += [result.text for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
    return texts


# -- credential fields ---------------------------------------------------------------

_INPUT = re.compile(r"<(?:input|textarea|select)\b[^>]*>", re.IGNORECASE)
_INPUT_ATTRIBUTE = re.compile(
    r"""\b(name|id|type|placeholder|aria-label)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE
)
_NOT_DATA = {"hidden", "submit", "button", "image", "reset", "checkbox", "radio"}


#: A script that builds form controls itself (document.createElement("input"), or markup written into the page).
_CREATES_CONTROLS = re.compile(
    r"""createElement\(\s*["'`](?:input|select|textarea)["'`]\s*\)|<(?:input|select|textarea)\b""", re.IGNORECASE
)
#: Its short string literals: the names, labels and placeholders it gives the controls.
_SHORT_LITERAL = re.compile(r"""(["'`])((?:(?!\1)[^\\\n]){2,40})\1""")


def _script_built_fields(scripts: Iterable[str]) -> list[FormField]:
    """The words a script that builds its own form controls names them with, each as a field's label.

    Phishing kits draw their forms after load from a table of field names and
    labels (``['cvv', 'CVV', 'password']``), so the HTML holds no input at all.
    """
    return [
        FormField(name="", label=match.group(2))
        for script in scripts if _CREATES_CONTROLS.search(script)
        for match in _SHORT_LITERAL.finditer(script)
    ]


def _loose_fields(page_html: str) -> list[FormField]:
    """Data inputs anywhere in the HTML, described by their attributes (labels are not resolved)."""
    fields = []
    for tag in _INPUT.finditer(page_html):
        attributes = {
            match.group(1).lower(): next(value for value in match.groups()[1:] if value is not None)
            for match in _INPUT_ATTRIBUTE.finditer(tag.group(0))
        }
        kind = attributes.get("type", "text").lower()
        if kind in _NOT_DATA:
            continue
        label = " ".join(attributes.get(key, "") for key in ("placeholder", "aria-label", "id"))
        fields.append(FormField(name=attributes.get("name", ""), type=kind, label=label.strip()))
    return fields


# -- the view ----------------------------------------------------------------------------


def _lexicon() -> CompiledLexicon:
    """The bundled fraud lexicon, compiled (once per process, by :func:`~fraudwall.matching.compile_lexicon`)."""
    return compile_lexicon(reference.lexicon())


@dataclass(frozen=True)
class PageView:
    """One page as the page detectors read it: its text, hidden places included, and the facts several weigh.

    Built once per page observation by :func:`fraudwall.judging.judge` and
    given to every ``analyze_page`` that declares ``view``. Each attribute is
    computed on first use and kept in this view alone (so a detector that
    reads nothing of it costs nothing, and no page's results outlive it).
    Every value is immutable: detectors of one page share them.

    Not slotted: :func:`functools.cached_property` keeps its values in the
    instance's ``__dict__``, which a frozen dataclass leaves writable to it.
    """

    page: PageObservation

    @functools.cached_property
    def hidden_sources(self) -> tuple[str, ...]:
        """Every string the page can render that is not in its visible body, decoded, markup kept.

        Script literals, attribute texts and the base64 blocks among them (see the
        module docstring). Detectors that look for URLs (app installs) read these;
        detectors that read words get them without tags through :attr:`strings`.
        """
        page = self.page
        scripts = (*page.scripts, *unpacked_scripts(page.scripts))
        strings = [*script_strings(scripts), *concatenated_strings(scripts)]
        attributes = attribute_texts(page.html)
        data_uris = [match.group(1) for match in _DATA_URI_TEXT.finditer(page.html)]
        arrays = list(_string_arrays(scripts))  # read once: the joined words and the chunked payloads
        chunks = _chunked_payloads(arrays)
        return (*strings, *_joined(arrays), *char_code_arrays(scripts), *drawn_texts(scripts),
                *css_content_texts(page.html),
                *attributes, *template_texts(page.html), *markup_scripts(scripts),
                *decoded_blocks([*strings, *attributes, *data_uris, *chunks]))

    @functools.cached_property
    def strings(self) -> str:
        """Everything a visitor can read on the page, hidden places included, as the page spelt it (case kept).

        The title, meta contents, visible text, image alts and form labels, then
        the readable :attr:`hidden_sources` without their tags, one per line. Of
        the hidden sources only readable ones count: minified code is full of
        one-word literals (``"none"``, ``"refund"`` as an API path) that are no text.
        """
        page = self.page
        parts = [page.title, *(content for _, content in page.meta), page.text, *page.image_alts]
        parts += [field.label for form in page.forms for field in form.fields]
        parts += (strip_tags(source) for source in self.hidden_sources if readable(source))
        return "\n".join(part for part in parts if part)

    @functools.cached_property
    def canonical_strings(self) -> str:
        """:attr:`strings` in canonical form, case kept (:func:`fraudwall.matching.canonical`), as the YAML rules read it."""
        return canonical(self.strings)

    @functools.cached_property
    def text(self) -> Text:
        """:attr:`strings`, normalised for matching (see :func:`fraudwall.matching.normalize`)."""
        return normalize_canonical(self.canonical_strings)

    @functools.cached_property
    def lexicon_hits(self) -> Mapping[str, tuple[Hit, ...]]:
        """Script id of the bundled fraud lexicon -> the counted hits of that script in :attr:`text`."""
        return lexicon_hits(self.text, _lexicon())

    @functools.cached_property
    def warning_frame(self) -> Frame:
        """How :attr:`text` talks about fraud: its warning and narrative words (see :class:`~fraudwall.matching.Frame`)."""
        return warning_frame(self.text, _lexicon())

    @functools.cached_property
    def install_paths(self) -> tuple[InstallPath, ...]:
        """Every install path the page offers, from a name nothing vouches for, deduplicated by URL.

        Read from its links, its HTML (onclick handlers, ``data-*`` attributes),
        its hidden sources, and the QR codes inlined as ``data:`` images (when the
        optional zxing-cpp decoder is installed). Nothing is fetched. Installs
        served from an allowlisted name (a brand's own, a store) are left out,
        except enterprise, TestFlight and beta-distribution installs.
        """
        page = self.page
        found: dict[str, InstallPath] = {}
        sources = self.hidden_sources
        candidates = [link.url for link in page.links]
        candidates += _references(page.html)
        # A decoded script literal or data-* value may be a whole URL, or markup holding one; a title or an alt
        # text that reads like a file's name is neither.
        named = named_values(page.html)
        candidates += [text for source in sources
                       if (text := source.strip()) and not any(c.isspace() for c in text) and text not in named]
        candidates += _references("\n".join(sources))
        # A download button's handler builds its URL at the click (location.href=atob('L2RsL2FwcC5hcGs=')).
        handlers = handler_scripts(page.html)
        if handlers:
            literals = [*script_strings(handlers), *concatenated_strings(handlers)]
            candidates += [text.strip() for text in (*literals, *decoded_blocks(literals)) if text.strip()]
        base = page.base_url or page.final_url
        for candidate in candidates:
            path = classify(candidate, base)
            if path is not None:
                found.setdefault(path.url, path)
        for href, extension in download_links(page.html):
            # Saved under an app's name (download="理财通.apk"): what the link serves is that app, whatever its URL.
            url = urljoin(base, html.unescape(href))
            if url.startswith(("http://", "https://")):
                found.setdefault(url, InstallPath(_EXTENSION_KIND["." + extension], url))
        for text in decode_qr_images(page.html):
            path = classify(text, page.final_url)
            if path is not None:
                found.setdefault(path.url, InstallPath(path.kind, path.url, "qr"))
            elif text.startswith(("http://", "https://")):
                found.setdefault(text, InstallPath("qr_url", text, "qr"))
        return tuple(
            path for path in found.values() if path.kind in _ANY_HOST or not reference.is_allowlisted(path.host)
        )

    @functools.cached_property
    def contacts(self) -> tuple[tuple[str, str], ...]:
        """Chat indicators ``(kind, id)``: IDs written beside a channel's name, then chat links.

        Kinds are ``qq``, ``wechat``, ``telegram`` (as ``@handle``), ``whatsapp``
        and ``line``; the channel words are ``[channels]`` in
        ``fraudwall/data/page_signals.toml``.
        """
        found: list[tuple[str, str]] = []
        text = self.text.raw
        for kind, words, pattern in chat_ids.channel_patterns():
            if not any(word in text for word in words):
                continue  # the channel is not named at all: skip the regex
            found += [
                chat_ids.handle(kind, next(value for value in match.groups() if value)) for match in pattern.finditer(text)
            ]
        found += self._chat_links
        return tuple(dict.fromkeys(found))

    @functools.cached_property
    def _chat_links(self) -> list[tuple[str, str]]:
        return [opened for link in self.page.links if (opened := chat_ids.chat_link(link.url))]

    @functools.cached_property
    def opens_chat(self) -> bool:
        """True when the page links straight into a chat app (it opens the conversation itself)."""
        return bool(self._chat_links)

    @functools.cached_property
    def credential_fields(self) -> tuple[tuple[str, str], ...]:
        """``(kind, field label)`` for each kind of credential the page asks for, first field of each kind.

        A field's kind is read from its label, placeholder, aria-label, name and
        type against ``[calls_to_action.fields]`` of the fraud lexicon: ID-card
        number, bank card, card security code or expiry, card PIN, payment
        password, login password, SMS code. Inputs outside any ``<form>`` count
        too: phishing kits often post them with a script; so do the labels of
        controls a script builds after load (:func:`_script_built_fields`).
        """
        kinds: dict[str, str] = {}
        fields = [*(field for form in self.page.forms for field in form.fields), *_loose_fields(self.page.html),
                  *_script_built_fields(self.page.scripts)]
        for field in fields:
            described = normalize(f"{field.label} {field.name.replace('_', ' ')} {field.name}")
            for kind, terms in _lexicon().credential_fields:
                typed_password = kind == "password" and field.type == "password"
                if kind not in kinds and (typed_password or find_terms(described, terms)):
                    kinds[kind] = field.label or field.name
        return tuple(kinds.items())
