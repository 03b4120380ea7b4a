"""Run a crawl: translate fraudwall settings into Scrapy settings and start Scrapy.

``scrapy_settings_for`` is used both by ``fraudwall crawl``/``demo`` and by the
Scrapy project settings module, so ``scrapy crawl fraudwall`` behaves the same.
"""

from __future__ import annotations

from typing import Any

from fraudwall.models import Target
from fraudwall.settings import Settings

PIPELINES = {
    "fraudwall.pipelines.AnalyzePipeline": 100,
    "fraudwall.pipelines.ScorePipeline": 200,
    "fraudwall.pipelines.StorePipeline": 300,
}


def scrapy_settings_for(settings: Settings) -> dict[str, Any]:
    """The Scrapy settings for a fraudwall crawl."""
    return {
        "BOT_NAME": "fraudwall",
        "SPIDER_MODULES": ["fraudwall.crawler.spiders"],
        # Fraud sites are investigated, not indexed: their robots.txt is not an instruction to us.
        "ROBOTSTXT_OBEY": False,
        "USER_AGENT": settings.get("CRAWL_USER_AGENT"),
        "DEPTH_LIMIT": settings.getint("CRAWL_DEPTH"),
        "CLOSESPIDER_PAGECOUNT": settings.getint("CRAWL_MAX_PAGES"),
        "DOWNLOAD_TIMEOUT": settings.getfloat("CRAWL_TIMEOUT"),
        "DOWNLOAD_MAXSIZE": settings.getint("CRAWL_MAX_BYTES"),
        "DOWNLOAD_WARNSIZE": 0,
        "CONCURRENT_REQUESTS": settings.getint("CRAWL_CONCURRENCY"),
        "REDIRECT_MAX_TIMES": 10,
        "RETRY_TIMES": 1,
        "COOKIES_ENABLED": True,
        "TELNETCONSOLE_ENABLED": False,
        "TWISTED_DNS_RESOLVER": "fraudwall.crawler.resolver.GuardedResolver",
        "FRAUDWALL_ALLOW_NETS": settings.getlist("ALLOW_NETS"),
        "FRAUDWALL_HOST_MAP": settings.getdict("HOST_MAP"),
        "FRAUDWALL_HOST_MAP_ONLY": settings.getbool("HOST_MAP_ONLY"),
        "ITEM_PIPELINES": PIPELINES,
        "FRAUDWALL_SETTINGS": settings,
        "LOG_LEVEL": settings.get("LOG_LEVEL"),
    }


def run_crawl(settings: Settings, targets: list[Target]) -> dict[str, Any]:
    """Crawl ``targets`` to completion in this process; returns Scrapy's final stats.

    Scrapy's reactor cannot be restarted, so this runs once per process.
    """
    from scrapy.crawler import CrawlerProcess

    from fraudwall.crawler.spiders.seed_spider import SeedSpider

    # The CLI has configured logging already; Scrapy must not add a second root handler.
    process = CrawlerProcess({**scrapy_settings_for(settings), "LOG_INSTALL_ROOT_HANDLER": False})
    crawler = process.create_crawler(SeedSpider)
    process.crawl(crawler, targets=targets)
    process.start()
    return dict(crawler.stats.get_stats()) if crawler.stats else {}
