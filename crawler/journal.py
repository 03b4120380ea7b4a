"""A crawl job that survives SIGKILL: Scrapy's JOBDIR plus a journal of what was asked and what is settled.

``fraudwall crawl --job NAME`` gives the crawl a job folder, which Scrapy uses
as its ``JOBDIR`` (the duplicate filter, the spider's state). The scheduler's
queue stays in memory (:mod:`fraudwall.crawler.local_frontier`): Scrapy would
write part of it only when the crawl closes cleanly, and a request taken off
it lives only in memory until its page is stored, so after a SIGKILL those
would be lost, or marked seen and never fetched. The job's frontier on disk is
its journal instead, two append-only files flushed line by line:

* ``scheduled.jsonl``: every request the scheduler accepted (URL, seed, kind);
* ``settled.txt``: every URL whose outcome needs no store: a fetch that failed
  for good, a page the pipelines rejected, a response that was no page.

A request is finished when its URL is settled or its page is in the store
(the store commits in batches, so the store, not the crawl's memory, says
what is kept). On resume the spider asks again, past the duplicate filter,
for every scheduled request that is not finished, and
:class:`FinishedRequestFilter` drops any request whose page is already stored
or settled (a page asked again is often found again as a link too): nothing is
lost and no finished page is fetched again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from fraudwall import stats_keys


#: Job names become folder names: letters, digits, dot, dash and underscore only.
JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: Request meta the journal keeps, so a re-asked request is followed like the original.
KEPT_META = ("seed", "seed_domain", "referrer", "apk", "depth", "profile", "outbound", "download_slot")


def job_folder(jobs_dir: str | Path, name: str) -> Path:
    """The folder of job ``name``; a name that is not a plain folder name is a ValueError."""
    if not JOB_NAME.fullmatch(name):
        raise ValueError(f"job name {name!r}: use letters, digits, '.', '-' and '_' (at most 64)")
    return Path(jobs_dir) / name


class FrontierJournal:
    """The job's journal: requests scheduled, URLs settled, and what a resumed crawl must ask again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.scheduled_path = folder / "scheduled.jsonl"
        self.settled_path = folder / "settled.txt"
        self.resumed = self.scheduled_path.exists()
        self.finished: set[str] = set()
        self._scheduled: IO[str] | None = None
        self._settled: IO[str] | None = None

    def open(self, stored_urls: Iterable[str]) -> None:
        """Start writing; ``stored_urls`` are the pages the store already holds (requested or final URLs)."""
        if self.resumed:
            self.finished = set(stored_urls)
            self.finished.update(self._lines(self.settled_path))
        # Line-buffered: a line is in the file when the call returns, whatever kills the process next.
        self._scheduled = open(self.scheduled_path, "a", encoding="utf-8", buffering=1)
        self._settled = open(self.settled_path, "a", encoding="utf-8", buffering=1)

    def close(self) -> None:
        for handle in (self._scheduled, self._settled):
            if handle is not None:
                handle.close()

    def scheduled(self, request: Request) -> None:
        """Note a request the scheduler accepted."""
        if self._scheduled is not None:
            meta = {key: request.meta[key] for key in KEPT_META if key in request.meta}
            self._scheduled.write(json.dumps({"url": request.url, "meta": meta}, ensure_ascii=False) + "\n")

    def settle(self, url: str) -> None:
        """Note a URL whose outcome is final without a stored page."""
        self.finished.add(url)
        if self._settled is not None:
            self._settled.write(url + "\n")

    def is_finished(self, url: str) -> bool:
        return url in self.finished

    def unfinished(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each scheduled request of the crawl before this one that is not finished, once: (url, meta)."""
        seen: set[str] = set()
        for line in self._lines(self.scheduled_path):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # the last line of a killed crawl may be cut short
            url = record.get("url")
            if isinstance(url, str) and url not in seen and url not in self.finished:
                seen.add(url)
                yield url, dict(record.get("meta") or {})

    @staticmethod
    def _lines(path: Path) -> list[str]:
        try:
            return [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line]
        except FileNotFoundError:
            return []


class AlreadyDone(IgnoreRequest):
    """A request a resumed job finished before it was stopped: not fetched, not a failure."""


class FinishedRequestFilter:
    """Downloader middleware: a resumed job does not fetch again a page it stored or a URL it settled."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> FinishedRequestFilter:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        journal: FrontierJournal | None = getattr(self.crawler.spider, "journal", None)
        # A redirect's hop is finished when its chain is: a page is stored under the URL its chain started at,
        # and an entry domain not fetched before the stop still needs its hop to a landing page that was.
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        if journal is not None and journal.resumed and journal.is_finished(url):
            self.crawler.stats.inc_value(stats_keys.RESUME_ALREADY_DONE)
            raise AlreadyDone(f"finished before the crawl was resumed: {request.url}")
