"""The crawl's stats keys, namespaced by the component that counts them: ``fraudwall/<component>/<what>[/<reason>]``.

=============  =====================================================================
``crawl``      ``interrupted``: the signal that stopped the crawl
``fetch``      ``pages``, ``failed/<reason>``, ``refused/<reason>``, ``first_refusal``,
               ``skipped/<reason>``, ``rejected/not-html``, ``outbound/<kind>``
``resume``     ``already-done``, ``asked-again``
``render``     ``started/<reason>``, ``pages``, ``failed/<reason>``, ``refused/<reason>``,
               ``first_refusal``, ``browser_requests_refused``
``frontier``   ``given_back``, ``acknowledged``, ``undecodable``, ``reaped``, ``unreachable``, ...
``cloaking``   ``compared``, ``found``, ``reasons/<reason>``, ``variants_fetched``,
               ``variant_failed/<reason>``
``apk``        ``links``, ``downloaded``, ``duplicate``, ``ios-lures``, ``rejected``,
               ``verdicts/<status>``
``judge``      ``findings``, ``verdicts/<status>``, ``abandoned``, ``rejected/<reason>``,
               ``plugins/<plugin>/<outcome>``
``outbox``     ``pushed``
=============  =====================================================================

Names ending in ``/`` are prefixes: the reason, status or plugin follows. Scrapy's
own keys (``downloader/...``, ``item_scraped_count``) are left as Scrapy names them.
Part of the core, so that the crawler, the pipelines and the CLI read one table.
"""

from __future__ import annotations

ROOT = "fraudwall/"

CRAWL_INTERRUPTED = "fraudwall/crawl/interrupted"

FETCH_PAGES = "fraudwall/fetch/pages"
FETCH_FAILED = "fraudwall/fetch/failed/"
FETCH_REFUSED = "fraudwall/fetch/refused/"
#: The first refusal's whole message, for the crawl's closing words.
FETCH_FIRST_REFUSAL = "fraudwall/fetch/first_refusal"
FETCH_SKIPPED = "fraudwall/fetch/skipped/"
FETCH_NOT_HTML = "fraudwall/fetch/rejected/not-html"
#: Links followed one hop off their seed's registered domain, by kind (fraudwall.crawler.outbound).
FETCH_OUTBOUND = "fraudwall/fetch/outbound/"

RESUME_ALREADY_DONE = "fraudwall/resume/already-done"
RESUME_ASKED_AGAIN = "fraudwall/resume/asked-again"

RENDER_STARTED = "fraudwall/render/started/"
RENDER_PAGES = "fraudwall/render/pages"
RENDER_FAILED = "fraudwall/render/failed/"
RENDER_REFUSED = "fraudwall/render/refused/"
RENDER_FIRST_REFUSAL = "fraudwall/render/first_refusal"
RENDER_BROWSER_REFUSED = "fraudwall/render/browser_requests_refused"
RENDER_BROWSER_KILLED = "fraudwall/render/browser_killed"
RENDER_POPUPS_CLOSED = "fraudwall/render/popups_closed"

FRONTIER = "fraudwall/frontier/"
FRONTIER_UNREACHABLE = "fraudwall/frontier/unreachable"

CLOAKING = "fraudwall/cloaking/"

APK = "fraudwall/apk/"
APK_DOWNLOADED = "fraudwall/apk/downloaded"
APK_VERDICTS = "fraudwall/apk/verdicts/"
#: Downloads that looked like an APK but were rejected by the analysis, by reason (``truncated``...).
APK_REJECTED = "fraudwall/apk/rejected/"

JUDGE_FINDINGS = "fraudwall/judge/findings"
JUDGE_VERDICTS = "fraudwall/judge/verdicts/"
JUDGE_ABANDONED = "fraudwall/judge/abandoned"
JUDGE_REJECTED = "fraudwall/judge/rejected/"
JUDGE_PLUGINS = "fraudwall/judge/plugins/"

OUTBOX_PUSHED = "fraudwall/outbox/pushed"
