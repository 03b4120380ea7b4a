"""The seed spider: fetch seeds, follow links inside each seed's registered domain.

Yields one :class:`~fraudwall.models.PageObservation` per HTML response; the
item pipelines configured by the orchestration analyse, score and store them.
Run from ``fraudwall crawl`` or as ``scrapy crawl fraudwall -a seeds=URL,...``
(``seeds`` may also name a seed file).

Two settings bound a crawl: ``FRAUDWALL_DEPTH`` links followed from a seed
(0: the seeds only) and ``FRAUDWALL_MAX_PAGES`` pages kept (0: no cap). When
the cap is reached the spider closes; responses still in flight then are
counted as ``fraudwall/skipped/max-pages`` and neither kept nor followed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from fraudwall.crawler.refusals import Refused
from fraudwall.crawler.seeds import read_seeds
from fraudwall.exceptions import CrawlError, InputError
from fraudwall.models import PageObservation, Target
from fraudwall.names import parse_url
from fraudwall.pages import parse_page

log = logging.getLogger(__name__)

# Links to these are evidence (a fake-app page links its APK), not pages to fetch here.
SKIPPED_EXTENSIONS = frozenset(
    "apk ipa xapk aab mobileconfig exe msi dmg zip rar 7z gz tar pdf doc docx xls xlsx "
    "jpg jpeg png gif webp svg ico bmp mp3 mp4 avi mov wmv flv css js woff woff2 ttf".split()
)


def _registrable(url: str) -> str | None:
    try:
        parts = parse_url(url)
    except InputError:
        return None
    return parts.host if parts.is_ip else (parts.registrable_domain or parts.host)


class SeedSpider(scrapy.Spider):
    """Crawl each seed and the pages it links within the same registered domain."""

    name = "fraudwall"
    #: Links followed from a seed; 0 fetches the seeds only.
    max_depth: int = 0
    #: Pages kept; 0 means no cap.
    max_pages: int = 0

    def __init__(self, seeds: str | list[str] | None = None, targets: list[Target] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if targets is None:
            values = seeds.split(",") if isinstance(seeds, str) else list(seeds or [])
            seed_list = read_seeds(values)
            for value, reason in seed_list.rejected.samples:
                log.warning("seed rejected (%s): %s", reason, value)
            targets = seed_list.targets
        if not targets:
            raise CrawlError("no valid seeds: give URLs, domains or seed files")
        self.targets = targets
        self.pages = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SeedSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_depth = crawler.settings.getint("FRAUDWALL_DEPTH")
        spider.max_pages = crawler.settings.getint("FRAUDWALL_MAX_PAGES")
        return spider

    async def start(self) -> Any:
        for target in self.targets:
            yield self._request(target.url, target.url)

    def _request(self, url: str, seed: str) -> scrapy.Request:
        # Links are followed only inside the registered domain of the seed they came from.
        return scrapy.Request(
            url, callback=self.parse, errback=self.on_error, meta={"seed": seed, "seed_domain": _registrable(seed)}
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[PageObservation | scrapy.Request]:
        stats = self.crawler.stats
        if not isinstance(response, TextResponse):
            stats.inc_value("fraudwall/rejected/not-html")
            return
        if self.max_pages and self.pages >= self.max_pages:
            # In flight when the cap was reached: fetched, but over the cap.
            stats.inc_value("fraudwall/skipped/max-pages")
            return
        redirects = response.request.meta.get("redirect_urls", []) if response.request else []
        page = parse_page(
            redirects[0] if redirects else response.url,
            response.body,
            final_url=response.url,
            status=response.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs],
            redirect_chain=redirects,
            ip=str(response.ip_address) if response.ip_address else None,
            text=response.text,
            encoding=response.encoding,
        )
        self.pages += 1
        stats.inc_value("fraudwall/pages")
        yield page
        if self.max_pages and self.pages >= self.max_pages:
            raise CloseSpider("max-pages")
        if response.meta.get("depth", 0) >= self.max_depth:
            return
        seed_domain = response.meta.get("seed_domain")
        for link in page.links:
            extension = link.url.rsplit("?", 1)[0].rsplit("#", 1)[0].rsplit(".", 1)[-1].lower()
            if extension in SKIPPED_EXTENSIONS or not link.url.startswith(("http://", "https://")):
                continue
            if _registrable(link.url) != seed_domain:
                continue
            yield self._request(link.url, response.meta["seed"])

    def on_error(self, failure: Failure) -> None:
        """A fetch that failed is counted by its error type; the crawl goes on."""
        if failure.check(Refused):
            return  # counted and logged, with its reason, where it was refused
        reason = failure.type.__name__ if failure.type else "error"
        self.crawler.stats.inc_value(f"fraudwall/fetch_failed/{reason}")
        log.info("fetch failed (%s): %s", reason, getattr(failure.request, "url", "?"))
