"""The list compiler: list and feed files in, guarded block entries out.

Orchestration, like the CLI and the pipelines: it wires the feed readers
(:mod:`fraudwall.crawler.feeds`) to the publishing guards
(:mod:`fraudwall.blocklists.guards`), so that ``fraudwall export --input``
works without a database.
"""

from __future__ import annotations

from collections.abc import Sequence

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.blocklists.selection import Selection
from fraudwall.crawler.feeds import ListRead, iter_lists
from fraudwall.models import Action, BlockEntry


def compile_lists(paths: Sequence[str], guard: PublishGuard) -> Selection:
    """Block entries from list and feed files, guarded.

    A feed URL yields a URL-level entry (for URL-matching formats) and a block of
    its host, unless the guards refuse the host: fraud on a shared platform or
    an allowlisted site is then published by URL only.
    """
    listed = ListRead()
    selection = Selection()
    seen: set[tuple[str, str, Action]] = set()
    refused: dict[str, str | None] = {}
    for item in iter_lists(paths, listed):
        key = (item.name, item.url, item.action)
        if key in seen:
            continue
        seen.add(key)
        details = {"categories": item.categories, "first_seen": item.first_seen, "sources": (item.source,)}
        if item.url:
            selection.entries.append(BlockEntry(name=item.name, url=item.url, **details))
            if (item.name, "", item.action) in seen:
                continue
            seen.add((item.name, "", item.action))
        if item.action is Action.ALLOW:
            selection.entries.append(BlockEntry(name=item.name, scope=item.scope, action=Action.ALLOW, **details))
            continue
        if item.name not in refused:
            refused[item.name] = guard.refusal(item.name)
            if refused[item.name]:
                selection.refused.add(item.name, refused[item.name] or "")
        if not refused[item.name]:
            selection.entries.append(BlockEntry(name=item.name, scope=item.scope, **details))
    selection.refused.merge(listed.rejected)
    return selection
