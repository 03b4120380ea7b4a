"""The list compiler: the same entries and refusals as compiling item by item, at the speed of a name list."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from fraudwall.blocklists.guards import SUBTREE_REFUSAL, PublishGuard
from fraudwall.entries import CompiledEntries, sort_key
from fraudwall.exporters import ExportMeta, get_exporter
from fraudwall.list_compiler import compile_lists
from fraudwall.lists import ListRead, iter_lists
from fraudwall.models import Action, BlockEntry, Scope
from fraudwall.rejections import Rejections


def _one_by_one(
    paths: list[str], guard: PublishGuard, trusted: Collection[str] = (),
) -> tuple[list[BlockEntry], Rejections]:
    """The compiler's rules applied item by item: the reference the column-wise compiler must match."""
    listed = ListRead()
    entries: list[BlockEntry] = []
    refused = Rejections()
    seen: set[tuple[str, str, Action]] = set()
    verdicts: dict[str, str | None] = {}
    subtrees: set[str] = set()
    for item in iter_lists(paths, listed, trusted_exceptions=trusted):
        if item.scope is Scope.SUBTREE and item.action is Action.BLOCK:
            subtrees.add(item.name)  # however often the name was read before
        key = (item.name, item.url, item.action)
        if key in seen:
            continue
        seen.add(key)
        details = {"categories": item.categories, "first_seen": item.first_seen, "sources": (item.source,)}
        if item.url:
            entries.append(BlockEntry(name=item.name, url=item.url, **details))
            if (item.name, "", item.action) in seen:
                continue
            seen.add((item.name, "", item.action))
        if item.action is Action.ALLOW:
            entries.append(BlockEntry(name=item.name, scope=item.scope, action=Action.ALLOW, **details))
            continue
        if item.name in verdicts:
            continue
        verdicts[item.name] = None  # decided below, once every list's scope for the name is known
        entries.append(BlockEntry(name=item.name, scope=item.scope, **details))
    blocks: list[BlockEntry] = []
    for entry in entries:
        if entry.url or entry.action is Action.ALLOW:
            continue
        scope = Scope.SUBTREE if entry.name in subtrees else entry.scope
        verdicts[entry.name] = guard.refusal(entry.name, subtree=scope is Scope.SUBTREE)
        if verdicts[entry.name] == SUBTREE_REFUSAL:  # narrowed to the name alone, and counted
            refused.add(f"||{entry.name}^", SUBTREE_REFUSAL)
            verdicts[entry.name] = None
            scope = Scope.EXACT
        if verdicts[entry.name]:
            refused.add(entry.name, verdicts[entry.name] or "")
        else:
            blocks.append(replace(entry, scope=scope))
    others: list[BlockEntry] = []
    url_refused = Rejections()
    for entry in entries:
        if entry.url and (reason := guard.url_refusal(entry.url, verdicts.get(entry.name))):
            url_refused.add(entry.url, reason)
        elif entry.url or entry.action is Action.ALLOW:
            others.append(entry)
    refused.merge(url_refused)
    refused.merge(listed.rejected)
    return others + blocks, refused


def _write(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_same_entries_as_item_by_item(tmp_path: Path) -> None:
    """Plain runs, subtrees (widening a name read exact before), exceptions, URLs, hosts lines, repeats across
    files, refusals (subtrees over public suffixes, broad URLs on allowlisted sites): as item by item."""
    first = _write(tmp_path / "first.txt", [
        "kefu-refund.top", "KEFU-REFUND.top", "||loan-unfreeze.xyz^", "loan-unfreeze.xyz", "shared.example.net",
        "0.0.0.0 hosts-line.top", "https://icbc-verify.github.io/login.html", "https://phish-host.top/a",
        "@@||help.loan-unfreeze.xyz^", "工商银行-kefu.top", "github.io", "com.cn", "www.icbc.com.cn",
        "# a comment", "", "a.b.c.deep-name.top", ".subtree-by-dot.top", "bad..name.top", "localhost",
        "https://www.icbc.com.cn/", "https://www.icbc.com.cn/upload/notice/kefu.html", "amazonaws.com",
        "||core.windows.net^", "widened-later.top",
    ])
    second = _write(tmp_path / "second.txt", [
        "shared.example.net", "||shared.example.net^", "phish-host.top", "||kefu-refund.top^", "only-second.top",
        "loan-unfreeze.xyz", "new-name.top", "help.loan-unfreeze.xyz", "||widened-later.top^", "||amazonaws.com^",
    ])
    # A file with the same name in another folder: the same source, read later.
    (tmp_path / "again").mkdir()
    third = _write(tmp_path / "again" / "first.txt", ["||new-name.top^", "third-only.top", "kefu-refund.top"])
    paths = [first, second, third]
    guard = PublishGuard.from_files(())
    # The first file is trusted for exceptions, so its @@ rule is an exception entry to compare.
    selection = compile_lists(paths, guard, trusted=[first])
    expected, refused = _one_by_one(paths, guard, trusted=[first])
    assert isinstance(selection.entries, CompiledEntries)
    assert sorted(selection.entries, key=repr) == sorted(expected, key=repr)
    assert selection.refused.counts == refused.counts
    assert {"broad-url-on-allowlisted-site", "subtree-over-public-suffix"} <= set(refused.counts)
    assert BlockEntry("widened-later.top", Scope.SUBTREE, sources=("list:first.txt",)) in expected
    assert BlockEntry("help.loan-unfreeze.xyz", Scope.SUBTREE, Action.ALLOW, sources=("list:first.txt",)) in expected
    # Read exact, then as a subtree over public suffixes: the subtree is refused, the name stays blocked.
    assert BlockEntry("amazonaws.com", Scope.EXACT, sources=("list:first.txt",)) in expected
    names = selection.entries.blocks.names
    assert names == sorted(set(names), key=sort_key)


def test_a_plain_list_is_one_uniform_table(tmp_path: Path) -> None:
    """A plain list compiles to one table: each name once, every row sharing one details object."""
    path = _write(tmp_path / "list.txt", [f"name-{n}.shuadan.top" for n in range(5000)] + ["name-7.shuadan.top"])
    selection = compile_lists([path], PublishGuard.from_files(()))
    table = selection.entries.blocks  # type: ignore[attr-defined]
    assert len(table) == 5000 and not selection.entries.others  # type: ignore[attr-defined]
    assert len({id(details) for details in table.details}) == 1
    assert table[0] == BlockEntry(table.names[0], sources=("list:list.txt",))


def test_an_exception_in_one_feed_never_unblocks_another(tmp_path: Path) -> None:
    """One feed blocks x.top; another, plain-looking, holds ``@@||x.top^``. Nobody trusted that feed for
    allowing, so x.top stays blocked and the exception is one ``untrusted-exception`` (it used to allow
    x.top for every feed)."""
    blocking = _write(tmp_path / "blocking.txt", ["x.top", "y.top"])
    other = _write(tmp_path / "other.txt", ["z.top", "@@||x.top^"])
    selection = compile_lists([blocking, other], PublishGuard.from_files(()))
    assert [(entry.name, entry.action) for entry in selection.entries] == [
        ("x.top", Action.BLOCK), ("y.top", Action.BLOCK), ("z.top", Action.BLOCK)]
    assert dict(selection.refused.counts) == {"untrusted-exception": 1}
    assert selection.refused.samples == [("other.txt:2: @@||x.top^", "untrusted-exception")]


def test_a_trusted_abp_list_still_makes_exceptions(tmp_path: Path) -> None:
    """An ABP/AdGuard list given as trusted for exceptions allows what it excepts: its ``@@`` rule is an allow
    entry beside the other feed's block, and the adblock format renders it as its exception."""
    blocking = _write(tmp_path / "blocking.txt", ["||x.top^", "y.top"])
    allowing = _write(tmp_path / "allow.txt", ["[Adblock Plus 2.0]", "@@||help.x.top^"])
    selection = compile_lists([blocking, allowing], PublishGuard.from_files(()), trusted=[allowing])
    assert BlockEntry("help.x.top", Scope.SUBTREE, Action.ALLOW, sources=("list:allow.txt",)) in list(selection.entries)
    assert BlockEntry("x.top", Scope.SUBTREE, sources=("list:blocking.txt",)) in list(selection.entries)
    assert not selection.refused
    meta = ExportMeta("trusted", datetime(2026, 1, 1, tzinfo=UTC))
    rendered = get_exporter("adblock").render(selection.entries, meta)
    assert [line for line in rendered.splitlines() if not line.startswith("!")] == [
        "||x.top^", "@@||help.x.top^", "|y.top^"]
