"""Choose what to publish: malicious hosts, guarded, with their scope.

Verdicts are per page URL; blocklists carry names. A host is selected when any
of its pages (or the host itself) has a verdict in the wanted statuses. Scope
is decided here, once, and every exporter renders it faithfully:

* a host that *is* its registered domain (``task-rebate.top``) is blocked as a
  subtree: throw-away fraud domains put every subdomain to the same use;
* a host below its registered domain (``shop.example.com``) is blocked exactly,
  because its parent may be someone else's legitimate site.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from fraudwall.blocklists.guards import refusal
from fraudwall.blocklists.store import Store
from fraudwall.models import BlockEntry, Scope, VerdictStatus
from fraudwall.names import is_ip_literal, registrable_domain
from fraudwall.rejections import Rejections


@dataclass
class Selection:
    """Entries to publish, and the candidates refused with their reasons."""

    entries: list[BlockEntry] = field(default_factory=list)
    refused: Rejections = field(default_factory=Rejections)


def scope_for(name: str) -> Scope:
    """Subtree for a registered domain itself, exact for anything below it."""
    return Scope.SUBTREE if registrable_domain(name) == name else Scope.EXACT


def select_entries(store: Store, statuses: Sequence[str] = (VerdictStatus.MALICIOUS.value,)) -> Selection:
    """Block entries for every host with a verdict in ``statuses``, after the guards."""
    by_host: dict[str, list[dict]] = {}
    for row in store.verdicts(statuses):
        by_host.setdefault(row["host"], []).append(row)
    selection = Selection()
    for host, rows in sorted(by_host.items()):
        reason = "ip-literal" if is_ip_literal(host) else refusal(host)
        if reason:
            selection.refused.add(host, reason)
            continue
        categories = sorted({c for row in rows for c in json.loads(row["categories"])})
        detectors = sorted({f["detector"] for row in rows for f in json.loads(row["top_findings"])})
        selection.entries.append(
            BlockEntry(
                name=host,
                scope=scope_for(host),
                categories=tuple(categories),
                confidence=max(row["score"] for row in rows),
                first_seen=min(datetime.fromisoformat(row["first_seen"]) for row in rows),
                last_seen=max(datetime.fromisoformat(row["updated_at"]) for row in rows),
                sources=tuple(f"detector:{name}" for name in detectors),
            )
        )
    return selection
