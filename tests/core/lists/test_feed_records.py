"""Feed records: dates in UTC or unknown, and metadata no output can carry rejected."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from tests.core.lists.samples import UTC, read_one, write_file


def test_feed_dates_are_utc_and_out_of_range_dates_unknown(tmp_path: Path) -> None:
    """A date that has no UTC equivalent (year 1 in Japan time, year 9999 west of UTC) leaves first_seen unknown."""
    path = write_file(tmp_path / "jpcert.csv", (
        "date,URL,description\n"
        "0001-01-01 00:00:00,https://too-early.top/,Amazon\n"
        "2025/04/01 09:00:00,https://in-range.top/,Amazon\n"))
    early, in_range = read_one(path).names
    assert early.first_seen is None
    assert in_range.first_seen == datetime(2025, 4, 1, 0, 0, tzinfo=UTC)
    assert in_range.first_seen.utcoffset() == timedelta(hours=9)  # JPCERT/CC writes Japan time
    late = write_file(tmp_path / "late.jsonl", "\n".join(json.dumps({"url": url, "urlhaus_link": "x", "dateadded": date}) for url, date in (
        ("https://too-late.top/", "9999-12-31T23:59:59-10:00"), ("https://on-time.top/", "2025-11-20 06:02:21"))))
    too_late, on_time = read_one(late).names
    assert too_late.name == "too-late.top" and too_late.first_seen is None
    assert on_time.first_seen == datetime(2025, 11, 20, 6, 2, 21, tzinfo=UTC)


def test_feed_metadata_no_output_can_carry_is_rejected(tmp_path: Path) -> None:
    """A record whose metadata holds a lone surrogate or a NUL is rejected with the reason a line would get."""
    path = write_file(tmp_path / "feed.jsonl", "\n".join([
        '{"url": "https://surrogate.top/", "urlhaus_link": "x", "dateadded": "", "threat": "caf\\ud800"}',
        '{"url": "https://nul.top/", "urlhaus_link": "x", "tags": "a,\\u0000b"}',
        '{"url": "https://host\\udcff.top/", "urlhaus_link": "x"}',
        '{"url": "https://fine.top/", "urlhaus_link": "x", "threat": "\u6740\u732a\u76d8"}',
    ]))
    read = read_one(path)
    assert [(n.name, n.categories) for n in read.names] == [("fine.top", ("杀猪盘",))]
    assert dict(read.rejected.counts) == {"invalid-utf8": 2, "nul-byte": 1}
    for sample, _ in read.rejected.samples:
        sample.encode("utf-8")  # samples are always writable
