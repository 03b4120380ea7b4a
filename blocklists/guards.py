"""Publishing guards: names that must never reach a blocklist.

A bad entry can block a bank for millions of people, so every candidate passes
these checks, in order, before selection hands it to an exporter: a valid
name, not a public suffix, not the apex of a shared platform (fraud on
``github.io`` is blocked by its own subdomain), not an allowlisted site. The
reference data behind them is shared with the detectors (:mod:`fraudwall.reference`).
"""

from __future__ import annotations

from fraudwall import reference
from fraudwall.exceptions import InvalidName
from fraudwall.names import is_public_suffix, normalize_name


def refusal(name: str) -> str | None:
    """Why ``name`` must not be blocked, as a countable reason; ``None`` if it may be."""
    try:
        normalized = normalize_name(name, allow_underscore=True)
    except InvalidName as exc:
        return exc.reason
    if is_public_suffix(normalized):
        return "public-suffix"
    if reference.is_shared_platform_apex(normalized):
        return "shared-platform-apex"
    if reference.is_allowlisted(normalized):
        return "allowlisted"
    return None
