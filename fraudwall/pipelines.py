"""Scrapy item pipelines: judge → store.

This module is orchestration: it is the one place (with the CLI) that wires
the crawler's output to the judging path and the store. Each pipeline is
built from the crawler's settings; the fraudwall :class:`Settings` travel in
the Scrapy setting ``FRAUDWALL_SETTINGS`` (``scrapy crawl`` builds them from
the environment, see :mod:`fraudwall.scrapy_settings`).

:class:`JudgePipeline` hands each observation to worker processes
(:mod:`fraudwall.judge_pool`) and awaits the judgement, so the reactor goes on
downloading meanwhile; :class:`StorePipeline` records judgements in batches
through :meth:`~fraudwall.blocklists.store.Store.record`, one transaction each.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from scrapy.exceptions import DropItem
from twisted.internet import task

from fraudwall import stats_keys
from fraudwall.blocklists.scoring import score_findings
from fraudwall.blocklists.store import Store
from fraudwall.crawler.render import render_when_asked
from fraudwall.crawler.variants import CloakedSeed, merge_variants
from fraudwall.judge_pool import JudgePool, worker_count
from fraudwall.models import ApkDownload, Judgement, PageObservation
from fraudwall.plugin_host import PluginHost
from fraudwall.settings import Settings, load_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JudgedApk:
    """A downloaded APK judged: its own judgement first, then those of the APKs inside it."""

    judgements: tuple[Judgement, ...]


@dataclass(frozen=True, slots=True)
class JudgedVariants:
    """The variants of a seed that cloaks, judged and scored together (one verdict per URL)."""

    judgements: tuple[Judgement, ...]

#: Judgements stored per transaction: at 256 a commit's index writes are spread over enough rows for
#: the store to record well over 5,000 pages/s (``benchmarks/store.py``). A graceful stop (SIGINT,
#: SIGTERM, --max-pages) stores the rest.
STORE_BATCH = 256
#: A slow crawl still stores what it judged at least this often, so a crash loses seconds, not a batch.
STORE_FLUSH_SECONDS = 2.0


def fraudwall_settings(crawler: Any) -> Settings:
    """The fraudwall settings of this crawl, built once and shared by the pipelines."""
    settings = crawler.settings.get("FRAUDWALL_SETTINGS")
    if settings is None:
        settings = load_settings()
    return settings


class JudgePipeline:
    """Judges each page observation in a worker process (:func:`fraudwall.judging.judge`)."""

    def __init__(self, crawler: Any, settings: Settings) -> None:
        self.crawler = crawler
        self.settings = settings
        self.pool = JudgePool(settings, worker_count(settings))  # its workers load their plugins meanwhile
        try:
            host = PluginHost.from_settings(settings)  # here only to name what runs and to size the budget
        except BaseException:
            self.pool.close()
            raise
        infos = host.describe()
        log.info("detector plugins enabled: %s", ", ".join(f"{i.name} {i.version}" for i in infos) or "none")
        self.pool.hook_count = sum(len(i.hooks) for i in infos)

    @classmethod
    def from_crawler(cls, crawler: Any) -> JudgePipeline:
        return cls(crawler, fraudwall_settings(crawler))

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, CloakedSeed):
            return await self._judge_variants(item)
        if not isinstance(item, (PageObservation, ApkDownload)):
            return item
        stats = self.crawler.stats
        result = await self.pool.judge(item)
        if isinstance(item, PageObservation):
            self._fetch_apps(item, result.apps if result is not None else ())
        if result is None:
            stats.inc_value(stats_keys.JUDGE_ABANDONED)
            raise DropItem(f"judging abandoned: {item.final_url}")
        for (plugin, outcome), count in result.plugin_stats:
            stats.inc_value(f"{stats_keys.JUDGE_PLUGINS}{plugin}/{outcome}", count)
        if result.judgement is None:
            if isinstance(item, ApkDownload):
                reason = result.rejected.removeprefix("apk: ")
                stats.inc_value(stats_keys.APK_REJECTED + reason)
                raise DropItem(f"download is no APK ({reason}): {item.final_url}")
            stats.inc_value(stats_keys.JUDGE_REJECTED + result.rejected)
            raise DropItem(f"page rejected ({result.rejected}): {item.final_url}")
        stats.inc_value(stats_keys.JUDGE_FINDINGS, sum(len(j.findings) for j in (result.judgement, *result.nested)))
        if isinstance(item, ApkDownload):
            stats.inc_value(stats_keys.APK_VERDICTS + result.judgement.verdict.status)
            return JudgedApk((result.judgement, *result.nested))
        self._render_if_asked(item, result.judgement)
        return result.judgement

    def _fetch_apps(self, page: PageObservation, apps: tuple[str, ...]) -> None:
        """The APK files judging read on the page and the spider's own scan missed are fetched (see
        :meth:`~fraudwall.crawler.spiders.seed_spider.SeedSpider.apps_judging_found`)."""
        found = getattr(self.crawler.spider, "apps_judging_found", None)
        if found is None or self.crawler.engine is None:
            return
        for request in found(page, apps):
            self.crawler.engine.crawl(request)

    def _render_if_asked(self, page: PageObservation, judgement: Judgement) -> None:
        """A detector that saw script tricks on a page with text asks for it rendered (see crawler.render)."""
        spider = self.crawler.spider
        request = render_when_asked(page, judgement.findings, self.crawler.settings, callback=spider.parse,
                                    errback=getattr(spider, "on_error", None),
                                    depth=getattr(spider, "max_depth", None))
        if request is not None and self.crawler.engine is not None:
            self.crawler.engine.crawl(request)

    async def _judge_variants(self, item: CloakedSeed) -> JudgedVariants:
        """Each variant judged with the cloaking findings beside the plugins', then all scored together."""
        stats = self.crawler.stats
        judgements = []
        results = await asyncio.gather(*(self.pool.judge(page, item.findings) for page in item.pages))
        for result in results:
            if result is None:
                stats.inc_value(stats_keys.JUDGE_ABANDONED)
                continue
            for (plugin, outcome), count in result.plugin_stats:
                stats.inc_value(f"{stats_keys.JUDGE_PLUGINS}{plugin}/{outcome}", count)
            if result.judgement is None:
                stats.inc_value(stats_keys.JUDGE_REJECTED + result.rejected)
                continue
            judgements.append(result.judgement)
        if not judgements:
            raise DropItem(f"no variant judged: {item.pages[0].url}")
        stats.inc_value(stats_keys.JUDGE_FINDINGS, sum(len(judgement.findings) for judgement in judgements))
        return JudgedVariants(tuple(merge_variants(
            judgements, lambda subject, found, kind: score_findings(subject, found, self.settings, kind=kind))))

    def close_spider(self) -> None:
        self.pool.close()


class StorePipeline:
    """Records judgements in the SQLite store, :data:`STORE_BATCH` per transaction or every :data:`STORE_FLUSH_SECONDS`."""

    def __init__(self, crawler: Any, settings: Settings) -> None:
        self.crawler = crawler
        self.settings = settings
        self.path = settings.get("DB_PATH")
        self.store: Store | None = None
        self.pending: list[Judgement] = []
        self.timer = task.LoopingCall(self._flush)

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler, fraudwall_settings(crawler))

    def open_spider(self) -> None:
        self.store = Store.open(self.path)
        spider = self.crawler.spider
        self.store.record_targets(getattr(spider, "targets", []))
        self.timer.start(STORE_FLUSH_SECONDS, now=False)

    def close_spider(self) -> None:
        if self.timer.running:
            self.timer.stop()
        if self.store is not None:
            self._flush()
            self.store.close()

    def process_item(self, item: Any) -> Any:
        if self.store is None:
            return item
        if isinstance(item, JudgedApk):
            self.pending.extend(item.judgements)
        elif isinstance(item, JudgedVariants):
            self.pending.extend(item.judgements)
            # One verdict per URL, however many clients were shown it.
            for status in {j.verdict.subject: j.verdict.status for j in item.judgements}.values():
                self.crawler.stats.inc_value(stats_keys.JUDGE_VERDICTS + status)
        elif isinstance(item, Judgement):
            self.pending.append(item)
            self.crawler.stats.inc_value(stats_keys.JUDGE_VERDICTS + item.verdict.status)
        else:
            return item
        if len(self.pending) >= STORE_BATCH:
            self._flush()
        return item

    def _flush(self) -> None:
        if self.pending and self.store is not None:
            self.store.record(self.pending, self.settings)
            self.pending.clear()
