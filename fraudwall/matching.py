"""Text normalised for matching, and the terms matched against it: shared by the page view and the detectors.

**Normalisation** (:func:`normalize`) defeats cheap evasion: NFKC folds
full-width letters and digits, format characters (zero-width spaces, joiners,
bidi controls) and fillers are dropped, case is folded, traditional characters
are folded to simplified through ``fraudwall/data/t2s.toml`` (so one simplified
lexicon matches Taiwan and Hong Kong pages), and spaces or punctuation between
Chinese characters are removed ("刷 单", "刷·单" read 刷单).

**Terms** (:class:`Term`) are compiled once and matched against the flat form
of a :class:`Text`: Chinese terms anywhere, Latin ones at word boundaries, a
term preceded in its clause by a negation cue not counted. A collection of
terms compiles to a :class:`TermSet`, found in one Aho-Corasick pass over the
text rather than one scan per term. The bundled lexicon
(``fraudwall/data/fraud_lexicon.toml``) is compiled once per process
(:func:`compile_lexicon`), the terms of all its scripts into one set; nothing
here is cached per page. What a page says, and the facts derived from it, is
:class:`fraudwall.page_view.PageView`.

Part of fraudwall's core, not of any plugin: a detector's findings may depend
on it (as on the reference data), never on another detector's module.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from types import MappingProxyType
from typing import NamedTuple

from fraudwall import reference
from fraudwall.identity_cache import by_identity
from fraudwall.reference import Lexicon, Script, TermGroup
from fraudwall.string_index import StringIndex

#: Characters of context on each side of a match in evidence snippets.
EVIDENCE_CONTEXT = 20
#: Characters before a term searched for a negation cue (same clause only). A Chinese disclaimer may put
#: thirty characters between its 不會 and the fees it denies ("不會在批核或放款前要求客戶繳付保證金、驗資費"), and
#: a list of channels and requests fifty ("不會透過 WhatsApp、社交媒體或來電要求閣下下載遠端控制程式、分享螢幕、提供網上銀行登入資料").
NEGATION_WINDOW_CJK = 60
NEGATION_WINDOW_LATIN = 60
#: A warning frame needs this many distinct warning/narrative terms, one of them narrative.
FRAME_MIN_TERMS = 3

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
# Punctuation that parts clauses and list items (after NFKC: ，；！？ read , ; ! ?): a gap holding one
# stays, so that 「投資老師」、「助理」 are two words, not 老师助理, and no term runs across a clause end.
_SEPARATORS = ",;!?。「」『』《》"
# What normalisation removes from the matching text: punctuation or spaces between
# two Chinese characters, and spaces between Chinese and Latin. Each gap is read from its first
# character, with what precedes it looked behind for: a pattern that opens with a character class
# lets the regex engine skip to the few places a gap can start, where an opening look-behind is
# tried at every character (2-3 times slower on a page).
_GAP = re.compile(
    f"[\\W_](?:(?<=[{_CJK}][^{_SEPARATORS}])(?:(?![{_SEPARATORS}])[\\W_])*(?=[{_CJK}])"
    f"|(?<=[{_CJK}]\\s)\\s*(?=[a-z0-9])|(?<=[a-z0-9]\\s)\\s*(?=[{_CJK}]))"
)
_SPACES = re.compile(r"\s+")
# A hyphen inside a Latin compound reads as a space: "product-rating" and "product rating" are one spelling
# (one character for one, so flat and raw positions still map).
_COMPOUND_HYPHEN = re.compile(r"-(?<=[a-z]-)(?=[a-z])")  # the hyphen first, as _GAP
# Format characters (zero-width spaces, joiners, bidi controls, soft hyphens),
# variation selectors, tag characters and the Hangul fillers: all invisible, all
# used to split words apart.
# The format characters are spelled out (tests/core/test_matching.py checks them against
# ``unicodedata``): deriving them by scanning the plane at import costs every command 25 ms.
FORMAT_CHARACTERS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
_INVISIBLE_SPEC = f"{FORMAT_CHARACTERS}\u115f\u1160\u3164\uffa0\ufe00-\ufe0f\U000e0000-\U000e007f"


def _expand(spec: str) -> frozenset[str]:
    """The characters of a regex character class's body made of characters and ``a-b`` ranges."""
    characters: set[str] = set()
    index = 0
    while index < len(spec):
        if index + 2 < len(spec) and spec[index + 1] == "-":
            characters.update(map(chr, range(ord(spec[index]), ord(spec[index + 2]) + 1)))
            index += 3
        else:
            characters.add(spec[index])
            index += 1
    return frozenset(characters)


_INVISIBLE = _expand(_INVISIBLE_SPEC)
#: Blocks whose characters NFKC changes on Chinese pages: Latin-1's (no-break space, superscripts), general
#: punctuation to CJK compatibility (ellipsis, circled numbers, ㎡) and the full-width and half-width forms.
_NFKC_BLOCKS = (range(0xA0, 0x100), range(0x2000, 0x3400), range(0xFE30, 0x10000))
_CLAUSE_END_CJK = re.compile(r"[，,。.！!？?；;]")
_CLAUSE_END_LATIN = re.compile(r"[。.！!？?；;]")
# What a Latin term's word boundaries exclude on either side (``[a-z0-9]`` in Term.pattern).
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


# -- normalisation -------------------------------------------------------------


@functools.cache
def _t2s_table() -> dict[int, int]:
    return {ord(traditional): ord(simplified) for traditional, simplified in reference.t2s().items()}


@functools.cache
def _traditional() -> frozenset[str]:
    return frozenset(reference.t2s())


class _GapIndex(NamedTuple):
    """Where :attr:`Text.flat` was cut out of :attr:`Text.raw`."""

    gaps: tuple[tuple[int, int], ...]
    flat_cuts: tuple[int, ...]  # flat index at which each gap was cut out
    removed: tuple[int, ...]  # characters removed up to and including each gap

    @classmethod
    def of(cls, raw: str) -> _GapIndex:
        gaps = tuple(match.span() for match in _GAP.finditer(raw))
        removed = tuple(itertools.accumulate(end - start for start, end in gaps))
        flat_cuts = tuple(start - (removed[i - 1] if i else 0) for i, (start, _) in enumerate(gaps))
        return cls(gaps, flat_cuts, removed)


@dataclass(frozen=True, slots=True)
class Text:
    """A text prepared for matching.

    ``raw`` is NFKC, lowercase, invisible characters dropped, whitespace
    collapsed: what evidence snippets show. ``flat`` is ``raw`` without the
    spaces and punctuation between Chinese characters (and between Chinese and
    Latin), traditional characters folded to simplified, a hyphen inside a Latin
    compound read as a space: what terms are matched against. ``gaps`` are the
    ``raw`` spans removed to make ``flat``.
    """

    raw: str
    flat: str
    #: Filled on first use (most pages need no evidence located): the gap index, one entry.
    _index: list[_GapIndex] = field(default_factory=list, compare=False, repr=False)

    @property
    def gaps(self) -> tuple[tuple[int, int], ...]:
        """The ``raw`` spans removed to make ``flat``."""
        return self._gap_index().gaps

    def _gap_index(self) -> _GapIndex:
        if not self._index:
            self._index.append(_GapIndex.of(self.raw))
        return self._index[0]

    def to_raw(self, flat_index: int) -> int:
        """The ``raw`` index of the character at ``flat[flat_index]``."""
        index = self._gap_index()
        cut = bisect.bisect_right(index.flat_cuts, flat_index)
        return flat_index + (index.removed[cut - 1] if cut else 0)

    def to_flat(self, raw_index: int) -> int:
        """The ``flat`` index of ``raw[raw_index]`` (or of the next kept character)."""
        index = self._gap_index()
        cut = bisect.bisect_right(index.gaps, (raw_index, len(self.raw) + 1))  # gaps starting at or before it
        if not cut:
            return raw_index
        end = index.gaps[cut - 1][1]
        # Inside a removed gap, the next kept character is where the gap was cut out.
        return raw_index - index.removed[cut - 1] if raw_index >= end else index.flat_cuts[cut - 1]

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


@functools.cache
def _nfkc_of_changed() -> dict[str, str]:
    """Each character of :data:`_NFKC_BLOCKS` that NFKC changes, with what NFKC makes of it alone (2 ms, once)."""
    changed = {}
    for code in itertools.chain.from_iterable(_NFKC_BLOCKS):
        character = chr(code)
        normal = unicodedata.normalize("NFKC", character)
        if normal != character:
            changed[character] = normal
    return changed


def canonical(text: str) -> str:
    """``text`` in NFKC with the invisible characters removed, case kept: what every matcher reads.

    Chinese text is rarely NFKC already (full-width punctuation). Each character
    NFKC changes on its own is replaced first, which costs a third of normalising a
    Chinese page: NFKC reads a text through its full compatibility decomposition,
    the same for a character and for what NFKC makes of it, so the replacements
    never change the result. What they leave unnormalised (combining marks,
    characters of other blocks) is then normalised. The characters present are
    collected once, for both steps: a scan with a regex class costs as much again.
    """
    characters = set(text)
    if not unicodedata.is_normalized("NFKC", text):
        changed = _nfkc_of_changed()
        for character in changed.keys() & characters:
            text = text.replace(character, changed[character])
            characters.update(changed[character])  # a superset of the text's characters from here on
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
            characters = set(text)
    for character in _INVISIBLE & characters:
        text = text.replace(character, "")
    return text


def normalize(text: str) -> Text:
    """Normalise ``text`` for matching; see :class:`Text`."""
    return normalize_canonical(canonical(text))


def normalize_canonical(text: str) -> Text:
    """:func:`normalize` for a text already in canonical form (:func:`canonical`), which it would scan again."""
    raw = text.lower()
    raw = _SPACES.sub(" ", raw).strip()
    flat = _GAP.sub("", raw)
    if "-" in flat:
        flat = _COMPOUND_HYPHEN.sub(" ", flat)
    # Most pages hold no traditional character; the set test costs a third of the translation.
    if not flat.isascii() and not _traditional().isdisjoint(flat):
        flat = flat.translate(_t2s_table())
    return Text(raw=raw, flat=flat)


def has_chinese(text: str) -> bool:
    """True when ``text`` has at least one Chinese character."""
    return _CJK_CHAR.search(text) is not None


# -- terms ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """A term, compiled: Chinese terms match anywhere, Latin ones at word boundaries (plural "s" allowed)."""

    text: str
    latin: bool

    @classmethod
    def compile(cls, term: str) -> Term:
        """Normalise ``term`` like page text and pick the matching strategy for its script."""
        flat = normalize(term).flat
        return cls(flat, _CJK_CHAR.search(flat) is None)

    @property
    def pattern(self) -> re.Pattern[str] | None:
        """A Latin term's regex (word boundaries, plural "s"); ``None`` for a Chinese one, which matches anywhere."""
        return _latin_pattern(self.text) if self.latin else None

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

    def match_end(self, flat: str, start: int) -> int | None:
        """End of the match of :attr:`pattern` at ``flat[start]``, where the term's text is; ``None`` if none.

        The same answer as the regex, without running it: no word character
        before, then the text, an optional "s", and no word character after.
        """
        end = start + len(self.text)
        if not self.latin:
            return end
        if start and flat[start - 1] in _WORD_CHARS:
            return None
        after = flat[end:end + 1]
        if after == "s":  # "s?" takes the s when the word ends there, and cannot leave it as the next character
            return end + 1 if flat[end + 1:end + 2] not in _WORD_CHARS else None
        return end if after not in _WORD_CHARS else None


@functools.lru_cache(maxsize=4096)
def _latin_pattern(flat: str) -> re.Pattern[str]:
    # Built on first use: most terms are only ever looked for as substrings (and by TermSet's
    # automaton), and compiling thousands of regexes up front costs a command's start-up.
    return re.compile(rf"(?<![a-z0-9]){re.escape(flat)}s?(?![a-z0-9])")


class TermSet(tuple[Term, ...]):
    """Compiled terms, one per text: a tuple of :class:`Term` (usable wherever one is) found in one pass.

    :func:`find_terms` would otherwise scan the text once per term; an
    Aho-Corasick automaton over the terms' texts (built on first use) reports
    every occurrence of every term in a single scan. Make them with
    :func:`compile_terms`.
    """

    @functools.cached_property
    def _automaton(self) -> StringIndex[int] | None:
        """Each distinct term text -> the index of its term; ``None`` when the set cannot be one (no terms, or
        an empty text)."""
        if not self or any(not term.text for term in self):
            return None
        first: dict[str, int] = {}
        for index, term in enumerate(self):
            first.setdefault(term.text, index)  # the first term of a text answers for it, as in find_terms
        return StringIndex(first)

    def occurs_in(self, string: str) -> bool:
        """True when one of the terms matches in ``string`` (a Latin one at word boundaries within ``string``)."""
        automaton = self._automaton
        if automaton is None:
            return any(_matches_in(term, string) for term in self)
        return any(self[index].match_end(string, start) is not None for index, start in automaton.occurrences(string))

    def first_spans(self, text: Text, negation: Sequence[Term] = ()) -> dict[int, tuple[int, int]]:
        """Index of each term found in ``text`` -> the span of its first occurrence neither negated nor named as a scam.

        The occurrences a term's :meth:`Term.spans` yields, in the same order:
        every one for Chinese terms; for Latin ones the regex's matches, which do
        not overlap each other (a match hides the next occurrences it covers).
        """
        automaton = self._automaton
        if automaton is None:
            return {index: span for index, term in enumerate(self) if (span := _first_span(text, term, negation))}
        flat = text.flat
        found: dict[int, tuple[int, int]] = {}
        resume: dict[int, int] = {}  # Latin term -> end of its previous match, before which it cannot match again
        for index, start in automaton.occurrences(flat):
            if index in found:
                continue
            term = self[index]
            if start < resume.get(index, 0):
                continue
            end = term.match_end(flat, start)
            if end is None:
                continue
            if term.latin:
                resume[index] = end
            if not negation or not (negated(text, start, term.latin, negation) or named_as_scam(text, end, term.latin)):
                found[index] = (start, end)
        return found


def compile_terms(words: Iterable[str]) -> TermSet:
    """Compile ``words``, dropping those that normalise to the same term (刷單 and 刷单)."""
    compiled: dict[str, Term] = {}
    for word in words:
        term = Term.compile(word)
        compiled.setdefault(term.text, term)
    return TermSet(compiled.values())


@dataclass(frozen=True, slots=True)
class Hit:
    """One counted occurrence of a term, with the group it belongs to."""

    group: str
    term: str
    start: int
    end: int


#: What follows a term that a page names rather than runs: "an advance-fee scam", "刷单诈骗".
_SCAM_NOUN_LATIN = re.compile(r" ?(?:scam|fraud)s?(?![a-z0-9])")
_SCAM_NOUNS_CJK = ("诈骗", "骗局", "骗术")


def named_as_scam(text: Text, end: int, latin: bool) -> bool:
    """True when the term ending at ``flat[end]`` is followed by the word scam or fraud: the name of a scam."""
    if latin:
        return _SCAM_NOUN_LATIN.match(text.flat, end) is not None
    return text.flat.startswith(_SCAM_NOUNS_CJK, end)


def negated(text: Text, start: int, latin: bool, cues: Sequence[Term]) -> bool:
    """True when a negation cue precedes ``flat[start]`` in the same clause."""
    clause = text.clause_before(start, latin)
    if not clause:
        return False
    if isinstance(cues, TermSet):
        return cues.occurs_in(clause)
    return any(_matches_in(cue, clause) for cue in cues)


def negated_before(value: str, start: int, cues: TermSet) -> bool:
    """True when a negation cue precedes ``value[start]`` in the same clause, read as :func:`negated` reads a term's.

    For matchers that work on a string of their own (a YAML rule's match in a page's text), not on a
    :class:`Text`: what stands before ``start`` on its line (a line break is where the page's blocks meet)
    is normalised, and :func:`negated` reads its end.
    """
    latin = _CJK_CHAR.match(value, start) is None
    before = value[max(0, start - (NEGATION_WINDOW_LATIN if latin else NEGATION_WINDOW_CJK)):start]
    text = normalize(before[before.rfind("\n") + 1:])
    return negated(text, len(text.flat), latin, cues)


def _matches_in(term: Term, string: str) -> bool:
    """True when ``term`` matches somewhere in ``string`` (at word boundaries of ``string`` if Latin)."""
    return term.text in string and (term.pattern is None or term.pattern.search(string) is not None)


def _first_span(text: Text, term: Term, negation: Sequence[Term]) -> tuple[int, int] | None:
    """The span of the first occurrence of ``term`` in ``text`` that is not negated, if any."""
    if term.text not in text.flat:  # a plain substring test is far cheaper than the regex
        return None
    for start, end in term.spans(text):
        if not negation or not (negated(text, start, term.latin, negation) or named_as_scam(text, end, term.latin)):
            return start, end
    return None


def find_terms(text: Text, terms: Iterable[Term], negation: Sequence[Term] = ()) -> dict[str, tuple[int, int]]:
    """Term -> span of its first occurrence that is not negated, in the order of ``terms``.

    A :class:`TermSet` is found in one pass; any other iterable term by term.
    """
    if isinstance(terms, TermSet):
        found = terms.first_spans(text, negation)
        return {terms[index].text: found[index] for index in sorted(found)}
    return {term.text: span for term in terms if (span := _first_span(text, term, negation)) is not None}


def longest_first(hits: Iterable[Hit]) -> list[Hit]:
    """Drop hits that overlap a longer hit, so 刷单返利 counts once, not as 刷单 + 返利.

    Longest first, then leftmost; a hit is kept unless it overlaps one kept
    before. Kept spans never overlap, so sorted by ``(start, end)`` their ends
    never decrease: only the last one starting before a hit ends can overlap it.
    """
    kept: list[Hit] = []
    spans: list[tuple[int, int]] = []  # the kept hits' spans, sorted
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
        before = bisect.bisect_left(spans, (hit.end,))  # spans starting before hit.end
        if not before or spans[before - 1][1] <= hit.start:
            kept.append(hit)
            bisect.insort(spans, (hit.start, hit.end))
    return sorted(kept, key=lambda h: h.start)


# -- the lexicon, compiled -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledLexicon:
    """The lexicon with every term compiled once.

    ``script_terms`` holds every distinct term of the scripts' groups, so that
    :func:`lexicon_hits` reads a page in one pass; ``placements`` says, for each
    of them, where the scripts list it: ``(script index, position, group)``, the
    position counting the script's terms group by group.
    """

    scripts: tuple[tuple[Script, tuple[tuple[str, TermSet], ...]], ...]
    frame: TermSet
    narrative: frozenset[str]
    negation: TermSet
    cta_phrases: TermSet
    credential_fields: tuple[tuple[str, TermSet], ...]
    script_terms: TermSet
    placements: tuple[tuple[tuple[int, int, str], ...], ...]


def _groups(groups: Sequence[TermGroup]) -> tuple[tuple[str, TermSet], ...]:
    return tuple((group.name, compile_terms(group.terms)) for group in groups)


def _script_terms(
    scripts: Sequence[tuple[Script, Sequence[tuple[str, TermSet]]]]
) -> tuple[TermSet, tuple[tuple[tuple[int, int, str], ...], ...]]:
    """Every distinct term of ``scripts``' groups, and where each is listed (see :class:`CompiledLexicon`)."""
    terms: dict[str, Term] = {}
    placements: dict[str, list[tuple[int, int, str]]] = {}
    for script_index, (_, groups) in enumerate(scripts):
        position = 0
        for group, group_terms in groups:
            for term in group_terms:
                terms.setdefault(term.text, term)
                placements.setdefault(term.text, []).append((script_index, position, group))
                position += 1
    return TermSet(terms.values()), tuple(tuple(placements[text]) for text in terms)


@functools.cache  # equal lexicons (another object, same terms) share one compilation
def _compile_lexicon(lexicon: Lexicon) -> CompiledLexicon:
    scripts = tuple((script, _groups(script.groups)) for script in lexicon.scripts)
    script_terms, placements = _script_terms(scripts)
    return CompiledLexicon(
        scripts=scripts,
        frame=compile_terms((*lexicon.warning, *lexicon.narrative)),
        narrative=frozenset(Term.compile(word).text for word in lexicon.narrative),
        negation=compile_terms(lexicon.negation_cues),
        cta_phrases=compile_terms(lexicon.cta_phrases),
        credential_fields=_groups(lexicon.credential_fields),
        script_terms=script_terms,
        placements=placements,
    )


@by_identity  # hashing a Lexicon walks every term of it, and detectors ask for the bundled one on every page
def compile_lexicon(lexicon: Lexicon) -> CompiledLexicon:
    """Compile ``lexicon`` (cached: the bundled one is compiled once per process)."""
    return _compile_lexicon(lexicon)


def lexicon_hits(text: Text, compiled: CompiledLexicon) -> Mapping[str, tuple[Hit, ...]]:
    """Script id -> the counted hits of that script in ``text`` (read-only: one page's detectors share it).

    A script's counted hits are the first non-negated occurrence of each of its
    terms, group by group, with :func:`longest_first` applied. A term's first
    such occurrence does not depend on the script, so every term is looked for once.
    """
    found = compiled.script_terms.first_spans(text, compiled.negation)
    listed: list[list[tuple[int, Hit]]] = [[] for _ in compiled.scripts]
    for index, (start, end) in found.items():
        term = compiled.script_terms[index].text
        for script_index, position, group in compiled.placements[index]:
            listed[script_index].append((position, Hit(group, term, start, end)))
    return MappingProxyType({
        script.id: tuple(longest_first(hit for _, hit in sorted(hits, key=itemgetter(0))))
        for (script, _), hits in zip(compiled.scripts, listed)
    })


# -- the warning frame ---------------------------------------------------------


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


def warning_frame(text: Text, compiled: CompiledLexicon) -> Frame:
    """The warning frame of ``text``: distinct warning/narrative terms, and whether one is narrative."""
    found = find_terms(text, compiled.frame)
    # Count 犯罪嫌疑人 once, not also as 嫌疑人; but 都是诈骗 still shows the page narrates.
    terms = [hit.term for hit in longest_first(Hit("frame", term, *span) for term, span in found.items())]
    return Frame(terms=tuple(terms), narrative=any(term in compiled.narrative for term in found))
