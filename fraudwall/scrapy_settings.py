"""Scrapy project settings, for ``scrapy crawl fraudwall -a seeds=...``.

Built from the same layered fraudwall settings as the CLI: defaults, the file
named by ``FRAUDWALL_CONFIG``, and ``FRAUDWALL_*`` environment variables.
"""

import os

from fraudwall.crawl import scrapy_settings_for
from fraudwall.settings import load_settings

globals().update(scrapy_settings_for(load_settings(os.environ.get("FRAUDWALL_CONFIG"))))
