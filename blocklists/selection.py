"""Choose what to publish: fraudulent hosts (or URLs), guarded, with their scope.

Verdicts are per page URL; blocklists carry names. A host is selected when one
of its pages has a verdict that passes the filters (statuses, minimum score,
categories, since). Scope is decided here, once, and every exporter renders it
faithfully:

* a host that *is* its registered domain (``task-rebate.top``) is blocked as a
  subtree: throw-away fraud domains put every subdomain to the same use;
* a host below its registered domain (``shop.example.com``) is blocked exactly,
  because its parent may be someone else's legitimate site.

A host the guards refuse because it is allowlisted or a shared platform's apex
is not silently dropped: its fraudulent pages are published as URL-level
entries, which only URL-matching formats (Squid, Suricata, threat intel) carry;
on an allowlisted site, only URLs that name one page
(:meth:`~fraudwall.blocklists.guards.PublishGuard.url_refusal`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from fraudwall.blocklists.guards import SUBTREE_REFUSAL, PublishGuard
from fraudwall.blocklists.store import Store
from fraudwall.models import BlockEntry, Scope, VerdictStatus
from fraudwall.names import is_ip_literal, registrable_domain
from fraudwall.rejections import Rejections

#: Refusals after which a host's pages are still published by URL. A host that is an address is
#: published by URL too; the exporters take URLs on public IPv4 addresses only
#: (:func:`~fraudwall.names.url_address`) and count the others.
URL_FALLBACK_REASONS = frozenset({"allowlisted", "public-suffix", "shared-platform-apex", "ip-literal"})


@dataclass(frozen=True, slots=True)
class SelectionFilter:
    """Which verdicts to publish."""

    statuses: tuple[str, ...] = (VerdictStatus.MALICIOUS.value,)
    min_score: float = 0.0
    categories: tuple[str, ...] = ()  # any of these; empty means all
    since: datetime | None = None  # verdicts updated at or after this time


@dataclass
class Selection:
    """Entries to publish, and the candidates refused with their reasons."""

    # A list when selected from the store; the list compiler hands in a compact
    # column-backed sequence, which exporters read the same way.
    entries: Sequence[BlockEntry] = field(default_factory=list)
    refused: Rejections = field(default_factory=Rejections)


def scope_for(name: str) -> Scope:
    """Subtree for a registered domain itself, exact for anything below it."""
    return Scope.SUBTREE if registrable_domain(name) == name else Scope.EXACT


def _rows(store: Store, wanted: SelectionFilter) -> list[dict[str, Any]]:
    rows = []
    for row in store.verdicts(wanted.statuses):
        if row["score"] < wanted.min_score:
            continue
        if wanted.since and datetime.fromisoformat(row["updated_at"]) < wanted.since.astimezone(timezone.utc):
            continue
        categories = json.loads(row["categories"])
        if wanted.categories and not set(categories) & set(wanted.categories):
            continue
        rows.append({**row, "categories": categories, "top_findings": json.loads(row["top_findings"])})
    return rows


def _entry(name: str, rows: list[dict[str, Any]], addresses: tuple[str, ...], url: str = "") -> BlockEntry:
    return BlockEntry(
        name=name,
        scope=Scope.EXACT if url else scope_for(name),
        categories=tuple(sorted({c for row in rows for c in row["categories"]})),
        confidence=max(row["score"] for row in rows),
        first_seen=min(datetime.fromisoformat(row["first_seen"]) for row in rows),
        last_seen=max(datetime.fromisoformat(row["updated_at"]) for row in rows),
        sources=tuple(sorted({f"detector:{f['detector']}" for row in rows for f in row["top_findings"]})),
        url=url,
        addresses=addresses,
    )


def select_entries(store: Store, guard: PublishGuard, wanted: SelectionFilter = SelectionFilter()) -> Selection:
    """Block entries for every host with a verdict that passes ``wanted``, after the guards."""
    by_host: dict[str, list[dict[str, Any]]] = {}
    for row in _rows(store, wanted):
        by_host.setdefault(row["host"], []).append(row)
    addresses = store.addresses_by_host()
    entries: list[BlockEntry] = []
    refused = Rejections()
    for host, rows in sorted(by_host.items()):
        reason = "ip-literal" if is_ip_literal(host) else guard.refusal(host, subtree=scope_for(host) is Scope.SUBTREE)
        if reason is None:
            entries.append(_entry(host, rows, addresses.get(host, ())))
            continue
        if reason == SUBTREE_REFUSAL:  # the subtree holds a public suffix: the host alone is blocked
            refused.add(host, reason)
            entries.append(replace(_entry(host, rows, addresses.get(host, ())), scope=Scope.EXACT))
            continue
        refused.add(host, reason)
        if reason in URL_FALLBACK_REASONS:
            for row in rows:
                url_reason = guard.url_refusal(row["subject"], reason)
                if url_reason is None:
                    entries.append(_entry(host, [row], (), url=row["subject"]))
                else:
                    refused.add(row["subject"], url_reason)
    return Selection(entries, refused)
