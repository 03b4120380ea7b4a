"""The fuzzers of the permutation engine: each turns one domain into the heads of its lookalikes.

A fuzzer gets the :class:`Original` (the domain split at its public suffix,
with the vocabulary that applies to it) and yields ``(head, suffixes)`` pairs:
``head`` is everything left of the suffix, in Unicode (``lcbc``,
``ic.bc``, ``www.іcbc``), and each of ``suffixes`` (A-label form) makes one
candidate ``head.suffix``. Yielding a head once with all its suffixes keeps
the products (a fraud word under fifty TLDs) cheap. Fuzzers make no promise
of validity: the engine (:mod:`fraudwall.crawler.permutations`) encodes every
head, drops what is not a valid name and removes duplicates. They never
iterate a set, so the order of their output, and so the engine's, is the same
on every run.

The typo fuzzers (``addition`` ... ``various``) follow dnstwist's, each
making at least the strings dnstwist's does and some it misses (an addition
in front, an insertion after the last letter, a plural at the end). The
fraud fuzzers are shapes from ``permutations.toml`` filled with the fraud
vocabulary of ``domain_words.toml`` and the brand's own pinyin names and
hotlines from ``brands.toml``.
"""

from __future__ import annotations

import functools
import string
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import product
from typing import Any

from idna import idnadata
from idna.intranges import intranges_contain

from fraudwall.exceptions import ConfigError
from fraudwall.names import is_public_suffix
from fraudwall.reference import domain_words

DATA_FILE = "permutations.toml"
ALNUM = string.digits + string.ascii_lowercase
LDH = frozenset(ALNUM + "-")
VOWELS = "aeiou"
TEMPLATE_FIELDS = ("label", "word", "pinyin", "hotline")
TEMPLATED_FUZZERS = ("fraud-word", "pinyin", "brand-number")

Pair = tuple[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Original:
    """The domain being permuted, split at its public suffix, and the vocabulary that applies to it."""

    label: str  # the registrable label, Unicode (U-label) form: "icbc"
    suffix: str  # its public suffix, A-label form: "com.cn"
    subdomain: str = ""  # whatever stood left of the label ("www"), kept in front of every candidate
    dictionary: tuple[str, ...] = ()  # the caller's words (dictionary, dictionary-tld)
    tlds: tuple[str, ...] = ()  # tld-swap and dictionary-tld suffixes, A-label form, the own suffix left out
    pinyin: tuple[str, ...] = ()  # the owning brand's pinyin names (gonghang)
    hotlines: tuple[str, ...] = ()  # the owning brand's service numbers (95588)

    @property
    def prefix(self) -> str:
        """What goes in front of every head: the subdomain and its dot, or nothing."""
        return f"{self.subdomain}." if self.subdomain else ""


@dataclass(frozen=True, slots=True)
class Template:
    """One name shape of a fraud fuzzer (``{label}-{word}``) and the suffixes it is tried under."""

    fuzzer: str
    pattern: str  # positional form of the file's pattern: "{0}-{1}"
    fields: tuple[str, ...]  # the fields behind {0}, {1}...: ("label", "word")
    wide: bool


@dataclass(frozen=True, slots=True)
class Data:
    """``permutations.toml``, read and checked."""

    keyboards: Mapping[str, tuple[str, ...]]
    ascii_glyphs: Mapping[str, tuple[str, ...]]
    shapes: Mapping[str, str]
    registries: Mapping[str, str]
    cyrillic: Mapping[str, str]
    swap_tlds: tuple[str, ...]
    fraud_tlds: tuple[str, ...]
    near_tlds: tuple[str, ...]
    templates: tuple[Template, ...]
    syllables: frozenset[str]


# -- data ----------------------------------------------------------------------


@functools.cache
def data() -> Data:
    """The bundled ``permutations.toml``, with ``domain_words.toml``'s suspicious TLDs added where they belong."""
    raw = tomllib.loads(resources.files("fraudwall.data").joinpath(DATA_FILE).read_text(encoding="utf-8"))
    try:
        glyphs, fraud = raw["homoglyph"], raw["fraud"]
        suspicious = tuple(sorted(domain_words().suspicious_tlds))  # a frozenset: sorted, for a stable order
        return Data(
            keyboards={name: tuple(rows) for name, rows in raw["keyboards"].items()},
            ascii_glyphs={key: tuple(values) for key, values in glyphs["ascii"].items()},
            shapes=dict(glyphs["shapes"]),
            registries=dict(glyphs["registries"]),
            cyrillic=dict(raw["cyrillic"]),
            swap_tlds=_unique([*raw["tld_swap"]["tlds"], *suspicious]),
            fraud_tlds=_unique([*fraud["tlds"], *suspicious]),
            near_tlds=_unique(fraud["near_tlds"]),
            templates=tuple(_template(entry) for entry in fraud["template"]),
            syllables=frozenset(raw["pinyin"]["syllables"].split()),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise ConfigError(f"{DATA_FILE}: missing or malformed entry ({error!r})") from error


def _template(entry: Mapping[str, Any]) -> Template:
    """One ``[[fraud.template]]``: its pattern turned positional, so filling it needs no dict."""
    pattern = entry["pattern"]
    if entry["fuzzer"] not in TEMPLATED_FUZZERS:
        raise ConfigError(f"{DATA_FILE}: template {pattern!r}: fuzzer must be one of {', '.join(TEMPLATED_FUZZERS)}")
    fields: list[str] = []
    parts: list[str] = []
    for text, field, _spec, _conversion in string.Formatter().parse(pattern):
        parts.append(text.replace("{", "{{").replace("}", "}}"))
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS:
            raise ConfigError(f"{DATA_FILE}: template {pattern!r} has an unknown field {{{field}}}")
        parts.append(f"{{{len(fields)}}}")
        fields.append(field)
    if entry["tlds"] not in ("wide", "near"):
        raise ConfigError(f"{DATA_FILE}: template {pattern!r}: tlds must be 'wide' or 'near'")
    return Template(entry["fuzzer"], "".join(parts), tuple(fields), entry["tlds"] == "wide")


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@functools.cache
def fraud_words() -> tuple[str, ...]:
    """Every fraud word of ``domain_words.toml`` (words and exact strings, each theme in file order), each once."""
    return _unique(word for theme in domain_words().themes for word in (*theme.words, *theme.exact))


# -- keyboards and glyphs ------------------------------------------------------


@functools.cache
def neighbours() -> Mapping[str, str]:
    """Key -> the keys around it on any of the layouts: left, right, the two above, the two below."""
    found: dict[str, dict[str, None]] = {}
    for rows in data().keyboards.values():
        for row_index, row in enumerate(rows):
            for column, key in enumerate(row):
                near = found.setdefault(key, {})
                near.update(dict.fromkeys(_around(rows, row_index, column)))
    return {key: "".join(near) for key, near in found.items()}


def _around(rows: Sequence[str], row: int, column: int) -> Iterator[str]:
    """The keys touching ``rows[row][column]`` on a keyboard whose rows are staggered half a key right."""
    for other_row, columns in ((row, (column - 1, column + 1)), (row - 1, (column, column + 1)),
                               (row + 1, (column - 1, column))):
        if 0 <= other_row < len(rows):
            yield from (rows[other_row][c] for c in columns if 0 <= c < len(rows[other_row]))


def _reads_as(char: str, shapes: Mapping[str, str]) -> str | None:
    """The ASCII character (or pair) a non-ASCII letter passes for: its shape entry, or its unaccented letter."""
    if char in shapes:
        return shapes[char]
    base = unicodedata.normalize("NFD", char)
    if len(base) == 2 and base[0] in string.ascii_lowercase and unicodedata.combining(base[1]):
        return base[0]
    return None


@functools.cache
def accented_letters() -> str:
    """Every lowercase Latin letter that IDNA 2008 allows and that is an ASCII letter with one accent.

    Computed from Unicode rather than listed, so no accent is forgotten; a
    letter with two accents (ấ) is left out, as it reads less like its base
    and would multiply the candidates for little.
    """
    allowed = idnadata.codepoint_classes["PVALID"]
    blocks = (*range(0xC0, 0x250), *range(0x1E00, 0x1F00))  # Latin-1 to Latin Extended-B, Latin Extended Additional
    return "".join(chr(code) for code in blocks
                   if intranges_contain(code, allowed) and _reads_as(chr(code), {}) is not None)


@functools.cache
def glyphs(suffix: str) -> Mapping[str, tuple[str, ...]]:
    """Character or pair -> its lookalikes, for a label under ``suffix``.

    The ASCII lookalikes always, and the non-ASCII letters the suffix's
    registry accepts: a name it cannot register is not worth probing.
    """
    table = data()
    repertoire = table.registries.get(suffix)
    if repertoire is None:
        repertoire = accented_letters() + "".join(table.shapes)
    found: dict[str, dict[str, None]] = {key: dict.fromkeys(values) for key, values in table.ascii_glyphs.items()}
    for char in repertoire:
        target = _reads_as(char, table.shapes)
        if target:
            found.setdefault(target, {})[char] = None
    return {key: tuple(values) for key, values in found.items()}


# -- the typo fuzzers: one label in, labels out -----------------------------------


def addition(label: str) -> Iterator[str]:
    """One letter or digit added at either end, or beside a hyphen (icbc -> icbca, aicbc)."""
    for char in ALNUM:
        yield label + char
        yield char + label
    for index, char in enumerate(label):
        if char == "-":
            for extra in ALNUM:
                yield label[:index] + extra + label[index:]
                yield label[:index + 1] + extra + label[index + 1:]


def bitsquatting(label: str) -> Iterator[str]:
    """One bit of one character flipped, as a memory error would (icbc -> kcbc); only LDH results."""
    for index, char in enumerate(label):
        for bit in range(8):
            flipped = chr(ord(char) ^ (1 << bit))
            if flipped in LDH:
                yield label[:index] + flipped + label[index + 1:]


def cyrillic(label: str) -> Iterator[str]:
    """Every Latin letter that has a Cyrillic twin swapped for it (icbc -> ісьс, icbc95588 -> ісьс95588)."""
    table = data().cyrillic
    swapped = "".join(table.get(char, char) for char in label)
    if swapped != label:
        yield swapped


def homoglyph(label: str, suffix: str) -> Iterator[str]:
    """Up to two lookalike swaps (icbc -> lcbc, 1cbc, ícbc, ícbċ), with the glyphs ``suffix``'s registry takes."""
    table = glyphs(suffix)
    once = dict.fromkeys(_swap_once(label, table))
    twice = dict(once)
    for variant in once:
        twice.update(dict.fromkeys(_swap_once(variant, table)))
    return iter(twice)


def _swap_once(label: str, table: Mapping[str, tuple[str, ...]]) -> Iterator[str]:
    """Each single lookalike swap of ``label``: one character, one pair (rn -> m), or a doubled letter as one."""
    for index, char in enumerate(label):
        for glyph in table.get(char, ()):
            yield label[:index] + glyph + label[index + 1:]
    for index in range(len(label) - 1):
        pair = label[index:index + 2]
        if pair[0] == pair[1]:  # a doubled letter is one shape to the eye: both change together
            for glyph in table.get(pair[0], ()):
                yield label[:index] + glyph + glyph + label[index + 2:]
        for glyph in table.get(pair, ()):
            yield label[:index] + glyph + label[index + 2:]


def hyphenation(label: str) -> Iterator[str]:
    """A hyphen between two characters (icbc -> ic-bc)."""
    return (label[:index] + "-" + label[index:] for index in range(1, len(label)))


def insertion(label: str) -> Iterator[str]:
    """A neighbouring key hit as well, before or after the intended one (icbc -> icvbc)."""
    keys = neighbours()
    for index, char in enumerate(label):
        for extra in keys.get(char, ""):
            yield label[:index] + extra + label[index:]
            yield label[:index + 1] + extra + label[index + 1:]


def omission(label: str) -> Iterator[str]:
    """One character left out (icbc -> icb)."""
    return (label[:index] + label[index + 1:] for index in range(len(label)))


def plural(label: str) -> Iterator[str]:
    """An s (es after s, x, z) after a middle letter, as dnstwist does, or at the end (icbc -> icbcs)."""
    for index in (*range(2, len(label) - 2), len(label) - 1):
        ending = "es" if label[index] in "sxz" else "s"
        yield label[:index + 1] + ending + label[index + 1:]


def repetition(label: str) -> Iterator[str]:
    """One character doubled (icbc -> iccbc)."""
    return (label[:index] + char + label[index:] for index, char in enumerate(label))


def replacement(label: str) -> Iterator[str]:
    """One character replaced by a neighbouring key (icbc -> ivbc)."""
    keys = neighbours()
    for index, char in enumerate(label):
        for other in keys.get(char, ""):
            yield label[:index] + other + label[index + 1:]


def subdomain(label: str) -> Iterator[str]:
    """A dot between two characters, making a subdomain of a shorter name (icbc -> ic.bc)."""
    for index in range(1, len(label)):
        if label[index] not in "-." and label[index - 1] not in "-.":
            yield label[:index] + "." + label[index:]


def transposition(label: str) -> Iterator[str]:
    """Two neighbouring characters swapped (icbc -> cibc)."""
    for index in range(len(label) - 1):
        if label[index] != label[index + 1]:
            yield label[:index] + label[index + 1] + label[index] + label[index + 2:]


def vowel_swap(label: str) -> Iterator[str]:
    """One vowel replaced by another (alipay -> elipay)."""
    for index, char in enumerate(label):
        if char in VOWELS:
            for vowel in VOWELS:
                if vowel != char:
                    yield label[:index] + vowel + label[index + 1:]


def dictionary(label: str, words: Sequence[str]) -> Iterator[str]:
    """The caller's words joined to the label, or replacing one hyphen-separated end of it (icbc-kefu, kefuicbc)."""
    for word in words:
        if not (label.startswith(word) and label.endswith(word)):  # the word is the label itself
            yield from (f"{label}-{word}", f"{label}{word}", f"{word}-{label}", f"{word}{label}")
    if "-" in label:
        head = label.rpartition("-")[0]
        rest = label.partition("-")[2]
        for word in words:
            yield f"{head}-{word}"
            yield f"{word}-{rest}"


# -- the fuzzers over the whole domain -------------------------------------------


def _own(fuzz: Callable[[str], Iterable[str]]) -> Callable[[Original], Iterator[Pair]]:
    """A label fuzzer as a domain fuzzer: each label under the domain's own suffix."""

    def fuzzer(original: Original) -> Iterator[Pair]:
        own, prefix = (original.suffix,), original.prefix
        return ((prefix + label, own) for label in fuzz(original.label))

    fuzzer.__doc__ = fuzz.__doc__
    return fuzzer


def _homoglyph(original: Original) -> Iterator[Pair]:
    own, prefix = (original.suffix,), original.prefix
    return ((prefix + label, own) for label in homoglyph(original.label, original.suffix))


def _dictionary(original: Original) -> Iterator[Pair]:
    own, prefix = (original.suffix,), original.prefix
    return ((prefix + label, own) for label in dictionary(original.label, original.dictionary))


def _tld_swap(original: Original) -> Iterator[Pair]:
    """The label under each other suffix of the swap list (icbc.com.cn -> icbc.cn, icbc.top)."""
    yield original.prefix + original.label, original.tlds


def _dictionary_tld(original: Original) -> Iterator[Pair]:
    """Each dictionary candidate under each suffix of the swap list (icbc-kefu.top)."""
    prefix = original.prefix
    return ((prefix + label, original.tlds) for label in dictionary(original.label, original.dictionary))


def _various(original: Original) -> Iterator[Pair]:
    """The suffix folded into the label or dropped, a lost dot after www (icbccom.cn, icbc.cn, wwwicbc.com.cn).

    With a subdomain, also the subdomain run into the label (www.icbc -> wwwicbc),
    the candidates that keep no subdomain in front.
    """
    label, suffix, prefix = original.label, original.suffix, original.prefix
    parts = suffix.split(".")
    last = parts[-1]
    if len(parts) > 1:
        yield prefix + label + suffix.rpartition(".")[0], (last,)  # icbccom.cn
        yield prefix + label + "-" + parts[0], (last,)  # icbc-com.cn
        # icbc.cn, and icbc.com where the first part is a suffix itself (not github of github.io)
        yield prefix + label, (last, parts[0]) if is_public_suffix(parts[0]) else (last,)
    else:
        yield prefix + label + last, (suffix,)  # icbccom.com, googlecn.cn
    if last != "com":
        yield prefix + label + "-" + last, ("com",)  # google-cn.com, icbc-cn.com
        yield prefix + label + last, ("com",)  # googlecn.com, icbccn.com
    yield prefix + "www" + label, (suffix,)
    yield prefix + "www-" + label, (suffix,)
    if original.subdomain:
        sub = original.subdomain
        own = (suffix,)
        yield sub + label, own
        yield sub.replace(".", "") + label, own
        yield sub + "-" + label, own
        yield sub.replace(".", "-") + "-" + label, own


def _templated(name: str) -> Callable[[Original], Iterator[Pair]]:
    """The fraud fuzzer ``name``: each of its templates filled with every combination of its fields."""

    def fuzzer(original: Original) -> Iterator[Pair]:
        table = data()
        wide = _unique((original.suffix, *table.fraud_tlds))
        near = _unique((original.suffix, *table.near_tlds))
        values = {"label": (original.label,), "word": fraud_words(), "pinyin": original.pinyin,
                  "hotline": original.hotlines}
        prefix = original.prefix
        for template in table.templates:
            if template.fuzzer == name:
                suffixes = wide if template.wide else near
                for combination in product(*(values[field] for field in template.fields)):
                    yield prefix + template.pattern.format(*combination), suffixes

    fuzzer.__doc__ = f"The {name} templates of {DATA_FILE}, filled in."
    return fuzzer


#: Fuzzer name -> the fuzzer, in the order the engine runs them (the first to make a name is credited with it).
FUZZER_TABLE: Mapping[str, Callable[[Original], Iterable[Pair]]] = {
    "addition": _own(addition),
    "bitsquatting": _own(bitsquatting),
    "cyrillic": _own(cyrillic),
    "homoglyph": _homoglyph,
    "hyphenation": _own(hyphenation),
    "insertion": _own(insertion),
    "omission": _own(omission),
    "plural": _own(plural),
    "repetition": _own(repetition),
    "replacement": _own(replacement),
    "subdomain": _own(subdomain),
    "transposition": _own(transposition),
    "vowel-swap": _own(vowel_swap),
    "dictionary": _dictionary,
    "tld-swap": _tld_swap,
    "various": _various,
    "dictionary-tld": _dictionary_tld,
    "fraud-word": _templated("fraud-word"),
    "pinyin": _templated("pinyin"),
    "brand-number": _templated("brand-number"),
}


# -- pinyin ----------------------------------------------------------------------


def is_pinyin(token: str) -> bool:
    """True when ``token`` splits wholly into two or more toneless pinyin syllables (gong|hang, zhao|shang).

    Two, because many short English words are one syllable by accident (man, bin).
    """
    syllables = data().syllables
    # most[i]: the most syllables that spell token[:i] exactly, or -1 when none do.
    most = [0] + [-1] * len(token)
    for end in range(1, len(token) + 1):
        for start in range(max(0, end - 6), end):  # no syllable is longer than six letters (zhuang)
            if most[start] >= 0 and token[start:end] in syllables:
                most[end] = max(most[end], most[start] + 1)
    return token.isascii() and most[-1] >= 2
