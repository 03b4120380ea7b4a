"""Scrapy log lines without the items: a page observation carries a whole page, an APK its bytes.

Scrapy's own formatter writes each dropped item at WARNING and each scraped
item at DEBUG with its full ``repr``. A rejected page is a counted outcome of
a crawl, not a warning, and its reason is all a reader needs: dropped items
are logged at INFO (``-v``) by their reason, scraped ones by their class.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter


class ItemlessLogFormatter(LogFormatter):
    """Logs what happened to an item, never the item itself."""

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> dict[str, Any]:
        return {"level": logging.INFO, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}

    def scraped(self, item: Any, response: Any, spider: Any = None) -> dict[str, Any]:
        return {"level": logging.DEBUG, "msg": "Scraped %(kind)s from %(src)s",
                "args": {"kind": type(item).__name__, "src": getattr(response, "url", response)}}
