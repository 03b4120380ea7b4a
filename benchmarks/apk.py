"""APK benchmark: one ``fraudwall analyze apk`` call against androguard's ``AnalyzeAPK``, same files, side by side.

fraudwall runs as a user runs it: one CLI call over the sample folder, start-up,
worker processes, every detector and the JSON lines included. The peer is
androguard's full analysis (``androguard.misc.AnalyzeAPK``: manifest,
resources, every DEX parsed with cross-references) over the same files, one
after another in one process, as a script using androguard would. Both are
timed and their memory taken the same way (``export.measure``: wall time,
and the peak of the process tree's PSS, workers included). A file androguard
cannot read counts its time all the same; it is listed.

Targets (the APK analysis issue): at least 10x faster in total, and at most
half androguard's peak memory.

    python benchmarks/apk.py                 # ../shared/data/apks
    python benchmarks/apk.py --data DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from export import CACHE, measure  # noqa: E402

DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "apks"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of APKs (default ../shared/data/apks)")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)  # FILE...: the androguard side
    args = parser.parse_args()
    if args.child is not None:
        androguard_side(args.child)
        return
    files = sorted(str(path) for path in args.data.glob("*.apk"))
    if not files:
        raise SystemExit(f"no APKs in {args.data}")
    CACHE.mkdir(exist_ok=True)
    ours = measure([sys.executable, "-m", "fraudwall.cli", "analyze", "apk", str(args.data), "--json"],
                   "fraudwall", "apks", "analyze apk")
    peer = measure([sys.executable, __file__, "--child", *files], "androguard", "apks", "AnalyzeAPK")
    print(f"{len(files)} APKs in {args.data}")
    print("| run | seconds | peak MB |")
    print("|---|---:|---:|")
    print(f"| `fraudwall analyze apk` (one call, start-up included) | {ours.seconds:.2f} | {ours.peak_mb:.0f} |")
    print(f"| androguard `AnalyzeAPK`, one process | {peer.seconds:.2f} | {peer.peak_mb:.0f} |")
    print(f"| ratio | {peer.seconds / max(ours.seconds, 0.01):.1f}x faster | {ours.peak_mb / max(peer.peak_mb, 1):.2f} of the memory |")


if __name__ == "__main__":
    main()
