"""APK analysis benchmark: ``observe_apk`` against androguard's full ``AnalyzeAPK`` over the same files.

Each side runs in its own child process, analysing every sample one after
another in that process, and times each file (imports excluded, so neither
side pays its start-up per file). The parent, which imports neither,
reaps each child with ``os.wait4`` and reads that child's own resource usage:
its peak RSS, untouched by the other side's. androguard's logging is
switched off on both sides (it is very chatty, and would be timed too).

Targets (the APK analysis brief): ``observe_apk`` at least 10x faster in
total, at no more than half of AnalyzeAPK's peak RSS.

    python benchmarks/apk_observe.py                       # ../shared/data/apks
    python benchmarks/apk_observe.py --data DIR --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "apks"
SIDES = ("fraudwall", "androguard")
SPEEDUP_TARGET = 10.0
MEMORY_TARGET = 0.5


# -- the children -------------------------------------------------------------------------


def _fraudwall_side(paths: list[Path]) -> list[dict[str, object]]:
    from fraudwall.apk_analysis import ApkRejected, observe_apk

    rows = []
    for path in paths:
        started = time.perf_counter()
        try:
            observations = observe_apk(path.read_bytes())
            outcome = f"{len(observations)} observation{'s' * (len(observations) > 1)}"
        except ApkRejected as rejection:
            outcome = f"rejected: {rejection.reason}"
        rows.append({"file": path.name, "seconds": time.perf_counter() - started, "outcome": outcome})
    return rows


def _androguard_side(paths: list[Path]) -> list[dict[str, object]]:
    from loguru import logger

    logger.remove()
    from androguard.misc import AnalyzeAPK

    rows = []
    for path in paths:
        started = time.perf_counter()
        try:
            AnalyzeAPK(str(path))
            outcome = "analysed"
        except Exception as error:  # noqa: BLE001 - the peer's failures are part of the comparison
            outcome = f"{type(error).__name__}: {str(error)[:60]}"
        rows.append({"file": path.name, "seconds": time.perf_counter() - started, "outcome": outcome})
    return rows


def child(side: str, data: Path, out: Path) -> None:
    """Analyse every sample with ``side`` in this process and write the per-file rows to ``out``."""
    paths = sorted(data.glob("*.apk"))
    rows = _fraudwall_side(paths) if side == "fraudwall" else _androguard_side(paths)
    out.write_text(json.dumps(rows), encoding="utf-8")


# -- the parent ---------------------------------------------------------------------------


def run_side(side: str, data: Path) -> dict[str, object]:
    """Run one side in a child process: its rows, wall time and peak RSS (from the child's own rusage)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "rows.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--side", side, "--data", str(data),
                   "--out", str(out)]
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if process.returncode != 0:
            raise SystemExit(f"the {side} side failed with exit code {process.returncode}")
        rows = json.loads(out.read_text(encoding="utf-8"))
    return {"rows": rows, "wall_seconds": wall, "peak_rss_mb": usage.ru_maxrss / 1024}


def report(results: dict[str, dict[str, object]]) -> dict[str, float]:
    """Print the side-by-side table and the totals; return the summary figures."""
    ours, peer = results["fraudwall"]["rows"], results["androguard"]["rows"]
    print(f"{'file':52} {'observe_apk':>12} {'AnalyzeAPK':>11} {'ratio':>7}  outcome (ours | androguard)")
    for mine, theirs in zip(ours, peer):  # type: ignore[call-overload]
        ratio = theirs["seconds"] / mine["seconds"] if mine["seconds"] else float("inf")
        print(f"{mine['file']:52} {mine['seconds'] * 1000:10.1f}ms {theirs['seconds'] * 1000:9.1f}ms {ratio:6.1f}x"
              f"  {mine['outcome']} | {theirs['outcome']}")
    total_ours = sum(row["seconds"] for row in ours)  # type: ignore[union-attr]
    total_peer = sum(row["seconds"] for row in peer)  # type: ignore[union-attr]
    rss_ours, rss_peer = results["fraudwall"]["peak_rss_mb"], results["androguard"]["peak_rss_mb"]
    summary = {
        "files": len(ours), "observe_apk_seconds": total_ours, "analyzeapk_seconds": total_peer,
        "speedup": total_peer / total_ours, "observe_apk_peak_rss_mb": rss_ours, "analyzeapk_peak_rss_mb": rss_peer,
        "rss_ratio": rss_ours / rss_peer,  # type: ignore[operator]
        "observe_apk_child_wall_seconds": results["fraudwall"]["wall_seconds"],
        "analyzeapk_child_wall_seconds": results["androguard"]["wall_seconds"],
    }
    print(f"\n{'total':52} {total_ours * 1000:10.1f}ms {total_peer * 1000:9.1f}ms {summary['speedup']:6.1f}x")
    print(f"peak RSS: observe_apk {rss_ours:.0f} MB, AnalyzeAPK {rss_peer:.0f} MB "
          f"({summary['rss_ratio']:.2f} of it)")
    print(f"child wall time with imports: observe_apk {summary['observe_apk_child_wall_seconds']:.2f} s, "
          f"AnalyzeAPK {summary['analyzeapk_child_wall_seconds']:.2f} s")
    print(f"target: >= {SPEEDUP_TARGET:g}x faster: {'met' if summary['speedup'] >= SPEEDUP_TARGET else 'MISSED'}; "
          f"<= {MEMORY_TARGET:g} of the peak RSS: {'met' if summary['rss_ratio'] <= MEMORY_TARGET else 'MISSED'}")
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of *.apk samples")
    parser.add_argument("--json", type=Path, help="also write the rows and summary here")
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        child(args.side, args.data, args.out)
        return 0
    if not any(args.data.glob("*.apk")):
        raise SystemExit(f"no *.apk samples in {args.data}")
    results = {side: run_side(side, args.data) for side in SIDES}
    summary = report(results)
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "sides": results}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
