"""URL detector: names built to be mistaken for a protected brand's.

``url_heuristics`` sees a brand spelt correctly inside a foreign name
(``icbc-kefu.top``); this detector sees the brand spelt *almost* correctly:

* **homoglyphs**: the label's *skeleton* reads as the brand although the label
  itself does not. The skeleton follows Unicode's UTS #39 recipe on the decoded
  (U-label) name: decompose, drop combining marks (á reads a), map look-alike
  characters to the ASCII letters they imitate (Cyrillic а, Greek ο, digits 0
  and 1) and look-alike pairs to one letter (rn reads m); the tables are
  ``[idn]`` in ``fraudwall/data/domain_words.toml``. ``pаypal.com`` with a
  Cyrillic а, ``g00gle-login.top`` and ``rnicrosoft.com`` all read as the brand.
* **typos**: a label, or a hyphen- or digit-separated part of one, within a
  Damerau-Levenshtein distance (adjacent swaps count once) of a brand token or
  of the first label of one of its official domains: ``alipya``, ``icbcc-vip``,
  ``taobaao``. Length-aware, because short strings are close to everything:
  tokens under 6 letters are never matched this way (``tmall`` is one letter
  from ``small``), 6 to 8 letters allow one edit, 9 and more allow two.

A homoglyph is strong evidence on its own (nobody types a Cyrillic а by
accident); a typo is suspicious, and needs the host's other signals or the page
to reach "malicious". A brand's own names, allowlisted sites and shared-platform
apexes get no finding.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from types import MappingProxyType

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.host_labels import brand_tokens, owned_labels, parts, token_in_label, vouched_for
from fraudwall.models import Category, Finding, UrlParts
from fraudwall.reference import DomainWords

name = "lookalike"
version = "1.1"

# -- calibration ---------------------------------------------------------------
# Combined by noisy-OR with the other findings; malicious >= 0.75, suspicious >= 0.40.

HOMOGLYPH = 0.80
TYPO = {1: 0.45, 2: 0.40}
#: A second lookalike label or brand in the same name.
EXTRA_LOOKALIKE = 0.05
SCORE_MAX = 0.95
#: Shortest token matched by edit distance, and the length from which two edits are allowed.
TYPO_MIN_LENGTH = 6
TWO_EDITS_LENGTH = 9


def skeleton(label: str, words: DomainWords) -> str:
    """The UTS #39-style skeleton of ``label``: marks dropped, look-alikes mapped to ASCII, pairs folded."""
    decomposed = unicodedata.normalize("NFD", label.lower())
    mapped = "".join(words.confusables.get(ch, ch) for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _fold_sequences(mapped, words.sequences)


def _fold_sequences(text: str, sequences: Mapping[str, str]) -> str:
    for sequence, replacement in sequences.items():
        text = text.replace(sequence, replacement)
    return text


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = char_a != char_b
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@dataclass(frozen=True, slots=True)
class Target:
    """A brand token a lookalike imitates, folded like a skeleton, with its edit budget."""

    brand: str
    text: str
    limit: int
    chars: frozenset[str]


@functools.cache
def _targets(sequences: tuple[tuple[str, str], ...]) -> tuple[Target, ...]:
    """Every bundled brand token long enough to be matched by edit distance.

    Only the distinctive ``tokens`` of brands.toml, not official domain labels:
    those include everyday words (office, windows, live) that ordinary names use.
    Not keyed on the brands themselves: hashing them all on every call cost more than the lookup saved.
    """
    found: dict[tuple[str, str], Target] = {}
    for brand in reference.brands():
        for token in brand.tokens:
            text = _fold_sequences(token, dict(sequences))
            if len(text) >= TYPO_MIN_LENGTH and not text.isdigit():
                limit = 2 if len(text) >= TWO_EDITS_LENGTH else 1
                found.setdefault((brand.id, text), Target(brand.id, text, limit, frozenset(text)))
    return tuple(found.values())


@functools.cache
def _targets_by_length(sequences: tuple[tuple[str, str], ...]) -> Mapping[int, tuple[tuple[int, Target], ...]]:
    """Length of a candidate -> the targets within edit budget of that length, with their positions in :func:`_targets`.

    A candidate is compared only with these instead of with every target.
    """
    reachable: dict[int, list[tuple[int, Target]]] = {}
    for position, target in enumerate(_targets(sequences)):
        for length in range(len(target.text) - target.limit, len(target.text) + target.limit + 1):
            reachable.setdefault(length, []).append((position, target))
    return MappingProxyType({length: tuple(targets) for length, targets in reachable.items()})


@dataclass(frozen=True, slots=True)
class Lookalike:
    """One label that imitates one brand, and how."""

    brand: str
    kind: str  # homoglyph | typo
    label: str
    detail: str
    weight: float


def _homoglyphs(label: str, unicode_label: str, words: DomainWords) -> list[Lookalike]:
    """Brands whose token the label's skeleton carries while the label itself does not."""
    folded = skeleton(unicode_label, words)
    if folded == label:
        return []
    found = []
    for brand, token in brand_tokens(folded):
        if token_in_label(brand, label) != token and not token.isdigit():
            found.append(Lookalike(brand.id, "homoglyph", unicode_label, f"reads as '{token}'", HOMOGLYPH))
    return found


def _typos(unicode_label: str, words: DomainWords) -> list[Lookalike]:
    """Brands a part of the label misspells by one or two edits (everyday words excepted)."""
    folded = skeleton(unicode_label, words)
    reachable = _targets_by_length(tuple(words.sequences.items()))
    found: list[tuple[int, int, Lookalike]] = []
    # In the label's own order (a set's order would change with the hash seed, and the evidence with it).
    candidates = (candidate for candidate in dict.fromkeys((folded, *parts(folded))) if candidate not in words.not_typos)
    for order, candidate in enumerate(candidates):
        chars = frozenset(candidate)
        for position, target in reachable.get(len(candidate), ()):
            if candidate == target.text:
                continue
            if len(chars ^ target.chars) > 2 * target.limit:
                continue  # each edit changes at most two letters of the alphabet used: cheap and exact pruning
            distance = edit_distance(candidate, target.text, target.limit)
            if distance <= target.limit:
                detail = f"'{candidate}' is {distance} edit(s) from '{target.text}'"
                found.append((position, order, Lookalike(target.brand, "typo", unicode_label, detail, TYPO[distance])))
    # Target by target, each target's candidates in order: the order in which they are reported.
    return [lookalike for *_, lookalike in sorted(found, key=itemgetter(0, 1))]


def _label_lookalikes(label: str, unicode_label: str, words: DomainWords) -> list[Lookalike]:
    """The brands one label imitates: with look-alike characters, or else by a misspelling."""
    return _homoglyphs(label, unicode_label, words) or _typos(unicode_label, words)


@functools.lru_cache(maxsize=reference.HOST_CACHE_SIZE)
def _bundled_label_lookalikes(label: str, unicode_label: str) -> tuple[Lookalike, ...]:
    # Cached per label: a crawl judges many pages of one host, and the typo search is the costly part.
    return tuple(_label_lookalikes(label, unicode_label, reference.domain_words()))


def lookalikes(url: UrlParts, words: DomainWords | None = None) -> list[Lookalike]:
    """Every lookalike label of ``url``'s registrant-chosen labels, homoglyphs first.

    ``words`` defaults to the bundled domain words, whose answers are cached per label.
    """
    labels = owned_labels(url)
    unicode_labels = url.unicode_host.split(".")[: len(labels)]
    found: list[Lookalike] = []
    for label, unicode_label in zip(labels, unicode_labels):
        if words is None:
            found += _bundled_label_lookalikes(label, unicode_label)
        else:
            found += _label_lookalikes(label, unicode_label, words)
    # A brand the name spells correctly somewhere is url_heuristics' business, not a lookalike.
    exact = {brand.id for label in labels for brand, _ in brand_tokens(label)}
    return [item for item in found if item.brand not in exact]


def judge(url: UrlParts, found: Sequence[Lookalike]) -> Finding | None:
    """One finding for the strongest lookalike, raised a little by further ones."""
    if not found:
        return None
    ordered = sorted(found, key=lambda item: -item.weight)
    brands = list(dict.fromkeys(item.brand for item in ordered))
    score = min(SCORE_MAX, ordered[0].weight + EXTRA_LOOKALIKE * (len(ordered) - 1))
    top = ordered[0]
    how = "look-alike characters" if top.kind == "homoglyph" else "a misspelling"
    return Finding(
        subject=url.host, detector=name, detector_version=version, category=Category.BRAND_IMPERSONATION.value,
        score=round(score, 3), reason=f"Host {url.host} imitates {top.brand} with {how} ('{top.label}').",
        evidence=tuple(dict.fromkeys(f"{item.brand}: label '{item.label}' {item.detail}" for item in ordered[:5])),
        indicators=tuple(("brand", brand) for brand in brands),
    )


def analyze(url: UrlParts, words: DomainWords | None = None) -> list[Finding]:
    """All findings for ``url``; ``words`` defaults to the bundled domain words."""
    if url.is_ip or vouched_for(url):
        return []
    finding = judge(url, lookalikes(url, words))
    return [finding] if finding else []


@hookimpl
def analyze_url(url: UrlParts) -> list[Finding]:
    """At most one finding: the brand the host name imitates, with homoglyphs or typos."""
    return analyze(url)
