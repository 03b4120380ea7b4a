"""The least work any Python list compiler does: the export benchmark's floor.

Reads a host list, lowercases it, keeps the lines one regular expression
calls host names, removes duplicates, sorts them by labels from the root down
and writes them, one per line, synced to disk. No IDN, no public suffixes, no
allowlist, no platform apexes, no report, no guard on the output: every
fraudwall export does all this and more. Its time on an input is a lower bound
for any CPython run that compiles that list, which tells a target that cannot
be met from one that has not been.

    python benchmarks/floor.py HOSTS.txt OUT.txt
"""

from __future__ import annotations

import os
import re
import sys

HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")


def main() -> int:
    source, target = sys.argv[1], sys.argv[2]
    with open(source, "rb") as handle:
        lines = handle.read().decode("utf-8", errors="replace").lower().splitlines()
    hosts = {line for line in lines if HOST.fullmatch(line)}
    # Labels joined by a space (which sorts before every name character) compare
    # as the tuple of labels would, and faster.
    ordered = sorted(hosts, key=lambda host: " ".join(host.split(".")[::-1]))
    with open(target, "w", encoding="ascii") as handle:
        handle.write("\n".join(ordered) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
