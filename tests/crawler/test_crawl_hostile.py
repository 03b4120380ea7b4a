"""A real crawl of a hostile site: every trap ends in a recorded reason, and the crawl ends by itself.

The site (:mod:`tests.crawler.hostile_site`) was written from a description of
what fraud sites do, not from the crawler's code: redirect loops and chains,
huge, endless and bomb bodies, drips and headers that never end, lying
content types and encodings, private-address and foreign-scheme links.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from fraudwall.blocklists.store import Store
from tests.crawler.hostile_site import HUGE_TAIL_PATH, HostileSite

#: Seconds a request may take: the drips and never-ending headers stop here.
REQUEST_TIMEOUT = 3


def test_hostile_site_crawl_ends_with_every_trap_recorded(tmp_path: Path) -> None:
    """Caps, timeouts, redirect limits and the network policy each stop their trap with a named reason; no
    private address and nothing past a cap is requested; mislabelled GBK and Big5 pages read correctly; the
    APK served under a false type is captured."""
    db = tmp_path / "f.db"
    env = {**os.environ, "FRAUDWALL_CRAWL_TIMEOUT": str(REQUEST_TIMEOUT)}
    with HostileSite(endless_seconds=30) as site:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "fraudwall.cli", "crawl", "--db", str(db), "--allow-net", "127.0.0.0/8",
             "--resolve", "hostile.test:127.0.0.1", "--depth", "1", site.url("/")],
            capture_output=True, text=True, timeout=240, env=env)
        elapsed = time.monotonic() - started
        assert site.private_requests() == [], "a private address was contacted"
        assert site.requested(HUGE_TAIL_PATH) == 0, "a link past the body cap was followed"
        assert site.errors == [], site.errors
    assert result.returncode == 0, result.stderr[-2000:]
    assert elapsed < 180
    for reason in ("body-over-cap", "decompression-bomb", "timeout", "too-many-redirects", "redirect-not-followed",
                   "truncated-body", "invalid-response", "connection-closed", "bad-content-encoding",
                   "refused: network-policy"):
        assert f"failed: {reason}" in result.stdout, f"{reason} not recorded:\n{result.stdout}"
    with Store.open(db) as store:
        titles = {row["final_url"].rsplit("/", 1)[-1]: row["title"]
                  for row in store.db.query("SELECT final_url, title FROM observations WHERE kind = 'page'")}
        assert titles["gbk"] == "兼职刷单返利"  # GBK under a header that claims UTF-8
        assert titles["big5"] == "詐騙防範"  # Big5 under a <meta> that claims GB2312
        assert titles["gb18030"] == "刷单返利"
        assert store.db.execute("SELECT count(*) FROM observations WHERE kind = 'apk'").fetchone()[0] == 1
    assert "APKs rejected: " in result.stdout, result.stdout  # the truncated one, with the analysis's reason
