"""What reading one file counts: the rejection limit, and samples safe to print."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudwall.lists import read_lists
from fraudwall.lists import tally
from tests.core.lists.samples import read_one, write_file


def test_file_of_junk_lines_stops_after_many_rejections(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A file rejecting more lines than it accepts stops at the limit (``mostly-rejected``); a good list never does."""
    monkeypatch.setattr(tally, "MAX_REJECTED_LINES", 1000)
    junk = write_file(tmp_path / "junk.txt", "ok-1.top\n" + "x\n" * 5000 + "ok-2.top\n")
    mostly_good = write_file(tmp_path / "good.txt", "".join(f"n{n}.top\nx\n" for n in range(3000)))
    read = read_lists([junk, mostly_good])
    assert dict(read.rejected.counts) == {"single-label": 4000, "mostly-rejected": 1}
    assert len(read.names) == 1 + 3000
    assert read.names[0].name == "ok-1.top"


def test_samples_of_hostile_bytes_are_escaped(tmp_path: Path) -> None:
    """Invalid UTF-8, terminal escapes and line separators in a rejected line are escaped in its sample."""
    path = tmp_path / "bytes.txt"
    path.write_bytes(b"\x85evil-a.top\n\x1b[2Jevil-b.top\nevil\xe2\x80\xa8c.top\n")
    read = read_one(path)
    assert [value for value, _ in read.rejected.samples] == [
        "bytes.txt:1: \\x85evil-a.top", "bytes.txt:2: \\x1b[2Jevil-b.top", "bytes.txt:3: evil\\u2028c.top"]
    assert all(value.isprintable() for value, _ in read.rejected.samples)
