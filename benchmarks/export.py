"""Export benchmark: fraudwall against @adguard/hostlist-compiler, side by side, same input.

Inputs: a deterministic synthetic list of 2.1 million names (national blocking
is millions a year; see ``synthetic.py``) and, when ``../shared/data`` is
present, the JPCERT phishing-URL feed: reduced to its host names, and raw
(``jpcert-csv``: fraudwall reads the feed's CSV files, 258,000 URLs, while the
peer, which reads no CSV, gets the host names already extracted). For each
input the peer compiles the list (RemoveComments, Compress, Validate,
Deduplicate; twice by default, its fastest run compared), then fraudwall
exports it in every format, each as its own process, and once more in all
formats together (``--out-dir``, its formats rendered side by side in worker
processes). Beside them runs ``floor.py``, the least work any Python list
compiler does, as a lower bound of what a Python run can reach on the input. Wall time and peak memory (see :func:`measure`) are taken the same
way for both tools. Nothing here touches the network except npm installing
the peer from the registry on first use.

    python benchmarks/export.py                    # everything, results in benchmarks/.cache/
    python benchmarks/export.py --size 200000 --formats hosts,rpz
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import write_synthetic  # noqa: E402

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "launch.py"
CACHE = HERE / ".cache"
SHARED_FEEDS = HERE.parent.parent / "shared" / "data" / "feeds" / "jpcert-phishurl"
PEER_TRANSFORMATIONS = ["RemoveComments", "Compress", "Validate", "Deduplicate"]
SURICATA_SID_END = 2**32 - 1
# How often a run's memory is sampled (its own peak RSS is exact; the sum over worker processes is sampled).
SAMPLE_SECONDS = 0.1


@dataclass
class Run:
    """One measured process."""

    tool: str
    input: str
    format: str
    seconds: float
    peak_mb: float
    exit_code: int


def measure(command: list[str], tool: str, input_name: str, format_name: str) -> Run:
    """Run ``command`` to completion; its wall time and peak memory.

    The command runs under :mod:`launch` (see there why), which times it and
    takes its own peak RSS. Peak memory is the larger of that and the highest
    total PSS of the command and its descendants, sampled every
    :data:`SAMPLE_SECONDS`: an export folder renders in forked workers, whose
    shared copy-on-write pages PSS counts once across them, so the figure is
    the memory of the whole run, not of its largest process. Dirty pages are
    flushed first, so no run pays for writing out what the run before it wrote
    (fraudwall fsyncs its outputs; the peer does not).
    """
    os.sync()
    result = CACHE / "launch-result.json"
    result.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, str(LAUNCHER), str(result), *command],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = TreeMemory(process.pid)
    sampler.start()
    _, stderr = process.communicate()
    tree_peak = sampler.stop()
    if process.returncode != 0:
        print(f"  ! {tool} {format_name} exited {process.returncode}: {stderr.decode(errors='replace').strip()[-400:]}",
              file=sys.stderr)
    launched = json.loads(result.read_text())
    peak_mb = max(launched["maxrss_kb"], tree_peak) / 1024
    return Run(tool, input_name, format_name, round(launched["seconds"], 2), round(peak_mb, 1), process.returncode)


class TreeMemory(threading.Thread):
    """Samples the total PSS (kB) of a process's descendants until stopped; keeps the highest."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            self.peak = max(self.peak, sum(_pss_kb(pid) for pid in _tree(self.pid)[1:]))
            self._stopped.wait(SAMPLE_SECONDS)

    def stop(self) -> int:
        self._stopped.set()
        self.join()
        return self.peak


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc/PID/task/TID/children; empty once the process is gone)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                pending.extend(int(child) for child in children.read_text().split())
            except OSError:
                pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # gone, or not yet exec'd into a readable process
        return 0
    return next((int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0)


def peer_binary() -> Path:
    """Install the peer from the npm registry into the cache on first use."""
    home = CACHE / "peer"
    binary = home / "node_modules" / ".bin" / "hostlist-compiler"
    if not binary.exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE / "peer" / "package.json", home / "package.json")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=home, check=True)
    return binary


def run_peer(source: Path, input_name: str) -> Run:
    config = CACHE / f"peer-{input_name}.json"
    config.write_text(json.dumps({
        "name": f"bench {input_name}",
        "sources": [{"source": str(source), "type": "hosts", "transformations": PEER_TRANSFORMATIONS}],
    }))
    return measure([str(peer_binary()), "-c", str(config), "-o", str(CACHE / f"peer-{input_name}.out")],
                   "hostlist-compiler", input_name, "adblock")


def run_fraudwall(source: Path | list[Path], input_name: str, formats: list[str]) -> list[Run]:
    out = CACHE / f"out-{input_name}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    # Three Suricata rules per name: millions of names need more sids than the default
    # range holds (fraudwall refuses to wrap into someone else's), so widen it.
    sources = source if isinstance(source, list) else [source]
    base = [sys.executable, "-m", "fraudwall.cli", "export", *(arg for path in sources for arg in ("--input", str(path))),
            "--option", f"suricata.sid_end={SURICATA_SID_END}"]
    runs = [measure([*base, "--format", name, "--out", str(out / name)], "fraudwall", input_name, name)
            for name in formats]
    runs.append(measure([*base, "--format", ",".join(formats), "--out-dir", str(out / "all")],
                        "fraudwall", input_name, "all formats together"))
    return runs


def run_floor(source: Path, input_name: str) -> Run:
    """The floor (``floor.py``) on ``source``: no fraudwall run can be faster than it."""
    return measure([sys.executable, str(HERE / "floor.py"), str(source), str(CACHE / f"floor-{input_name}.out")],
                   "floor", input_name, "floor.py: least work, no checks (bound)")


def jpcert_hosts() -> Path | None:
    """The JPCERT feed's URLs reduced to host names, one per line (the peer reads host lists)."""
    if not SHARED_FEEDS.is_dir():
        return None
    target = CACHE / "jpcert-hosts.txt"
    if not target.exists():
        hosts = []
        for path in sorted(SHARED_FEEDS.rglob("*.csv")):
            with path.open(encoding="utf-8", errors="replace", newline="") as handle:
                for row in csv.DictReader(handle):
                    host = urlsplit((row.get("URL") or "").strip()).hostname
                    if host:
                        hosts.append(host)
        target.write_text("\n".join(hosts) + "\n", encoding="utf-8")
    return target


def table(runs: list[Run]) -> str:
    """A Markdown table: each fraudwall run (and the floor) beside the peer's run on the same input."""
    peers = {run.input: run for run in runs if run.tool == "hostlist-compiler"}
    lines = ["| input | format | fraudwall s | fraudwall MB | peer s | peer MB | faster | memory |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        peer = peers.get(run.input)
        if run.tool == "hostlist-compiler" or peer is None:
            continue
        lines.append(
            f"| {run.input} | {run.format} | {run.seconds:.2f} | {run.peak_mb:.0f} | {peer.seconds:.2f} | "
            f"{peer.peak_mb:.0f} | {peer.seconds / max(run.seconds, 0.01):.1f}x | "
            f"{run.peak_mb / max(peer.peak_mb, 1):.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2_100_000, help="synthetic names (default 2,100,000)")
    parser.add_argument("--formats", default="all", help="comma-separated formats, or all")
    parser.add_argument("--no-jpcert", action="store_true", help="skip the JPCERT feed input")
    parser.add_argument("--peer-runs", type=int, default=2,
                        help="times the peer compiles each input; its fastest run is the one compared (default 2)")
    args = parser.parse_args()
    from fraudwall.exporters import EXPORTERS

    formats = sorted(EXPORTERS) if args.formats == "all" else args.formats.split(",")
    CACHE.mkdir(exist_ok=True)
    inputs = {f"synthetic-{args.size}": write_synthetic(CACHE / f"synthetic-{args.size}.txt", args.size)}
    jpcert = None if args.no_jpcert else jpcert_hosts()
    if jpcert:
        inputs["jpcert"] = jpcert
    runs: list[Run] = []
    if jpcert:  # the raw feed: fraudwall reads the CSV files, the peer the same URLs' host names
        print("jpcert-csv: peer on the host names...", file=sys.stderr)
        runs.append(replace(min((run_peer(jpcert, "jpcert") for _ in range(max(1, args.peer_runs))),
                                key=lambda run: run.seconds), input="jpcert-csv"))
        print("jpcert-csv: fraudwall on the CSV files...", file=sys.stderr)
        runs.extend(run_fraudwall(sorted(SHARED_FEEDS.rglob("*.csv")), "jpcert-csv", formats))
    for name, source in inputs.items():
        print(f"{name}: peer, {args.peer_runs} run(s)...", file=sys.stderr)
        peer_runs = [run_peer(source, name) for _ in range(max(1, args.peer_runs))]
        for run in peer_runs:
            print(f"  peer {run.seconds:.2f} s, {run.peak_mb:.0f} MB", file=sys.stderr)
        # The peer's time varies from run to run; comparing with its fastest keeps the ratios conservative.
        runs.append(min(peer_runs, key=lambda run: run.seconds))
        print(f"{name}: fraudwall, {len(formats)} formats...", file=sys.stderr)
        runs.extend(run_fraudwall(source, name, formats))
        runs.append(run_floor(source, name))
    report = table(runs)
    print(report)
    (CACHE / "export-results.json").write_text(json.dumps([asdict(run) for run in runs], indent=2))
    (CACHE / "export-results.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
