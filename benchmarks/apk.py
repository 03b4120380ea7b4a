"""APK benchmark: one ``fraudwall analyze apk`` call against androguard's ``AnalyzeAPK``, same files, side by side.

fraudwall runs as a user runs it: one CLI call over the sample folder, start-up,
worker processes, every detector and the JSON lines included. The peer is
androguard's full analysis (``androguard.misc.AnalyzeAPK``: manifest,
resources, every DEX parsed with cross-references) over the same files, one
after another in one process, as a script using androguard would. Both are
timed and their memory taken the same way (``export.measure``: wall time,
and the peak of the process tree's PSS, workers included). A file androguard
cannot read counts its time all the same; it is listed.

The project's modules are compiled to bytecode first, as ``pip install``
compiles an installed package (androguard's, in site-packages, already are):
otherwise a machine that sets ``PYTHONDONTWRITEBYTECODE`` would time the
compilation of fraudwall's own source on every call.

Targets (the APK analysis issue): at least 10x faster in total, and at most
half androguard's peak memory.

Each side runs ``--repeat`` times (3 by default), the two alternating, and
the median of each is reported: on a shared machine one run of a one-second
command moves by a third.

    python benchmarks/apk.py                 # ../shared/data/apks
    python benchmarks/apk.py --data DIR --repeat 5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from export import CACHE, Run, measure  # noqa: E402

DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "apks"


def compile_project() -> None:
    """Bytecode for the project's packages, as an install leaves it."""
    import compileall

    for folder in ("fraudwall", "crawler", "apk_analysis", "plugins", "blocklists", "exporters"):
        compileall.compile_dir(str(HERE.parent / folder), quiet=1)


def androguard_side(files: list[str]) -> None:
    """The peer: ``AnalyzeAPK`` on each file in this process; files it cannot read are named on stderr."""
    from androguard.misc import AnalyzeAPK
    from loguru import logger

    logger.remove()  # androguard logs every step; writing that out would be timed too
    for file in files:
        try:
            AnalyzeAPK(file)
        except Exception as error:  # the peer's own failure on a hostile sample is part of the comparison
            print(f"androguard could not analyse {Path(file).name}: {type(error).__name__}", file=sys.stderr)


def median_run(runs: list[Run]) -> Run:
    """The run of median time (the upper one of an even count)."""
    return sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of APKs (default ../shared/data/apks)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the median is reported (default 3)")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)  # FILE...: the androguard side
    args = parser.parse_args()
    if args.child is not None:
        androguard_side(args.child)
        return
    files = sorted(str(path) for path in args.data.glob("*.apk"))
    if not files:
        raise SystemExit(f"no APKs in {args.data}")
    CACHE.mkdir(exist_ok=True)
    compile_project()
    ours_runs, peer_runs = [], []
    for _ in range(max(1, args.repeat)):
        ours_runs.append(measure([sys.executable, "-m", "fraudwall.cli", "analyze", "apk", str(args.data), "--json"],
                                 "fraudwall", "apks", "analyze apk"))
        peer_runs.append(measure([sys.executable, __file__, "--child", *files], "androguard", "apks", "AnalyzeAPK"))
    ours, peer = median_run(ours_runs), median_run(peer_runs)
    print("runs (s): fraudwall " + " ".join(f"{run.seconds:.2f}" for run in ours_runs)
          + "; androguard " + " ".join(f"{run.seconds:.2f}" for run in peer_runs))
    print(f"{len(files)} APKs in {args.data}")
    print("| run | seconds | peak MB |")
    print("|---|---:|---:|")
    print(f"| `fraudwall analyze apk` (one call, start-up included) | {ours.seconds:.2f} | {ours.peak_mb:.0f} |")
    print(f"| androguard `AnalyzeAPK`, one process | {peer.seconds:.2f} | {peer.peak_mb:.0f} |")
    print(f"| ratio | {peer.seconds / max(ours.seconds, 0.01):.1f}x faster | {ours.peak_mb / max(peer.peak_mb, 1):.2f} of the memory |")


if __name__ == "__main__":
    main()
