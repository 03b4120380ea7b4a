"""Judging workers do not outlive a crawl killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from tests.conftest import REPO

#: A process that starts a judging pool, judges one page (so that its workers exist) and prints their pids.
POOL_OWNER = textwrap.dedent("""
    import asyncio, sys
    from fraudwall.judge_pool import JudgePool
    from fraudwall.pages import parse_page
    from fraudwall.settings import Settings

    async def main():
        pool = JudgePool(Settings({"JUDGE_WORKERS": 2}), workers=2, hook_count=10)
        page = parse_page("http://example-test.top/", b"<title>t</title><p>hello</p>")
        await asyncio.gather(*(pool.judge(page) for _ in range(8)))
        print(*pool._executor._processes, flush=True)
        await asyncio.sleep(600)

    asyncio.run(main())
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def test_workers_exit_when_the_crawl_process_is_killed() -> None:
    """SIGKILL to the process that owns the pool, and only to it: its workers exit on their own within seconds."""
    owner = subprocess.Popen([sys.executable, "-c", POOL_OWNER], stdout=subprocess.PIPE, text=True, cwd=REPO)
    workers: list[int] = []
    try:
        workers = [int(pid) for pid in owner.stdout.readline().split()]  # type: ignore[union-attr]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "judging workers outlived the crawl"
    finally:
        owner.kill()
        owner.wait(timeout=10)
        for pid in workers:  # when the test fails, leave no stray process behind
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
