"""The judging pool's workers run below the crawl: their niceness is ``JUDGE_NICE`` above their owner's."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

#: Starts a pool with the given niceness, judges a page in each worker and prints the workers' pids.
OWNER = textwrap.dedent("""
    import asyncio, sys
    from fraudwall.judge_pool import JudgePool
    from fraudwall.pages import parse_page
    from fraudwall.settings import Settings

    async def main():
        pool = JudgePool(Settings({"JUDGE_NICE": int(sys.argv[1])}), workers=2)
        page = parse_page("http://example-test.top/", b"<title>t</title><p>hello</p>")
        results = await asyncio.gather(*(pool.judge(page) for _ in range(4)))
        assert all(result is not None and result.judgement is not None for result in results)
        print(*pool._executor._processes, flush=True)
        sys.stdin.readline()  # the workers live until the test has looked at them
        pool.close()

    asyncio.run(main())
""")


@pytest.mark.parametrize("nice", [0, 7, 19])
def test_workers_run_at_the_configured_niceness(nice: int) -> None:
    """Each judging worker's niceness is its owner's plus JUDGE_NICE (capped at 19), and it still judges."""
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(nice)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, cwd=REPO)
    try:
        assert owner.stdout is not None and owner.stdin is not None
        pids = [int(pid) for pid in owner.stdout.readline().split()]
        assert pids, "the pool started no worker"
        expected = min(19, os.getpriority(os.PRIO_PROCESS, owner.pid) + nice)
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in pids] == [expected] * len(pids)
        owner.stdin.write("\n")
        owner.stdin.flush()
        assert owner.wait(timeout=60) == 0
    finally:
        owner.kill()
