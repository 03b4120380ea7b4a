"""Worker processes do not outlive the process that started them when it is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import REPO

from fraudwall.process_watch import alive

#: A process that starts a judging pool, judges one page (so that its workers exist) and prints their pids.
JUDGE_POOL_OWNER = textwrap.dedent("""
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
#: A process that starts an APK batch whose two tasks run for minutes (the analysis replaced by a sleep that
#: reports its worker as the real one does) and prints the busy workers' pids.
APK_BATCH_OWNER = textwrap.dedent("""
    import os, time
    from fraudwall.apk_analysis import pool
    from fraudwall.apk_analysis.pool import _Batch

    def slow(task, *args, **kwargs):
        pool._started.put((task, os.getpid()))
        time.sleep(600)

    batch = _Batch(["a.apk", "b.apk"], 2, 600.0, 2048, None, 1, work=slow)
    steps = batch.steps([0, 1], {})
    next(steps)
    while len(batch.pids) < 2:
        batch.pids.update(dict([batch.started.get()]))
    print(*batch.pids.values(), flush=True)
    time.sleep(600)
""")


@pytest.mark.parametrize("owner_script", [JUDGE_POOL_OWNER, APK_BATCH_OWNER], ids=["judging-pool", "apk-batch"])
def test_workers_exit_when_their_owner_is_killed(owner_script: str) -> None:
    """SIGKILL to the process that owns the pool (a crawl, `analyze apk`), and only to it: its workers, busy or
    idle, exit on their own within seconds."""
    owner = subprocess.Popen([sys.executable, "-c", owner_script], stdout=subprocess.PIPE, text=True, cwd=REPO)
    workers: list[int] = []
    try:
        workers = [int(pid) for pid in owner.stdout.readline().split()]  # type: ignore[union-attr]
        assert len(workers) == 2 and all(alive(pid) for pid in workers)
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in workers), "workers outlived their owner"
    finally:
        owner.kill()
        owner.wait(timeout=10)
        for pid in workers:  # when the test fails, leave no stray process behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
