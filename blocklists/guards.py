"""Publishing guards: names that must never reach a blocklist.

A bad entry can block a bank for millions of people, so every candidate passes
these checks before selection hands it to an exporter: not a public suffix,
not at or below a special-use domain (``.local``, ``.onion``, ``.test``, ...: no
public site lives there, and local names do), not the apex of a shared platform (fraud on ``github.io`` is blocked by its own
subdomain or URL), not an allowlisted site (suffix-aware: ``www.icbc.com.cn``
is covered by ``icbc.com.cn``). The reference data behind them is shared with
the detectors (:mod:`fraudwall.reference`); users add their own allowlist
files with the ``ALLOWLIST_FILES`` setting (``--allowlist FILE``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from fraudwall import reference
from fraudwall.exceptions import ConfigError, InvalidName
from fraudwall.entries import find, subtree
from fraudwall.names import (
    SPECIAL_USE_DOMAINS,
    is_public_suffix,
    normalize_name,
    public_suffix_indexes,
    special_use_domain,
)
from fraudwall.settings import Settings


class PublishGuard:
    """Decides, for a normalised name, whether it may be published, and why not."""

    def __init__(self, allowed: frozenset[str], platforms: frozenset[str]) -> None:
        self.allowed = allowed
        self.platforms = platforms

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

    def refusal(self, name: str) -> str | None:
        """Why ``name`` (lowercase A-labels, already validated) must not be blocked; ``None`` if it may be."""
        if is_public_suffix(name):
            return "public-suffix"
        if special_use_domain(name) is not None:
            return "special-use"
        if name in self.platforms:
            return "shared-platform-apex"
        if reference.is_allowlisted(name, self.allowed, self.platforms):
            return "allowlisted"
        return None

    def refusals(self, names: Sequence[str]) -> Iterator[tuple[int, str]]:
        """``(index, reason)`` for each name :meth:`refusal` refuses among ``names``, which are in export order.

        For lists of millions: only a name that is a public suffix, a shared
        platform, or at or below a special-use or allowlisted name can be refused, and binary
        searches (:mod:`fraudwall.entries`) find those few; :meth:`refusal`
        then decides each, so the answers are exactly its own.
        """
        candidates = public_suffix_indexes(names)
        candidates.update(index for name in self.platforms.intersection(names) if (index := find(names, name)) is not None)
        for name in SPECIAL_USE_DOMAINS:
            candidates.update(subtree(names, name))
        for name in self.allowed:
            candidates.update(subtree(names, name))
        for index in sorted(candidates):
            reason = self.refusal(names[index])
            if reason is not None:
                yield index, reason


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
