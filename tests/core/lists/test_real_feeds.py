"""The real feeds in ../shared/data read whole: every row accounted for (skipped with a reason when absent)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from fraudwall.lists import ListRead, read_lists
from tests.conftest import SHARED_DATA

FEEDS = SHARED_DATA / "feeds"
needs_feeds = pytest.mark.skipif(not FEEDS.is_dir(), reason=f"real feeds not found at {FEEDS}")
# Rejections a real feed line may earn: its URL, not the file's structure, is at fault.
CONTENT_REASONS = {"ip-literal", "unsupported-scheme", "bad-url", "no-host", "bad-character", "numeric-tld",
                   "empty-label", "bad-idna", "label-too-long", "name-too-long", "single-label"}


def _report(title: str, read: ListRead, seconds: float) -> None:
    """Print what reading a real feed gave, for the log of a corpus run (``pytest -s``)."""
    lines = sum(f.lines for f in read.files)
    accepted = sum(f.accepted for f in read.files)
    print(f"\n{title}: {len(read.files)} files, {lines} lines, {accepted} accepted, "
          f"{read.rejected.total} rejected in {seconds:.2f}s")
    for reason, count in read.rejected.counts.most_common():
        print(f"  {reason}: {count}")


@pytest.mark.corpus
@needs_feeds
def test_corpus_jpcert_every_file() -> None:
    """Every JPCERT/CC monthly CSV reads as jpcert-csv, every row accounted for, over 99% accepted overall."""
    files = sorted((FEEDS / "jpcert-phishurl").glob("*/*.csv"))
    assert len(files) >= 80
    started = time.perf_counter()
    read = read_lists(files)
    _report("JPCERT/CC phishing URLs", read, time.perf_counter() - started)
    for path, summary in zip(files, read.files):
        rows = path.read_bytes().count(b"\n")
        assert summary.format == "jpcert-csv", path
        assert summary.lines == rows, path
        assert summary.accepted + summary.rejected == rows - 1, path  # all but the header row
    accepted = len(read.names)
    assert accepted / (accepted + read.rejected.total) > 0.99
    assert set(read.rejected.counts) <= CONTENT_REASONS, read.rejected.counts
    assert all(item.url for item in read.names)
    assert all(item.first_seen is None or item.first_seen.utcoffset() == timedelta(hours=9) for item in read.names)


@pytest.mark.corpus
@needs_feeds
def test_corpus_openphish_snapshot() -> None:
    """The OpenPhish snapshot reads as a URL list, every line a URL-level item or a counted rejection."""
    path = FEEDS / "openphish" / "feed.txt"
    started = time.perf_counter()
    read = read_lists([path])
    _report("OpenPhish snapshot", read, time.perf_counter() - started)
    (summary,) = read.files
    assert summary.format == "urls"
    assert summary.accepted + summary.rejected == summary.lines
    assert summary.accepted / summary.lines > 0.99
    assert all(item.url.startswith(("http://", "https://")) for item in read.names)
    assert set(read.rejected.counts) <= CONTENT_REASONS, read.rejected.counts
