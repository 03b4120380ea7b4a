"""Fetching a seed as several clients: the crawler's side of cloaking detection.

Every request the spider builds goes through :meth:`SeedVariants.prepare`,
which names its client profile (:mod:`fraudwall.crawler.profiles`) and
cookie jar in its meta: the link profile (the default, a phone) for everything
the spider schedules. A seed's request is also marked for comparison, and
block statuses (401, 403, 404, 410, 451) are let through to the spider for
it, since a refusal shown to some clients only is evidence; redirects are
still followed.

:class:`ClientProfilesMiddleware` (a downloader middleware) gives each
request its profile's headers when it is sent, not when it is made: in a
distributed crawl a request travels between workers, and each sends it as
its own configuration says (``CRAWL_USER_AGENT``). When a marked request has
been answered, it fetches the same seed as every other profile,
straight through the downloader (``engine.download_async``): never through
the scheduler, so a distributed crawl's shared frontier never sees them and
one worker compares a seed's variants. A host that failed the first fetch
(down, refused, a server error) is not asked again: that is the same for every
client. Another profile's fetch that fails is one variant missing, counted as
``fraudwall/cloaking/variant_failed/<reason>``.

The spider then hands the seed's page to :meth:`SeedVariants.outcome`, which
compares the variants (:func:`~fraudwall.crawler.cloaking_check.compare_variants`):

* alike: the link profile's page stands for all (judging costs more than
  fetching, and alike pages give alike findings); a block status there is a
  failed fetch, ``fraudwall/fetch/failed/http-<status>``, as without profiles;
* different: all variants go on together as one :class:`CloakedSeed` with the
  core's cloaking finding about the seed's host. The judging pipeline judges
  each with that finding beside the plugins' and scores them together
  (:func:`merge_variants`): variants of one URL share its verdict, and judged
  apart, the last one stored (the desktop's harmless page, say) would decide.

Links are followed from the link profile's page only (the others never reach
the spider). Stats: ``fraudwall/cloaking/compared``, ``found``,
``reasons/<reason>``, ``variants_fetched`` (responses received for other
clients, beside Scrapy's ``response_received_count``) and
``variant_failed/<reason>``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from fraudwall import stats_keys
from fraudwall.crawler.cloaking_check import BLOCK_STATUSES, cloaking_findings, compare_variants
from fraudwall.crawler.failures import failure_reason
from fraudwall.crawler.profiles import DEFAULT_PROFILE, headers_for, profile
from fraudwall.crawler.refusals import Refused
from fraudwall.crawler.tls import server_certificate
from fraudwall.exceptions import InputError
from fraudwall.models import Finding, Judgement, PageObservation, SubjectKind, Verdict
from fraudwall.names import parse_url
from fraudwall.pages import parse_page

log = logging.getLogger(__name__)

#: Request meta: the client profile a request is sent as (its cookie jar too), and, on a seed's first
#: fetch, the seed URL whose variants are compared.
PROFILE_META = "profile"
VARIANT_META = "fraudwall_variant_of"
#: Response meta: the other profiles' pages of a seed (profile -> page). It starts with "_" so that a
#: browser re-fetch of the page (fraudwall.crawler.render) does not carry it along.
PAGES_META = "_fraudwall_variants"


@dataclass(frozen=True, slots=True)
class CloakedSeed:
    """The variants of a seed that cloaks, handed to the judging pipeline together with the cloaking findings.

    The pipeline judges each page as any page, with ``findings`` counted
    beside the plugins' own, then scores them together
    (:func:`merge_variants`). A seed whose variants are alike is handed over
    as one plain :class:`~fraudwall.models.PageObservation`. ``pages`` come
    link profile first.
    """

    pages: tuple[PageObservation, ...]
    findings: tuple[Finding, ...]


def page_from_response(response: Response, fetched_as: str) -> PageObservation:
    """The observation of an HTML response, as the spider builds it (the body is decoded by ``parse_page``)."""
    redirects = response.request.meta.get("redirect_urls", []) if response.request else []
    return parse_page(
        redirects[0] if redirects else response.url,
        response.body,
        final_url=response.url,
        status=response.status,
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs],
        redirect_chain=redirects,
        ip=str(response.ip_address) if response.ip_address else None,
        fetched_as=fetched_as,
        certificate=server_certificate(response),
    )


class SeedVariants:
    """Which client each request is sent as, and what a seed's variants come to."""

    def __init__(self, profiles: Iterable[str] = (), stats: Any = None, *, user_agent: str = "") -> None:
        names = list(dict.fromkeys(profile(name).name for name in profiles))  # unknown names: ConfigError
        self.profiles = names or [DEFAULT_PROFILE]
        #: The profile everything scheduled is sent as, links are followed as, and whose page stands for alike ones.
        self.link_profile = DEFAULT_PROFILE if DEFAULT_PROFILE in self.profiles else self.profiles[0]
        #: The User-Agent the link profile's requests carry instead of its own (``CRAWL_USER_AGENT``), if any.
        self.user_agent = user_agent
        self._stats = stats
        self._crawler: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> SeedVariants:
        """Profiles from ``FRAUDWALL_PROFILES`` (the default profile alone when empty), ``FRAUDWALL_USER_AGENT``."""
        variants = cls(crawler.settings.getlist("FRAUDWALL_PROFILES"),
                       user_agent=crawler.settings.get("FRAUDWALL_USER_AGENT") or "")
        # Read when counting: a spider is built before its crawler's stats exist.
        variants._crawler = crawler
        return variants

    @property
    def stats(self) -> Any:
        """The stats collector counts go to, if any."""
        if self._stats is None and self._crawler is not None:
            return self._crawler.stats
        return self._stats

    @property
    def compared(self) -> bool:
        """True when seeds are fetched as more than one client."""
        return len(self.profiles) > 1

    @property
    def others(self) -> list[str]:
        """The profiles a seed is fetched as after the link profile."""
        return [name for name in self.profiles if name != self.link_profile]

    def prepare(self, request: scrapy.Request, *, seed: bool = False) -> scrapy.Request:
        """``request`` naming its client profile and cookie jar; a ``seed``'s also marked for comparison.

        The profile is the link profile, or the one the request's meta already
        names (a request a resumed job asks for again keeps its client). The
        headers are the middleware's business, when the request is sent.
        """
        name = self.profile_of_request(request.meta)
        meta = {**request.meta, PROFILE_META: name, "cookiejar": name}
        if seed and name == self.link_profile and self.compared:
            # Block pages come to the callback; redirects (3xx, not in the list) are still followed.
            meta.update({VARIANT_META: request.url, "handle_httpstatus_list": sorted(BLOCK_STATUSES)})
        return request.replace(meta=meta)

    def headers(self, name: str, *, followed: bool = False) -> dict[str, str]:
        """Profile ``name``'s headers; the link profile's with the configured User-Agent, if one is.

        A User-Agent of one's own replaces the profile's, and the client hints
        go with it: a Chrome ``sec-ch-ua`` beside another browser's User-Agent
        is a contradiction a kit can see.
        """
        headers = headers_for(name, followed=followed)
        if self.user_agent and name == self.link_profile:
            headers = {key: value for key, value in headers.items() if not key.lower().startswith("sec-ch-ua")}
            headers["User-Agent"] = self.user_agent
        return headers

    @staticmethod
    def profile_of(meta: Mapping[str, Any]) -> str:
        """The profile a response was fetched as (``default`` for a request that was not prepared)."""
        return str(meta.get(PROFILE_META, "default"))

    def profile_of_request(self, meta: Mapping[str, Any]) -> str:
        """The profile a request is sent as: the one its meta names if configured, else the link profile."""
        name = meta.get(PROFILE_META)
        return name if name in self.profiles else self.link_profile

    def is_variant(self, meta: Mapping[str, Any]) -> bool:
        """True for a seed's first fetch, whose variants are compared.

        A browser's re-fetch of a page (``meta["playwright"]``, see
        :mod:`fraudwall.crawler.render`) carries its request's meta but is a
        page of its own, never a variant.
        """
        return VARIANT_META in meta and not meta.get("playwright")

    @staticmethod
    def follows_links(page: PageObservation) -> bool:
        """Links are never followed from a block page (which only a seed's fetch hands to the spider)."""
        return page.status < 400

    def outcome(self, meta: Mapping[str, Any], page: PageObservation) -> Iterator[PageObservation | CloakedSeed]:
        """What to keep of the page of ``meta``'s response: itself, or with its seed's variants compared."""
        if not self.is_variant(meta):
            yield page
            return
        variants = {self.profile_of(meta): page, **meta.get(PAGES_META, {})}
        self.count(stats_keys.CLOAKING + "compared")
        verdict = compare_variants(variants)
        if verdict is None:
            if page.status >= 400:  # refused alike to every client: a failed fetch, as without profiles
                self.count(f"{stats_keys.FETCH_FAILED}http-{page.status}")
                return
            yield page
            return
        self.count(stats_keys.CLOAKING + "found")
        for reason in verdict.reasons:
            self.count(f"{stats_keys.CLOAKING}reasons/{reason}")
        log.info("cloaking at %s: %s", verdict.url, "; ".join(verdict.evidence()))
        try:
            findings = tuple(cloaking_findings(verdict, parse_url(verdict.url).host))
        except InputError:  # the spider fetched the seed, so it parses; this keeps a surprise from losing pages
            findings = ()
        yield CloakedSeed(tuple(variants.values()), findings)

    def count(self, key: str) -> None:
        """Add one to stat ``key``, when there are stats."""
        if self.stats is not None:
            self.stats.inc_value(key)


class ClientProfilesMiddleware:
    """Downloader middleware: sends each request as its client profile; fetches a seed as every other profile.

    ``process_request`` sets the headers of the profile the request's meta
    names (of the link profile when it names none), leaving any header the
    request already has; a browser re-fetch (``meta["playwright"]``) is left to
    the browser. ``process_response``, once a seed's first fetch is answered,
    downloads the seed as the other profiles and hands their pages to the
    spider in the response's meta (:data:`PAGES_META`).

    Its order number must be below DefaultHeadersMiddleware's (400), so that
    its headers come before Scrapy's defaults fill the gaps, which also puts
    its ``process_response`` after RetryMiddleware's, redirects' and
    decompression's: it sees a seed's final answer.
    """

    def __init__(self, crawler: Any, variants: SeedVariants) -> None:
        self.crawler = crawler
        self.variants = variants

    @classmethod
    def from_crawler(cls, crawler: Any) -> ClientProfilesMiddleware:
        return cls(crawler, SeedVariants.from_crawler(crawler))

    def process_request(self, request: scrapy.Request) -> None:
        if request.meta.get("playwright"):
            return
        # Scrapy's referer middleware has named the page a followed link came from; a seed has none.
        followed = b"Referer" in request.headers
        for key, value in self.variants.headers(self.variants.profile_of_request(request.meta),
                                                followed=followed).items():
            request.headers.setdefault(key, value)

    async def process_response(self, request: scrapy.Request, response: Response) -> Response:
        if (not self.variants.compared or not self.variants.is_variant(request.meta)
                or not isinstance(response, TextResponse)
                or response.status >= 500 or PAGES_META in request.meta):
            return response  # not a seed's first page, or one that says nothing of its clients
        seed = request.meta[VARIANT_META]
        pages = await asyncio.gather(*(self._fetch(seed, name, request) for name in self.variants.others))
        request.meta[PAGES_META] = {name: page for name, page in zip(self.variants.others, pages) if page}
        return response

    async def _fetch(self, seed: str, name: str, first: scrapy.Request) -> PageObservation | None:
        """``seed`` fetched as profile ``name``: its page, or None (counted) when it brought none."""
        variant = scrapy.Request(seed, dont_filter=True, priority=first.priority,
                                 meta={PROFILE_META: name, "cookiejar": name})
        try:
            response = await self.crawler.engine.download_async(variant)
        except Exception as exc:  # any failure of one variant leaves the others to compare
            reason = f"refused-{exc.reason}" if isinstance(exc, Refused) else failure_reason(Failure(exc))
            self.variants.count(f"{stats_keys.CLOAKING}variant_failed/{reason}")
            return None
        # Counted so that every response received is accounted for: kept, skipped, or a variant.
        self.variants.count(stats_keys.CLOAKING + "variants_fetched")
        if not isinstance(response, TextResponse):
            self.variants.count(stats_keys.CLOAKING + "variant_failed/not-html")
            return None
        return page_from_response(response, name)


# -- judging the variants together -----------------------------------------------

#: Scores findings about a subject into its verdict: the pipeline passes
#: :func:`fraudwall.blocklists.scoring.score_findings` with the crawl's settings (the crawler may not import it).
Scorer = Callable[[str, Sequence[Finding], SubjectKind], Verdict]


def merge_variants(judgements: Sequence[Judgement], score: Scorer) -> list[Judgement]:
    """The judgements of one seed's variants, scored together: every variant of a URL gets one verdict.

    A URL is what it shows any client: its verdict is scored from the
    strongest finding of each (subject, detector, version, category) over all
    its variants, so the scam a phone was shown is not outweighed by the
    harmless page a desktop got. Each judgement keeps its own observation and
    findings.
    """
    by_subject: dict[str, list[Judgement]] = {}
    for judgement in judgements:
        by_subject.setdefault(judgement.verdict.subject, []).append(judgement)
    merged: dict[int, Judgement] = {}
    for subject, group in by_subject.items():
        strongest: dict[tuple[str, str, str, str], Finding] = {}
        for judgement in group:
            for finding in judgement.verdict.findings:
                key = (finding.subject, finding.detector, finding.detector_version, str(finding.category))
                if key not in strongest or finding.score > strongest[key].score:
                    strongest[key] = finding
        verdict = score(subject, list(strongest.values()), group[0].verdict.subject_kind)
        for judgement in group:
            merged[id(judgement)] = replace(judgement, verdict=verdict)
    return [merged[id(judgement)] for judgement in judgements]
