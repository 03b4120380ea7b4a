"""Turn fetched HTML into a :class:`PageObservation`.

Used by the crawler for live responses and by ``fraudwall analyze pages`` for
files on disk, so both see exactly the same observation. Decoding follows the
browser's order (BOM, HTTP header, ``<meta charset>``, then detection) through
w3lib, which is how GBK and Big5 pages come out as readable text. Detection is
what keeps the many Chinese pages that declare no charset at all readable: UTF-8
when the body is valid UTF-8, otherwise charset-normalizer's best guess among
the legacy encodings of the web (GB18030 covers GBK and GB2312, Big5, ...).
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from charset_normalizer import from_bytes
from lxml import etree
from lxml.html import HtmlElement
from parsel import Selector
from w3lib.encoding import html_to_unicode

from fraudwall.html_limits import parseable
from fraudwall.models import Form, FormField, Link, PageObservation, ServerCertificate

#: What lxml refuses in a text node: NUL and the C0 controls but tab and newlines, lone surrogates.
_XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

#: Legacy encodings an undeclared, non-UTF-8 body is detected among. Restricting
#: the detector keeps it fast and stops it from reading short GBK text as a
#: Cyrillic code page.
DETECTION_CANDIDATES = ("gb18030", "big5", "shift_jis", "euc_jp", "euc_kr", "cp1252")
#: Encodings Scrapy settles on when a body declares none (its last-resort guesses):
#: a body handed over decoded with one of these is decoded again here, with detection.
_FALLBACK_GUESSES = frozenset({"ascii", "cp1252", "windows-1252", "latin-1", "latin1", "iso-8859-1"})

# The queries every page runs, compiled once: ``element.xpath(string)`` compiles its expression on each call.
#: Elements whose text no user sees.
_UNSEEN = ("script", "style", "template")
_BASE_HREF = etree.XPath("//base/@href")
_ANCHORS = etree.XPath("//a[@href] | //area[@href]")
_TEXTS_WITHIN = etree.XPath(".//text()")
_SCRIPTS = etree.XPath("//script")
_OWN_TEXT = etree.XPath("./text()")
_META = etree.XPath("//meta[@content]")
_TITLE_TEXT = etree.XPath("//title//text()")
_IMAGE_ALTS = etree.XPath("//img/@alt")


#: Elements a browser lays out as blocks (or lines), and form controls and images, drawn as boxes
#: of their own: their edges separate words. Inline elements (span, b, a, font ...) do not:
#: ``Win<span>dows</span>`` reads "Windows", as on screen.
_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "body", "br", "button", "canvas", "caption", "center", "dd",
    "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "iframe", "img", "input", "label", "legend", "li",
    "main", "menu", "nav", "noscript", "ol", "optgroup", "option", "p", "pre", "section", "select", "summary",
    "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "tr", "ul",
)


def _clean(value: str) -> str:
    # str.split() splits on what the regex \s+ matches (str.isspace), and does it several times faster.
    return " ".join(value.split())


#: A URL's scheme, when it has one.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
#: Characters urllib removes from a URL before it parses it: an href with one is joined without the cache.
_REMOVED_BY_URLLIB = frozenset("\t\r\n")


def _join(base_url: str, origin: str, href: str) -> str:
    """``urljoin(base_url, href)``; cached when the result depends on the base's scheme and host alone (``origin``).

    That is when ``href`` names a host (``https://x/``, ``//x/``) or a path from the root (``/x``): a page's
    navigation links, the same on every page of a site. Otherwise, and for a base that is not http(s), the
    join is urljoin's own.
    """
    if origin and "\\" in href and (not _SCHEME.match(href) or href[:5].lower() in ("http:", "https")):
        # A browser reads a backslash as a slash in an http(s) URL, up to its query (images\app.apk, /\\cdn.top/):
        # urllib keeps it, and would ask for another URL than the one the page sends its visitors to.
        end = min((at for at in (href.find("?"), href.find("#")) if at >= 0), default=len(href))
        href = href[:end].replace("\\", "/") + href[end:]
    if origin and not _REMOVED_BY_URLLIB.intersection(href):
        if href.startswith("/"):
            rest = href[2:3] if href.startswith("//") else "x"
        elif href.startswith("https://"):
            rest = href[8:9]
        elif href.startswith("http://"):
            rest = href[7:8]
        else:
            rest = ""
        if rest and rest not in "/?#":
            return _join_from_origin(origin, href)
    return urljoin(base_url, href)


@functools.lru_cache(maxsize=16384)
def _join_from_origin(origin: str, href: str) -> str:
    return urljoin(origin + "/", href)


def _origin(url: str) -> str:
    """``scheme://host:port`` of an http(s) URL; "" for any other."""
    try:
        split = urlsplit(url)
    except ValueError:
        return ""
    return f"{split.scheme}://{split.netloc}" if split.scheme in ("http", "https") and split.netloc else ""


def _visible_text(root: HtmlElement) -> str:
    """The body's visible text as a browser shows it: words split by inline markup joined again.

    Marks every block's edges with a newline, empties the elements no user
    sees (their tails stay), then joins the body's text nodes as they are. It
    changes the tree, so this runs after every other query. The text nodes are
    walked by lxml, not gathered by an XPath query: libxml2 puts a query's text
    nodes in document order by comparing them, seconds on a page of 100,000
    inputs.
    """
    for element in root.iter(*_BLOCK_TAGS):
        for attribute in ("text", "tail"):
            value = "\n" + (getattr(element, attribute) or "")
            try:
                setattr(element, attribute, value)
            except ValueError:  # control characters the parser kept but lxml will not write: invisible anyway
                setattr(element, attribute, _XML_INCOMPATIBLE.sub("", value))
    for element in list(root.iter(*_UNSEEN)):
        element.clear(keep_tail=True)
    return _clean("".join("".join(body.itertext()) for body in root.iter("body")))


def detect_encoding(body: bytes) -> str | None:
    """The encoding of a body that declares none: UTF-8 if it decodes as such, else the best legacy guess."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(body, cp_isolation=list(DETECTION_CANDIDATES)).best()
        return best.encoding if best else None
    return "utf-8"


#: Chinese legacy encodings a page may declare for another one of them (a Big5 page under a
#: copied ``<meta charset="gb2312">`` decodes without an error, into nonsense), each with the one
#: of the two readings compared whose family it is. w3lib up to 2.5 reported a declared GBK as
#: gb18030 and 2.6 reports it as gbk: the label is weighed as its family's reading either way.
_CJK_LEGACY = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030",
               "big5": "big5", "big5hkscs": "big5", "cp950": "big5"}
#: Share of the non-ASCII characters a declared decoding may turn into U+FFFD and still be kept for
#: sure: a real UTF-8 page with a few broken bytes stays UTF-8; past it (a GBK page labelled UTF-8 loses
#: three quarters), a Chinese or Japanese legacy encoding that reads every byte cleanly replaces it.
_MAX_REPLACED_SHARE = 0.3
_CJK_CANDIDATES = ("gb18030", "big5", "shift_jis", "euc_jp", "euc_kr")
#: charset-normalizer's chaos (0: clean text) under which a relabelled reading is trusted.
_MAX_CHAOS = 0.1


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode an HTML body whatever its labels claim; returns (encoding, text).

    The browser's order first (BOM, header, ``<meta>``, detection). Fraud
    pages are often labelled wrongly, so a label is overruled when its
    decoding turns most of the text into replacement characters (GBK served
    as UTF-8), or when it names a Chinese legacy encoding and another one
    reads the bytes with clearly less chaos (Big5 under ``gb2312``).
    """
    # w3lib 2.6 deprecates auto_detect_fun and, on that path, decodes with a declared label as it stands
    # (gb2312 as GB2312, not as the GBK a browser reads): setup.cfg keeps w3lib below 2.6 until this moves
    # to its new detection, measured on the labelled pages.
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=detect_encoding)
    codec = _codec(encoding)
    if "\ufffd" in text and "\ufffd" not in body.decode("utf-8", "ignore"):
        non_ascii = sum(1 for char in text if ord(char) > 127)
        if non_ascii and text.count("\ufffd") / non_ascii > _MAX_REPLACED_SHARE:
            guessed = _best_of(body, _CJK_CANDIDATES)
            if guessed:
                return guessed
    elif codec in _CJK_LEGACY:
        guessed = _best_of(body, ("gb18030", "big5"), current=_CJK_LEGACY[codec])
        if guessed:
            return guessed
    return encoding, text


def _codec(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding.lower()


def _best_of(body: bytes, candidates: Sequence[str], current: str = "") -> tuple[str, str] | None:
    """The candidate encoding that reads ``body`` with the least chaos, when clearly better than ``current``."""
    matches = from_bytes(body, cp_isolation=list(candidates))
    best = matches.best()
    if best is None or _codec(best.encoding) == current or (not current and best.chaos > _MAX_CHAOS):
        return None
    if current:
        mine = next((match for match in matches if _codec(match.encoding) == current), None)
        if mine is not None and mine.chaos - best.chaos < 0.05:
            return None  # not clearly better: the label stands
    return best.encoding, str(best)


#: Where a control without a <label> is named: the text just before it in its parent
#: ("卡号：<input>"), the element just before it (<p>身份证号</p><input>) or an image drawn
#: there as the label (its alt text), in a table layout the cell before its own, or the element
#: before the wrapper it opens.
_NEARBY_LABEL = (
    "preceding-sibling::node()[1][self::text()]",
    "preceding-sibling::*[1][not(descendant-or-self::input or descendant-or-self::select"
    " or descendant-or-self::textarea or descendant-or-self::button)]//text()",
    # An image drawn as the label (a kit's way to keep the words out of the text): its alt text.
    "preceding-sibling::*[1][self::img]/@alt",
    "ancestor::td[1]/preceding-sibling::td[1]//text()",
)
#: Then, for a control first in a wrapper (<p>验证码</p><div><input><button>获取</button></div>), the
#: wrapper's name. Whether it is first is asked of lxml (:func:`_first_element`): in XPath,
#: ``not(preceding-sibling::*)`` had libxml2 put every earlier sibling in document order, half a
#: second a control on a page of 100,000 inputs.
_WRAPPER_LABEL = "parent::*/preceding-sibling::*[1][not(.//input)]//text()"
#: A nearby text longer than this is prose, not a field's name.
NEARBY_LABEL_MAX = 40


#: The method of the form that stands for the data controls outside any <form>, which a script posts.
SCRIPTED_FORM = "script"
_LOOSE_CONTROLS = "//input[not(ancestor::form)] | //select[not(ancestor::form)] | //textarea[not(ancestor::form)]"
_NOT_DATA = frozenset({"hidden", "submit", "button", "image", "reset"})


#: Data controls read on one page, and forms: a phishing form asks for tens of fields. Finding each
#: control's label walks the page around it, so a page of 100,000 inputs (a few MB) held the crawl for
#: hours; past these caps the page's further forms and controls are not read.
MAX_FORMS = 100
MAX_FORM_FIELDS = 300


def _fields(scope: Selector, controls: list[Selector], limit: int) -> tuple[FormField, ...]:
    """The first ``limit`` data ``controls`` (inside ``scope``, where their <label for> is looked up), each with
    its label."""
    fields: list[FormField] = []
    labels_for: dict[str, list[str]] | None = None
    for control in controls:
        if len(fields) >= limit:
            break
        tag = control.root.tag
        kind = (control.attrib.get("type") or "text").lower() if tag == "input" else tag
        if kind in _NOT_DATA:
            continue
        control_id = control.attrib.get("id")
        label = ""
        if control_id:
            if labels_for is None:  # read once for the scope, not once a control: each read walks all of it
                labels_for = {}
                for element in scope.root.iterfind(".//label[@for]"):
                    labels_for.setdefault(element.get("for"), []).extend(_TEXTS_WITHIN(element))
            label = " ".join(labels_for.get(control_id, ()))
        if not label:
            label = " ".join(control.xpath("ancestor::label[1]//text()").getall())
        if not label:
            label = _nearby_label(control)
        label = " ".join(
            part for part in (label, control.attrib.get("placeholder", ""), control.attrib.get("aria-label", "")) if part
        )
        fields.append(FormField(name=control.attrib.get("name", ""), type=kind, label=_clean(label)))
    return tuple(fields)


def _first_element(element: HtmlElement) -> bool:
    """Whether no element comes before ``element`` in its parent (text and comments do not count)."""
    previous = element.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    return previous is None


def _nearby_label(control: Selector) -> str:
    """The text that names a form control laid out without a <label>, or ""."""
    queries = (*_NEARBY_LABEL, _WRAPPER_LABEL) if _first_element(control.root) else _NEARBY_LABEL
    for query in queries:
        text = _clean(" ".join(control.xpath(query).getall()))
        if text:
            return text if len(text) <= NEARBY_LABEL_MAX else ""
    return ""


def parse_page(
    url: str,
    body: bytes,
    *,
    final_url: str | None = None,
    status: int = 200,
    headers: Sequence[tuple[str, str]] = (),
    redirect_chain: Iterable[str] = (),
    fetched_as: str = "default",
    ip: str | None = None,
    fetched_at: datetime | None = None,
    text: str | None = None,
    encoding: str | None = None,
    certificate: ServerCertificate | None = None,
) -> PageObservation:
    """Build a :class:`PageObservation` from a raw body.

    ``text``/``encoding`` may be given when the caller (Scrapy) already decoded
    the body; otherwise, or when that decoding was only a last-resort guess
    (Scrapy reads an undeclared Big5 page as cp1252), the body is decoded here.
    """
    final = final_url or url
    if text is None or (encoding or "").lower() in _FALLBACK_GUESSES:
        content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
        encoding, text = decode_body(body, content_type)
    selector = Selector(text=parseable(text) or "<html></html>", base_url=final)
    # Queries that return text or plain elements run on the lxml tree itself: parsel would wrap every
    # text node and element in a Selector of its own, most of what parsing a page cost.
    root = selector.root
    base = next(iter(_BASE_HREF(root)), None)
    base_url = urljoin(final, base) if base else final
    origin = _origin(base_url)

    links = []
    for anchor in _ANCHORS(root):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        links.append(Link(url=_join(base_url, origin, href), text=_clean(" ".join(_TEXTS_WITHIN(anchor)))))

    forms = []
    fields_left = MAX_FORM_FIELDS
    for form in selector.xpath("//form")[:MAX_FORMS]:
        fields = _fields(form, form.xpath(".//input | .//select | .//textarea"), fields_left)
        fields_left -= len(fields)
        forms.append(Form(action=_join(base_url, origin, (form.attrib.get("action") or "").strip()),
                          method=(form.attrib.get("method") or "get").lower(), fields=fields))
    # Controls outside any <form>: a script reads and posts them (a phishing kit's usual way).
    loose = _fields(selector, selector.xpath(_LOOSE_CONTROLS), fields_left)
    if loose:
        forms.append(Form(action="", method=SCRIPTED_FORM, fields=loose))

    scripts = []
    for script in _SCRIPTS(root):
        src = script.get("src")
        if src:
            scripts.append(_join(base_url, origin, src.strip()))
        body_text = "".join(_OWN_TEXT(script)).strip()
        if body_text:
            scripts.append(body_text)

    meta = tuple(
        (name.lower(), _clean(content))
        for element in _META(root)
        if (name := element.get("name") or element.get("property") or element.get("http-equiv"))
        for content in [element.get("content", "")]
    )

    title = _clean(" ".join(_TITLE_TEXT(root)))
    image_alts = tuple(_clean(alt) for alt in _IMAGE_ALTS(root) if alt.strip())
    return PageObservation(
        url=url,
        final_url=final,
        status=status,
        html=text,
        text=_visible_text(root),
        title=title,
        headers=tuple((str(k), str(v)) for k, v in headers),
        redirect_chain=tuple(redirect_chain),
        links=tuple(links),
        forms=tuple(forms),
        scripts=tuple(scripts),
        meta=meta,
        image_alts=image_alts,
        encoding=encoding or "utf-8",
        content_hash=hashlib.sha256(body).hexdigest(),
        fetched_as=fetched_as,
        ip=ip,
        fetched_at=fetched_at or datetime.now(timezone.utc),
        certificate=certificate,
        base_url=base_url if base else "",
    )
