"""Entries by column: the export order, ordering and de-duplication, lookups, and the bulk name checks."""

from __future__ import annotations

import random

import pytest

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.entries import (
    SUBTREE,
    CompiledEntries,
    Details,
    EntryTable,
    find,
    keys_in_place,
    names_in_place,
    ordered_table,
    sort_key,
    subtree,
    union,
)
from fraudwall.exceptions import InvalidName
from fraudwall.models import Action, BlockEntry, Scope
from fraudwall.names import (
    is_public_suffix,
    normalize_name,
    plain_name_lines,
    public_suffix_indexes,
    unplain_name_indexes,
)

NAMES = [
    "b.example.org", "www.a.example.com", "a.example.com", "z.example.com", "example.net",
    "example-x.com", "example.com", "x.example-x.com", "_dmarc.example.com", "a-b.example.com",
]


def _random_names(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    labels = ["a", "b", "a-b", "ab", "b-a", "example", "example-x", "x", "_u", "0", "com", "top"]
    return [".".join(rng.choice(labels) for _ in range(rng.randint(2, 4))) for _ in range(count)]


def test_sort_key_orders_as_tuples_of_labels() -> None:
    """Comparing keys compares labels from the root one by one: a parent first, then its whole subtree."""
    names = _random_names(3000)
    assert sorted(names, key=sort_key) == sorted(names, key=lambda name: name.split(".")[::-1])
    ordered = sorted(set(names), key=sort_key)
    for index, name in enumerate(ordered):  # a name's subtree follows it without a gap
        below = [other for other in ordered[index + 1:] if other.endswith("." + name)]
        assert ordered[index + 1:index + 1 + len(below)] == below


def test_keys_in_place_round_trip() -> None:
    names = _random_names(1000)
    keys = list(names)
    keys_in_place(keys, chunk=64)
    assert keys == [sort_key(name) for name in names]
    names_in_place(keys)
    assert keys == names


def test_ordered_table_sorts_and_keeps_the_first_row_per_name() -> None:
    names = _random_names(2000)
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        first.setdefault(name, index)
    expected = sorted(first, key=sort_key)
    uniform = ordered_table(list(names), bytearray(len(names)), [Details()] * len(names), Action.BLOCK)
    assert uniform.names == expected
    # Rows that differ: the first row of each name wins, with its scope and details.
    details = [Details(sources=(str(index),)) for index in range(len(names))]
    scopes = bytearray(index % 2 for index in range(len(names)))
    mixed = ordered_table(list(names), scopes, details, Action.BLOCK)
    assert mixed.names == expected
    assert [d.sources[0] for d in mixed.details] == [str(first[name]) for name in expected]
    assert list(mixed.scopes) == [first[name] % 2 for name in expected]


def test_table_rows_are_entries() -> None:
    details = Details(categories=("investment",), sources=("list:x",))
    table = EntryTable(["a.example.com", "b.example.com"], bytearray([0, SUBTREE]), [details, details], Action.ALLOW)
    assert list(table) == [
        BlockEntry("a.example.com", Scope.EXACT, Action.ALLOW, categories=("investment",), sources=("list:x",)),
        BlockEntry("b.example.com", Scope.SUBTREE, Action.ALLOW, categories=("investment",), sources=("list:x",)),
    ]
    assert table[-1] == list(table)[-1] and table[1:].names == ["b.example.com"]
    assert EntryTable.from_entries(table, Action.ALLOW).names == table.names
    assert table.without([0]).names == ["b.example.com"] and table.without([]) is table
    assert table.subtree_count() == 1
    with pytest.raises(ValueError):
        EntryTable(["a.example.com"], bytearray(), [], Action.BLOCK)


def test_without_drops_exactly_the_rows_given() -> None:
    names = sorted(set(_random_names(500)), key=sort_key)
    table = EntryTable.uniform(names, Details())
    dropped = {0, 3, 4, len(names) - 1}
    kept = table.without(dropped)
    assert kept.names == [name for index, name in enumerate(names) if index not in dropped]
    assert len(kept.scopes) == len(kept.details) == len(kept.names)


def test_find_and_subtree() -> None:
    names = sorted(set(NAMES), key=sort_key)
    for name in NAMES:
        assert names[find(names, name)] == name  # type: ignore[index]
    assert find(names, "missing.example.com") is None
    below = sorted(names[index] for index in subtree(names, "example.com"))
    assert below == sorted(name for name in NAMES if name == "example.com" or name.endswith(".example.com"))
    assert list(subtree(names, "nothing.test")) == []


def test_union_walks_both_tables_in_order() -> None:
    blocked = EntryTable.uniform(sorted(set(_random_names(300, seed=1)), key=sort_key), Details())
    allowed = EntryTable.uniform(sorted(set(_random_names(40, seed=2)), key=sort_key), Details(), Action.ALLOW)
    rows = list(union(blocked, allowed))
    names = [name for name, _, _ in rows]
    assert names == sorted(set(blocked.names) | set(allowed.names), key=sort_key)
    for name, block, allow in rows:
        assert (block >= 0) == (name in blocked.names) and (allow >= 0) == (name in allowed.names)
        assert block < 0 or blocked.names[block] == name
        assert allow < 0 or allowed.names[allow] == name


def test_compiled_entries_is_a_sequence_of_every_entry() -> None:
    other = BlockEntry("ok.example.com", action=Action.ALLOW)
    compiled = CompiledEntries(EntryTable.uniform(["a.example.com"], Details()), [other])
    assert list(compiled) == [other, BlockEntry("a.example.com")]
    assert len(compiled) == 2 and compiled[-1] == BlockEntry("a.example.com") and compiled[0] == other


@pytest.mark.parametrize("allow_underscore", [False, True])
def test_plain_name_lines_accepts_only_what_normalize_name_keeps(allow_underscore: bool) -> None:
    """The bulk check says yes only when every name would come back from normalize_name unchanged."""
    rng = random.Random(3)
    alphabet = "ab9-_.X"
    for _ in range(20000):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
        if rng.random() < 0.02:
            name = "a" * rng.randint(60, 66) + "." + name
        if rng.random() < 0.02:
            name = "xn--" + name
        try:
            unchanged = normalize_name(name, allow_underscore=allow_underscore) == name
        except InvalidName:
            unchanged = False
        if plain_name_lines([name], allow_underscore=allow_underscore):
            assert unchanged, name
    long_name = ".".join(["a" * 63] * 4)
    assert not plain_name_lines([long_name]) and plain_name_lines([])
    assert plain_name_lines(["a.example.com", "b.example.top"])
    assert not plain_name_lines(["a.example.com", "B.example.top"])


@pytest.mark.parametrize(("allow_underscore", "max_length"), [(False, 253), (True, 253), (True, 12)])
def test_unplain_name_indexes_are_the_names_plain_name_lines_refuses(allow_underscore: bool, max_length: int) -> None:
    """One pass over many names finds exactly the names the one-name check refuses, or that are too long."""
    rng = random.Random(5)
    alphabet = "ab9-_.X"
    for _ in range(300):
        lines = []
        for _ in range(rng.randint(0, 40)):
            name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
            if rng.random() < 0.05:
                name = "xn--" + name
            lines.append(name if rng.random() < 0.3 else f"{name.strip('._-') or 'a'}.example.com")
        if lines and rng.random() < 0.1:
            lines[rng.randrange(len(lines))] += "\nlocal-zone: x"  # a line break inside a name
        expected = [index for index, line in enumerate(lines)
                    if not plain_name_lines([line], allow_underscore=allow_underscore) or len(line) > max_length]
        assert unplain_name_indexes(lines, allow_underscore=allow_underscore, max_length=max_length) == expected


def test_plain_name_lines_refuses_a_name_holding_a_line_break() -> None:
    """Joined one per line, "a.com\\nb.com" would read as two good names."""
    assert not plain_name_lines(["a.example.com\nb.example.com"])
    assert unplain_name_indexes(["x.example.com", "a.example.com\nb.example.com", "y.example.com"]) == [1]


def test_public_suffix_indexes_match_is_public_suffix() -> None:
    candidates = ["com.cn", "github.io", "x.github.io", "www.ck", "foo.ck", "a.b.ck", "example.com", "com",
                  "kawasaki.jp", "x.kawasaki.jp", "city.kawasaki.jp", "evil.top"]
    names = sorted(candidates, key=sort_key)
    assert public_suffix_indexes(names) == {index for index, name in enumerate(names) if is_public_suffix(name)}


def test_guard_refusals_match_refusal_name_by_name() -> None:
    guard = PublishGuard.from_files(())
    candidates = [
        "com.cn", "github.io", "x.github.io", "www.icbc.com.cn", "icbc.com.cn", "evil.top", "foo.ck",
        "www.ck", "sites.google.com", "evil.sites.google.com", "www.google.com", "google.com", "a.b.c.top",
        "evil.local", "local", "x.y.home.arpa", "home.arpa", "internal.top", "x.internal", "test.top",
        *_random_names(200),
    ]
    names = sorted(set(candidates), key=sort_key)
    expected = [(index, reason) for index, name in enumerate(names) if (reason := guard.refusal(name))]
    assert list(guard.refusals(names)) == expected
    assert expected  # the candidates do hold refused names
