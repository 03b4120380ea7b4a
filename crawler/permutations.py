"""Lookalike domains of a protected domain: every fuzzer dnstwist has, and the shapes fraud uses.

:func:`permute` turns one domain into candidate names worth probing in DNS:

1. **Split** the domain at its public suffix with :mod:`fraudwall.names` (the
   offline public suffix list): ``icbc.com.cn`` is the label ``icbc`` under
   ``com.cn``, ``12321.gov.cn`` the label ``12321`` under ``gov.cn``. Only the
   label is permuted; the suffix stays whole, except where changing it is the
   point (``tld-swap``: ``icbc.cn``, ``icbc.top``; ``various``). Anything left
   of the label (``www`` of ``www.icbc.com.cn``) stays in front of every
   candidate, as dnstwist keeps it. A public suffix, an IP literal or a name
   with no known suffix is refused with :class:`~fraudwall.exceptions.InvalidName`.
2. **Fuzz**: each fuzzer of :mod:`fraudwall.crawler.fuzzers` yields heads (the
   part left of the suffix, in Unicode) with the suffixes to put them under.
   The typo fuzzers make at least every string dnstwist 20250130 makes (its
   default run, and with the same ``--dictionary`` and ``--tld`` lists), so
   the candidates are a superset of dnstwist's; the test suite checks that
   for every brand domain. Ours add ``dictionary-tld`` (each dictionary
   candidate under each swap TLD), ``fraud-word`` (the label with each fraud
   word of ``domain_words.toml``: icbc-kefu.com, icbckefu.top, icbc-vip.top),
   ``pinyin`` (the owning brand's pinyin names: gonghang.top,
   gonghang-kefu.com) and ``brand-number`` (its hotlines: icbc95588.com,
   95588-kefu.com), their shapes and suffixes listed in ``permutations.toml``.
   Fraud words go under the domain's own suffix too (icbc-kefu.com.cn): names
   under a brand's home suffix are the most convincing, and a handful per word.
3. **Encode** each head once, label by label, to A-labels (IDNA 2008, as
   dnstwist and registries do): a plain LDH head passes one regex; a Unicode
   label is checked character by character against IDNA's tables (cached per
   character) and Punycode-encoded (:func:`punycode`, twice as fast as the
   standard codec), or left to the ``idna`` package when it holds joiners,
   marks or right-to-left letters. A head that is no valid
   label sequence is dropped, so every candidate passes
   :func:`fraudwall.names.normalize_name`: no empty or over-long label, no
   label starting or ending with a hyphen or with ``--`` in third and fourth
   place unless it is a real A-label, no name over 253 characters.
4. **Deduplicate**: fuzzers run in :data:`FUZZERS` order and the first to make
   a name is credited with it; the input itself is never a candidate. Nothing
   iterates a set, so the order is the same on every run.

Volume: a brand domain gives some 15,000 to 40,000 candidates, about 14,000
of them fraud words under the fifty-odd "wide" suffixes; the shapes and their
suffixes in ``permutations.toml`` set that.

The brand owning the domain (``brands.toml``), or failing that the brand
whose token the label is, gives the pinyin names and hotlines; a domain of no
brand gets neither. ``tlds`` replaces the bundled swap list
(``permutations.toml``'s ``[tld_swap]`` and the suspicious TLDs) rather than
adding to it, as dnstwist's ``--tld`` does.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import idna
from idna import idnadata
from idna.intranges import intranges_contain

from fraudwall.crawler.fuzzers import FUZZER_TABLE, Original, Pair, data, is_pinyin
from fraudwall.exceptions import ConfigError, InvalidName
from fraudwall.names import (MAX_LABEL_LENGTH, MAX_NAME_LENGTH, is_public_suffix, normalize_name, registrable_domain,
                             to_unicode)
from fraudwall.reference import Brand, brands

# What permute keeps per name: the fuzzer, or (fuzzer, Unicode form) for an IDN.
Found = str | tuple[str, str]

#: Every fuzzer, in the order they run (the first to make a name is credited with it).
FUZZERS: tuple[str, ...] = tuple(FUZZER_TABLE)

# A label that needs no IDNA care. (?!..--) keeps out "--" in third and fourth
# place, which IDNA reserves for A-labels (xn--): those take the slow path.
_LABEL = r"(?!..--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_LABEL = re.compile(_LABEL)
_PLAIN_HEAD = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")
# What a dictionary word may hold: label characters, dots (a word may name a
# subdomain) and any non-ASCII letter, which the encoder then judges.
_WORD = re.compile(r"[a-z0-9.\-\u0080-\U0010ffff]+")
_RIGHT_TO_LEFT = frozenset({"R", "AL", "AN"})
# Characters known to need no more than the PVALID check (grown as they are met), and those known to need more.
_SIMPLE_CHARACTERS: set[str] = set("abcdefghijklmnopqrstuvwxyz0123456789-")
_OTHER_CHARACTERS: set[str] = set()


@dataclass(frozen=True, slots=True)
class Candidate:
    """One lookalike name and the fuzzer that made it."""

    name: str  # the candidate, A-label form, lowercase, no trailing dot
    fuzzer: str  # the fuzzer that made it first (see FUZZERS)
    unicode_name: str  # the U-label form for people to read; ``name`` itself when ASCII


def permute(domain: str, *, fuzzers: Collection[str] | None = None, dictionary: Sequence[str] = (),
            tlds: Sequence[str] = ()) -> list[Candidate]:
    """The lookalikes of ``domain``, each name once, in a stable order (see the module docstring).

    ``fuzzers`` picks some of :data:`FUZZERS` (all by default; they run in
    that order whatever the order given); ``dictionary`` gives the words of
    the ``dictionary`` and ``dictionary-tld`` fuzzers; ``tlds`` the suffixes of
    ``tld-swap`` and ``dictionary-tld`` instead of the bundled list.

    Raises :class:`InvalidName` (with its ``reason``) when ``domain`` is no
    registrable name, and :class:`ConfigError` for an unknown fuzzer, a
    dictionary word that cannot be part of a name, or a TLD that is no public
    suffix.
    """
    chosen = _chosen(fuzzers)
    original = _original(domain, dictionary, tlds)
    # Name -> the fuzzer that made it, or (fuzzer, Unicode form) for an IDN. The
    # input is in from the start (with no fuzzer), so no fuzzer can offer it back.
    found: dict[str, Found] = {normalize_name(domain): ""}
    for fuzzer in chosen:
        _collect(found, fuzzer, FUZZER_TABLE[fuzzer](original))
    return [Candidate(name, entry, name) if isinstance(entry, str) else Candidate(name, *entry)
            for name, entry in found.items() if entry]


def brand_domains() -> list[str]:
    """The protected brands' official registrable domains (``brands.toml``), each once, sorted."""
    return sorted({domain for brand in brands() for domain in brand.domains})


# -- input ----------------------------------------------------------------------


def _chosen(fuzzers: Collection[str] | None) -> tuple[str, ...]:
    """The fuzzers to run, in :data:`FUZZERS` order."""
    if fuzzers is None:
        return FUZZERS
    if isinstance(fuzzers, str):  # a bare string is a collection of letters: say so rather than list them
        raise ConfigError(f"fuzzers must be a collection of names, not the string {fuzzers!r}")
    unknown = sorted(set(fuzzers) - set(FUZZERS))
    if unknown:
        raise ConfigError(f"unknown fuzzer {', '.join(unknown)}; known: {', '.join(FUZZERS)}")
    wanted = set(fuzzers)
    return tuple(name for name in FUZZERS if name in wanted)


def _original(domain: str, dictionary: Sequence[str], tlds: Sequence[str]) -> Original:
    """``domain`` split at its public suffix, with the words, TLDs and brand vocabulary that apply."""
    name = normalize_name(domain)
    if is_public_suffix(name):
        raise InvalidName("public-suffix", f"{name}: a public suffix, which nobody registers")
    registrable = registrable_domain(name)
    if not registrable:
        raise InvalidName("unknown-suffix", f"{name}: no known public suffix")
    label, _, suffix = registrable.partition(".")
    owners = _brands_of(registrable, label)
    return Original(
        label=to_unicode(label),
        suffix=suffix,
        subdomain=name[: -len(registrable) - 1],
        dictionary=_words(dictionary),
        tlds=tuple(tld for tld in (_suffixes(tlds) if tlds else _default_suffixes()) if tld != suffix),
        pinyin=_unique(token for brand in owners for token in (*brand.tokens, *brand.exact_tokens)
                       if token != label and is_pinyin(token)),
        hotlines=_unique(number for brand in owners for number in brand.hotlines),
    )


def _brands_of(registrable: str, label: str) -> list[Brand]:
    """The brands owning ``registrable``, or else those whose token ``label`` is (icbc.top is icbc's too)."""
    owners = [brand for brand in brands() if brand.owns(registrable)]
    return owners or [brand for brand in brands() if label in brand.tokens or label in brand.exact_tokens]


def _words(words: Iterable[str]) -> tuple[str, ...]:
    """Dictionary words, lowercased and each once; an A-label word also in Unicode, so it joins as a letter string."""
    found: dict[str, None] = {}
    for raw in words:
        word = raw.strip().lower()
        if not word:
            continue
        if not _WORD.fullmatch(word) or any(char.isspace() for char in word):
            raise ConfigError(f"dictionary word {raw!r} cannot be part of a domain name")
        found[word] = None
        if word.startswith("xn--"):
            found[to_unicode(word)] = None
    return tuple(found)


def _suffixes(tlds: Iterable[str]) -> tuple[str, ...]:
    """TLD-swap targets in A-label form (".top", "TOP" and "中国" alike), each once; each must be a public suffix."""
    found: dict[str, None] = {}
    for raw in tlds:
        text = raw.strip().strip(".").lower()
        if not text:
            continue
        encoded = _encode_head(text)
        if encoded is None or not is_public_suffix(encoded[0]):
            raise ConfigError(f"TLD {raw!r} is not a public suffix")
        found[encoded[0]] = None
    return tuple(found)


@functools.cache
def _default_suffixes() -> tuple[str, ...]:
    """The bundled TLD-swap list, checked like a caller's."""
    return _suffixes(data().swap_tlds)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


# -- encoding and collecting ---------------------------------------------------------


def _collect(found: dict[str, Found], fuzzer: str, pairs: Iterable[Pair]) -> None:
    """Add the valid names among ``fuzzer``'s heads and suffixes that no earlier fuzzer made."""
    for head, suffixes in pairs:
        encoded = _encode_head(head)
        if encoded is None:
            continue
        ascii_head, unicode_head = encoded
        if unicode_head is ascii_head:  # most heads: a plain name needs no Unicode form, no tuple to hold
            for suffix in suffixes:
                name = f"{ascii_head}.{suffix}"
                if name not in found and len(name) <= MAX_NAME_LENGTH:
                    found[name] = (fuzzer if "xn--" not in suffix
                                   else (fuzzer, f"{ascii_head}.{_unicode_suffix(suffix)}"))
        else:
            for suffix in suffixes:
                name = f"{ascii_head}.{suffix}"
                if name not in found and len(name) <= MAX_NAME_LENGTH:
                    found[name] = (fuzzer, f"{unicode_head}.{_unicode_suffix(suffix)}")


@functools.lru_cache(maxsize=1024)
def _unicode_suffix(suffix: str) -> str:
    return to_unicode(suffix)


def _encode_head(head: str) -> tuple[str, str] | None:
    """``head`` as (A-labels, U-labels), or ``None`` when it is not a valid sequence of labels.

    A plain LDH head comes back as the same string twice, which tells the
    caller there is no Unicode form to show.
    """
    if head.isascii() and _PLAIN_HEAD.fullmatch(head):
        return head, head
    if "." not in head:
        return _encode_label(head)
    ascii_labels, unicode_labels = [], []
    for label in head.split("."):
        encoded = _encode_label(label)
        if encoded is None:
            return None
        ascii_labels.append(encoded[0])
        unicode_labels.append(encoded[1])
    return ".".join(ascii_labels), ".".join(unicode_labels)


@functools.lru_cache(maxsize=1 << 16)
def _encode_label(label: str) -> tuple[str, str] | None:
    """One label as (A-label, U-label), or ``None`` when IDNA 2008 refuses it or it is too long."""
    if label.isascii():
        if _PLAIN_LABEL.fullmatch(label):
            return label, label
        if not label.startswith("xn--"):
            return None
        try:  # an A-label (from a dictionary word) counts only when it decodes to a valid U-label
            return (label, idna.ulabel(label)) if len(label) <= MAX_LABEL_LENGTH else None
        except (idna.IDNAError, UnicodeError):
            return None
    if _simple(label) and unicodedata.is_normalized("NFC", label) and label[2:4] != "--" \
            and label[0] != "-" and label[-1] != "-":
        encoded = "xn--" + punycode(label)
    else:
        try:  # joiners, marks, right-to-left letters: the idna package knows their rules
            encoded = idna.alabel(label).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return None
    return (encoded, label) if len(encoded) <= MAX_LABEL_LENGTH else None


def _simple(label: str) -> bool:
    """True when every character of ``label`` is IDNA 2008 PVALID with no contextual or right-to-left rule to check."""
    if _SIMPLE_CHARACTERS.issuperset(label):
        return True
    for char in set(label) - _SIMPLE_CHARACTERS:
        if char in _OTHER_CHARACTERS:
            return False
        if (intranges_contain(ord(char), idnadata.codepoint_classes["PVALID"])
                and unicodedata.bidirectional(char) not in _RIGHT_TO_LEFT
                and not unicodedata.category(char).startswith("M")):
            _SIMPLE_CHARACTERS.add(char)
        else:
            _OTHER_CHARACTERS.add(char)
            return False
    return True


# -- Punycode (RFC 3492) -----------------------------------------------------------
# The standard library's codec is general and slow; the labels here are short
# with few non-ASCII letters, which this straight reading of the RFC's encoder
# handles in a third of the time. The tests check it against the codec.

_BASE, _TMIN, _TMAX, _SKEW, _DAMP = 36, 1, 26, 38, 700
_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789"
_ASCII_CODES = frozenset(range(0x80))


def punycode(label: str) -> str:
    """The Punycode form of ``label`` (without ``xn--``), as ``label.encode("punycode")`` gives it."""
    codes = list(map(ord, label))
    output = label.encode("ascii", "ignore").decode("ascii")
    handled = basic = len(output)
    if basic:
        output += "-"
    code, delta, bias = 0x80, 0, 72
    for next_code in sorted(set(codes) - _ASCII_CODES):
        delta += (next_code - code) * (handled + 1)
        code = next_code
        for value in codes:
            if value < code:
                delta += 1
            elif value == code:
                # delta as a generalised variable-length integer under bias (RFC 3492 section 6.3)
                rest, k = delta, _BASE
                while True:
                    threshold = _TMIN if k <= bias else _TMAX if k >= bias + _TMAX else k - bias
                    if rest < threshold:
                        break
                    output += _DIGITS[threshold + (rest - threshold) % (_BASE - threshold)]
                    rest = (rest - threshold) // (_BASE - threshold)
                    k += _BASE
                output += _DIGITS[rest]
                bias = _adapt(delta, handled + 1, handled == basic)
                delta = 0
                handled += 1
        delta += 1
        code += 1
    return output


def _adapt(delta: int, points: int, first: bool) -> int:
    """The next bias (RFC 3492 section 6.1)."""
    delta = delta // _DAMP if first else delta // 2
    delta += delta // points
    k = 0
    while delta > ((_BASE - _TMIN) * _TMAX) // 2:
        delta //= _BASE - _TMIN
        k += _BASE
    return k + (_BASE - _TMIN + 1) * delta // (delta + _SKEW)
