"""What a host name's labels say about the protected brands: shared by the URL detectors.

``url_heuristics`` looks for a brand spelt correctly inside a foreign name and
``lookalike`` for one spelt almost correctly; both read the same labels (the
ones the registrant chose), find a brand's token the same way, and leave alone
the same names (those the reference data vouches for). That shared reading
lives here, in fraudwall's core, so that neither detector's findings depend on
the other's module: they depend on this module and on the reference data in
``fraudwall/data/``, which belong to fraudwall's own version.

A crawl judges many pages of one host, and the URL detectors ask the same
questions of each: the answers that depend on a host name or label alone are
cached here, per name (never per URL or page), in bounded caches.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from fraudwall import reference
from fraudwall.models import UrlParts
from fraudwall.reference import Brand
from fraudwall.string_index import StringIndex

#: Hotlines shorter than this (110, 114...) are too common as digit runs.
MIN_HOTLINE_DIGITS = 5
#: A round amount: China Telecom's 10000 is also the ten thousand a handout or a fee names (tw10000-gov).
_ROUND_AMOUNT = re.compile(r"[1-9]0+")

_PART_SPLIT = re.compile(r"[-_]+|(?<=\d)(?=[^\d-])|(?<=[^\d-])(?=\d)")


def owned_labels(url: UrlParts) -> list[str]:
    """The labels the registrant chose: the host minus its public suffix or shared-platform apex."""
    host = url.host
    apex = reference.shared_platform_of(host)
    cut = apex or url.suffix
    if cut and host.endswith("." + cut):
        host = host[: -len(cut) - 1]
    return [label for label in host.split(".") if label]


@functools.lru_cache(maxsize=reference.HOST_CACHE_SIZE)
def _parts(label: str) -> tuple[str, ...]:
    # Asked once per brand for the same label: split it once.
    return tuple(part for part in _PART_SPLIT.split(label) if part)


def parts(label: str) -> list[str]:
    """A label split at hyphens and letter/digit boundaries: ``icbc95588-kefu`` -> icbc, 95588, kefu."""
    return list(_parts(label))


def _names_brand(hotline: str) -> bool:
    """Whether a label part that is ``hotline`` names its brand: long enough, and no round amount."""
    return len(hotline) >= MIN_HOTLINE_DIGITS and _ROUND_AMOUNT.fullmatch(hotline) is None


def token_in_label(brand: Brand, label: str) -> str | None:
    """The brand token or hotline that ``label`` carries, if any."""
    label_parts = _parts(label)
    for token in brand.tokens:
        if token in label:
            return token
    for token in brand.exact_tokens:
        if token in label_parts:
            return token
    for hotline in brand.hotlines:
        if _names_brand(hotline) and hotline in label_parts:
            return hotline
    return None


@dataclass(frozen=True, slots=True)
class _TokenIndex:
    """Which bundled brands a label can name, found without asking every brand (see :func:`brand_tokens`)."""

    tokens: StringIndex[tuple[int, ...]] | None  # token -> positions of the brands listing it (found anywhere in a label)
    parts: Mapping[str, tuple[int, ...]]  # exact token or long hotline -> positions (found as a whole part)
    always: tuple[int, ...]  # brands with an empty token, which every label carries


@functools.cache
def _bundled_token_index() -> _TokenIndex:
    tokens: dict[str, list[int]] = {}
    whole: dict[str, list[int]] = {}
    always = []
    for position, brand in enumerate(reference.brands()):
        for token in brand.tokens:
            if token:
                tokens.setdefault(token, []).append(position)
            else:
                always.append(position)
        for part in (*brand.exact_tokens, *filter(_names_brand, brand.hotlines)):
            whole.setdefault(part, []).append(position)
    automaton = StringIndex({token: tuple(positions) for token, positions in tokens.items()}) if tokens else None
    return _TokenIndex(automaton, {part: tuple(positions) for part, positions in whole.items()}, tuple(always))


@functools.lru_cache(maxsize=reference.HOST_CACHE_SIZE)
def brand_tokens(label: str) -> tuple[tuple[Brand, str], ...]:
    """Each bundled brand whose token or hotline ``label`` carries, with it (see :func:`token_in_label`).

    In brands.toml order. The index only picks the brands worth asking;
    :func:`token_in_label` still gives each answer.
    """
    index = _bundled_token_index()
    candidates = set(index.always)
    if index.tokens is not None:
        for positions, _ in index.tokens.occurrences(label):
            candidates.update(positions)
    for part in _parts(label):
        candidates.update(index.parts.get(part, ()))
    bundled = reference.brands()
    found = ((bundled[position], token_in_label(bundled[position], label)) for position in sorted(candidates))
    return tuple((brand, token) for brand, token in found if token)


def vouched_for(url: UrlParts) -> bool:
    """Official brand names, allowlisted sites and shared-platform apexes are never flagged."""
    return not url.is_ip and _vouched_for_host(url.host)


@functools.lru_cache(maxsize=reference.HOST_CACHE_SIZE)
def _vouched_for_host(host: str) -> bool:
    return (
        reference.brand_for_domain(host) is not None
        or reference.is_allowlisted(host)
        or reference.is_shared_platform_apex(host)
    )
