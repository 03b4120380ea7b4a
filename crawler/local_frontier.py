"""The frontier of a crawl on one machine: per-domain queues in memory, taken in turn at a constant cost.

Scrapy's ``DownloaderAwarePriorityQueue`` keeps a queue per download slot (a
registered domain, here) and, for every request it hands out, looks at every
slot with requests waiting to find the least busy one. A crawl of 4,000 seed
domains spent a fifth of its crawl process in that scan, and the cost grows
with the number of domains. :class:`DomainRotationQueue` takes the same
decision from a rotation of the waiting slots: the first slot in turn with
nothing in flight (at most ``CONCURRENT_REQUESTS`` slots are busy, so that is
found after a few steps), and only when every waiting slot is busy, the least
busy of those few. Each domain's own queue keeps Scrapy's priorities
(breadth first).

Under ``--job``, Scrapy would keep that queue on disk, one queue per domain and
per depth, each holding its files open: a job of 2,000 seed domains stopped
after 7 pages with ``Too many open files``. :class:`JournalledScheduler` keeps
the queue in memory, as a crawl without ``--job`` does; the job's frontier on
disk is its journal (:mod:`fraudwall.crawler.journal`), which holds every
request the scheduler accepted and re-asks the unfinished ones when the job
resumes, after a clean stop or a SIGKILL alike. The duplicate filter and the
spider's state stay in the job folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrapy import Request
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.pqueues import DownloaderAwarePriorityQueue


class DomainRotationQueue(DownloaderAwarePriorityQueue):
    """Scrapy's per-slot queue, with the next slot found from a rotation instead of a scan of every slot."""

    def __init__(self, crawler: Crawler, downstream_queue_cls: Any, key: str,
                 slot_startprios: dict[str, Iterable[int]] | None = None, *, start_queue_cls: Any = None) -> None:
        super().__init__(crawler, downstream_queue_cls, key, slot_startprios, start_queue_cls=start_queue_cls)
        #: The slots with requests waiting, the one whose turn is next first (a dict keeps the order).
        self._turns: dict[str, None] = dict.fromkeys(self.pqueues)

    def _active(self, slot: str) -> int:
        return self._downloader_interface._active_downloads(slot)

    def _next(self) -> str | None:
        for slot in self._turns:
            if not self._active(slot):
                return slot
        # Every slot with requests waiting is busy: they are at most CONCURRENT_REQUESTS, the least busy goes.
        return min(self._turns, key=self._active, default=None)

    def push(self, request: Request) -> None:
        super().push(request)
        self._turns.setdefault(self._downloader_interface.get_slot_key(request), None)

    def pop(self) -> Request | None:
        slot = self._next()
        if slot is None:
            return None
        queue = self.pqueues[slot]
        request = queue.pop()
        del self._turns[slot]
        if len(queue):
            self._turns[slot] = None  # to the back of the rotation
        else:
            del self.pqueues[slot]
            queue.close()
        return request

    def peek(self) -> Request | None:
        slot = self._next()
        return None if slot is None else self.pqueues[slot].peek()


class JournalledScheduler(Scheduler):
    """Scrapy's scheduler with its queue in memory even under ``JOBDIR``: the job's journal persists the frontier."""

    def _dqdir(self, jobdir: str | None) -> str | None:
        return None
