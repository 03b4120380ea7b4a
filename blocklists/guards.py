"""Publishing guards: names that must never reach a blocklist.

A bad entry can block a bank for millions of people, so every candidate passes
these checks before selection hands it to an exporter: not an IP address (an
address is no name: what was found there is published by URL), not a public
suffix, not at or below a special-use domain (``.local``, ``.onion``, ``.test``,
...: no public site lives there, and local names do), not the apex of a shared
platform (fraud on ``github.io`` is blocked by its own subdomain or URL), not
an allowlisted site (suffix-aware: ``www.icbc.com.cn`` is covered by
``icbc.com.cn``), not a protected brand's official domain under a country's
suffix (``hsbc.com.sg``: mostly its own country site), and no subtree that
holds a public suffix or a platform below it (``||amazonaws.com^`` would block
every site on ``s3.amazonaws.com``):
:data:`SUBTREE_REFUSAL` refuses the subtree, and callers block the name alone
instead, counted under that reason. URL-level entries on an allowlisted site
must name one page (:meth:`PublishGuard.url_refusal`). Selection from the store
and the list compiler apply them through one function,
:func:`~fraudwall.blocklists.selection.guard_selection`. The reference data
behind them is shared with the detectors (:mod:`fraudwall.reference`); users
add their own allowlist files with the ``ALLOWLIST_FILES`` setting
(``--allowlist FILE``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from fraudwall import reference
from fraudwall.exceptions import ConfigError, InvalidName
from fraudwall.entries import find, sort_key, subtree
from fraudwall.names import (
    SPECIAL_USE_DOMAINS,
    is_ip_literal,
    is_public_suffix,
    normalize_name,
    parent_names,
    public_suffix_indexes,
    public_suffix_parents,
    special_use_domain,
)
from fraudwall.settings import Settings


#: The refusal of a protected brand's official domain under a country's suffix (``hsbc.com.sg``): mostly the
#: brand's own country site, which its data does not list (:func:`fraudwall.reference.country_site_brand`).
BRAND_COUNTRY_SITE = "brand-country-site"

#: The refusal of a subtree that holds a public suffix or a platform below it: the name itself may
#: still be blocked, exactly, and callers narrow the entry to that.
SUBTREE_REFUSAL = "subtree-over-public-suffix"
#: Refusals of a whole site someone runs, where a URL entry may still name one page of it.
_SITE_REFUSALS = ("allowlisted", BRAND_COUNTRY_SITE)


class PublishGuard:
    """Decides, for a normalised name, whether it may be published, and why not."""

    def __init__(self, allowed: frozenset[str], platforms: frozenset[str]) -> None:
        self.allowed = allowed
        self.platforms = platforms
        # Names whose subtree holds a public suffix or a shared platform: never blocked as a subtree.
        platform_parents = {parent for platform in platforms for parent in parent_names(platform)}
        self.shared_parents = public_suffix_parents() | {
            parent for parent in platform_parents if not is_public_suffix(parent)}

    @classmethod
    def from_files(cls, allowlist_files: Sequence[str | Path] = ()) -> PublishGuard:
        """The bundled allowlist and shared platforms, plus the user's allowlist files.

        A ``.toml`` file follows the schema of ``fraudwall/data/allowlist.toml``;
        any other file is a plain list, one name per line, ``#`` comments.
        """
        toml = [path for path in allowlist_files if str(path).endswith(".toml")]
        plain = [Path(path) for path in allowlist_files if not str(path).endswith(".toml")]
        allowed = set(reference.allowlist(toml))
        for path in plain:
            allowed.update(_read_plain_allowlist(path))
        return cls(frozenset(allowed), reference.shared_platforms())

    @classmethod
    def from_settings(cls, settings: Settings) -> PublishGuard:
        return cls.from_files(settings.getlist("ALLOWLIST_FILES"))

    def refusal(self, name: str, *, subtree: bool = False) -> str | None:
        """Why ``name`` (lowercase A-labels, already validated, or an IP address) must not be blocked,
        as a ``subtree`` or the name alone; ``None`` if it may be.

        An address is no name (``ip-literal``): an IP set would block every site on it, so what was
        found there is published by URL.
        """
        if is_ip_literal(name):
            return "ip-literal"
        if is_public_suffix(name):
            return "public-suffix"
        if special_use_domain(name) is not None:
            return "special-use"
        if name in self.platforms:
            return "shared-platform-apex"
        if reference.is_allowlisted(name, self.allowed, self.platforms):
            return "allowlisted"
        if reference.country_site_brand(name) is not None:
            return BRAND_COUNTRY_SITE
        if subtree and name in self.shared_parents:
            return SUBTREE_REFUSAL
        return None

    def refusals(self, names: Sequence[str], subtrees: Sequence[int] | None = None) -> Iterator[tuple[int, str]]:
        """``(index, reason)`` for each name :meth:`refusal` refuses among ``names``, which are in export order.

        ``subtrees`` holds a true value for each name blocked as a subtree
        (an :class:`~fraudwall.entries.EntryTable`'s scope column); without it
        every name is taken alone.

        For lists of millions: only an address, a name that is a public suffix,
        a shared platform, a parent of either, or at or below a special-use or
        allowlisted name can be refused, and set intersections and binary
        searches (:mod:`fraudwall.entries`) find those few; :meth:`refusal`
        then decides each, so the answers are exactly its own.
        """
        candidates = public_suffix_indexes(names)
        candidates.update(_address_candidates(names))
        lookups = self.platforms | self.shared_parents if subtrees is not None else self.platforms
        candidates.update(index for name in lookups.intersection(names) if (index := find(names, name)) is not None)
        for name in SPECIAL_USE_DOMAINS:
            candidates.update(subtree(names, name))
        for name in self.allowed:
            candidates.update(subtree(names, name))
        for index in sorted(candidates):
            reason = self.refusal(names[index], subtree=bool(subtrees[index]) if subtrees is not None else False)
            if reason is not None:
                yield index, reason

    def url_refusal(self, url: str, host_refusal: str | None) -> str | None:
        """Why a URL-level entry must not be published, given what :meth:`refusal` said of its host.

        Fraud on an allowlisted site (a form on ``docs.google.com``, a page on a
        compromised subdomain) is published by URL only, and only where the URL
        names one page: a front page, or one path segment without a query
        (``https://www.google.com/search``), would block the site itself for
        everyone behind a URL-matching gateway.
        """
        if host_refusal not in (*_SITE_REFUSALS, "public-suffix"):
            return None
        split = urlsplit(url)
        # gov.uk is a public suffix first and allowlisted too: its front page is no more to block.
        on_allowlisted_site = host_refusal in _SITE_REFUSALS or reference.is_allowlisted(
            (split.hostname or "").rstrip("."), self.allowed, self.platforms)
        return "broad-url-on-allowlisted-site" if on_allowlisted_site and _names_whole_site(split) else None


def _address_candidates(names: Sequence[str]) -> Iterator[int]:
    """The indexes among ``names`` (in export order) where an IP address may be.

    An IPv4 address's key starts with its last number, and a key that starts
    with a digit sorts before every name whose top label starts with a letter:
    they are all at the front, found by binary search. An IPv6 address is
    anywhere, but only it has a colon; one search of all the names joined
    (at C speed) says whether there is one to look for.
    """
    front = bisect.bisect_left(names, "a", key=sort_key)
    yield from range(front)
    if ":" in "\n".join(names[front:]):
        yield from (index for index in range(front, len(names)) if ":" in names[index])


def _names_whole_site(split: SplitResult) -> bool:
    """True when a URL has no query and at most one path segment: it stands for much of its site."""
    return not split.query and len([segment for segment in split.path.split("/") if segment]) < 2


def _read_plain_allowlist(path: Path) -> set[str]:
    """Names from a plain allowlist file; a bad line is a configuration error, not skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read allowlist {path}: {exc}") from exc
    names = set()
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            names.add(normalize_name(text, allow_underscore=True))
        except InvalidName as exc:
            raise ConfigError(f"{path}:{number}: not a domain name ({exc.reason}): {text[:80]!r}") from exc
    return names
