"""A Scrapy ``CrawlerProcess`` that records which signal stopped it, and lets go of the signals after.

Scrapy's own handler does the work: the first SIGINT or SIGTERM starts a
graceful stop (requests in flight finish, every page fetched goes through the
pipelines, the spider closes), a second one stops the reactor at once. This
subclass notes the first signal as the stat ``fraudwall/crawl/interrupted`` (its
name, e.g. ``"SIGTERM"``), so a crawl cut short is not mistaken for one that
ran to its end. Scrapy leaves its handlers installed once the reactor has
stopped, where they would swallow a Ctrl-C during whatever the program does
next; the handlers from before the crawl are put back.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType

from scrapy.crawler import CrawlerProcess

from fraudwall import stats_keys

log = logging.getLogger(__name__)

INTERRUPTED_STAT = stats_keys.CRAWL_INTERRUPTED
SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalRecordingProcess(CrawlerProcess):
    """A ``CrawlerProcess`` whose crawlers' stats say which signal, if any, interrupted them."""

    def start(self, stop_after_crawl: bool = True, install_signal_handlers: bool = True) -> None:
        previous = {signum: signal.getsignal(signum) for signum in SHUTDOWN_SIGNALS}
        try:
            super().start(stop_after_crawl, install_signal_handlers)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _signal_shutdown(self, signum: int, frame: FrameType | None) -> None:
        from twisted.internet import reactor

        # A signal handler may interrupt the reactor anywhere, even while the stats are being
        # read: the stat is written from the reactor thread, as Scrapy does with its log line.
        reactor.callFromThread(self._record_interruption, signal.Signals(signum).name)
        super()._signal_shutdown(signum, frame)

    def _record_interruption(self, signame: str) -> None:
        log.warning("%s received: finishing the requests in flight and storing their pages; send it again to stop at once", signame)
        for crawler in self.crawlers:
            if crawler.stats is not None:
                crawler.stats.set_value(INTERRUPTED_STAT, signame)
