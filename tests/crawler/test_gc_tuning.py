"""The crawl's garbage-collection tuning: the start-up heap frozen while the engine runs, the defaults after."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from scrapy import signals
from scrapy.signalmanager import SignalManager

from fraudwall.crawl import scrapy_settings_for
from fraudwall.crawler.gc_tuning import YOUNG_THRESHOLD, GcTuning
from fraudwall.settings import load_settings


def test_a_crawl_runs_with_the_start_up_heap_frozen_and_ends_with_the_defaults_back() -> None:
    """Once the engine starts, the heap is frozen and young collections are spaced out; once it stops, the
    process (which goes on: exports, more crawls) has Python's own settings again."""
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    crawler = SimpleNamespace(signals=SignalManager())  # all the extension reads of its crawler
    extension = GcTuning.from_crawler(crawler)
    try:
        crawler.signals.send_catch_log(signals.engine_started)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
    finally:
        crawler.signals.send_catch_log(signals.engine_stopped)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
    assert extension._restore is None


def test_every_crawl_has_the_tuning() -> None:
    """``fraudwall crawl`` (and a distributed worker, built from the same settings) loads the extension."""
    assert "fraudwall.crawler.gc_tuning.GcTuning" in scrapy_settings_for(load_settings())["EXTENSIONS"]
