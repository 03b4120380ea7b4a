"""Scrapy item pipelines: analyze → score → store.

This module is orchestration: it is the one place (with the CLI) that wires
the crawler's output to the plugins, the scoring and the store. Each pipeline
is built from the crawler's settings; the fraudwall :class:`Settings` travel
in the Scrapy setting ``FRAUDWALL_SETTINGS`` (``scrapy crawl`` builds them from
the environment, see :mod:`fraudwall.scrapy_settings`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from scrapy.exceptions import DropItem

from fraudwall.analysis import PageAnalysis, analyze_page
from fraudwall.blocklists.scoring import score_findings
from fraudwall.blocklists.store import Store
from fraudwall.exceptions import InputError
from fraudwall.models import PageObservation, Verdict
from fraudwall.plugin_host import PluginHost
from fraudwall.settings import Settings, load_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScoredPage:
    """An analysed page with its verdict: what the store pipeline writes."""

    analysis: PageAnalysis
    verdict: Verdict


def fraudwall_settings(crawler: Any) -> Settings:
    """The fraudwall settings of this crawl, built once and shared by the pipelines."""
    settings = crawler.settings.get("FRAUDWALL_SETTINGS")
    if settings is None:
        settings = load_settings()
    return settings


class AnalyzePipeline:
    """Runs every detector plugin over each page observation."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.host = PluginHost.from_settings(fraudwall_settings(crawler))
        enabled = ", ".join(f"{info.name} {info.version}" for info in self.host.describe())
        log.info("detector plugins enabled: %s", enabled or "none")

    @classmethod
    def from_crawler(cls, crawler: Any) -> AnalyzePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageObservation):
            return item
        try:
            return analyze_page(self.host, item)
        except InputError as exc:
            self.crawler.stats.inc_value(f"fraudwall/rejected/{exc.reason}")
            raise DropItem(f"page rejected ({exc.reason}): {item.final_url}") from exc

    def close_spider(self) -> None:
        for (plugin, outcome), count in sorted(self.host.stats.items()):
            self.crawler.stats.set_value(f"fraudwall/plugins/{plugin}/{outcome}", count)


class ScorePipeline:
    """Turns a page's findings into its verdict."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def from_crawler(cls, crawler: Any) -> ScorePipeline:
        return cls(fraudwall_settings(crawler))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageAnalysis):
            return item
        return ScoredPage(item, score_findings(item.page.final_url, item.findings, self.settings))


class StorePipeline:
    """Writes each scored page, its findings and its verdict to the SQLite store."""

    def __init__(self, crawler: Any, settings: Settings) -> None:
        self.crawler = crawler
        self.path = settings.get("DB_PATH")
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler, fraudwall_settings(crawler))

    def open_spider(self) -> None:
        self.store = Store.open(self.path)
        spider = self.crawler.spider
        self.store.record_targets(getattr(spider, "targets", []))

    def close_spider(self) -> None:
        if self.store is not None:
            self.store.close()

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ScoredPage) or self.store is None:
            return item
        analysis = item.analysis
        self.store.save_page(analysis.page, analysis.url.host, analysis.findings, item.verdict, analysis.plugins)
        self.crawler.stats.inc_value(f"fraudwall/verdicts/{item.verdict.status}")
        return item
