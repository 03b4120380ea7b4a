"""The fast paths of matching and of the host-name questions give the answers of the plain ones.

Text is put in NFKC by replacing the characters NFKC changes on their own first,
the gaps cut out of the matching text are read from their first character,
term sets are found in one Aho-Corasick pass, the lexicon in one pass for all
its scripts, overlapping hits are resolved by a sweep, and brand ownership and
brand tokens are looked up in indexes. Each is checked here against the
straightforward definition it replaces.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudwall import host_labels, matching, reference
from fraudwall.matching import Hit, Term, TermSet, compile_lexicon, compile_terms, find_terms, normalize

# A small alphabet makes overlaps, word boundaries, plurals and clause ends frequent.
_ALPHABET = ["a", "b", "s", "1", " ", ".", "-", "，", "刷", "单", "不", "没"]
_words = st.lists(st.sampled_from(_ALPHABET), min_size=1, max_size=4).map("".join)
_texts = st.lists(st.sampled_from(_ALPHABET), max_size=60).map("".join)


# The gap and hyphen patterns as first written: a look-behind tried at every character.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PLAIN_GAP = re.compile(
    f"(?<=[{_CJK}])(?:(?![{matching._SEPARATORS}])[\\W_])+(?=[{_CJK}])"
    f"|(?<=[{_CJK}])\\s+(?=[a-z0-9])|(?<=[a-z0-9])\\s+(?=[{_CJK}])"
)
_PLAIN_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")
_GAP_ALPHABET = ["a", "z", "0", " ", "\t", "_", "-", ",", "、", "。", "「", "中", "文", "é"]


@settings(max_examples=500, deadline=None)
@given(text=st.lists(st.sampled_from(_GAP_ALPHABET), max_size=40).map("".join))
def test_gap_patterns_cut_what_their_plain_definitions_cut(text: str) -> None:
    """The gaps between Chinese characters (and between Chinese and Latin) and the compound hyphens are
    found at the same spans as the look-behind patterns define them, so flat and raw positions still map."""
    assert [m.span() for m in matching._GAP.finditer(text)] == [m.span() for m in _PLAIN_GAP.finditer(text)]
    assert [m.span() for m in matching._COMPOUND_HYPHEN.finditer(text)] == [
        m.span() for m in _PLAIN_HYPHEN.finditer(text)]


# Characters whose NFKC depends on their neighbours or lies beyond the replacement table: combining marks
# that compose or reorder (U+0301, U+0308, U+0344, Hebrew points), Hangul jamo and fillers, a ligature, a
# compatibility ideograph, a mathematical bold letter; with full-width forms, invisibles and plain text.
_NFKC_ALPHABET = [
    "a", "e", "A", "Ａ", "ｅ", "，", "\u3000", "…", "①", "㎡", "\u00a0", "²", "\u0301", "\u0308", "\u0344", "\u0591",
    "\u05b0", "\u1100", "\u1161", "\u11a8", "\u3164", "\uffa0", "ﬁ", "\uf900", "𝐁", "\u200b", "\ufe0f", "\U000e0041",
    "刷", "單", "ｶ", "\uff9e", "\u0338", "=", "<",
]
_PLAIN_INVISIBLE = re.compile(f"[{matching._INVISIBLE_SPEC}]")


@settings(max_examples=1000, deadline=None)
@given(text=st.one_of(st.lists(st.sampled_from(_NFKC_ALPHABET), max_size=30).map("".join), st.text(max_size=30)))
def test_canonical_is_nfkc_without_invisibles(text: str) -> None:
    """The replace-then-normalise path gives exactly NFKC of the text with the invisible characters removed."""
    assert matching.canonical(text) == _PLAIN_INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def _plain_longest_first(hits: list[Hit]) -> list[Hit]:
    """The definition: longest first, then leftmost; keep a hit unless it overlaps one kept before."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
        if all(hit.end <= other.start or hit.start >= other.end for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start)


def test_term_set_is_the_tuple_of_its_terms() -> None:
    """Callers that index, unpack or compare compiled terms see the tuple they always got."""
    terms = compile_terms(["刷單", "刷单", "task"])
    assert isinstance(terms, TermSet)
    assert terms == (Term.compile("刷单"), Term.compile("task"))
    assert (*terms, Term.compile("x")) == (Term.compile("刷单"), Term.compile("task"), Term.compile("x"))
    assert terms[1].text == "task" and len(terms) == 2


@pytest.mark.parametrize(
    ("text", "words", "cues"),
    [
        ("daily tasks here; multitask", ["task"], []),  # plural allowed, no match inside a word
        ("taskss task", ["task"], []),  # "taskss" is no word of the term
        ("a.a.a a.a", ["a.a"], []),  # a match hides the occurrence overlapping it
        ("不会 a.a.a, a.a", ["a.a"], ["不会"]),
        ("刷单刷单单", ["刷单", "单单", "单"], []),  # Chinese terms overlap freely
        ("我们不会收取解冻费。请缴纳解冻费", ["解冻费"], ["不会"]),  # the first occurrence is negated
        ("never pay the fee. pay the fee", ["fee", "pay the fee"], ["never"]),
        ("", ["task"], []),
    ],
)
def test_term_sets_find_what_term_by_term_finds(text: str, words: list[str], cues: list[str]) -> None:
    """One pass over the text gives each term's first non-negated span, in the order of the terms."""
    normalized, terms, negation = normalize(text), compile_terms(words), compile_terms(cues)
    expected = find_terms(normalized, tuple(terms), tuple(negation))
    found = find_terms(normalized, terms, negation)
    assert found == expected and list(found) == list(expected)


@settings(max_examples=300, deadline=None)
@given(text=_texts, words=st.lists(_words, min_size=1, max_size=8), cues=st.lists(_words, max_size=4))
def test_term_sets_agree_with_term_by_term_on_any_text(text: str, words: list[str], cues: list[str]) -> None:
    """Whatever the text, terms and cues (empty terms included), both ways find the same spans in the same order."""
    normalized, terms, negation = normalize(text), compile_terms(words), compile_terms(cues)
    found = find_terms(normalized, terms, negation)
    expected = find_terms(normalized, tuple(terms), tuple(negation))
    assert list(found.items()) == list(expected.items())
    for start in range(len(normalized.flat) + 1):
        for latin in (True, False):
            assert matching.negated(normalized, start, latin, negation) == matching.negated(
                normalized, start, latin, tuple(negation)
            )


@settings(max_examples=300, deadline=None)
@given(spans=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 6), st.sampled_from("ab")), max_size=14))
def test_longest_first_keeps_what_the_definition_keeps(spans: list[tuple[int, int, str]]) -> None:
    """The sweep keeps the same hits, in the same order, as comparing every hit with every kept one."""
    hits = [Hit(group, str(index), start, start + length) for index, (start, length, group) in enumerate(spans)]
    assert matching.longest_first(hits) == _plain_longest_first(hits)


@pytest.mark.parametrize(
    "text",
    [
        "在家刷单，日结佣金，先垫付后返利。我们不会收取解冻费，请缴纳解冻费",
        "Daily tasks, earn commissions! Never pay a deposit. Pay the deposit to unfreeze your account.",
        "下载APP，信任企业级开发者，无视征信，日收益5%",
        "",
    ],
)
def test_lexicon_hits_are_each_scripts_own_hits(text: str) -> None:
    """One pass for the whole lexicon gives every script the hits its own groups would give."""
    compiled = compile_lexicon(reference.lexicon())
    normalized = normalize(text)
    negation = tuple(compiled.negation)
    expected = {
        script.id: tuple(
            _plain_longest_first([
                Hit(group, term, *span)
                for group, terms in groups
                for term, span in find_terms(normalized, tuple(terms), negation).items()
            ])
        )
        for script, groups in compiled.scripts
    }
    assert dict(matching.lexicon_hits(normalized, compiled)) == expected


_NAMES = [
    "icbc.com.cn", "www.icbc.com.cn", "ICBC.com.cn.", "icbc.com.cn.evil.top", "icbc-kefu.top", "alipay.com",
    "m.alipay.com", "notalipay.com", "sites.google.com", "github.io", "localhost", "", "a..b",
]


@pytest.mark.parametrize("name", _NAMES + [domain for brand in reference.brands() for domain in brand.domains])
def test_brand_owners_are_the_brands_that_own_the_name(name: str) -> None:
    """The domain index answers what asking each brand answers, first brand first."""
    owning = tuple(brand for brand in reference.brands() if brand.owns(name))
    assert reference.owners(name) == owning
    assert reference.brand_for_domain(name) == (owning[0] if owning else None)
    assert reference.brand_for_domain(name, reference.brands()) == reference.brand_for_domain(name)


@pytest.mark.parametrize(
    "label",
    ["icbc95588-kefu", "gongshang-vip", "jd", "jd-kefu", "alipay", "taobao123", "95588", "kefu", "xn--p1ai", ""],
)
def test_brand_tokens_are_each_brands_token(label: str) -> None:
    """The token index picks the brands whose token the label carries, as asking every brand does."""
    expected = tuple(
        (brand, token) for brand in reference.brands() if (token := host_labels.token_in_label(brand, label))
    )
    assert host_labels.brand_tokens(label) == expected
