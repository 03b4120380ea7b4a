"""Permutation benchmark: fraudwall's ``permute`` against dnstwist's ``Fuzzer``, side by side, every brand domain.

Every official domain of every protected brand (``brands.toml``) is permuted by
dnstwist (its Python API, ``Fuzzer(domain).generate()``: the default run, no
dictionary, no TLD file) and by fraudwall twice: with dnstwist's fuzzers only
(the same work, like for like) and with every fuzzer (``permute``'s default,
which adds TLD swaps, fraud words, pinyin and hotlines, so many more names).
All three run in this one process, alternating, ``--repeat`` times (3 by
default); the median time of each is taken per domain and summed per brand.
fraudwall's per-label IDNA cache is emptied before each of its runs, so no run
is helped by the run before it (in real use the cache does help: a brand's
domains share their label, amazon.com and amazon.de).

Coverage: dnstwist's names, read as fraudwall reads names (A-labels,
lowercase) with the input left out, must all be among fraudwall's default
run's names: "superset" says whether they are, for all of the brand's domains.
``µs/name`` is each side's time per name it made.

Needs dnstwist in the virtualenv (``pip install dnstwist``); touches no network.

    python benchmarks/permute.py                          # every brand, a few minutes
    python benchmarks/permute.py --brand icbc --brand alipay --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dnstwist

from fraudwall.crawler import permutations
from fraudwall.crawler.permutations import FUZZERS, permute
from fraudwall.names import normalize_name
from fraudwall.reference import brands

# dnstwist's own fuzzers: the like-for-like run of fraudwall uses only these.
DNSTWIST_FUZZERS = FUZZERS[: FUZZERS.index("various") + 1]


@dataclass
class Side:
    """One side's figures for one brand: names made and seconds taken, summed over the brand's domains."""

    names: int = 0
    seconds: float = 0.0

    def add(self, names: int, seconds: float) -> None:
        self.names += names
        self.seconds += seconds

    @property
    def ms(self) -> float:
        return self.seconds * 1000

    @property
    def us_per_name(self) -> float:
        return self.seconds * 1e6 / max(self.names, 1)


@dataclass
class Row:
    """A brand's line of the table."""

    brand: str
    domains: int = 0
    dnstwist: Side = field(default_factory=Side)
    same_work: Side = field(default_factory=Side)
    every: Side = field(default_factory=Side)
    missing: int = 0  # dnstwist names fraudwall's default run lacks


def timed(run: Callable[[], int]) -> tuple[int, float]:
    """``run()``, which returns its count of names: (names, seconds)."""
    start = time.perf_counter()
    count = run()
    return count, time.perf_counter() - start


def dnstwist_generate(domain: str) -> int:
    """What is timed of dnstwist: ``Fuzzer(domain).generate()``; its count of names, the input left out."""
    fuzzer = dnstwist.Fuzzer(domain)
    fuzzer.generate()
    return len(fuzzer.domains) - 1  # the default run always holds the input, as "*original"


def dnstwist_names(domain: str) -> set[str]:
    """dnstwist's default run on ``domain``: its names read as fraudwall reads names, the input left out."""
    fuzzer = dnstwist.Fuzzer(domain)
    fuzzer.generate()
    return {normalize_name(permutation["domain"]) for permutation in fuzzer.domains} - {domain}


def ours(domain: str, fuzzers: tuple[str, ...] | None) -> list[permutations.Candidate]:
    """fraudwall's run, from a cold IDNA cache."""
    permutations._encode_label.cache_clear()
    return permute(domain, fuzzers=fuzzers)


def measure_domain(domain: str, row: Row, repeat: int) -> None:
    """Time the three runs on ``domain``, alternating, and add their medians and the coverage to ``row``."""
    runs: dict[str, Callable[[], int]] = {
        "dnstwist": lambda: dnstwist_generate(domain),
        "same": lambda: len(ours(domain, DNSTWIST_FUZZERS)),
        "every": lambda: len(ours(domain, None)),
    }
    seconds: dict[str, list[float]] = {key: [] for key in runs}
    counts: dict[str, int] = {}
    for _ in range(repeat):
        for key, run in runs.items():
            counts[key], taken = timed(run)
            seconds[key].append(taken)
    row.domains += 1
    row.dnstwist.add(counts["dnstwist"], statistics.median(seconds["dnstwist"]))
    row.same_work.add(counts["same"], statistics.median(seconds["same"]))
    row.every.add(counts["every"], statistics.median(seconds["every"]))
    row.missing += len(dnstwist_names(domain) - {candidate.name for candidate in permute(domain)})


def print_table(rows: list[Row]) -> None:
    """The rows as a markdown table, a total line, and how many brands meet each target."""
    total = Row("**total**")
    for row in rows:
        total.domains += row.domains
        for mine, theirs in ((total.dnstwist, row.dnstwist), (total.same_work, row.same_work),
                             (total.every, row.every)):
            mine.add(theirs.names, theirs.seconds)
        total.missing += row.missing
    print("| brand | domains | dnstwist names | dnstwist ms | same fuzzers: names | ms | speed-up "
          "| all fuzzers: names | ms | speed-up | µs/name dnstwist | µs/name all | superset |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in [*rows, total]:
        print(f"| {row.brand} | {row.domains} | {row.dnstwist.names} | {row.dnstwist.ms:.1f} "
              f"| {row.same_work.names} | {row.same_work.ms:.1f} | {row.dnstwist.seconds / row.same_work.seconds:.2f}x "
              f"| {row.every.names} | {row.every.ms:.1f} | {row.dnstwist.seconds / row.every.seconds:.2f}x "
              f"| {row.dnstwist.us_per_name:.1f} | {row.every.us_per_name:.1f} "
              f"| {'yes' if not row.missing else f'no ({row.missing} missing)'} |")
    print()
    print(f"- same fuzzers as dnstwist, faster than dnstwist: {sum(r.same_work.seconds <= r.dnstwist.seconds for r in rows)}"
          f" of {len(rows)} brands")
    print(f"- all fuzzers, faster than dnstwist's default run: {sum(r.every.seconds <= r.dnstwist.seconds for r in rows)}"
          f" of {len(rows)} brands; less time per name: "
          f"{sum(r.every.us_per_name <= r.dnstwist.us_per_name for r in rows)} of {len(rows)}")
    print(f"- superset of dnstwist's names: {sum(not r.missing for r in rows)} of {len(rows)} brands")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brand", action="append", default=[], help="only this brand id (repeatable; default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side per domain; the median is taken")
    args = parser.parse_args()
    chosen = [brand for brand in brands() if not args.brand or brand.id in args.brand]
    if not chosen:
        raise SystemExit(f"no brand among {args.brand}")
    permute("example.com")  # load the reference data and tables once, outside any timing
    dnstwist_generate("example.com")
    print(f"dnstwist {dnstwist.__version__}; fraudwall permute, {len(FUZZERS)} fuzzers; "
          f"median of {args.repeat} alternating runs per domain")
    print()
    rows = []
    for brand in chosen:
        row = Row(brand.id)
        for domain in dict.fromkeys(brand.domains):
            measure_domain(domain, row, max(1, args.repeat))
        rows.append(row)
    print_table(rows)


if __name__ == "__main__":
    main()
