"""Store benchmark: selection, recording and re-analysis over a store at national scale.

A deterministic synthetic store (:func:`build_store`: 2 million names by
default, each with its pages, five findings a name, five plugin runs a page)
is written straight into the schema with ``executemany`` in a temporary
folder; its building time is reported, not a target. Then, each in a child
process whose wall time and peak RSS are measured (``launch.py``, as in
``export.py``):

* **select**: ``select_entries`` over every malicious verdict, guards included,
  as ``fraudwall export`` does before rendering (target: 15 s, under 1 GB);
* **record**: ``Store.record`` of judged pages (corpus pages judged once by the
  real plugins, each given its own URL and body), in batches of 256 as the crawl
  stores them, and of 32 for comparison (target: 5,000 pages/s);
* **pending**: ``Store.pending`` finding what a re-analysis must judge: after one
  plugin's upgrade (1% of the pages ran its older version; then every page),
  and after a new plugin is installed (every page).

    python benchmarks/store.py                 # 2,000,000 names
    python benchmarks/store.py --names 200000 --keep DIR
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import TLDS, WORDS  # noqa: E402

from fraudwall.blocklists import payloads  # noqa: E402
from fraudwall.blocklists.store import Store  # noqa: E402
from fraudwall.entries import sort_key  # noqa: E402
from fraudwall.models import ApkObservation, Category  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPORA = [REPO / "tests" / "data" / "pages" / "manifest.csv", REPO / "fraudwall" / "demo" / "site" / "manifest.csv"]

#: The synthetic store's plugins and installed versions; every page ran all of them.
PLUGINS = {"lexicon": "1.4", "yara_rules": "1.0", "url_shape": "0.10", "domain_words": "2.0", "brand_lookalike": "1.1"}
#: One page in this many ran url_shape 0.9, older than the installed 0.10 (compared as a string it is newer).
STALE_EVERY = 100
#: One name in this many is an address (a URL on an IP: published by URL, refused as a name).
ADDRESS_EVERY = 1000
#: One name in this many is a page on an allowlisted bank's site (its URLs name one page each).
ALLOWLISTED_EVERY = 5000
#: One name in this many also brings a malicious APK verdict (never a name or URL entry).
APK_EVERY = 2000
#: One name in this many has a benign verdict, one in the other a suspicious one (not selected by default).
BENIGN_EVERY, SUSPICIOUS_EVERY = 50, 100
#: One name in this many has a second page, so a host gathers several verdicts.
SECOND_PAGE_EVERY = 5
ALLOWLISTED_HOST = "www.icbc.com.cn"
WARM_UP = 5_000  # pages recorded before the timing of each batch size
BODIES = 1000  # distinct page bodies: fraud kits are templates
ADDRESSES = 50_000  # distinct hosting addresses
START = datetime(2026, 6, 1, tzinfo=timezone.utc)
CHUNK = 50_000  # names generated and inserted per transaction


@dataclass
class Expected:
    """What a build holds, and what selecting its malicious verdicts must give."""

    hosts: int = 0  # distinct hosts with a verdict
    verdicts: int = 0
    findings: int = 0
    observations: int = 0
    runs: int = 0
    stale_observations: int = 0  # observations url_shape ran on at 0.9
    names: int = 0  # name-level entries: malicious hosts the guards let through
    subtrees: int = 0  # of those, registered domains
    urls: int = 0  # URL-level entries standing in for refused hosts
    refused: Counter[str] = field(default_factory=Counter)


def _when(index: int) -> str:
    """A first-seen time: names found over months, a few seconds apart."""
    return (START + timedelta(seconds=7 * index)).isoformat(timespec="seconds")


def _name(index: int, rng: random.Random) -> tuple[str, bool]:
    """A unique fraud-like host name (words, the index, a cheap TLD, sometimes a subdomain), and
    whether it is its registered domain."""
    label = "-".join(rng.sample(WORDS, rng.randint(1, 2))) + str(index)
    name = f"{label}.{rng.choice(TLDS)}"
    if rng.random() < 0.2:
        return f"{rng.choice(('www', 'm', 'h5', 'api'))}.{name}", False
    return name, True


def _address(index: int) -> str:
    """A distinct public-looking IPv4 address for a name that is one."""
    return f"45.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"


def build_store(path: Path, names: int, seed: int = 20261206) -> Expected:
    """Write a synthetic store of ``names`` names at ``path`` (a new file), as fast as SQLite takes rows.

    Rows go straight into the schema (``Store.open`` creates it) with one
    ``executemany`` per table and chunk, exactly as ``Store.record`` would lay
    them out (host keys, detector lists, the categories table), without a
    plugin run or a Python object per finding.
    """
    Store.open(path).close()
    rng = random.Random(seed)
    expected = Expected()
    categories = [str(category) for category in Category]
    refused_hosts: set[str] = set()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")  # a benchmark's scratch file: losing it to a crash costs nothing
    connection.execute("PRAGMA cache_size=-1500000")  # 1.5 GB: the indexes stay in memory while they grow
    # Secondary indexes are made again once the rows are in: sorting each once beats millions of
    # inserts at random places. The store's own statements make them, so the schema stays its own.
    indexes = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall()
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    bodies = _bodies()
    connection.executemany("INSERT INTO bodies (content_hash, encoding, size, compressed) VALUES (?, 'utf-8', ?, ?)",
                           [(content_hash, len(html), zlib.compress(html, 1)) for content_hash, html in bodies])
    next_observation = 1
    for start in range(0, names, CHUNK):
        observations, runs, findings, verdicts, verdict_categories = [], [], [], [], []
        for index in range(start, min(start + CHUNK, names)):
            seen = _when(index)
            updated = seen if rng.random() < 0.7 else _when(index + rng.randint(1, 500_000))
            registered = False
            address = index % ADDRESS_EVERY == ADDRESS_EVERY - 1
            if address:
                host, status = _address(index), "malicious"
                urls = [f"http://{host}/login"]
            elif index % ALLOWLISTED_EVERY == ALLOWLISTED_EVERY // 2:
                host, status = ALLOWLISTED_HOST, "malicious"
                urls = [f"https://{host}/upload/notice{index}/kefu.html"]
            else:
                host, registered = _name(index, rng)
                status = ("benign" if index % BENIGN_EVERY == 7 else
                          "suspicious" if index % SUSPICIOUS_EVERY == 13 else "malicious")
                urls = [f"https://{host}/"]
                if index % SECOND_PAGE_EVERY == 0:
                    urls.append(f"https://{host}/pay/{index}")
            score = ({"malicious": 80, "suspicious": 50, "benign": 10}[status] + rng.randint(0, 19)) / 100
            picked = rng.sample(categories, rng.randint(1, 2)) if status != "benign" else []
            ip = host if address else _address(rng.randrange(ADDRESSES))
            host_findings = [(host, "host", detector, PLUGINS[detector], picked[0] if picked else "suspicious_url")
                             for detector in ("url_shape", "domain_words", "brand_lookalike")]
            for number, url in enumerate(urls):
                observation = next_observation
                next_observation += 1
                observations.append((observation, "page", url, url, host, 200, "title", "[]", "[]",
                                     bodies[rng.randrange(BODIES)][0], "default", ip, seen, None))
                stale = observation % STALE_EVERY == 0
                expected.stale_observations += stale
                runs.extend((observation, plugin, "0.9" if stale and plugin == "url_shape" else version, seen)
                            for plugin, version in PLUGINS.items())
                url_findings = [(url, "url", "lexicon", PLUGINS["lexicon"], picked[0] if picked else "loan"),
                                (url, "url", "yara_rules", PLUGINS["yara_rules"], picked[-1] if picked else "loan")]
                for subject, kind, detector, version, category in url_findings + (host_findings if number == 0 else []):
                    findings.append((subject, kind, detector, version, category, score, "synthetic",
                                     '["证据"]', "[]", observation, seen, updated))
                verdicts.append((url, "url", host, sort_key(host), score, status, json.dumps(picked),
                                 json.dumps(sorted(PLUGINS)), ip, "[]", seen, updated))
                verdict_categories.extend((url, category) for category in picked)
            if index % APK_EVERY == 3:
                sha = hashlib.sha256(f"apk {index}".encode()).hexdigest()
                observation = next_observation
                next_observation += 1
                observations.append((observation, "apk", "", "", "", None, None, None, None, None, None, None, seen,
                                     payloads.dumps(ApkObservation(sha256=sha, size=4_000_000))))
                findings.append((sha, "apk", "lexicon", PLUGINS["lexicon"], "fake_app", 0.95, "synthetic", "[]", "[]",
                                 observation, seen, seen))
                runs.extend((observation, plugin, version, seen) for plugin, version in PLUGINS.items())
                verdicts.append((sha, "apk", "", "", 0.95, "malicious", '["fake_app"]', '["lexicon"]', "", "[]", seen,
                                 seen))
                verdict_categories.append((sha, "fake_app"))
            if status == "malicious":
                _expect(expected, host, address, registered, urls, refused_hosts)
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO observations (id, kind, url, final_url, host, status, title, headers, redirect_chain, "
            "content_hash, fetched_as, ip, fetched_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            observations)
        connection.executemany("INSERT INTO analysis_runs (observation_id, detector, detector_version, ran_at) "
                               "VALUES (?, ?, ?, ?)", runs)
        connection.executemany(
            "INSERT OR IGNORE INTO findings (subject, subject_kind, detector, detector_version, category, score, "
            "reason, evidence, indicators, observation_id, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", findings)
        connection.executemany(
            "INSERT INTO verdicts (subject, subject_kind, host, host_key, score, status, categories, detectors, "
            "addresses, top_findings, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", verdicts)
        connection.executemany("INSERT INTO verdict_categories (subject, category) VALUES (?, ?)", verdict_categories)
        connection.execute("COMMIT")
        expected.observations += len(observations)
        expected.runs += len(runs)
        expected.verdicts += len(verdicts)
    for _, sql in indexes:
        connection.execute(sql)
    expected.findings = connection.execute("SELECT count(*) FROM findings").fetchone()[0]
    expected.hosts = connection.execute("SELECT count(DISTINCT host) FROM verdicts WHERE host != ''").fetchone()[0]
    connection.close()
    return expected


def _bodies() -> list[tuple[str, bytes]]:
    """:data:`BODIES` distinct page bodies, (sha256, UTF-8 HTML): the corpus pages, each in variants."""
    corpus = []
    for manifest in CORPORA:
        with manifest.open(encoding="utf-8", newline="") as handle:
            corpus += [(manifest.parent / row["file"]).read_text(encoding="utf-8", errors="replace")
                       for row in csv.DictReader(handle)]
    variants = [f"{corpus[n % len(corpus)]}<!-- variant {n} -->".encode() for n in range(BODIES)]
    return [(hashlib.sha256(html).hexdigest(), html) for html in variants]


def _expect(
    expected: Expected, host: str, address: bool, registered: bool, urls: list[str], refused_hosts: set[str],
) -> None:
    """Count what selecting a malicious host must give: a name entry, or its URLs and one refusal."""
    if address or host == ALLOWLISTED_HOST:
        expected.urls += len(urls)
        if host not in refused_hosts:
            refused_hosts.add(host)
            expected.refused["ip-literal" if address else "allowlisted"] += 1
        return
    expected.names += 1
    expected.subtrees += registered


# -- measurements, each run in a child process -------------------------------------


def measure_select(db: Path) -> dict[str, float]:
    """``select_entries`` over every malicious verdict: what ``fraudwall export`` does before rendering."""
    from fraudwall.blocklists.guards import PublishGuard
    from fraudwall.blocklists.selection import select_entries

    guard = PublishGuard.from_files()  # built outside the timing: the bundled reference data, read once
    with Store.open(db, create=False) as store:
        started = time.perf_counter()
        selection = select_entries(store, guard)
        seconds = time.perf_counter() - started
    blocks = selection.entries.blocks  # type: ignore[attr-defined]
    return {"seconds": seconds, "names": len(blocks), "urls": len(selection.entries) - len(blocks),
            "refused": selection.refused.total}


def measure_record(db: Path, pages: int, batch: int) -> dict[str, float]:
    """``Store.record`` of ``pages`` judged pages in batches of ``batch``; judging is done before the timing,
    and so are :data:`WARM_UP` pages, recorded the same way (a crawl's WAL file has grown long before)."""
    judgements = list(_judged_pages(pages + WARM_UP, f"b{batch}"))  # names of its own: new subjects every run
    with Store.open(db) as store:
        for start in range(0, WARM_UP, batch):
            store.record(judgements[start:min(start + batch, WARM_UP)])
        judgements = judgements[WARM_UP:]
        started = time.perf_counter()
        for start in range(0, len(judgements), batch):
            store.record(judgements[start:start + batch])
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "pages": len(judgements), "pages_per_second": len(judgements) / seconds}


def _judged_pages(count: int, prefix: str):  # type: ignore[no-untyped-def]
    """``count`` judgements of distinct pages: corpus pages judged once by every plugin, then each
    given a host (``PREFIX-N-bench.top``), URL and body of its own (findings and verdict follow)."""
    from fraudwall.judging import judge
    from fraudwall.pages import parse_page
    from fraudwall.plugin_host import PluginHost
    from fraudwall.settings import Settings

    host = PluginHost.from_settings(Settings())
    judged = []
    for manifest in CORPORA:
        with manifest.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                judged.append(judge(host, parse_page(row["url"], (manifest.parent / row["file"]).read_bytes())))
    now = datetime.now(timezone.utc)
    for number in range(count):
        original = judged[number % len(judged)]
        page = original.observation
        name = f"{prefix}-{number}-bench.top"
        url = f"https://{name}/p{number}"
        html = f"{page.html}<!-- {number} -->"  # type: ignore[union-attr]
        renamed = {page.final_url: url, original.host: name}  # type: ignore[union-attr]
        findings = tuple(replace(f, subject=renamed.get(f.subject, f.subject)) for f in original.findings)
        yield replace(
            original, host=name, findings=findings,
            observation=replace(page, url=url, final_url=url, html=html, fetched_at=now,  # type: ignore[type-var]
                                content_hash=hashlib.sha256(html.encode()).hexdigest()),
            verdict=replace(original.verdict, subject=url, findings=findings),
        )


def measure_pending(db: Path, versions: dict[str, str]) -> dict[str, float]:
    """``Store.pending``: seconds to the first pending observation (the set found), and to read them all."""
    with Store.open(db, create=False) as store:
        started = time.perf_counter()
        pending = store.pending(versions)
        first = next(pending, None)
        found = time.perf_counter() - started
        count = (first is not None) + sum(1 for _ in pending) if versions == PLUGINS else None
        total = time.perf_counter() - started
    return {"found_seconds": found, "pending": -1 if count is None else count, "all_seconds": total}


# -- the run -----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=2_000_000, help="synthetic names (default 2,000,000)")
    parser.add_argument("--pages", type=int, default=50_000, help="pages recorded per batch size (default 50,000)")
    parser.add_argument("--keep", type=Path, help="build the store in this folder and keep it (else a temp dir)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # KIND DB RESULT [ARG...]: one measurement
    args = parser.parse_args()
    if args.child:
        kind, db, result, *rest = args.child
        if kind == "select":
            output = measure_select(Path(db))
        elif kind == "record":
            output = measure_record(Path(db), int(rest[0]), int(rest[1]))
        else:
            output = measure_pending(Path(db), json.loads(rest[0]))
        Path(result).write_text(json.dumps(output))
        return
    from export import CACHE, measure

    CACHE.mkdir(exist_ok=True)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fraudwall-store-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "store.db"

    def child(kind: str, *rest: str) -> tuple[dict[str, float], float, float]:
        """Run one measurement in a child process: its own figures, its peak RSS in MB and its wall time."""
        result = CACHE / "store-child.json"
        result.unlink(missing_ok=True)
        run = measure([sys.executable, __file__, "--child", kind, str(db), str(result), *rest], "fraudwall", "store", kind)
        if run.exit_code:
            raise SystemExit(f"the {kind} measurement failed")
        return json.loads(result.read_text()), run.peak_mb, run.seconds

    try:
        for old in folder.glob("store.db*"):
            old.unlink()
        print(f"building a store of {args.names:,} names in {folder}...", file=sys.stderr)
        started = time.perf_counter()
        expected = build_store(db, args.names)
        built = time.perf_counter() - started
        size = sum(path.stat().st_size for path in folder.glob("store.db*")) / 2**30
        rows = [("build (reported, not a target)", f"{built:.0f} s", "",
                 f"{expected.hosts:,} hosts, {expected.verdicts:,} verdicts, {expected.findings:,} findings, "
                 f"{expected.observations:,} observations, {expected.runs:,} plugin runs; {size:.1f} GiB")]
        print("select...", file=sys.stderr)
        selected, peak, wall = child("select")
        check = ("as expected" if (selected["names"], selected["urls"]) == (expected.names, expected.urls)
                 else f"expected {expected.names:,} names and {expected.urls:,} URLs")
        rows.append(("select_entries: every malicious verdict", f"{selected['seconds']:.1f} s", f"{peak:.0f} MB",
                     f"{selected['names']:,} names + {selected['urls']:,} URLs, {selected['refused']:,} refused "
                     f"({check}); the whole process {wall:.1f} s; target 15 s under 1 GB"))
        print("pending...", file=sys.stderr)
        upgraded, peak, _ = child("pending", json.dumps(PLUGINS))
        rows.append(("Store.pending: url_shape 0.9 -> 0.10", f"{upgraded['found_seconds']:.1f} s", f"{peak:.0f} MB",
                     f"{upgraded['pending']:,} pending (expected {expected.stale_observations:,}), read back with "
                     f"their pages in {upgraded['all_seconds']:.1f} s"))
        for label, versions in (("url_shape 0.11 (every page)", {**PLUGINS, "url_shape": "0.11"}),
                                ("a new plugin (every page)", {**PLUGINS, "new_plugin": "1.0"})):
            everything, peak, _ = child("pending", json.dumps(versions))
            rows.append((f"Store.pending: {label}", f"{everything['found_seconds']:.1f} s", f"{peak:.0f} MB",
                         f"to the first of {expected.observations:,} pending observations"))
        for batch in (256, 32):
            print(f"record, batches of {batch}...", file=sys.stderr)
            recorded, peak, _ = child("record", str(args.pages), str(batch))
            rows.append((f"Store.record: batches of {batch}", f"{recorded['pages_per_second']:,.0f} pages/s",
                         f"{peak:.0f} MB", f"{recorded['pages']:,} pages in {recorded['seconds']:.1f} s into the "
                         "store above; target 5,000 pages/s"))
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print("| measurement | result | peak RSS | notes |")
    print("|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
