"""Run a distributed crawl worker: the seed spider over a shared Redis frontier, judging into the outbox.

Orchestration, like :mod:`fraudwall.crawl`: it wires the crawler's leased
frontier (:mod:`fraudwall.crawler.redis_scheduler`, :mod:`~fraudwall.crawler.leases`,
:mod:`~fraudwall.crawler.worker_lifecycle`) to the judging pipeline and the
outbox. A worker's Scrapy settings are a single crawl's
(:func:`fraudwall.crawl.scrapy_settings_for`) with these changes: the
scheduler is the leased Redis one, the lease middleware and the lifecycle
extension are on, no local job folder is kept (``--job`` names the Redis
job; its frontier is the job's state), and the store pipeline is replaced by
:class:`OutboxPipeline`: a worker judges pages as a single crawl does (in its
judging processes) and pushes each judgement to Redis; it never opens SQLite.
``fraudwall ingest`` (:mod:`fraudwall.ingest`) records them.

Every machine keeps its own network policy (``ALLOW_NETS``, ``HOST_MAP``)
and limits: they are the worker's settings, not the job's.
"""

from __future__ import annotations

import logging
from typing import Any

from fraudwall import stats_keys
from fraudwall.crawl import CrawlOutcome, scrapy_settings_for
from fraudwall.crawler.leases import FRONTIER_SETTING, worker_state
from fraudwall.crawler.redis_frontier import FrontierConfig, connect
from fraudwall.judgement_codec import encode_judgements, encode_targets
from fraudwall.models import Judgement, Target
from fraudwall.outbox import Outbox
from fraudwall.settings import Settings

log = logging.getLogger(__name__)

STORE_PIPELINE = "fraudwall.pipelines.StorePipeline"
OUTBOX_PIPELINE = "fraudwall.distributed.OutboxPipeline"


class OutboxPipeline:
    """Pushes each judged item to the job's outbox in Redis, and the worker's seeds once, as targets.

    A push that fails on Redis raises, so the item counts as failed and its
    lease is kept (:mod:`fraudwall.crawler.leases`): the page is fetched
    again rather than lost.
    """

    def __init__(self, crawler: Any, outbox: Outbox) -> None:
        self.crawler = crawler
        self.outbox = outbox

    @classmethod
    def from_crawler(cls, crawler: Any) -> OutboxPipeline:
        state = worker_state(crawler)
        return cls(crawler, Outbox(state.frontier.client, state.config.job))

    def open_spider(self) -> None:
        targets = getattr(self.crawler.spider, "targets", [])
        if targets:
            self.outbox.push(encode_targets(targets))

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Judgement):
            judgements: tuple[Judgement, ...] = (item,)
            self.crawler.stats.inc_value(stats_keys.JUDGE_VERDICTS + item.verdict.status)
        elif _judged_together(item):
            judgements = item.judgements  # a downloaded APK and the APKs inside it: one message, one transaction
        else:
            return item
        self.outbox.push(encode_judgements(judgements))
        self.crawler.stats.inc_value(stats_keys.OUTBOX_PUSHED, len(judgements))
        return item


def _judged_together(item: Any) -> bool:
    """An item carrying judgements to record together (the judging pipeline's ``JudgedApk``)."""
    judgements = getattr(item, "judgements", None)
    return isinstance(judgements, tuple) and bool(judgements) and all(isinstance(j, Judgement) for j in judgements)


def worker_scrapy_settings(settings: Settings, config: FrontierConfig) -> dict[str, Any]:
    """The Scrapy settings of a distributed worker (see the module's docstring)."""
    # The job's state is the Redis frontier: no local job folder (JOBDIR, journal) for a worker.
    base = scrapy_settings_for(settings.copy_with({"CRAWL_JOB": ""}))
    pipelines = dict(base["ITEM_PIPELINES"])
    order = pipelines.pop(STORE_PIPELINE, 300)
    pipelines[OUTBOX_PIPELINE] = order
    return {
        **base,
        "SCHEDULER": "fraudwall.crawler.redis_scheduler.LeasedScheduler",
        "ITEM_PIPELINES": pipelines,
        # Next to the engine: it must see the output the scraper is handed, after every other middleware.
        "SPIDER_MIDDLEWARES": {**base.get("SPIDER_MIDDLEWARES", {}), "fraudwall.crawler.leases.LeaseMiddleware": 10},
        "EXTENSIONS": {**base.get("EXTENSIONS", {}), "fraudwall.crawler.worker_lifecycle.WorkerLifecycle": 100},
        FRONTIER_SETTING: config,
        # The CLI has configured logging already; Scrapy must not add a second root handler.
        "LOG_INSTALL_ROOT_HANDLER": False,
    }


def run_worker(settings: Settings, config: FrontierConfig, targets: list[Target] | None = None) -> CrawlOutcome:
    """Work on ``config.job`` in this process until it is idle (or SIGINT/SIGTERM); push ``targets`` first.

    Returns how this worker's part ended, as :func:`fraudwall.crawl.run_crawl`
    does, with ``fraudwall/outbox/pushed`` (judgements sent to the writer)
    and ``fraudwall/frontier/*`` (leases given back, reaped) among its stats.
    Raises :class:`~fraudwall.crawler.redis_frontier.FrontierError` when Redis
    cannot be reached. Scrapy's reactor cannot be restarted: once per process.
    """
    from fraudwall.crawler.process import SignalRecordingProcess
    from fraudwall.crawler.spiders.worker_spider import WorkerSpider

    connect(config.redis_url).close()  # unreachable Redis is one clear error, before Scrapy starts
    process = SignalRecordingProcess(worker_scrapy_settings(settings, config))
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        # As in run_crawl: failed fetches are counted by reason; RetryMiddleware's line per URL is noise.
        logging.getLogger("scrapy.downloadermiddlewares.retry").setLevel(logging.CRITICAL)
    crawler = process.create_crawler(WorkerSpider)
    process.crawl(crawler, targets=list(targets or []))
    process.start()
    return CrawlOutcome.from_stats(dict(crawler.stats.get_stats()) if crawler.stats else {})
