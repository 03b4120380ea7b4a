"""Worker processes that end with the process that started them.

A ``ProcessPoolExecutor`` worker waits on its task queue for its next task. When
the process that owns the pool is killed with SIGKILL it cannot stop the pool,
and the queue never reaches end-of-file (the worker holds both ends of its
pipe), so the worker, its forkserver and multiprocessing's resource tracker
would run for ever. :func:`exit_when_gone`, called in a worker's initializer,
ends the worker as soon as its owner is gone.
"""

from __future__ import annotations

import os
import select
import threading
import time

#: Without a pidfd, how often the owner is looked for.
POLL_SECONDS = 1.0


def exit_when_gone(owner_pid: int) -> None:
    """Exit this process (status 1) as soon as process ``owner_pid`` has exited; returns at once."""
    threading.Thread(target=_wait_then_exit, args=(owner_pid,), name="exit-with-owner", daemon=True).start()


def _wait_then_exit(owner_pid: int) -> None:
    try:
        pidfd = os.pidfd_open(owner_pid)  # readable once the process exits
    except (AttributeError, OSError):  # no pidfd on this system: ask once in a while
        while alive(owner_pid):
            time.sleep(POLL_SECONDS)
    else:
        select.select([pidfd], [], [])
    os._exit(1)


def alive(pid: int) -> bool:
    """True while process ``pid`` runs; one that has exited but is not yet reaped (a zombie) is gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc here: the signal's answer stands
        return True
