"""The whole JPCERT phishing feed, in every format, accepted by every consumer's checker.

Reads ../shared/data/feeds/jpcert-phishurl (about 258,000 URLs) through the
list compiler, exactly as `fraudwall export --input` does, and publishes each
format with verification on. Skipped, with the reason, where ../shared is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.blocklists.selection import Selection
from fraudwall.exporters import EXPORTERS, export
from fraudwall.list_compiler import compile_lists
from tests.conftest import SHARED_DATA

JPCERT = SHARED_DATA / "feeds" / "jpcert-phishurl"

pytestmark = [
    pytest.mark.corpus,
    # stix2 parses each of the feed's hundreds of thousands of STIX indicators at most of a
    # millisecond apiece: minutes of real work, beyond the suite's default guard against hangs.
    pytest.mark.timeout(900),
    pytest.mark.skipif(not JPCERT.is_dir(), reason=f"the JPCERT corpus is not at {JPCERT}"),
]


@pytest.fixture(scope="module")
def jpcert_selection() -> Selection:
    """Every JPCERT file compiled once into guarded entries."""
    return compile_lists(sorted(str(path) for path in JPCERT.rglob("*.csv")), PublishGuard.from_files())


@pytest.mark.parametrize("format_name", sorted(EXPORTERS))
def test_jpcert_feed_exports_and_verifies(format_name: str, jpcert_selection: Selection, tmp_path: Path) -> None:
    """Each format publishes the feed and its consumer's checker accepts the result."""
    result = export(jpcert_selection.entries, format_name, tmp_path / format_name, title="JPCERT phishing URLs",
                    verify=True, refused=jpcert_selection.refused)
    assert result.verified
    if format_name not in {"ipset", "nftables", "squid-url"}:  # IP sets need addresses; squid-url only URLs
        assert result.blocked > 10_000, f"{format_name} published only {result.blocked} entries"
