"""Detection benchmark: pages per second through every page plugin, on one core.

The pages are the project's labelled corpora (tests/data/pages and the demo
site). Every registered plugin runs through the real plugin host, with the
890 community YARA rules loaded when ``../shared/data/yara`` is present. The
peer, measured in the same run on the same pages, is lxml/parsel parsing the
HTML into a PageObservation: the cost any analysis pays before a detector
looks at a page. Pages are cycled until the run lasts a few seconds.

    python benchmarks/detect.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

from fraudwall.judging import judge
from fraudwall.pages import parse_page
from fraudwall.plugin_host import PluginHost
from fraudwall.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CORPORA = [REPO / "tests" / "data" / "pages" / "manifest.csv", REPO / "fraudwall" / "demo" / "site" / "manifest.csv"]
SHARED_YARA = REPO.parent / "shared" / "data" / "yara"


def corpus() -> list[tuple[str, bytes]]:
    pages = []
    for manifest in CORPORA:
        with manifest.open(encoding="utf-8", newline="") as handle:
            pages += [(row["url"], (manifest.parent / row["file"]).read_bytes()) for row in csv.DictReader(handle)]
    return pages


def rate(work, items: list, seconds: float) -> float:
    """Items per second of ``work`` over ``items``, cycled for at least ``seconds``."""
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for item in items:
            work(item)
        done += len(items)
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    yara = [str(SHARED_YARA)] if SHARED_YARA.is_dir() else []
    host = PluginHost.from_settings(Settings({"YARA_DIRS": yara}))
    pages = corpus()
    parsed = [parse_page(url, body) for url, body in pages]
    for page in parsed:  # warm caches (rule compilation, lexicon) outside the timing
        judge(host, page)
    parse_rate = rate(lambda item: parse_page(*item), pages, args.seconds / 2)
    plugin_rate = rate(lambda page: judge(host, page), parsed, args.seconds)
    both_rate = rate(lambda item: judge(host, parse_page(*item)), pages, args.seconds / 2)
    plugins = ", ".join(info.name for info in host.describe())
    print(f"{len(pages)} pages, plugins: {plugins}; YARA rules: {'890 community rules' if yara else 'none'}")
    print("| stage | pages/s (one core) |")
    print("|---|---:|")
    print(f"| parse HTML (peer: lxml/parsel) | {parse_rate:.0f} |")
    print(f"| all page and URL plugins | {plugin_rate:.0f} |")
    print(f"| parse + all plugins | {both_rate:.0f} |")
    print(f"plugins cost {parse_rate / plugin_rate:.1f}x the parse itself")


if __name__ == "__main__":
    main()
