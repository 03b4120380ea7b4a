"""Exports of millions of names: by column, streamed, and the same as entry by entry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from fraudwall.entries import CompiledEntries, Details, EntryTable, ordered_table
from fraudwall.exceptions import ExportError
from fraudwall.exporters import ExportMeta, export, get_exporter
from fraudwall.exporters import adblock, dnsmasq, squid, unbound
from fraudwall.exporters.base import LINES_PER_CHUNK
from fraudwall.exporters.domains import DomainsExporter
from fraudwall.exporters.validation import PreparedEntries, SharedEntries, prepare
from fraudwall.models import Action, BlockEntry, Scope

# Nested names (a parent and its children), an underscore, a public suffix, a platform apex.
NAMES = [
    "kefu-refund.top", "www.kefu-refund.top", "a.b.kefu-refund.top", "loan.example.com", "example.com",
    "_task.rebate.example.com", "com.cn", "github.io", "x.github.io", "usdt-invest.example.net",
]


def _compiled(names: list[str], scope: int = 0) -> CompiledEntries:
    details = Details(sources=("list:test",))
    table = ordered_table(list(names), bytearray([scope] * len(names)), [details] * len(names), Action.BLOCK)
    others = [BlockEntry("icbc-verify.github.io", url="https://icbc-verify.github.io/login.html")]
    return CompiledEntries(table, others)


def _same(left: PreparedEntries, right: PreparedEntries) -> None:
    assert list(left.blocked) == list(right.blocked)
    assert list(left.allowed) == list(right.allowed)
    assert left.urls == right.urls
    assert left.rejections == right.rejections
    assert sorted(left.samples) == sorted(right.samples)
    assert left.merged == right.merged


@pytest.mark.parametrize(("allow_underscore", "max_length"), [(False, 253), (True, 253), (True, 20)])
def test_prepare_by_column_matches_entry_by_entry(allow_underscore: bool, max_length: int) -> None:
    compiled = _compiled(NAMES)
    by_column = prepare(compiled, allow_underscore=allow_underscore, max_length=max_length)
    one_by_one = prepare(list(compiled), allow_underscore=allow_underscore, max_length=max_length)
    assert by_column.blocked.names  # the bulk path ran and kept names
    _same(by_column, one_by_one)


@pytest.mark.parametrize("allow_underscore", [False, True])
def test_prepare_finds_the_few_names_that_need_the_full_check(allow_underscore: bool) -> None:
    """IDNs, underscores and suffixes among thousands of plain names: checked one by one, with the same result."""
    names = [f"name-{number}.shuadan.top" for number in range(3000)]
    names[10:10] = ["xn--fiqs8s.top", "_task.shuadan.top", "com.cn", "x.b1"]
    names.append("xn--n3h.example.com")
    compiled = _compiled(names)
    by_column = prepare(compiled, allow_underscore=allow_underscore)
    _same(by_column, prepare(list(compiled), allow_underscore=allow_underscore))
    assert "xn--fiqs8s.top" in by_column.blocked.names


def test_prepare_rejects_a_table_name_holding_a_line_break() -> None:
    """A name with a line break in a table is counted as rejected, as entry by entry, never passed on."""
    compiled = _compiled(["a.example.com\nb.example.com", "c.example.com"])  # two good names when split
    by_column = prepare(compiled)
    _same(by_column, prepare(list(compiled)))
    assert by_column.blocked.names == ["c.example.com"]
    assert by_column.rejections == {"bad-character": 1}


def test_shared_entries_reuse_a_longer_limit_only_when_it_kept_nothing_longer() -> None:
    """A folder's formats share preparations; a shorter name limit reuses one only where the result is the same."""
    long_name = "a" * 50 + ".kefu-refund.top"  # 66 characters
    compiled = _compiled([*NAMES, long_name])
    shared = SharedEntries(compiled)
    full = shared.prepared(allow_underscore=True, max_length=253)
    assert shared.prepared(allow_underscore=True, max_length=100) is full
    _same(full, prepare(compiled, allow_underscore=True, max_length=100))
    shorter = shared.prepared(allow_underscore=True, max_length=60)
    assert shorter is not full and long_name not in shorter.blocked.names
    _same(shorter, prepare(compiled, allow_underscore=True, max_length=60))
    strict = shared.prepared(allow_underscore=False, max_length=100)  # another underscore rule: prepared anew
    _same(strict, prepare(compiled, allow_underscore=False, max_length=100))


def test_prepare_falls_back_when_a_name_is_not_normalised() -> None:
    """A table row the full check renames (case) takes the entry path, with the same result."""
    details = Details(sources=("list:test",))
    names = ["-bad.example.com", "A.example.com", "b.example.com"]  # a rejection before the renamed row
    table = EntryTable(names, bytearray(3), [details] * 3, Action.BLOCK)
    compiled = CompiledEntries(table, [BlockEntry("a.example.com", scope=Scope.SUBTREE)])
    _same(prepare(compiled), prepare(list(compiled)))


def test_prepare_merges_blocks_from_both_sides() -> None:
    compiled = CompiledEntries(_compiled(NAMES).blocks, [BlockEntry("kefu-refund.top", categories=("loan",))])
    prepared = prepare(compiled, allow_underscore=True)
    _same(prepared, prepare(list(compiled), allow_underscore=True))
    assert prepared.merged == 1


def _render(name: str, prepared: PreparedEntries, meta: ExportMeta, **options: object) -> str:
    exporter = get_exporter(name)
    meta = ExportMeta(meta.title, meta.generated_at, options)
    return exporter.render_prepared(prepared, meta)


UNIFORM_CASES = [
    ("dnsmasq", {"exact": "precise"}), ("dnsmasq", {"exact": "skip"}), ("dnsmasq", {"exact": "widen"}),
    ("dnsmasq", {"style": "address"}), ("unbound", {"exact": "precise"}), ("unbound", {"exact": "skip"}),
    ("unbound", {"exact": "widen"}), ("squid", {}),
]


@pytest.mark.parametrize("scope", [0, 1], ids=["exact", "subtree"])
@pytest.mark.parametrize(("name", "options"), UNIFORM_CASES, ids=lambda v: str(v))
def test_uniform_fast_paths_match_the_general_path(
    name: str, options: dict[str, object], scope: int, meta: ExportMeta, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list without exceptions, every name of one scope, renders from its name column exactly as name by name."""
    prepared = prepare(_compiled(NAMES, scope), allow_underscore=True)
    fast = _render(name, prepared, meta, **options)
    for module in (dnsmasq, unbound, squid):
        monkeypatch.setattr(module, "uniform_scope", lambda _: None)
    assert fast == _render(name, prepared, meta, **options)


@pytest.mark.parametrize("scope", [0, 1], ids=["exact", "subtree"])
def test_adblock_without_exceptions_matches_the_ranked_rules(scope: int, meta: ExportMeta) -> None:
    prepared = prepare(_compiled(NAMES, scope), allow_underscore=True)
    exporter = get_exporter("adblock")
    lines = [line for block in exporter.body(prepared, meta) for line in block]
    assert lines == [rule.line for rule in adblock._rules(prepared)[0]]


class _Refuses(DomainsExporter):
    """A plain list whose body turns bad after the first piece."""

    name = "refuses"

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        yield from (f"n{number}.example.com" for number in range(LINES_PER_CHUNK + 10))
        yield "evil.example.com\n$INCLUDE /etc/passwd"


def test_a_refused_line_in_a_later_piece_publishes_nothing(tmp_path: Path, meta: ExportMeta,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering streams into the temporary file; a guard refusal still leaves the old file as it was."""
    out = tmp_path / "list.txt"
    out.write_text("old\n")
    monkeypatch.setitem(__import__("fraudwall.exporters.registry", fromlist=["EXPORTERS"]).EXPORTERS,
                        "refuses", _Refuses)
    with pytest.raises(ExportError, match="refusing to write an invalid line"):
        export([BlockEntry("fine.example.com")], "refuses", out, title="t", verify=False,
               generated_at=meta.generated_at)
    assert out.read_text() == "old\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["list.txt"]


def test_streamed_output_is_one_file_with_its_digest(tmp_path: Path, meta: ExportMeta) -> None:
    names = [f"name-{number}.shuadan.top" for number in range(2 * LINES_PER_CHUNK + 5)]
    result = export(_compiled(names), "domains", tmp_path / "domains.txt", title="t", verify=True,
                    generated_at=meta.generated_at)
    text = (tmp_path / "domains.txt").read_text()
    assert re.findall(r"^name-\d+\.shuadan\.top$", text, re.MULTILINE) == sorted(names, key=lambda n: n.split(".")[::-1])
    import hashlib

    assert result.sha256 == hashlib.sha256(text.encode()).hexdigest() and result.blocked == len(names)
