"""DNS benchmark: fraudwall's prober against stock dnspython's async resolver, side by side, same names,
same local Unbound.

One Unbound on a loopback port (started as the tests start it, see
``tests/crawler/dns_servers.py``: it queries nobody) holds ``--planted`` names
(100,000 by default) as local data, ``www.kefu-N.top``, each with two A
records, AAAA, MX, TXT, NS and SOA, at TTL 3600 except one name in twenty at
TTL 120 (low enough for fraudwall to ask its addresses a second time, as for
fast flux). ``--names`` names are probed (16,000 by default): half of them
planted, half not (NXDOMAIN), in a fixed shuffled order, read from a file.
Unbound runs one thread with a 4 MB receive buffer, so neither side loses
queries to a full socket buffer.

- fraudwall: ``probe()``, the synchronous API the CLI uses, with default
  options: the seven record types, 500 queries in flight, wildcard detection
  (one query per planted name: each is its own zone) and the fast-flux round.
- peer: ``dns.asyncresolver.Resolver`` (no cache, the Unbound as its only
  nameserver, 2 s per try as fraudwall), ``asyncio.Semaphore(200)`` over
  ``resolve()`` of each of the seven types of each name, names taken 1,000 at a
  time so its memory is not that of 140,000 waiting coroutines.

Each side runs in a child process, timed and its peak memory taken the same way
(``export.measure``: the peak of the process tree's PSS or RSS). The child
times its own probing, from the first name to the last answer, start-up
excluded, and counts the queries it sent (the peer: one per ``resolve()``)
and its names' outcomes, which must agree between the two sides.

    python benchmarks/dns.py                        # about a minute on 2 cores
    python benchmarks/dns.py --names 5000 --planted 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# This file is dns.py: with its folder first on the path, `import dns` would find it instead of dnspython. So
# dnspython is imported with the folder off the path; once loaded, its submodules resolve through it.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
import dns.asyncresolver  # noqa: E402
import dns.exception  # noqa: E402
import dns.resolver  # noqa: E402

sys.path[:0] = [str(HERE), str(HERE.parent)]  # export.measure; the tests' Unbound starter
from export import CACHE, Run, measure  # noqa: E402

PEER_CONCURRENCY = 200
PEER_NAMES_AT_ONCE = 1000
LOW_TTL_EVERY = 20


def planted_name(number: int) -> str:
    return f"www.kefu-{number}.top"


def planted_records(number: int) -> list[str]:
    """The local data of planted name ``number``."""
    name = planted_name(number) + "."
    ttl = 120 if zlib.crc32(name.encode()) % LOW_TTL_EVERY == 0 else 3600  # one in twenty, wherever probed
    host = f"{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
    return [
        f"{name} {ttl} IN A 10.{host}", f"{name} {ttl} IN A 172.16.{number >> 8 & 255}.{number & 255}",
        f"{name} {ttl} IN AAAA 2001:db8::{number >> 16:x}:{number & 0xFFFF:x}",
        f"{name} 3600 IN MX 10 mx.kefu-{number}.top.", f'{name} 3600 IN TXT "v=spf1 -all"',
        f"{name} 3600 IN NS ns1.bulletproof-dns.net.",
        f"{name} 3600 IN SOA ns1.bulletproof-dns.net. admin.kefu-{number}.top. 1 3600 600 86400 300",
    ]


def probed_names(count: int, planted: int) -> list[str]:
    """``count`` names, half planted (spread over all planted ones), half never planted, shuffled."""
    present = [planted_name(number * planted // (count - count // 2 or 1)) for number in range(count - count // 2)]
    absent = [planted_name(planted + number) for number in range(count // 2)]
    names = present + absent
    random.Random(20241125).shuffle(names)
    return names


def read_names(path: str) -> Iterator[str]:
    with open(path, encoding="ascii") as handle:
        for line in handle:
            yield line.strip()


# -- the two sides, each run as a child process --------------------------------------------------------------------


def ours(names_path: str, port: int) -> dict[str, Any]:
    from fraudwall.crawler.dns_probe import Nameserver, ProbeOptions, probe

    stats: Counter[str] = Counter()
    rcodes: Counter[str] = Counter()
    started = time.perf_counter()
    for observation in probe(read_names(names_path), [Nameserver("127.0.0.1", port)], ProbeOptions(), stats=stats):
        rcodes[observation.rcode] += 1
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "names": sum(rcodes.values()), "queries": stats["queries"] + stats["tcp_queries"],
            "rcodes": dict(rcodes), "timeouts": stats["timeouts"]}


def peer(names_path: str, port: int) -> dict[str, Any]:
    # The same seven types, and the same rule turning a name's outcomes into its rcode.
    from fraudwall.crawler.dns_probe import RECORD_TYPES, overall_rcode

    rcodes: Counter[str] = Counter()
    queries = 0
    timeouts = 0

    async def run() -> None:
        nonlocal queries, timeouts
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = port
        resolver.timeout = 2.0
        resolver.lifetime = 6.0
        semaphore = asyncio.Semaphore(PEER_CONCURRENCY)

        async def one(name: str, rdtype: str) -> str:
            nonlocal queries, timeouts
            async with semaphore:
                queries += 1
                try:
                    await resolver.resolve(name, rdtype)
                    return "NOERROR"
                except dns.resolver.NXDOMAIN:
                    return "NXDOMAIN"
                except dns.resolver.NoAnswer:
                    return "NODATA"
                except dns.resolver.LifetimeTimeout:
                    timeouts += 1
                    return "TIMEOUT"
                except dns.exception.DNSException:
                    return "SERVFAIL"

        async def name_task(name: str) -> None:
            rcodes[overall_rcode(await asyncio.gather(*(one(name, rdtype) for rdtype in RECORD_TYPES)))] += 1

        names_at_once = asyncio.Semaphore(PEER_NAMES_AT_ONCE)
        running: set[asyncio.Task[None]] = set()
        for name in read_names(names_path):
            await names_at_once.acquire()
            task = asyncio.ensure_future(name_task(name))
            running.add(task)
            task.add_done_callback(lambda done: (running.discard(done), names_at_once.release()))
        await asyncio.gather(*running)

    started = time.perf_counter()
    asyncio.run(run())
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "names": sum(rcodes.values()), "queries": queries, "rcodes": dict(rcodes),
            "timeouts": timeouts}


# -- the run -----------------------------------------------------------------------------------------------------


def start_unbound(planted: int, folder: Path) -> Any:
    """The tests' Unbound (``tests.crawler.dns_servers.Unbound``) holding the planted names."""
    from tests.crawler.dns_servers import Zones
    from tests.crawler.dns_servers import start_unbound as start

    zones = Zones(local_zones=[("top", "static")], server_lines=["so-rcvbuf: 4m", "so-sndbuf: 4m"])
    zones.local_data = [record for number in range(planted) for record in planted_records(number)]
    return start(zones, folder, timeout=180)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=16_000, help="names probed, half planted (default 16,000)")
    parser.add_argument("--planted", type=int, default=100_000, help="names Unbound holds (default 100,000)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)  # SIDE NAMES PORT RESULT
    args = parser.parse_args()
    if args.child:
        side, names_path, port, result = args.child
        figures = (ours if side == "fraudwall" else peer)(names_path, int(port))
        Path(result).write_text(json.dumps(figures))
        return
    CACHE.mkdir(exist_ok=True)
    names_path = CACHE / "dns-names.txt"
    names_path.write_text("\n".join(probed_names(args.names, args.planted)) + "\n", encoding="ascii")
    with tempfile.TemporaryDirectory(prefix="fraudwall-dns-") as folder:
        print(f"starting Unbound with {args.planted:,} planted names...", file=sys.stderr)
        started = time.perf_counter()
        server = start_unbound(args.planted, Path(folder))
        print(f"  answering after {time.perf_counter() - started:.1f} s", file=sys.stderr)
        try:
            results: dict[str, tuple[dict[str, Any], Run]] = {}
            for side in ("fraudwall", "dnspython"):
                print(f"{side}: {args.names:,} names...", file=sys.stderr)
                result = CACHE / f"dns-{side}.json"
                result.unlink(missing_ok=True)
                run = measure([sys.executable, __file__, "--child", side, str(names_path), str(server.port),
                               str(result)], side, "dns", "probe")
                if run.exit_code:
                    raise SystemExit(f"the {side} side failed")
                results[side] = json.loads(result.read_text()), run
        finally:
            server.stop()
    report(results, args)


def report(results: dict[str, tuple[dict[str, Any], Run]], args: argparse.Namespace) -> None:
    rows = []
    for side, label in (("fraudwall", "fraudwall `probe()`, default options"),
                        ("dnspython", f"dnspython `asyncresolver`, Semaphore({PEER_CONCURRENCY})")):
        figures, run = results[side]
        seconds = figures["seconds"]
        outcome = ", ".join(f"{count:,} {rcode}" for rcode, count in sorted(figures["rcodes"].items()))
        rows.append((label, figures["names"], figures["names"] / seconds, figures["queries"],
                     figures["queries"] / seconds, seconds, run.seconds, run.peak_mb,
                     f"{outcome}; {figures['timeouts']} timeouts"))
    ours_row, peer_row = rows
    print(f"{args.names:,} names probed (half planted) against Unbound holding {args.planted:,} names, "
          f"seven record types each")
    print("| run | names | names/s | queries | queries/s | probing s | process s | peak MB | outcomes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for label, names, names_rate, queries, query_rate, seconds, wall, peak, outcome in rows:
        print(f"| {label} | {names:,} | {names_rate:,.0f} | {queries:,} | {query_rate:,.0f} | {seconds:.1f} | "
              f"{wall:.1f} | {peak:.0f} | {outcome} |")
    agree = "outcomes agree" if results["fraudwall"][0]["rcodes"] == results["dnspython"][0]["rcodes"] else (
        "OUTCOMES DIFFER")
    print(f"| ratio | | {ours_row[2] / peer_row[2]:.1f}x faster | {ours_row[3] / peer_row[3]:.2f} of the queries | "
          f"{ours_row[4] / peer_row[4]:.1f}x | | | {ours_row[7] / max(peer_row[7], 1):.2f} of the memory | {agree} |")


if __name__ == "__main__":
    main()
