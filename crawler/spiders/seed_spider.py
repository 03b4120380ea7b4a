"""The seed spider: fetch seeds, follow links inside each seed's registered domain, capture fake apps.

Yields one :class:`~fraudwall.models.PageObservation` per HTML response and one
:class:`~fraudwall.models.ApkDownload` per distinct APK; the item pipelines
configured by the orchestration analyse, score and store them. Run from
``fraudwall crawl`` or as ``scrapy crawl fraudwall -a seeds=URL,...`` (``seeds``
may also name a seed file).

APKs are recognised by their bytes (a zip with an Android manifest or code),
whatever the server calls them; links to them (by extension, or by a
download text on a link that claims to be a picture) are followed wherever
they are hosted, one hop, within ``FRAUDWALL_MAX_APK_BYTES``. iOS lures
(``itms-services:``, ``.mobileconfig``, ``.ipa``) are counted, never fetched;
so are links in other schemes. APK files a page refers to outside its links (a download button's script,
a data attribute) are fetched as its APK links are (:mod:`fraudwall.crawler.app_files`). The other sites an https page's certificate names are fetched one hop
(:func:`~fraudwall.crawler.outbound.certificate_sites`, ``FRAUDWALL_MAX_CERTIFICATE_DOMAINS``).

Settings bound a crawl: ``FRAUDWALL_DEPTH`` links followed from a seed (0: the
seeds only), ``FRAUDWALL_MAX_PAGES`` pages kept (0: no cap), and per registered
domain ``FRAUDWALL_MAX_PAGES_PER_DOMAIN`` pages and ``FRAUDWALL_MAX_BYTES_PER_DOMAIN``
bytes, past which its links are not followed (a link maze ends there) and its
pages still in flight are not kept (``fraudwall/fetch/skipped/domain-limit``;
a seed or a rendering, asked for, always is). When the page cap is reached the
spider closes; responses still in flight then are counted as
``fraudwall/fetch/skipped/max-pages`` and neither kept nor followed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import scrapy
from scrapy import signals
from scrapy.core.downloader import Downloader
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from fraudwall import stats_keys
from fraudwall.crawler import domain_budget
from fraudwall.crawler.app_files import apk_references, is_ios_install
from fraudwall.crawler.failures import failure_reason
from fraudwall.crawler.journal import AlreadyDone, FrontierJournal
from fraudwall.crawler.offline_cookies import use_offline_suffix_list
from fraudwall.crawler.outbound import (
    APK_FILE, CERTIFICATE_NAME, DISTRIBUTION, DOWNLOAD, DOWNLOAD_TEXT, DOWNLOAD_WORDS, OUTBOUND_META,
    certificate_sites, outbound_kind,
)
from fraudwall.crawler.redirects import IosInstallRedirect
from fraudwall.crawler.refusals import Refused
from fraudwall.crawler.render import RENDER_DOWNLOADS, RenderFailed, fetched_as, maybe_render, page_depth
from fraudwall.crawler.seeds import read_seeds
from fraudwall.crawler.sites import registered_domain
from fraudwall.crawler.variants import PROFILE_META, CloakedSeed, SeedVariants, page_from_response
from fraudwall.exceptions import CrawlError
from fraudwall.models import ApkDownload, PageObservation, Target
from fraudwall.settings import Settings

log = logging.getLogger(__name__)

use_offline_suffix_list()  # before any crawl: Scrapy's cookie middleware would download the suffix list

# Links to these are evidence (a fake-app page links its iOS profile), not pages to fetch here.
SKIPPED_EXTENSIONS = frozenset(
    "ipa aab mobileconfig exe msi dmg zip rar 7z gz tar pdf doc docx xls xlsx "
    "jpg jpeg png gif webp svg ico bmp mp3 mp4 avi mov wmv flv css js woff woff2 ttf".split()
)
#: Android packages: fetched, wherever they are hosted, within the APK byte cap, and analysed.
APK_EXTENSIONS = frozenset({"apk", "xapk"})
#: APK files fetched of those a page refers to outside its links, when links per page are not capped.
MAX_APK_REFERENCES = 1000


def _extension(url: str) -> str:
    path = url.split("#", 1)[0].split("?", 1)[0]
    last = path.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


#: Where a zip's end-of-central-directory record can start, counted from the end: its 22 bytes and a comment.
_ZIP_END_WINDOW = 22 + 65535


def looks_like_apk(body: bytes, *, asked: bool = False) -> bool:
    """True for a zip that holds an Android manifest or code (or, asked for as an app, names APKs: a bundle): by its
    magic, whatever the server called it; and, for a download ``asked`` for as an app, by its end too. Android's
    installer reads a zip from its central directory at the end, so a file with a DEX in front of the archive (the
    Janus trick) or a page in front of it installs all the same, and ``analyze apk`` reads it."""
    if body[:4] == b"PK\x03\x04" or (asked and body.rfind(b"PK\x05\x06", max(0, len(body) - _ZIP_END_WINDOW)) >= 0):
        # An app bundle (.xapk, .apks) asked for as an app names its APKs in the directory at its end; their
        # own manifests may be compressed out of sight.
        return (b"AndroidManifest.xml" in body or b"classes.dex" in body
                or (asked and b".apk" in body[-_ZIP_END_WINDOW:]))
    return False


def stored_urls(settings: Settings | None) -> Iterator[str]:
    """Every URL the store holds a page or an APK download for: requested, redirected through, final."""
    path = settings.get("DB_PATH") if settings is not None else None
    if not path or not Path(path).exists():
        return
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for url, final_url, chain, download in connection.execute(
            "SELECT url, final_url, redirect_chain, "
            "CASE WHEN kind = 'apk' THEN json_extract(payload, '$.download_url') END FROM observations "
            "WHERE kind IN ('page', 'apk')"
        ):
            yield from (value for value in (url, final_url, download) if value)
            if chain:
                yield from json.loads(chain)
    except sqlite3.DatabaseError:
        return  # no observations table yet: nothing is stored
    finally:
        connection.close()


@dataclass(frozen=True, slots=True)
class _AppsAsked:
    """What a page followed (or judged) asked for, kept until its judgement names the apps it offers."""

    seed: str
    seed_domain: str | None
    referrer: str
    #: The page's outbound links by kind, shared with the callback that counted them: one share per page.
    hops: Counter[str]
    #: Every URL the page links, and the APK files its own scan found.
    urls: frozenset[str]


class SeedSpider(scrapy.Spider):
    """Crawl each seed and the pages it links within the same registered domain."""

    name = "fraudwall"
    #: Links followed from a seed; 0 fetches the seeds only.
    max_depth: int = 0
    #: Pages kept; 0 means no cap.
    max_pages: int = 0
    #: Bytes an APK download may have (after decompression); pages keep DOWNLOAD_MAXSIZE.
    max_apk_bytes: int = 100 * 1024 * 1024
    #: Pages kept and bytes downloaded per registered domain before its links stop being followed (0: no cap).
    max_domain_pages: int = 0
    max_domain_bytes: int = 0
    #: Links of one page followed (0: no cap). A page of 100,000 links would queue them all.
    max_links: int = 0
    #: Of those, links of each outbound kind followed one hop off the seed's domain (0: no cap): each may be a
    #: download within the APK cap, and a hostile page can offer a thousand download hosts.
    max_outbound: int = 0
    #: Other registered domains an https page's certificate may name and have fetched one hop (0: none).
    max_certificate_domains: int = 0

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
        self.apk_hashes: set[str] = set()
        self.domain_pages: Counter[str] = Counter()
        self.domain_bytes: Counter[str] = Counter()
        self.certificates: set[str] = set()  # the sha256 of each certificate whose names were followed
        #: Pages whose links are followed, by final URL, until their judgement says which apps they offer.
        self.awaiting_judgement: dict[str, _AppsAsked] = {}
        # The client each request is sent as; a seed's variants, compared for cloaking (FRAUDWALL_PROFILES).
        self.variants = SeedVariants()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SeedSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_depth = crawler.settings.getint("FRAUDWALL_DEPTH")
        spider.max_pages = crawler.settings.getint("FRAUDWALL_MAX_PAGES")
        spider.max_apk_bytes = crawler.settings.getint("FRAUDWALL_MAX_APK_BYTES", spider.max_apk_bytes)
        spider.max_domain_pages = crawler.settings.getint("FRAUDWALL_MAX_PAGES_PER_DOMAIN")
        spider.max_domain_bytes = crawler.settings.getint("FRAUDWALL_MAX_BYTES_PER_DOMAIN")
        spider.max_links = crawler.settings.getint("FRAUDWALL_MAX_LINKS_PER_PAGE")
        spider.max_outbound = crawler.settings.getint("FRAUDWALL_MAX_OUTBOUND_PER_PAGE")
        spider.max_certificate_domains = crawler.settings.getint("FRAUDWALL_MAX_CERTIFICATE_DOMAINS")
        spider.variants = SeedVariants.from_crawler(crawler)
        job = crawler.settings.get("JOBDIR")
        if job:
            spider.journal = FrontierJournal(Path(job) / "fraudwall")
            crawler.signals.connect(spider._scheduled, signal=signals.request_scheduled)
            crawler.signals.connect(spider._dropped, signal=signals.item_dropped)
            crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    # -- the job journal (``--job``): see fraudwall.crawler.journal ------------------------
    journal: FrontierJournal | None = None

    def _scheduled(self, request: scrapy.Request, **kwargs: Any) -> None:
        if self.journal is not None:
            self.journal.scheduled(request)

    def _dropped(self, item: Any, **kwargs: Any) -> None:
        if self.journal is not None and isinstance(item, (PageObservation, ApkDownload)):
            self.journal.settle(item.url)

    def _closed(self, **kwargs: Any) -> None:
        if self.journal is not None:
            self.journal.close()

    def _settle(self, response: Response) -> None:
        """A response that gives nothing to store is finished as it is."""
        if self.journal is not None:
            self.journal.settle(response.request.url if response.request else response.url)

    async def start(self) -> Any:
        if self.journal is not None:
            self.journal.open(stored_urls(self.crawler.settings.get("FRAUDWALL_SETTINGS")))
            if self.journal.resumed:
                # Asked before the stop and neither stored nor settled: asked again, past the duplicate filter.
                for url, meta in self.journal.unfinished():
                    self.crawler.stats.inc_value(stats_keys.RESUME_ASKED_AGAIN)
                    if meta.get("apk"):
                        meta["download_maxsize"] = self.max_apk_bytes  # the cap is a setting, not journalled
                    yield self.variants.prepare(scrapy.Request(url, callback=self.parse, errback=self.on_error, meta=meta,
                                                               dont_filter=True))
        for target in self.targets:
            yield self._request(target.url, target.url)

    def _request(self, url: str, seed: str, *, apk: bool = False, referrer: str = "", outbound: str = "",
                 seed_domain: str | None = None, profile: str = "") -> scrapy.Request:
        # Links are followed inside the registered domain of the seed they came from (where it landed, when it
        # redirected), and one hop outbound.
        meta: dict[str, Any] = {"seed": seed, "seed_domain": seed_domain or registered_domain(seed), "referrer": referrer}
        if apk:
            meta.update(apk=True, download_maxsize=self.max_apk_bytes)
        if outbound:
            meta[OUTBOUND_META] = outbound
        if profile:
            meta[PROFILE_META] = profile  # sent as this client, not the link profile
        # One download slot per registered domain, not Scrapy's one per host name. The scheduler takes a slot's
        # requests in depth order and gives the next turn to the least busy slot: with a slot per host, a
        # wildcard maze of subdomains ran ahead, depth after depth, while the seed's own host was slow, and
        # filled the domain's page cap before the seed's links were fetched; it also opened connections to one
        # server per subdomain.
        if domain := registered_domain(url):
            meta[Downloader.DOWNLOAD_SLOT] = domain
        request = scrapy.Request(url, callback=self.parse, errback=self.on_error, meta=meta)
        return self.variants.prepare(request, seed=url == seed and not referrer)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[PageObservation | CloakedSeed | ApkDownload | scrapy.Request]:
        stats = self.crawler.stats
        domain = registered_domain(response.url) or ""
        self._count_bytes(domain, len(response.body))
        if looks_like_apk(response.body, asked=bool(response.meta.get("apk"))):
            yield from self._apk(response)
            return
        if response.meta.get("apk") and _extension(response.url) in APK_EXTENSIONS:
            stats.inc_value("fraudwall/apk/not-an-apk")  # an .apk link that served something else
        if not isinstance(response, TextResponse):
            stats.inc_value(stats_keys.FETCH_NOT_HTML)
            self._settle(response)
            return
        if self.max_pages and self.pages >= self.max_pages:
            # In flight when the cap was reached: fetched, but over the cap.
            stats.inc_value(stats_keys.FETCH_SKIPPED + "max-pages")
            return
        # Decoded whatever the headers claim: fraud pages label GBK as UTF-8 and Big5 as GB2312.
        page = page_from_response(response, fetched_as(response, self.variants.profile_of(response.meta)))
        # A seed's page comes with its other clients' pages (fraudwall.crawler.variants): alike, it is kept
        # alone; different, all of them, with the cloaking finding; refused alike to all, none (a failed fetch).
        kept = list(self.variants.outcome(response.meta, page))
        if not kept:
            self._settle(response)
        asked_for = response.request is not None and domain_budget.asked_for(response.request)
        seed_domain = response.meta.get("seed_domain")
        redirects = response.meta.get("redirect_urls")
        if redirects and redirects[0] == response.meta.get("seed") and not response.meta.get("referrer"):
            # A seed that redirects elsewhere (a short link, a campaign's rotating entry) is crawled where it lands.
            seed_domain = registered_domain(response.url)
        hops: Counter[str] = Counter()
        follows = (self.variants.follows_links(page) and page_depth(response) < self.max_depth
                   and not self._domain_full(domain) and any(item is page for item in kept))
        referred = self._referred_apks(page, response.url) if follows else []
        if follows:
            # Before the page goes to judging: its judgement may come back before this callback has ended.
            linked_or_referred = frozenset([*(link.url for link in page.links), *referred])
            self.awaiting_judgement[page.final_url] = _AppsAsked(response.meta["seed"], seed_domain, response.url, hops,
                                                                 linked_or_referred)
        for item in kept:
            yielded = False
            for output in self._keep(item, response, asked_for=asked_for):
                yielded = True
                yield output
            if item is page and not yielded:
                self.awaiting_judgement.pop(page.final_url, None)  # over a cap: never judged
            if isinstance(item, CloakedSeed) and page_depth(response) < self.max_depth:
                # An app offered to some clients only (a page shown in WeChat alone) is fetched as that client.
                for variant in item.pages:
                    if variant is not page:
                        yield from self._apks_offered(variant, response, Counter())
        yield from self._downloads_started(response, response.meta.get(RENDER_DOWNLOADS, ()))
        if not self.variants.follows_links(page):
            return  # a seed's block page: evidence when other clients got content, never a page to follow
        render = maybe_render(response, page, self.crawler.settings)
        if render is not None:
            yield render  # an empty app shell: judged again as the browser shows it
        if page_depth(response) >= self.max_depth:
            return
        if self._domain_full(domain):
            stats.inc_value(stats_keys.FETCH_SKIPPED + domain_budget.REASON)  # a link maze or a huge site ends here
            return
        outbound = bool(response.meta.get(OUTBOUND_META))
        followed = 0
        for position, link in enumerate(page.links):
            if self.max_links and followed >= self.max_links:
                stats.inc_value(stats_keys.FETCH_SKIPPED + "links-per-page", len(page.links) - position)
                break
            extension = _extension(link.url)
            if is_ios_install(link.url):
                stats.inc_value(stats_keys.APK + "ios-lures")
                continue
            if not link.url.startswith(("http://", "https://")):
                continue  # file:, data:, javascript: and app schemes are evidence, never fetched
            # A link that offers an app is fetched as a possible APK whatever its extension claims (an APK named
            # banner.jpg and served as image/jpeg is still an APK), within the APK cap.
            if extension in APK_EXTENSIONS or (extension in SKIPPED_EXTENSIONS and DOWNLOAD_TEXT.search(link.text)):
                # A fake app is captured wherever it is hosted; off the seed's domain, within the page's share.
                if registered_domain(link.url) != seed_domain and not self._hop(APK_FILE, hops):
                    continue
                stats.inc_value(stats_keys.APK + "links")
                followed += 1
                yield self._request(link.url, response.meta["seed"], apk=True, referrer=response.url,
                                    seed_domain=seed_domain)
                continue
            if extension in SKIPPED_EXTENSIONS or outbound:
                continue  # evidence only; an outbound page's own links are the next hop, not followed
            if registered_domain(link.url) == seed_domain:
                followed += 1
                # A download link with no .apk in its URL is fetched within the APK cap: a disguised APK is not cut short.
                yield self._request(link.url, response.meta["seed"], apk=bool(DOWNLOAD_WORDS.search(link.url)),
                                    referrer=response.url, seed_domain=seed_domain)
            elif kind := outbound_kind(link.url, link.text):
                # Where the scam sends its victims (a store, a distribution service, a short link, a download host):
                # one hop off the seed's domain.
                if not self._hop(kind, hops):
                    continue
                followed += 1
                yield self._request(link.url, response.meta["seed"], apk=kind in (DOWNLOAD, DISTRIBUTION),
                                    referrer=response.url, outbound=kind, seed_domain=seed_domain)
        linked = {link.url for link in page.links}
        yield from self._apk_files([url for url in referred if url not in linked], response.meta["seed"], seed_domain,
                                   hops, stat="referred-in-page", referrer=response.url)
        if not outbound:
            yield from self._certificate_sites(page, response, seed_domain, domain, hops)

    def apps_judging_found(self, page: PageObservation, urls: Iterable[str]) -> list[scrapy.Request]:
        """Requests for the APK files the judging of ``page`` read in it and the page's own scan did not ask for:
        its view's install paths (:attr:`~fraudwall.page_view.PageView.install_paths`: a URL built by string
        concatenation, a decoded payload...), fetched as its APK links are, within the page's outbound share.
        Called once per page judged (by the judge pipeline), with no ``urls`` when it found none."""
        asked = self.awaiting_judgement.pop(page.final_url, None)
        if asked is None or self._domain_full(registered_domain(page.final_url) or ""):
            return []
        new = [url for url in urls if url not in asked.urls]
        return list(self._apk_files(new, asked.seed, asked.seed_domain, asked.hops, stat="found-by-judging",
                                    referrer=asked.referrer))

    def _apks_offered(self, variant: PageObservation, response: Response,
                      hops: Counter[str]) -> Iterator[scrapy.Request]:
        """The APK files a seed's page offers one client only (another profile's variant: its APK links and the
        files its scripts name), each fetched as that client, with its cookies: a server that gives the app to
        WeChat alone gives it to the WeChat profile."""
        urls = [link.url for link in variant.links if _extension(link.url) in APK_EXTENSIONS]
        urls += self._referred_apks(variant, variant.final_url)
        yield from self._apk_files(list(dict.fromkeys(urls)), response.meta["seed"], response.meta.get("seed_domain"),
                                   hops, stat="offered-to-one-client", referrer=variant.final_url,
                                   profile=variant.fetched_as.partition("+")[0])

    def _downloads_started(self, rendered: Response | scrapy.Request,
                           downloads: Iterable[str]) -> Iterator[scrapy.Request]:
        """The files a rendered page (its response, or the request of a render that failed) started downloading (its
        script sent the browser to an APK, a hidden iframe loaded one), fetched as its APK links are: the browser
        saves none."""
        urls = list(dict.fromkeys(downloads))
        if not urls or page_depth(rendered) >= self.max_depth:
            return
        seed = rendered.meta.get("seed") or rendered.url
        yield from self._apk_files(urls, seed, rendered.meta.get("seed_domain") or registered_domain(seed), Counter(),
                                   stat="started-by-script", referrer=rendered.url)

    def _referred_apks(self, page: PageObservation, url: str) -> list[str]:
        """The APK files ``page`` (fetched at ``url``) names anywhere in its HTML, resolved against its base."""
        return apk_references(page.html, page.base_url or url, self.max_links or MAX_APK_REFERENCES)

    def _apk_files(self, urls: list[str], seed: str, seed_domain: str | None, hops: Counter[str], *,
                   stat: str, referrer: str, profile: str = "") -> Iterator[scrapy.Request]:
        """Requests for the APK files ``urls`` within the APK cap, off the seed's domain within the page's share,
        each counted as ``fraudwall/apk/<stat>``."""
        for url in urls:
            if not url.startswith(("http://", "https://")):
                continue  # an ftp: or file: install path is evidence on the page, never fetched
            if registered_domain(url) != seed_domain and not self._hop(APK_FILE, hops):
                continue
            self.crawler.stats.inc_value(stats_keys.APK + stat)
            yield self._request(url, seed, apk=True, referrer=referrer, seed_domain=seed_domain, profile=profile)

    def _certificate_sites(self, page: PageObservation, response: Response, seed_domain: str | None, domain: str,
                           hops: Counter[str]) -> Iterator[scrapy.Request]:
        """The other sites the page's certificate names, one hop, once per certificate
        (:func:`~fraudwall.crawler.outbound.certificate_sites`)."""
        certificate = page.certificate
        if not self.max_certificate_domains or certificate is None or certificate.sha256 in self.certificates:
            return
        self.certificates.add(certificate.sha256)
        sites = certificate_sites(certificate, response.url, {domain, seed_domain or domain},
                                  self.max_certificate_domains)
        if sites is None:
            self.crawler.stats.inc_value(stats_keys.FETCH_SKIPPED + "shared-certificate")
            return
        for url in sites:
            if self._hop(CERTIFICATE_NAME, hops):
                yield self._request(url, response.meta["seed"], referrer=response.url, outbound=CERTIFICATE_NAME,
                                    seed_domain=seed_domain)

    def _hop(self, kind: str, hops: Counter[str]) -> bool:
        """Whether one more outbound link of ``kind`` is followed from the page whose hops are ``hops`` (counted
        either way). Per kind: thirty download links do not hide the store listing after them."""
        if self.max_outbound and hops[kind] >= self.max_outbound:
            self.crawler.stats.inc_value(stats_keys.FETCH_SKIPPED + "outbound-per-page")
            return False
        hops[kind] += 1
        self.crawler.stats.inc_value(stats_keys.FETCH_OUTBOUND + kind)
        return True

    def _keep(self, item: PageObservation | CloakedSeed, response: Response, *,
              asked_for: bool = False) -> Iterator[PageObservation | CloakedSeed]:
        """Hand a page (or a cloaking seed's variants, together) to analysis, within the page caps.

        A page past its domain's share (fetched before the share was full: in flight, or by another
        worker of a distributed crawl) is not kept, unless it was ``asked_for`` (a seed, a rendering);
        nor is one fetched after the crawl's page cap was reached (by another worker, in a distributed
        crawl), which also ends this crawl.
        """
        stats = self.crawler.stats
        if self.max_pages and self.pages >= self.max_pages:
            stats.inc_value(stats_keys.FETCH_SKIPPED + "max-pages")
            return
        pages = item.pages if isinstance(item, CloakedSeed) else (item,)
        total = self._count_pages(registered_domain(pages[0].final_url) or "", len(pages))
        if self.max_domain_pages and total > self.max_domain_pages and not asked_for:
            stats.inc_value(stats_keys.FETCH_SKIPPED + domain_budget.REASON)
            self._settle(response)
            return
        self.pages = self._count_kept(len(pages))
        if self.max_pages and self.pages - len(pages) >= self.max_pages:
            stats.inc_value(stats_keys.FETCH_SKIPPED + "max-pages")
            raise CloseSpider("max-pages")
        stats.inc_value(stats_keys.FETCH_PAGES, len(pages))
        yield item
        if self.max_pages and self.pages >= self.max_pages:
            raise CloseSpider("max-pages")

    def _count_bytes(self, domain: str, size: int) -> None:
        """Add ``size`` downloaded bytes to ``domain``'s share."""
        self.domain_bytes[domain] += size

    def _count_kept(self, pages: int) -> int:
        """Add ``pages`` to the pages kept (``max_pages`` counts them); the crawl's pages kept in all, these included."""
        return self.pages + pages

    def _count_pages(self, domain: str, pages: int) -> int:
        """Add ``pages`` pages to ``domain``'s share; its pages in all, these included."""
        self.domain_pages[domain] += pages
        return self.domain_pages[domain]

    def _domain_full(self, domain: str) -> bool:
        """True once ``domain`` has given its share of pages or bytes: its links are no longer followed."""
        return bool((self.max_domain_pages and self.domain_pages[domain] >= self.max_domain_pages)
                    or (self.max_domain_bytes and self.domain_bytes[domain] >= self.max_domain_bytes))

    def domain_full(self, url: str) -> bool:
        """True once the registered domain of ``url`` has given its share: requests queued into it are not
        sent (:mod:`fraudwall.crawler.domain_budget`)."""
        return self._domain_full(registered_domain(url) or "")

    def _apk(self, response: Response) -> Iterator[ApkDownload]:
        """A downloaded APK, once per distinct file, for analysis and judging in the pipelines."""
        stats = self.crawler.stats
        digest = hashlib.sha256(response.body).hexdigest()
        if digest in self.apk_hashes:
            stats.inc_value(stats_keys.APK + "duplicate")
            self._settle(response)
            return
        self.apk_hashes.add(digest)
        stats.inc_value(stats_keys.APK_DOWNLOADED)
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        if "android.package-archive" not in content_type:
            stats.inc_value("fraudwall/apk/disguised")  # served as an image, a page, or an octet stream
        redirects = response.request.meta.get("redirect_urls", []) if response.request else []
        yield ApkDownload(
            url=redirects[0] if redirects else response.url, final_url=response.url, body=response.body,
            referrer=response.meta.get("referrer", ""), content_type=content_type, redirect_chain=tuple(redirects),
            ip=str(response.ip_address) if response.ip_address else None, fetched_at=datetime.now(timezone.utc),
        )

    def on_error(self, failure: Failure) -> None:
        """A fetch that failed is counted by its error type; the crawl goes on."""
        if failure.check(AlreadyDone):
            return  # finished before a resumed job's stop: counted by the filter, not a failure
        if failure.check(RenderFailed):
            # Counted under fraudwall/render/ where it failed; the static page is stored. A page that is a download
            # (or started one before it failed) gives its file to fetch as an app.
            request = failure.request
            if request is not None and self.crawler.engine is not None:
                for download in self._downloads_started(request, failure.value.downloads):
                    self.crawler.engine.crawl(download)
            return
        if self.journal is not None and failure.request is not None:
            self.journal.settle(failure.request.url)  # failed for good: retries are behind it
        if failure.check(Refused):
            return  # counted and logged, with its reason, where it was refused
        if failure.check(IosInstallRedirect):
            self.crawler.stats.inc_value(stats_keys.APK + "ios-lures")  # as a link to it is: evidence, never fetched
            log.info("%s", failure.value)
            return
        reason = failure_reason(failure)
        self.crawler.stats.inc_value(stats_keys.FETCH_FAILED + reason)
        log.info("fetch failed (%s): %s: %s", reason, getattr(failure.request, "url", "?"), failure.value)
