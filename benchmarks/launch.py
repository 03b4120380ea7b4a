"""Run a command as a child of this small process; report the command's own wall time and peak RSS.

Linux starts an exec'd process's peak RSS at the peak of the memory image it
replaces. Started straight from the benchmark, which holds the inputs it
generated, every command would report at least the benchmark's own peak;
forked from this process, whose image is the interpreter alone, it reports
its own (never less than this process's few megabytes).

    python benchmarks/launch.py RESULT.json COMMAND [ARG...]
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> int:
    result_path, command = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump({"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "pid": pid}, handle)
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
