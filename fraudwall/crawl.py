"""Run a crawl: translate fraudwall settings into Scrapy settings and start Scrapy.

``scrapy_settings_for`` is used both by ``fraudwall crawl``/``demo`` and by the
Scrapy project settings module, so ``scrapy crawl fraudwall`` behaves the same.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from fraudwall import stats_keys
from fraudwall.exceptions import ConfigError
from fraudwall.models import Target
from fraudwall.settings import Settings

PIPELINES = {
    "fraudwall.pipelines.JudgePipeline": 100,
    "fraudwall.pipelines.StorePipeline": 300,
}


POOLED_HANDLER = "fraudwall.crawler.connection_pool.BoundedHTTPDownloadHandler"


def scrapy_settings_for(settings: Settings) -> dict[str, Any]:
    """The Scrapy settings for a fraudwall crawl."""
    from scrapy.settings import default_settings as scrapy_defaults

    from fraudwall.crawler.network import NO_OTHER_SCHEMES
    from fraudwall.crawler.profiles import DEFAULT_PROFILE, profile
    from fraudwall.crawler.progress import check_mode
    from fraudwall.crawler.render import render_settings

    return {
        "BOT_NAME": "fraudwall",
        "SPIDER_MODULES": ["fraudwall.crawler.spiders"],
        # Fraud sites are investigated, not indexed: their robots.txt is not an instruction to us.
        "ROBOTSTXT_OBEY": False,
        # What requests the spider did not prepare say (the browser's, robots.txt): the default client's.
        "USER_AGENT": settings.get("CRAWL_USER_AGENT") or profile(DEFAULT_PROFILE).user_agent,
        "FRAUDWALL_USER_AGENT": settings.get("CRAWL_USER_AGENT"),
        # The spider applies both limits itself: Scrapy's DEPTH_LIMIT takes 0 for "no limit", and
        # CLOSESPIDER_PAGECOUNT lets the responses in flight through, so neither means what it says.
        "FRAUDWALL_DEPTH": settings.getint("CRAWL_DEPTH"),
        "FRAUDWALL_MAX_PAGES": settings.getint("CRAWL_MAX_PAGES"),
        "FRAUDWALL_MAX_PAGES_PER_DOMAIN": settings.getint("CRAWL_MAX_PAGES_PER_DOMAIN"),
        "FRAUDWALL_MAX_BYTES_PER_DOMAIN": settings.getint("CRAWL_MAX_BYTES_PER_DOMAIN"),
        "FRAUDWALL_MAX_LINKS_PER_PAGE": settings.getint("CRAWL_MAX_LINKS_PER_PAGE"),
        "FRAUDWALL_MAX_OUTBOUND_PER_PAGE": settings.getint("CRAWL_MAX_OUTBOUND_PER_PAGE"),
        "FRAUDWALL_MAX_CERTIFICATE_DOMAINS": settings.getint("CRAWL_MAX_CERTIFICATE_DOMAINS"),
        "DOWNLOAD_TIMEOUT": settings.getfloat("CRAWL_TIMEOUT"),
        "FRAUDWALL_MAX_HOST_FAILURES": settings.getint("CRAWL_MAX_HOST_FAILURES"),
        # Applied after decompression too: a gzip bomb stops at the cap (Scrapy's HttpCompressionMiddleware).
        "DOWNLOAD_MAXSIZE": settings.getint("CRAWL_MAX_BYTES"),
        "FRAUDWALL_MAX_APK_BYTES": settings.getint("CRAWL_MAX_APK_BYTES"),
        # Twisted's HTTP client has no cap on a response's head (fraudwall.crawler.response_head).
        "FRAUDWALL_MAX_HEAD_BYTES": settings.getint("CRAWL_MAX_HEAD_BYTES"),
        "DOWNLOAD_WARNSIZE": 0,
        "CONCURRENT_REQUESTS": settings.getint("CRAWL_CONCURRENCY"),
        # Per registered domain: the spider gives each request its domain's download slot.
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.getint("CRAWL_CONCURRENCY_PER_DOMAIN"),
        # Few idle keep-alive connections, closed soon: Twisted keeps one per host for 4 minutes, with no cap
        # in all, and a crawl of thousands of domains ran out of open files (fraudwall.crawler.connection_pool).
        "DOWNLOAD_HANDLERS": {**NO_OTHER_SCHEMES, "http": POOLED_HANDLER, "https": POOLED_HANDLER},
        "FRAUDWALL_IDLE_CONNECTIONS": settings.getint("CRAWL_IDLE_CONNECTIONS"),
        "FRAUDWALL_IDLE_CONNECTION_TIMEOUT": settings.getfloat("CRAWL_IDLE_CONNECTION_TIMEOUT"),
        # Breadth first (Scrapy's default is depth first): every seed's front pages come before any page deep
        # in a link maze, and a page is first asked for at its shallowest depth, so its links are followed.
        "DEPTH_PRIORITY": 1,
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        # A queue per registered domain, taken in turn without a scan of every domain, and kept in memory under
        # --job too, where the job's journal is the frontier on disk (fraudwall.crawler.local_frontier).
        "SCHEDULER": "fraudwall.crawler.local_frontier.JournalledScheduler",
        "SCHEDULER_PRIORITY_QUEUE": "fraudwall.crawler.local_frontier.DomainRotationQueue",
        # Items of one response handled at once: Scrapy's 100 makes a task per item slot per response, which
        # costs the crawl process more than it gains. A page yields one item, judged in a worker, and its links:
        # one slot awaits the judgement while the others hand the links to the scheduler. Measured on the crawl
        # benchmark: 16 slots cost the crawl process about a second more than 4 over 3,000 pages.
        "CONCURRENT_ITEMS": 4,
        # Scrapy checks each response's callback for a generator returning a value by reading its source into
        # an AST; the cache it keeps is keyed on bound methods, which die at once, so it reads it again and again.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "REDIRECT_MAX_TIMES": settings.getint("CRAWL_MAX_REDIRECTS"),
        "DNS_TIMEOUT": settings.getfloat("CRAWL_DNS_TIMEOUT"),
        # Names are looked up by the system resolver in the reactor's threads (Scrapy's 10 by default). A lookup
        # of a lame domain holds its thread until the system resolver gives up (5 s a try, two tries a server),
        # after CRAWL_DNS_TIMEOUT has failed its request: four threads for each request in flight, or a few
        # lame domains hold every other lookup up.
        "REACTOR_THREADPOOL_MAXSIZE": 4 * max(8, settings.getint("CRAWL_CONCURRENCY")),
        "RETRY_TIMES": 1,
        # A failed lookup is not asked again: it held a request slot for CRAWL_DNS_TIMEOUT already, and a seed
        # list of dead and lame domains spent half its time on the retries (a browser shows the error too).
        "RETRY_EXCEPTIONS": [kind for kind in scrapy_defaults.RETRY_EXCEPTIONS
                             if kind != "scrapy.exceptions.CannotResolveHostError"],
        "COOKIES_ENABLED": True,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy's remote-control endpoint runs code sent to it; a crawl of hostile sites serves nothing.
        "REMOTE_CONTROL_ENABLED": False,
        "TWISTED_DNS_RESOLVER": "fraudwall.crawler.resolver.GuardedResolver",
        # Above RetryMiddleware (550): it must see a refused lookup first, so it is not retried. The
        # resume filter comes first of all: a request a resumed job finished is never sent.
        "DOWNLOADER_MIDDLEWARES": {"fraudwall.crawler.refusals.RefusalMiddleware": 560,
                                   # Between the two: a host's failures are counted before each retry.
                                   "fraudwall.crawler.host_health.UnresponsiveHostMiddleware": 555,
                                   # Below DefaultHeadersMiddleware (400): each request goes out as its client
                                   # profile; it sees a seed's final answer, then asks as the other clients.
                                   "fraudwall.crawler.variants.ClientProfilesMiddleware": 390,
                                   "fraudwall.crawler.journal.FinishedRequestFilter": 50,
                                   # Then a request into a domain that has given its share is dropped.
                                   "fraudwall.crawler.domain_budget.DomainBudgetMiddleware": 60,
                                   # Scrapy's, but each entry domain of a campaign is recorded with its redirect,
                                   # and the Refresh header is followed (fraudwall.crawler.redirects).
                                   "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
                                   "fraudwall.crawler.redirects.EntryKeepingRedirectMiddleware": 600,
                                   "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
                                   "fraudwall.crawler.redirects.EntryKeepingMetaRefreshMiddleware": 580,
                                   # Scrapy's, but a cookie set without a Domain goes back to its host only.
                                   "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
                                   "fraudwall.crawler.cookie_policy.BrowserCookiesMiddleware": 700},
        **_job_settings(settings),
        "FRAUDWALL_ALLOW_NETS": settings.getlist("ALLOW_NETS"),
        "FRAUDWALL_HOST_MAP": settings.getdict("HOST_MAP"),
        "FRAUDWALL_HOST_MAP_ONLY": settings.getbool("HOST_MAP_ONLY"),
        "ITEM_PIPELINES": PIPELINES,
        "FRAUDWALL_SETTINGS": settings,
        "LOG_LEVEL": settings.get("LOG_LEVEL"),
        "LOG_FORMATTER": "fraudwall.crawler.log_formatter.ItemlessLogFormatter",
        **render_settings(settings),
        # Client profiles each seed is fetched as, compared for cloaking (fraudwall.crawler.variants).
        "FRAUDWALL_PROFILES": [profile(name).name for name in settings.getlist("CRAWL_PROFILES")],
        # The progress display (fraudwall.crawler.progress); "off" leaves the extension out.
        "EXTENSIONS": {"fraudwall.crawler.progress.CrawlProgress": 500,
                       # Every response's head capped (fraudwall.crawler.response_head).
                       "fraudwall.crawler.response_head.ResponseHeadCap": 0,
                       # The start-up heap frozen, young collections spaced out (fraudwall.crawler.gc_tuning).
                       "fraudwall.crawler.gc_tuning.GcTuning": 0},
        "FRAUDWALL_PROGRESS": check_mode(settings.get("CRAWL_PROGRESS")),
        "FRAUDWALL_PROGRESS_LOG_SECONDS": settings.getfloat("CRAWL_PROGRESS_LOG_SECONDS"),
    }


def _job_settings(settings: Settings) -> dict[str, Any]:
    """``JOBDIR`` for a named job (``--job NAME``): its folder under ``CRAWL_JOBS_DIR``."""
    from fraudwall.crawler.journal import job_folder

    name = settings.get("CRAWL_JOB")
    if not name:
        return {}
    try:
        folder = job_folder(settings.get("CRAWL_JOBS_DIR"), name)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return {"JOBDIR": str(folder)}


@dataclass(frozen=True, slots=True)
class CrawlOutcome:
    """How a crawl ended: pages fetched, why others were not, and the signal that cut it short, if one did."""

    #: Scrapy's final stats, with fraudwall's under ``fraudwall/`` (see :func:`run_crawl`).
    stats: Mapping[str, Any]
    #: Pages fetched and handed to analysis.
    pages: int
    #: Requests that brought no page, by reason: an error type, or a refusal (``refused: network-policy``).
    failures: Mapping[str, int]
    #: ``"SIGINT"`` or ``"SIGTERM"`` when a signal stopped the crawl; ``None`` when it ran to its end.
    interrupted: str | None
    #: The first refused request and why, e.g. an address the network policy does not allow.
    first_refusal: str | None = None
    #: Errors raised inside the crawl machinery itself (Scrapy's engine, scheduler or scraper, a signal
    #: handler): bugs, never an outcome of a site's input, which is counted under ``failures``.
    internal_errors: int = 0
    #: The first of them, for the message.
    first_internal_error: str | None = None

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any]) -> CrawlOutcome:
        failures: dict[str, int] = {}
        for key, value in stats.items():
            if key.startswith(stats_keys.FETCH_FAILED):
                failures[key.removeprefix(stats_keys.FETCH_FAILED)] = int(value)
            elif key.startswith(stats_keys.FETCH_REFUSED):
                failures[f"refused: {key.removeprefix(stats_keys.FETCH_REFUSED)}"] = int(value)
        return cls(stats, int(stats.get(stats_keys.FETCH_PAGES, 0)), failures,
                   stats.get(stats_keys.CRAWL_INTERRUPTED), stats.get(stats_keys.FETCH_FIRST_REFUSAL))


def run_crawl(settings: Settings, targets: list[Target]) -> CrawlOutcome:
    """Crawl ``targets`` in this process until done, or until SIGINT/SIGTERM; returns how it ended.

    Besides Scrapy's own stats, the outcome's ``stats`` hold fraudwall's, named in
    :mod:`fraudwall.stats_keys`; among them:

    - ``fraudwall/fetch/pages``: pages fetched and handed to analysis (absent when none was);
    - ``fraudwall/fetch/failed/<error>``: requests that failed, by error type;
    - ``fraudwall/fetch/refused/<reason>``: requests not sent because of the network policy
      (``network-policy``) or a host missing from a host-map-only map (``not-in-host-map``);
      ``fraudwall/fetch/first_refusal``: the first of them, with its reason, for messages;
    - ``fraudwall/fetch/skipped/max-pages``: pages fetched after ``CRAWL_MAX_PAGES`` was reached, not kept;
    - ``fraudwall/fetch/skipped/domain-limit``: pages whose links were not followed, pages fetched but not
      kept, and requests not sent, because their registered domain had given its share
      (``CRAWL_MAX_PAGES_PER_DOMAIN``, ``..._BYTES_...``);
    - ``fraudwall/fetch/skipped/links-per-page``: links not followed past ``CRAWL_MAX_LINKS_PER_PAGE`` of a page;
    - ``fraudwall/fetch/skipped/outbound-per-page``: outbound links of a kind past ``CRAWL_MAX_OUTBOUND_PER_PAGE``;
    - ``fraudwall/fetch/skipped/host-unresponsive``: requests not sent to a host given up after
      ``CRAWL_MAX_HOST_FAILURES`` failed attempts in a row;
    - ``fraudwall/crawl/interrupted``: the signal that stopped the crawl (``"SIGINT"``, ``"SIGTERM"``),
      absent when it ran to its end.

    Scrapy's reactor cannot be restarted, so this runs once per process.
    """
    from fraudwall.crawler.process import SignalRecordingProcess
    from fraudwall.crawler.spiders.seed_spider import SeedSpider

    # The CLI has configured logging already; Scrapy must not add a second root handler.
    process = SignalRecordingProcess({**scrapy_settings_for(settings), "LOG_INSTALL_ROOT_HANDLER": False})
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        # Each failed fetch is counted by reason in the outcome; RetryMiddleware's ERROR line per URL
        # would bury a crawl of thousands of seeds in noise. -v shows them. (Set after Scrapy has
        # configured its logging, which resets its loggers' levels.)
        logging.getLogger("scrapy.downloadermiddlewares.retry").setLevel(logging.CRITICAL)
    crawler = process.create_crawler(SeedSpider)
    internal = InternalErrors()
    logging.getLogger().addHandler(internal)
    try:
        process.crawl(crawler, targets=targets)
        process.start()
    finally:
        logging.getLogger().removeHandler(internal)
    outcome = CrawlOutcome.from_stats(dict(crawler.stats.get_stats()) if crawler.stats else {})
    return replace(outcome, internal_errors=internal.count, first_internal_error=internal.first)


class InternalErrors(logging.Handler):
    """Counts the errors the crawl's own machinery logs: Scrapy's engine, scheduler and scraper, signal
    handlers, and exceptions left unhandled in the event loop.

    Scrapy logs such an error and carries on (a scheduler that raised inside ``push`` loses that request and
    the crawl still ends "finished"), so without this count a broken crawl would exit 0. A site's failures
    are counted elsewhere (``fraudwall/fetch/failed/*``) and are never errors here.
    """

    #: Loggers whose ERROR lines are internal errors: Scrapy's core and signal dispatch, and the event loops'
    #: reports of exceptions nobody handled ("Task exception was never retrieved", "Unhandled error in Deferred").
    SOURCES = ("scrapy.core.", "scrapy.utils.signal", "asyncio", "twisted")

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(self.SOURCES):
            return
        self.count += 1
        if self.first is None:
            exception = record.exc_info[1] if record.exc_info else None
            detail = f": {type(exception).__name__}: {exception}" if exception is not None else ""
            self.first = f"{record.getMessage()}{detail}"[:300]
