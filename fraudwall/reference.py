"""Reference data shared by every stage: brands, fraud words, shared platforms, the allowlist.

Beside them, the vocabularies the detectors read pages with: the traditional ->
simplified fold table (``t2s.toml``) and the words of the structural page
detectors (``page_signals.toml``).

The data lives once, as documented TOML files in ``fraudwall/data/``, so the
permutation engine, the detectors and the publishing guards always agree on
what ICBC owns or which apex must never be blocked. Each file opens with a
comment describing its schema.

Every ``load_*`` function reads the bundled file and then the user's ``extra``
files in order, merged over it: tables merge key by key, lists are extended
(duplicates dropped), scalars from later files win, and list items that are
tables with an ``id`` (brands) merge by that id. The short-named functions
(:func:`brands`, :func:`lexicon`, ...) are the same loaders, cached per set of
extra files, which is what detectors call on every page.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fraudwall.exceptions import ConfigError
from fraudwall.names import registrable_domain

PathLike = str | Path

BRANDS_FILE = "brands.toml"
LEXICON_FILE = "fraud_lexicon.toml"
DOMAIN_WORDS_FILE = "domain_words.toml"
SHARED_PLATFORMS_FILE = "shared_platforms.toml"
ALLOWLIST_FILE = "allowlist.toml"
T2S_FILE = "t2s.toml"
PAGE_SIGNALS_FILE = "page_signals.toml"


# -- types ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Brand:
    """A protected brand: how it is written, what it owns, which numbers are really its own."""

    id: str
    kind: str
    names: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    exact_tokens: tuple[str, ...] = ()
    hotlines: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    #: Android package names of the brand's official apps; ``com.tencent.*`` stands for ``com.tencent`` and
    #: every package under it. Package names are not protected outside the app stores: a sideloaded fake can
    #: use the real one, so only a certificate proves an app is the brand's (see ``certificates``).
    packages: tuple[str, ...] = ()
    #: SHA-256 fingerprints of the certificates the brand signs its apps with: lowercase hex, no colons.
    certificates: tuple[str, ...] = ()

    def owns(self, name: str) -> bool:
        """True when ``name`` is one of the brand's domains or a name under one."""
        name = _clean_name(name)
        return any(name == domain or name.endswith("." + domain) for domain in self.domains)

    def owns_package(self, package: str) -> bool:
        """True when ``package`` is one of the brand's app packages (or under a ``prefix.*`` entry)."""
        package = package.strip()
        for entry in self.packages:
            if entry.endswith(".*"):
                prefix = entry[:-2]
                if package == prefix or package.startswith(prefix + "."):
                    return True
            elif package == entry:
                return True
        return False

    def signed(self, fingerprints: Iterable[str]) -> bool:
        """True when one of ``fingerprints`` (certificate SHA-256s, any case, colons allowed) is the brand's."""
        return any(certificate_fingerprint(value) in self.certificates for value in fingerprints)


@dataclass(frozen=True, slots=True)
class TermGroup:
    """A named list of terms, e.g. the ``promise`` group of a fraud script."""

    name: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Script:
    """One fraud script: its category, its term groups and which of them are core."""

    id: str
    category: str
    label: str
    core: tuple[str, ...]
    groups: tuple[TermGroup, ...]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The fraud scripts plus the vocabulary of warnings, negation and calls to action."""

    scripts: tuple[Script, ...]
    warning: tuple[str, ...]
    narrative: tuple[str, ...]
    negation_cues: tuple[str, ...]
    cta_phrases: tuple[str, ...]
    credential_fields: tuple[TermGroup, ...]

    def script(self, script_id: str) -> Script:
        """The script called ``script_id``; raises ``KeyError`` when there is none."""
        for script in self.scripts:
            if script.id == script_id:
                return script
        raise KeyError(script_id)


@dataclass(frozen=True, slots=True)
class WordTheme:
    """Fraud vocabulary for domain labels on one theme (loans, refunds...)."""

    id: str
    category: str
    words: tuple[str, ...]
    exact: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DomainWords:
    """Fraud words for domain labels, suspicious TLDs and homoglyph data."""

    themes: tuple[WordTheme, ...]
    suspicious_tlds: frozenset[str]
    confusable_scripts: frozenset[str]
    confusables: Mapping[str, str]
    sequences: Mapping[str, str]
    not_typos: frozenset[str]


@dataclass(frozen=True, slots=True)
class PageVocabulary:
    """Words the structural page detectors read around what they find (``page_signals.toml``)."""

    claim_words: tuple[str, ...]
    list_cues: tuple[str, ...]
    mention_cues: tuple[str, ...]
    channel_words: Mapping[str, tuple[str, ...]]
    crypto_context: tuple[str, ...]
    download_words: tuple[str, ...]
    qr_words: tuple[str, ...]
    app_distribution_hosts: frozenset[str]
    app_store_hosts: frozenset[str]


# -- reading and merging -------------------------------------------------------


def _clean_name(name: str) -> str:
    return name.strip().lower().rstrip(".")


def certificate_fingerprint(value: str) -> str:
    """A certificate SHA-256 as fraudwall compares them: lowercase hex without colons or spaces."""
    return value.strip().lower().replace(":", "").replace(" ", "")


_PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+(?:\.\*)?")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _unique(items: Iterable[Any]) -> list[Any]:
    """Items in first-seen order without repeats."""
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _merge(base: Any, extra: Any) -> Any:
    """Merge one parsed TOML value over another (see the module docstring for the rules)."""
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(extra, list):
        if all(isinstance(item, dict) and "id" in item for item in (*base, *extra)):
            return _merge_by_id(base, extra)
        return _unique([*base, *extra])
    return extra


def _merge_by_id(base: list[dict[str, Any]], extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = {item["id"]: item for item in base}
    for item in extra:
        merged[item["id"]] = _merge(merged[item["id"]], item) if item["id"] in merged else item
    return list(merged.values())


@functools.cache
def bundled_digest() -> str:
    """A digest of every bundled reference file: what the bundled detectors read beside their code.

    It joins their versions (:func:`fraudwall.plugin_host.bundled_inputs_digest`), so that a
    release that only edits a brand, a word or the allowlist still re-judges stored evidence.
    """
    digest = hashlib.sha256()
    for entry in sorted(resources.files("fraudwall").joinpath("data").iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".toml"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _parse(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"reference file {origin} is not valid TOML: {exc}") from exc


def _read(filename: str, extra: Sequence[PathLike]) -> dict[str, Any]:
    """The bundled file ``filename`` with every extra file merged over it, in order."""
    bundled = resources.files("fraudwall").joinpath("data", filename)
    data = _parse(bundled.read_text(encoding="utf-8"), f"fraudwall/data/{filename}")
    for path in extra:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read reference file {path}: {exc.strerror}") from exc
        data = _merge(data, _parse(text, str(path)))
    return data


def _strings(table: Mapping[str, Any], key: str, where: str, *, lower: bool = False) -> tuple[str, ...]:
    """``table[key]`` as a tuple of strings (empty when absent), or :class:`ConfigError`."""
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    items = (item.strip().lower() if lower else item.strip() for item in value)
    return tuple(_unique(item for item in items if item))


def _required(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: '{key}' is required and must be a non-empty string")
    return value.strip()


def _tables(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(item, dict) for item in value.values()):
        raise ConfigError(f"{where}: [{key}] must hold tables")
    return value


# -- loaders -------------------------------------------------------------------


def load_brands(extra: Sequence[PathLike] = ()) -> tuple[Brand, ...]:
    """Protected brands from ``brands.toml`` and the ``extra`` files."""
    data = _read(BRANDS_FILE, extra)
    brands_found = []
    for entry in data.get("brand", []):
        where = f"brand {entry.get('id', '?')!r}"
        brands_found.append(
            Brand(
                id=_required(entry, "id", where),
                kind=_required(entry, "kind", where),
                names=_strings(entry, "names", where),
                tokens=_strings(entry, "tokens", where, lower=True),
                exact_tokens=_strings(entry, "exact_tokens", where, lower=True),
                hotlines=_strings(entry, "hotlines", where),
                apps=_strings(entry, "apps", where),
                domains=tuple(_clean_name(d) for d in _strings(entry, "domains", where)),
                packages=_packages(entry, where),
                certificates=_certificates(entry, where),
            )
        )
    return tuple(brands_found)


def _packages(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """A brand's ``packages``: Java package names, each optionally ending in ``.*``."""
    packages = _strings(entry, "packages", where)
    bad = [package for package in packages if not _PACKAGE.fullmatch(package)]
    if bad:
        raise ConfigError(f"{where}: 'packages' must be Android package names (optionally ending in .*), not {bad}")
    return packages


def _certificates(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """A brand's ``certificates``: SHA-256 fingerprints, normalised to lowercase hex without colons."""
    fingerprints = tuple(_unique(certificate_fingerprint(value) for value in _strings(entry, "certificates", where)))
    bad = [value for value in fingerprints if not _SHA256_HEX.fullmatch(value)]
    if bad:
        raise ConfigError(f"{where}: 'certificates' must be SHA-256 fingerprints (64 hex digits), not {bad}")
    return fingerprints


def _load_script(script_id: str, table: Mapping[str, Any]) -> Script:
    where = f"script {script_id!r}"
    groups_table = table.get("groups")
    if not isinstance(groups_table, dict) or not groups_table:
        raise ConfigError(f"{where}: [groups] must map group names to lists of terms")
    groups = tuple(TermGroup(name, _strings(groups_table, name, where, lower=True)) for name in groups_table)
    core = _strings(table, "core", where)
    unknown = set(core) - {group.name for group in groups}
    if not core or unknown:
        raise ConfigError(f"{where}: 'core' must name some of its groups (unknown: {sorted(unknown)})")
    return Script(script_id, _required(table, "category", where), _required(table, "label", where), core, groups)


def load_lexicon(extra: Sequence[PathLike] = ()) -> Lexicon:
    """The fraud scripts and their surrounding vocabulary from ``fraud_lexicon.toml`` and ``extra``."""
    data = _read(LEXICON_FILE, extra)
    frame = data.get("frame", {})
    calls = data.get("calls_to_action", {})
    fields = calls.get("fields", {})
    return Lexicon(
        scripts=tuple(_load_script(sid, table) for sid, table in _tables(data, "scripts", LEXICON_FILE).items()),
        warning=_strings(frame, "warning", "frame", lower=True),
        narrative=_strings(frame, "narrative", "frame", lower=True),
        negation_cues=_strings(data.get("negation", {}), "cues", "negation", lower=True),
        cta_phrases=_strings(calls, "phrases", "calls_to_action", lower=True),
        credential_fields=tuple(
            TermGroup(kind, _strings(fields, kind, "calls_to_action.fields", lower=True)) for kind in fields
        ),
    )


def load_domain_words(extra: Sequence[PathLike] = ()) -> DomainWords:
    """Fraud words for domain labels, suspicious TLDs and homoglyphs from ``domain_words.toml``."""
    data = _read(DOMAIN_WORDS_FILE, extra)
    themes = tuple(
        WordTheme(
            id=theme_id,
            category=_required(table, "category", f"theme {theme_id!r}"),
            words=_strings(table, "words", f"theme {theme_id!r}", lower=True),
            exact=_strings(table, "exact", f"theme {theme_id!r}", lower=True),
        )
        for theme_id, table in _tables(data, "themes", DOMAIN_WORDS_FILE).items()
    )
    idn = data.get("idn", {})
    confusables = idn.get("confusables", {})
    if not all(isinstance(k, str) and isinstance(v, str) and len(k) == 1 for k, v in confusables.items()):
        raise ConfigError("idn.confusables must map single characters to strings")
    sequences = idn.get("sequences", {})
    if not all(isinstance(k, str) and isinstance(v, str) and len(k) > 1 for k, v in sequences.items()):
        raise ConfigError("idn.sequences must map strings of two or more characters to strings")
    return DomainWords(
        themes=themes,
        suspicious_tlds=frozenset(tld.lstrip(".") for tld in _strings(data, "suspicious_tlds", "top", lower=True)),
        confusable_scripts=frozenset(s.upper() for s in _strings(idn, "confusable_scripts", "idn")),
        confusables=MappingProxyType(dict(confusables)),
        sequences=MappingProxyType(dict(sequences)),
        not_typos=frozenset(_strings(idn, "not_typos", "idn", lower=True)),
    )


def load_t2s(extra: Sequence[PathLike] = ()) -> Mapping[str, str]:
    """Traditional -> simplified characters from ``t2s.toml`` and ``extra`` (one character each side)."""
    table = _read(T2S_FILE, extra).get("characters", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) and len(k) == 1 == len(v) for k, v in table.items()):
        raise ConfigError(f"{T2S_FILE}: [characters] must map one character to one character")
    return MappingProxyType(dict(table))


def load_page_signals(extra: Sequence[PathLike] = ()) -> PageVocabulary:
    """Claim words, channel words and app vocabulary from ``page_signals.toml`` and ``extra``."""
    data = _read(PAGE_SIGNALS_FILE, extra)
    claims = data.get("brand_claims", {})
    apps = data.get("apps", {})
    channels = _tables(data, "channels", PAGE_SIGNALS_FILE)
    return PageVocabulary(
        claim_words=_strings(claims, "words", "brand_claims", lower=True),
        list_cues=_strings(claims, "list_cues", "brand_claims", lower=True),
        mention_cues=_strings(claims, "mention_cues", "brand_claims", lower=True),
        channel_words=MappingProxyType(
            {kind: _strings(table, "words", f"channels.{kind}", lower=True) for kind, table in channels.items()}
        ),
        crypto_context=_strings(data.get("crypto", {}), "context", "crypto", lower=True),
        download_words=_strings(apps, "download_words", "apps", lower=True),
        qr_words=_strings(apps, "qr_words", "apps", lower=True),
        app_distribution_hosts=frozenset(_clean_name(h) for h in _strings(apps, "distribution_hosts", "apps")),
        app_store_hosts=frozenset(_clean_name(h) for h in _strings(apps, "store_hosts", "apps")),
    )


def _platform_names(data: Mapping[str, Any], key: str) -> frozenset[str]:
    return frozenset(_clean_name(name) for name in _strings(data, key, SHARED_PLATFORMS_FILE))


def load_shared_platforms(extra: Sequence[PathLike] = ()) -> frozenset[str]:
    """Shared platform apexes (github.io, web.app...) from ``shared_platforms.toml`` and ``extra``."""
    return _platform_names(_read(SHARED_PLATFORMS_FILE, extra), "apexes")


def load_unreviewed_platforms(extra: Sequence[PathLike] = ()) -> frozenset[str]:
    """The shared platforms that publish a tenant's page with no review (``unreviewed`` in ``shared_platforms.toml``).

    Each must be one of the apexes: a platform is shared before it is unreviewed.
    """
    return _apex_subset(_read(SHARED_PLATFORMS_FILE, extra), "unreviewed")


def load_shorteners(extra: Sequence[PathLike] = ()) -> frozenset[str]:
    """The shared platforms that are link shorteners (``shorteners`` in ``shared_platforms.toml``); each an apex."""
    return _apex_subset(_read(SHARED_PLATFORMS_FILE, extra), "shorteners")


def _apex_subset(data: Mapping[str, Any], key: str) -> frozenset[str]:
    """The platform names under ``key``, each of which must be one of the apexes."""
    apexes, subset = _platform_names(data, "apexes"), _platform_names(data, key)
    if subset - apexes:
        raise ConfigError(f"{SHARED_PLATFORMS_FILE}: {key} platforms that are no apex: {sorted(subset - apexes)}")
    return subset


def load_allowlist(extra: Sequence[PathLike] = (), brand_list: Iterable[Brand] | None = None) -> frozenset[str]:
    """Names never to block: ``allowlist.toml``, ``extra`` and every brand's official domains.

    ``brand_list`` defaults to the bundled brands; pass your own (e.g. from
    ``load_brands(extra=...)``) so your brands' domains are allowlisted too.
    """
    data = _read(ALLOWLIST_FILE, extra)
    names = {_clean_name(name) for name in _strings(data, "domains", ALLOWLIST_FILE)}
    for brand in brands() if brand_list is None else brand_list:
        names.update(brand.domains)
    return frozenset(names)


# -- cached access -------------------------------------------------------------


def _paths(extra: Sequence[PathLike]) -> tuple[Path, ...]:
    if not extra:  # the bundled data, asked for several times per page
        return ()
    return tuple(Path(path) for path in extra)


@functools.cache
def _brands(extra: tuple[Path, ...]) -> tuple[Brand, ...]:
    return load_brands(extra)


@functools.cache
def _lexicon(extra: tuple[Path, ...]) -> Lexicon:
    return load_lexicon(extra)


@functools.cache
def _domain_words(extra: tuple[Path, ...]) -> DomainWords:
    return load_domain_words(extra)


@functools.cache
def _t2s(extra: tuple[Path, ...]) -> Mapping[str, str]:
    return load_t2s(extra)


@functools.cache
def _page_signals(extra: tuple[Path, ...]) -> PageVocabulary:
    return load_page_signals(extra)


@functools.cache
def _shared_platforms(extra: tuple[Path, ...]) -> frozenset[str]:
    return load_shared_platforms(extra)


@functools.cache
def _unreviewed_platforms(extra: tuple[Path, ...]) -> frozenset[str]:
    return load_unreviewed_platforms(extra)


@functools.cache
def _shorteners(extra: tuple[Path, ...]) -> frozenset[str]:
    return load_shorteners(extra)


@functools.cache
def _allowlist(extra: tuple[Path, ...]) -> frozenset[str]:
    return load_allowlist(extra)


def brands(extra: Sequence[PathLike] = ()) -> tuple[Brand, ...]:
    """:func:`load_brands`, cached: files are read once per process and set of extras."""
    return _brands(_paths(extra))


def lexicon(extra: Sequence[PathLike] = ()) -> Lexicon:
    """:func:`load_lexicon`, cached."""
    return _lexicon(_paths(extra))


def domain_words(extra: Sequence[PathLike] = ()) -> DomainWords:
    """:func:`load_domain_words`, cached."""
    return _domain_words(_paths(extra))


def t2s(extra: Sequence[PathLike] = ()) -> Mapping[str, str]:
    """:func:`load_t2s`, cached."""
    return _t2s(_paths(extra))


def page_signals(extra: Sequence[PathLike] = ()) -> PageVocabulary:
    """:func:`load_page_signals`, cached."""
    return _page_signals(_paths(extra))


def shared_platforms(extra: Sequence[PathLike] = ()) -> frozenset[str]:
    """:func:`load_shared_platforms`, cached."""
    return _shared_platforms(_paths(extra))


def unreviewed_platforms(extra: Sequence[PathLike] = ()) -> frozenset[str]:
    """:func:`load_unreviewed_platforms`, cached."""
    return _unreviewed_platforms(_paths(extra))


def shorteners(extra: Sequence[PathLike] = ()) -> frozenset[str]:
    """:func:`load_shorteners`, cached."""
    return _shorteners(_paths(extra))


def allowlist(extra: Sequence[PathLike] = ()) -> frozenset[str]:
    """:func:`load_allowlist` over the bundled brands, cached."""
    return _allowlist(_paths(extra))


# -- questions -----------------------------------------------------------------


def _self_and_parents(name: str) -> list[str]:
    """``a.b.c`` -> ``["a.b.c", "b.c", "c"]``."""
    labels = _clean_name(name).split(".")
    return [".".join(labels[index:]) for index in range(len(labels))]


#: Host names whose answers about the bundled brands are kept (a crawl asks again for every page of a host).
HOST_CACHE_SIZE = 4096


@functools.cache
def _bundled_domain_index() -> Mapping[str, tuple[int, ...]]:
    """Official domain -> positions in :func:`brands` of the bundled brands listing it."""
    index: dict[str, list[int]] = {}
    for position, brand in enumerate(brands()):
        for domain in brand.domains:
            index.setdefault(domain, []).append(position)
    return MappingProxyType({domain: tuple(positions) for domain, positions in index.items()})


@functools.lru_cache(maxsize=HOST_CACHE_SIZE)
def _bundled_owners(name: str) -> tuple[Brand, ...]:
    """The bundled brands owning the cleaned ``name``: a domain of theirs is ``name`` or a parent of it."""
    index = _bundled_domain_index()
    positions = sorted({position for parent in _self_and_parents(name) for position in index.get(parent, ())})
    bundled = brands()
    return tuple(bundled[position] for position in positions)


def owners(name: str, brand_list: Iterable[Brand] | None = None) -> tuple[Brand, ...]:
    """Every brand that owns ``name`` (see :meth:`Brand.owns`), in list order (default: the bundled brands).

    For the bundled brands this is a lookup of ``name`` and its parents among
    their domains, cached per name, rather than a question to every brand.
    """
    if brand_list is None:
        return _bundled_owners(_clean_name(name))
    return tuple(brand for brand in brand_list if brand.owns(name))


def country_site_brand(name: str) -> Brand | None:
    """The bundled brand whose official domain with a country's suffix after it is ``name``'s registered domain
    (``hsbc.com.sg`` for ``hsbc.com``, ``paypal.com.au`` for ``paypal.com``), when the brand does not list it.

    Such names are mostly the brand's own country sites, which the brand data cannot list one by one:
    the page detectors do not read a brand's login on them as impersonation, and the publishing guards
    never block them (``brand-country-site``). The URL detector still scores the brand's token in them,
    below publishing, so that a fraud on an open country registry stays visible for review.
    """
    return _country_site_brand(_clean_name(name))


@functools.lru_cache(maxsize=HOST_CACHE_SIZE)
def _country_site_brand(name: str) -> Brand | None:
    base, _, country = registrable_domain(name).rpartition(".")
    if len(country) != 2 or not country.isalpha() or not base:
        return None
    positions = _bundled_domain_index().get(base)
    if not positions:
        return None
    brand = brands()[positions[0]]
    return None if brand.owns(name) else brand


def brand_for_domain(name: str, brand_list: Iterable[Brand] | None = None) -> Brand | None:
    """The brand that owns ``name`` (or a parent of it), the first in list order, or ``None``."""
    if brand_list is None:
        found = _bundled_owners(_clean_name(name))
        return found[0] if found else None
    return next((brand for brand in brand_list if brand.owns(name)), None)


def is_shared_platform_apex(name: str, platforms: frozenset[str] | None = None) -> bool:
    """True when ``name`` itself is a shared platform apex such as ``github.io``."""
    return _clean_name(name) in (shared_platforms() if platforms is None else platforms)


def shared_platform_of(name: str, platforms: frozenset[str] | None = None) -> str | None:
    """The shared platform apex ``name`` is a tenant of (strictly under), or ``None``."""
    known = shared_platforms() if platforms is None else platforms
    return next((parent for parent in _self_and_parents(name)[1:] if parent in known), None)


def is_allowlisted(
    name: str, allowed: frozenset[str] | None = None, platforms: frozenset[str] | None = None
) -> bool:
    """True when ``name`` or a parent of it is allowlisted.

    Suffix-aware (``www.icbc.com.cn`` through ``icbc.com.cn``), but never across
    a shared platform boundary: a tenant such as ``evil.sites.google.com`` is not
    vouched for by ``google.com``.
    """
    allowed = allowlist() if allowed is None else allowed
    known_platforms = shared_platforms() if platforms is None else platforms
    for index, candidate in enumerate(_self_and_parents(name)):
        if index and candidate in known_platforms:
            return False
        if candidate in allowed:
            return True
    return False
