"""Reading files: the API, summaries per file, sources, and what raises."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fraudwall.exceptions import InputError
from fraudwall.lists import ListRead, iter_list_items, iter_lists, read_lists
from fraudwall.models import Action, Scope
from tests.core.lists.samples import read_one, write_file


def test_undecodable_file_name_is_escaped_in_sources(tmp_path: Path) -> None:
    """A file name that is not UTF-8 shows as ``\\xNN`` in sources and samples, never as a lone surrogate."""
    path = tmp_path / os.fsdecode(b"list\xff.txt")
    path.write_text("named.top\nbad..name\n", encoding="utf-8")
    read = read_one(path)
    assert read.names[0].source == "list:list\\xff.txt"
    assert read.rejected.samples[0][0].startswith("list\\xff.txt:2: ")
    assert read.files[0].path.endswith("list\\xff.txt")


def test_unreadable_file_raises(tmp_path: Path) -> None:
    """A file that cannot be opened is an input error for the caller, not a silent empty list."""
    with pytest.raises(InputError) as caught:
        read_lists([tmp_path / "missing.txt"])
    assert caught.value.reason == "unreadable-file"


def test_empty_file(tmp_path: Path) -> None:
    """An empty file reads as nothing, without rejections."""
    read = read_one(write_file(tmp_path / "empty.txt", ""))
    assert (read.files[0].format, read.files[0].lines, read.names) == ("empty", 0, [])


def test_iter_lists_streams_and_records_summaries(tmp_path: Path) -> None:
    """iter_lists yields items as it reads and leaves the rejections and per-file summaries in the ListRead given."""
    first = write_file(tmp_path / "one.txt", "a.top\nbad..top\n")
    second = write_file(tmp_path / "two.txt", "b.top\n")
    into = ListRead()
    items = iter_lists([first, second], into)
    assert next(items).name == "a.top"
    assert into.files == []  # nothing is summarised before the file is done
    assert [item.name for item in items] == ["b.top"]
    assert [(f.path, f.accepted, f.rejected) for f in into.files] == [(str(first), 1, 1), (str(second), 1, 0)]
    assert into.names == []


# -- where exceptions count ---------------------------------------------------------


def test_exception_in_an_untrusted_list_is_a_rejection(tmp_path: Path) -> None:
    """An ``@@`` rule in a file nobody trusted for allowing (an ABP list too) allows nothing: one
    ``untrusted-exception``, its sample naming file and line; the file's blocks still count."""
    rules = write_file(tmp_path / "filters.txt", "[Adblock Plus 2.0]\n||block.top^\n@@||allowed.top^\n")
    read = read_one(rules)
    assert [(n.name, n.action) for n in read.names] == [("block.top", Action.BLOCK)]
    assert read.rejected.samples == [("filters.txt:3: @@||allowed.top^", "untrusted-exception")]
    assert read.files[0].format == "abp"


def test_trusted_abp_list_keeps_its_exceptions_under_any_spelling_of_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A trusted ABP/AdGuard list's ``@@`` rules are allow entries, when it is named relative to the working
    folder in one place and absolute in the other; a file of the same name elsewhere is not trusted."""
    (tmp_path / "allow").mkdir()
    (tmp_path / "other").mkdir()
    write_file(tmp_path / "allow" / "list.txt", "! exceptions\n@@||kefu.jd.com^\n@@|www.icbc.com.cn^\n")
    write_file(tmp_path / "other" / "list.txt", "@@||kefu.jd.com^\n")
    monkeypatch.chdir(tmp_path)
    read = read_lists(["allow/list.txt", "other/list.txt"], trusted_exceptions=[str(tmp_path / "allow" / "list.txt")])
    assert [(n.name, n.scope, n.action) for n in read.names] == [
        ("kefu.jd.com", Scope.SUBTREE, Action.ALLOW), ("www.icbc.com.cn", Scope.EXACT, Action.ALLOW)]
    assert read.rejected.samples == [("list.txt:1: @@||kefu.jd.com^", "untrusted-exception")]


def test_trusted_file_that_is_no_abp_list_keeps_no_exceptions(tmp_path: Path) -> None:
    """Trust alone is not enough: a hosts file whose first 64 KiB show no ABP/AdGuard syntax, and a JSON feed,
    carry no exceptions, so an ``@@`` line appended to the one or a string in the other is rejected."""
    blocks = "".join(f"0.0.0.0 ad-{n:05d}.top\n" for n in range(5000))
    hosts = write_file(tmp_path / "hosts", blocks + "@@||late.top^\n")
    assert hosts.stat().st_size > 64 * 1024
    feed = write_file(tmp_path / "feed.json", json.dumps(["https://phish.top/x", "@@||json.top^"]))
    read = read_lists([hosts, feed], trusted_exceptions=[hosts, feed])
    assert not [n for n in read.names if n.action is Action.ALLOW]
    assert dict(read.rejected.counts) == {"untrusted-exception": 2}
    assert [value for value, _ in read.rejected.samples] == ["hosts:5001: @@||late.top^", "feed.json:1: @@||json.top^"]


def test_trusting_a_file_that_is_not_read_is_an_error(tmp_path: Path) -> None:
    """A trusted file missing from the paths read is a ValueError, not exceptions silently never read."""
    listing = write_file(tmp_path / "list.txt", "block.top\n")
    with pytest.raises(ValueError, match="allow.txt"):
        list(iter_list_items([listing], ListRead(), trusted_exceptions=[tmp_path / "allow.txt"]))
