"""What a page says, normalised for matching: shared by the page detectors.

Not a plugin itself: the word-reading detectors (``fraud_lexicon``,
``app_lures``, ``brand_impersonation``, ``diversion_channels``) all read the
same text, so it is assembled, normalised and matched against the lexicon once
per page here, and cached for the next detector that asks about the same page.

**Everything a visitor can be shown is searched**, not just the visible body
text: the title, meta tags, image alts, form labels, attribute texts (title,
aria-label, data-*, button values), the string literals of inline scripts and
JSON blobs (with ``\\u``/``\\x`` escapes, HTML entities and ``%u``/``%XX``
escapes decoded), ``String.fromCharCode`` lists, and base64 blocks that decode
to text (``atob("...")`` payloads, ``data:text/html;base64`` frames, hidden
values), two layers deep. Fraud kits hide their words in exactly those places
so that a crawler reading ``<body>`` sees nothing.

**Normalisation** (:func:`normalize`) defeats cheap evasion: NFKC folds
full-width letters and digits, format characters (zero-width spaces, joiners,
bidi controls) and fillers are dropped, case is folded, traditional characters
are folded to simplified through ``fraudwall/data/t2s.toml`` (so one simplified
lexicon matches Taiwan and Hong Kong pages), and spaces or punctuation between
Chinese characters are removed ("刷 单", "刷·单" read 刷单).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import html
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from fraudwall import reference
from fraudwall.models import PageObservation
from fraudwall.reference import Lexicon, Script, TermGroup

#: Characters of context on each side of a match in evidence snippets.
EVIDENCE_CONTEXT = 20
#: Characters before a term searched for a negation cue (same clause only).
NEGATION_WINDOW_CJK = 24
NEGATION_WINDOW_LATIN = 60
#: A base64 block must be at least this long to be worth decoding (shorter runs are ids and hashes).
BASE64_MIN = 16
#: ... and at most this long: larger blocks are images or fonts, not hidden words.
BASE64_MAX = 200_000
#: Decoded text must be at least this printable to count as text.
PRINTABLE_MIN = 0.85
#: Layers of encoding unwrapped (base64 of HTML carrying another base64 block).
DECODE_DEPTH = 2
#: A warning frame needs this many distinct warning/narrative terms, one of them narrative.
FRAME_MIN_TERMS = 3

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
# What normalisation removes from the matching text: punctuation or spaces between
# two Chinese characters, and spaces between Chinese and Latin.
_GAP = re.compile(
    f"(?<=[{_CJK}])[\\W_]+(?=[{_CJK}])|(?<=[{_CJK}])\\s+(?=[a-z0-9])|(?<=[a-z0-9])\\s+(?=[{_CJK}])"
)
_SPACES = re.compile(r"\s+")
# Format characters (zero-width spaces, joiners, bidi controls, soft hyphens),
# variation selectors, tag characters and the Hangul fillers: all invisible, all
# used to split words apart.
_INVISIBLE = re.compile(
    "["
    + "".join(re.escape(chr(c)) for c in range(0x10000) if unicodedata.category(chr(c)) == "Cf")
    + "\u115f\u1160\u3164\uffa0\ufe00-\ufe0f\U000e0000-\U000e007f"
    + "]"
)
_CLAUSE_END_CJK = re.compile(r"[，,。.！!？?；;]")
_CLAUSE_END_LATIN = re.compile(r"[。.！!？?；;]")

# Every literal is matched, empty ones too, so that the scan stays in step with the quotes.
_JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`([^`]*)`')
_JS_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})")
_PERCENT_U = re.compile(r"%u([0-9a-fA-F]{4})")
_PERCENT_RUN = re.compile(r"(?:%[0-9a-fA-F]{2})+")
_CHAR_CODES = re.compile(
    r"fromCharCode\s*\(\s*((?:0x[0-9a-f]+|\d+)(?:\s*,\s*(?:0x[0-9a-f]+|\d+))*)\s*\)", re.IGNORECASE
)
_TAG = re.compile(r"<[^>]+>")
# Attribute values a visitor sees (tooltips, button values) or that scripts render (data-*).
_ATTRIBUTE = re.compile(
    r"""\s(?:title|aria-label|data-[\w.:-]+|value|label|alt)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE
)
_DATA_URI_TEXT = re.compile(r"data:text/(?:html|plain)[^,\"'\s]*;base64,([A-Za-z0-9+/=_-]+)", re.IGNORECASE)
_BASE64_BLOCK = re.compile(r"\s*([A-Za-z0-9+/]+|[A-Za-z0-9_-]+)(={0,2})\s*")
_BASE64_URLSAFE = str.maketrans("-_", "+/")


# -- normalisation -------------------------------------------------------------


@functools.cache
def _t2s_table() -> dict[int, int]:
    return {ord(traditional): ord(simplified) for traditional, simplified in reference.t2s().items()}


@dataclass(frozen=True, slots=True)
class Text:
    """A text prepared for matching.

    ``raw`` is NFKC, lowercase, invisible characters dropped, whitespace
    collapsed: what evidence snippets show. ``flat`` is ``raw`` without the
    spaces and punctuation between Chinese characters (and between Chinese and
    Latin), traditional characters folded to simplified: what terms are matched
    against. ``gaps`` are the ``raw`` spans removed to make ``flat``.
    """

    raw: str
    flat: str
    gaps: tuple[tuple[int, int], ...]
    _flat_cuts: tuple[int, ...]  # flat index at which each gap was cut out
    _removed: tuple[int, ...]  # characters removed up to and including each gap

    def to_raw(self, flat_index: int) -> int:
        """The ``raw`` index of the character at ``flat[flat_index]``."""
        cut = bisect.bisect_right(self._flat_cuts, flat_index)
        return flat_index + (self._removed[cut - 1] if cut else 0)

    def to_flat(self, raw_index: int) -> int:
        """The ``flat`` index of ``raw[raw_index]`` (or of the next kept character)."""
        cut = bisect.bisect_right(self.gaps, (raw_index, len(self.raw) + 1))  # gaps starting at or before it
        if not cut:
            return raw_index
        end = self.gaps[cut - 1][1]
        # Inside a removed gap, the next kept character is where the gap was cut out.
        return raw_index - self._removed[cut - 1] if raw_index >= end else self._flat_cuts[cut - 1]

    def snippet(self, start: int, end: int, context: int = EVIDENCE_CONTEXT) -> str:
        """The ``flat`` span ``[start, end)`` as the page wrote it, with about ``context`` characters around."""
        raw_start, raw_end = self.to_raw(start), self.to_raw(end - 1) + 1
        left, right = max(0, raw_start - context), min(len(self.raw), raw_end + context)
        return ("…" if left else "") + self.raw[left:right] + ("…" if right < len(self.raw) else "")

    def clause_before(self, start: int, latin: bool) -> str:
        """The ``flat`` text of the same clause just before ``flat[start]``, for negation cues."""
        raw_start = self.to_raw(start)
        width = NEGATION_WINDOW_LATIN if latin else NEGATION_WINDOW_CJK
        window_start = max(0, raw_start - width)
        window = self.raw[window_start:raw_start]
        ends = list((_CLAUSE_END_LATIN if latin else _CLAUSE_END_CJK).finditer(window))
        clause_start = window_start + (ends[-1].end() if ends else 0)
        return self.flat[self.to_flat(clause_start):start]


def normalize(text: str) -> Text:
    """Normalise ``text`` for matching; see :class:`Text`."""
    raw = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).lower()
    raw = _SPACES.sub(" ", raw).strip()
    gaps = tuple(match.span() for match in _GAP.finditer(raw))
    pieces, cuts, removed, position, total = [], [], [], 0, 0
    for start, end in gaps:
        pieces.append(raw[position:start])
        cuts.append(start - total)
        total += end - start
        removed.append(total)
        position = end
    pieces.append(raw[position:])
    flat = "".join(pieces).translate(_t2s_table())
    return Text(raw=raw, flat=flat, gaps=gaps, _flat_cuts=tuple(cuts), _removed=tuple(removed))


# -- terms ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """A term, compiled: Chinese terms match anywhere, Latin ones at word boundaries (plural "s" allowed)."""

    text: str
    latin: bool
    pattern: re.Pattern[str] | None

    @classmethod
    def compile(cls, term: str) -> Term:
        """Normalise ``term`` like page text and pick the matching strategy for its script."""
        flat = normalize(term).flat
        if _CJK_CHAR.search(flat):
            return cls(flat, False, None)
        return cls(flat, True, re.compile(rf"(?<![a-z0-9]){re.escape(flat)}s?(?![a-z0-9])"))

    def spans(self, text: Text) -> Iterator[tuple[int, int]]:
        """Every ``(start, end)`` of the term in ``text.flat``."""
        if self.text not in text.flat:  # a plain substring test is far cheaper than the regex
            return
        if self.pattern is not None:
            for match in self.pattern.finditer(text.flat):
                yield match.span()
            return
        start = text.flat.find(self.text)
        while start >= 0:
            yield start, start + len(self.text)
            start = text.flat.find(self.text, start + 1)


def compile_terms(words: Iterable[str]) -> tuple[Term, ...]:
    """Compile ``words``, dropping those that normalise to the same term (刷單 and 刷单)."""
    compiled: dict[str, Term] = {}
    for word in words:
        term = Term.compile(word)
        compiled.setdefault(term.text, term)
    return tuple(compiled.values())


@dataclass(frozen=True, slots=True)
class Hit:
    """One counted occurrence of a term, with the group it belongs to."""

    group: str
    term: str
    start: int
    end: int


def negated(text: Text, start: int, latin: bool, cues: Sequence[Term]) -> bool:
    """True when a negation cue precedes ``flat[start]`` in the same clause."""
    clause = text.clause_before(start, latin)
    if not clause:
        return False
    return any(
        cue.text in clause and (cue.pattern is None or cue.pattern.search(clause) is not None) for cue in cues
    )


def find_terms(text: Text, terms: Iterable[Term], negation: Sequence[Term] = ()) -> dict[str, tuple[int, int]]:
    """Term -> span of its first occurrence that is not negated."""
    found: dict[str, tuple[int, int]] = {}
    flat = text.flat
    for term in terms:
        if term.text not in flat:
            continue
        for start, end in term.spans(text):
            if not negation or not negated(text, start, term.latin, negation):
                found[term.text] = (start, end)
                break
    return found


def longest_first(hits: Iterable[Hit]) -> list[Hit]:
    """Drop hits that overlap a longer hit, so 刷单返利 counts once, not as 刷单 + 返利."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
        if all(hit.end <= other.start or hit.start >= other.end for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start)


# -- the lexicon, compiled -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledLexicon:
    """The lexicon with every term compiled once."""

    scripts: tuple[tuple[Script, tuple[tuple[str, tuple[Term, ...]], ...]], ...]
    frame: tuple[Term, ...]
    narrative: frozenset[str]
    negation: tuple[Term, ...]
    cta_phrases: tuple[Term, ...]
    credential_fields: tuple[tuple[str, tuple[Term, ...]], ...]


def _groups(groups: Sequence[TermGroup]) -> tuple[tuple[str, tuple[Term, ...]], ...]:
    return tuple((group.name, compile_terms(group.terms)) for group in groups)


@functools.cache
def compile_lexicon(lexicon: Lexicon) -> CompiledLexicon:
    """Compile ``lexicon`` (cached: the bundled one is compiled once per process)."""
    return CompiledLexicon(
        scripts=tuple((script, _groups(script.groups)) for script in lexicon.scripts),
        frame=compile_terms((*lexicon.warning, *lexicon.narrative)),
        narrative=frozenset(Term.compile(word).text for word in lexicon.narrative),
        negation=compile_terms(lexicon.negation_cues),
        cta_phrases=compile_terms(lexicon.cta_phrases),
        credential_fields=_groups(lexicon.credential_fields),
    )


def script_hits(text: Text, groups: Sequence[tuple[str, Sequence[Term]]], negation: Sequence[Term]) -> list[Hit]:
    """The counted hits of one script's groups in ``text``: not negated, longest first."""
    hits = (
        Hit(group, term, start, end)
        for group, terms in groups
        for term, (start, end) in find_terms(text, terms, negation).items()
    )
    return longest_first(hits)


# -- hidden text -----------------------------------------------------------------


def _is_url(entry: str) -> bool:
    return not any(ch.isspace() for ch in entry) and entry.startswith(("http://", "https://", "//"))


def _unescape_js(literal: str) -> str:
    """JS string escapes, ``%u``/``%XX`` escapes and HTML entities decoded."""
    if "\\" in literal:
        literal = _JS_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2) or m.group(3), 16)), literal)
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
            literal = next(group for group in match.groups() if group is not None)
            if len(literal) >= 2:
                strings.append(_unescape_js(literal))
        for match in _CHAR_CODES.finditer(body):
            codes = (int(code, 0) for code in re.split(r"\s*,\s*", match.group(1).lower()))
            strings.append("".join(chr(code) for code in codes if 0 < code <= 0x10FFFF))
    return strings


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


@functools.lru_cache(maxsize=8)
def hidden_sources(page: PageObservation) -> tuple[str, ...]:
    """Every string the page can render that is not in its visible body, decoded, markup kept.

    Script literals, attribute texts and the base64 blocks among them (see the
    module docstring). Detectors that look for URLs (app installs) read these;
    detectors that read words get them without tags through :func:`page_strings`.
    """
    strings = script_strings(page.scripts)
    attributes = attribute_texts(page.html)
    data_uris = [match.group(1) for match in _DATA_URI_TEXT.finditer(page.html)]
    return (*strings, *attributes, *decoded_blocks([*strings, *attributes, *data_uris]))


def readable(source: str) -> bool:
    """True for a string that can carry words (Chinese, or several words): not an identifier, class or URL."""
    return bool(_CJK_CHAR.search(source)) or " " in source.strip()


@functools.lru_cache(maxsize=8)
def page_strings(page: PageObservation) -> str:
    """Everything a visitor can read on ``page``, hidden places included, as the page spelt it (case kept).

    Of the hidden sources only readable ones count: minified code is full of
    one-word literals (``"none"``, ``"refund"`` as an API path) that are no text.
    """
    parts = [page.title, *(content for _, content in page.meta), page.text, *page.image_alts]
    parts += [field.label for form in page.forms for field in form.fields]
    parts += (strip_tags(source) for source in hidden_sources(page) if readable(source))
    return "\n".join(part for part in parts if part)


@functools.lru_cache(maxsize=8)
def page_text(page: PageObservation) -> Text:
    """:func:`page_strings`, normalised for matching."""
    return normalize(page_strings(page))


@functools.lru_cache(maxsize=8)
def lexicon_hits(page: PageObservation, lexicon: Lexicon | None = None) -> dict[str, list[Hit]]:
    """Script id -> the counted hits of that script on ``page`` (``lexicon`` defaults to the bundled one)."""
    compiled = compile_lexicon(lexicon or reference.lexicon())
    text = page_text(page)
    return {script.id: script_hits(text, groups, compiled.negation) for script, groups in compiled.scripts}


@dataclass(frozen=True, slots=True)
class Frame:
    """How a page talks about fraud: its warning and narrative words (骗子, 谨防, victims).

    Police notices and news articles quote the scripts; they also warn, and they
    narrate in the third person. A page *warns* when it has at least
    ``FRAME_MIN_TERMS`` distinct such words, one of them narrative: fraud pages
    avoid narrating. Detectors scale their scores by :meth:`factor` unless the
    page itself acts (asks for credentials, pushes an app, opens a chat).
    """

    terms: tuple[str, ...]
    narrative: bool

    @property
    def warns(self) -> bool:
        """True when the page reads as a warning about fraud."""
        return len(self.terms) >= FRAME_MIN_TERMS and self.narrative

    def factor(self, decay: float) -> float:
        """``decay ** (terms - 1)`` for a warning page (3 terms at 0.3: x0.09), else 1.0."""
        return decay ** (len(self.terms) - 1) if self.warns else 1.0


@functools.lru_cache(maxsize=8)
def warning_frame(page: PageObservation, lexicon: Lexicon | None = None) -> Frame:
    """The warning frame of ``page``: distinct warning/narrative terms, and whether one is narrative."""
    compiled = compile_lexicon(lexicon or reference.lexicon())
    found = find_terms(page_text(page), compiled.frame)
    # Count 犯罪嫌疑人 once, not also as 嫌疑人; but 都是诈骗 still shows the page narrates.
    terms = [hit.term for hit in longest_first(Hit("frame", term, *span) for term, span in found.items())]
    return Frame(terms=tuple(terms), narrative=any(term in compiled.narrative for term in found))
