"""The browser processes of this crawl, for the moment the browser stops answering.

A page can keep Chromium's browser process too busy to close it: a script
that rewrites its history and title every millisecond floods the browser with
navigation events, and neither closing the page nor closing the browser
returns (the crawl hung at its end, the browser at full CPU). Playwright
exposes no process ids, so :func:`kill_browser` finds the browser's
processes as this process's descendants whose program is Chromium, and kills
them; Playwright then sees the browser disconnect, and scrapy-playwright
launches a new one for the next render.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

#: Program names of the browser's processes (the browser, its zygote, renderers, GPU and utility processes).
BROWSER_PROGRAMS = ("chromium", "chrome", "headless_shell")


def _parents() -> dict[int, list[int]]:
    """Each process's children, from ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_bytes()
        except OSError:
            continue  # gone meanwhile
        parent = int(stat[stat.rindex(b")") + 2:].split()[1])  # the name in parentheses may hold spaces
        children.setdefault(parent, []).append(int(entry.name))
    return children


def _program(pid: int) -> str:
    """The program ``pid`` runs. Chromium's zygote and renderers rewrite their command line into one string
    (``/usr/lib/chromium/chromium --type=renderer ... GNU/Linux 12``): the program is its first word."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return command.split(b"\0", 1)[0].split(b" ", 1)[0].decode("utf-8", "replace")


def browser_processes(root: int | None = None) -> list[int]:
    """The processes descended from ``root`` (this process) that run the browser."""
    children = _parents()
    found: list[int] = []
    pending = [root or os.getpid()]
    while pending:
        for child in children.get(pending.pop(), []):
            pending.append(child)
            if os.path.basename(_program(child)).startswith(BROWSER_PROGRAMS):
                found.append(child)
    return found


def kill_browser(root: int | None = None) -> int:
    """SIGKILL every browser process descended from ``root``; how many were killed."""
    killed = 0
    for pid in browser_processes(root):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    return killed
