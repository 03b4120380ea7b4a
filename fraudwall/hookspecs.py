"""The plugin contract: every hook fraudwall calls, grouped by stage.

A plugin is a module or an object with a ``name`` and a ``version`` attribute
and one or more functions marked ``@hookimpl`` whose names match the specs
below. An implementation declares only the arguments it uses, in any order::

    from fraudwall import hookimpl

    name = "my_detector"
    version = "1.0"

    @hookimpl
    def analyze_page(page):
        if "刷单" in page.text:
            return [Finding(...)]

Rules every hook shares:

* Hooks are pure analysis: they must not touch the database, the network or
  the file system, and must not keep state between calls that changes results.
  Evidence comes in through the arguments; findings go out as the return value.
* Return a list (or any iterable) of :class:`~fraudwall.models.Finding`, or
  ``None`` for nothing. Every finding's ``detector`` and ``detector_version``
  should be the plugin's ``name`` and ``version``: stored findings are keyed by
  them, so bumping ``version`` lets ``reanalyze`` re-run the plugin over stored
  observations beside the old results.
* The host calls implementations one at a time and isolates them: one that
  raises, returns something that is not findings, or runs past
  ``PLUGIN_TIMEOUT`` seconds is logged and counted, and the others still run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

from fraudwall.models import ApkObservation, DnsObservation, DnsPivots, Finding, PageObservation, UrlParts
from fraudwall.settings import Settings

if TYPE_CHECKING:  # the view's text machinery is only needed once a page is judged, not to import fraudwall
    from fraudwall.page_view import PageView

PROJECT_NAME = "fraudwall"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# -- loading -----------------------------------------------------------------


@hookspec
def configure(settings: Settings) -> str | None:
    """Load and compile the plugin's rule and data files, once, when the host loads the plugin.

    Called before any observation, outside every per-observation time budget,
    so that no page pays for a compile. Return a short digest of what was
    loaded (say the first hex digits of a sha256 over the rule files), or
    ``None`` when the plugin reads no files: the host records the plugin's
    version as ``VERSION+DIGEST``, so that ``fraudwall reanalyze`` re-runs it
    over stored evidence when a rule file changes. Log every file that cannot
    be used, naming it and, where the parser says, the line; raising
    :class:`~fraudwall.exceptions.PluginError` refuses to start.
    """


# -- detection: URLs and domains ---------------------------------------------


@hookspec
def analyze_url(url: UrlParts, settings: Settings) -> Iterable[Finding] | None:
    """Judge a URL or domain by its shape alone, before or without fetching it.

    Called once for every URL a page observation was fetched from (the final
    URL after redirects), and for every seed and name analysed on its own.
    ``url.host`` is already IDNA-normalised to lowercase A-labels (or an IP
    literal, with ``url.is_ip`` set); ``url.registrable_domain`` is
    public-suffix aware. Findings should use ``url.host`` as their subject, so
    they attach to the name that a blocklist would carry.
    """


# -- detection: pages ----------------------------------------------------------


@hookspec
def analyze_page(
    page: PageObservation, url: UrlParts, settings: Settings, view: PageView
) -> Iterable[Finding] | None:
    """Judge a fetched page: its text, title, links, forms, scripts and headers.

    Called once per :class:`~fraudwall.models.PageObservation`, from a live
    crawl or from stored evidence during re-analysis. ``url`` is the parsed
    final URL of the page. Findings should use ``page.final_url`` as their
    subject. Must not fetch anything the page refers to.

    ``view`` is the page as the detectors read it, a
    :class:`~fraudwall.page_view.PageView` built once for every page hook:
    ``view.page`` is ``page``; ``view.strings`` everything a visitor can be
    shown, hidden places (script strings, attributes, base64 payloads)
    included, and ``view.text`` the same normalised for matching; and the
    facts several detectors weigh: ``install_paths``, ``contacts``,
    ``opens_chat``, ``credential_fields``, ``warning_frame`` and
    ``lexicon_hits``. Each is computed on first use and shared by the page's
    hooks, so reading the view costs a detector nothing another already paid
    for. Read it rather than importing another plugin: a detector's findings
    must depend only on the evidence, fraudwall and its reference data, never
    on another plugin's code, or a change there would escape re-analysis.
    """


# -- detection: DNS answers ------------------------------------------------------


@hookspec
def analyze_dns(dns: DnsObservation, settings: Settings, pivots: DnsPivots) -> Iterable[Finding] | None:
    """Judge what a resolver said about one name: records and TTLs, wildcard and fast-flux signs, name servers.

    Called once per :class:`~fraudwall.models.DnsObservation`, from a probe or
    from stored evidence, after ``analyze_url`` has seen the name itself.
    ``dns.rcode`` and ``dns.outcomes`` are values (``NOERROR``, ``NODATA``,
    ``NXDOMAIN``, ``SERVFAIL``, ``TIMEOUT``, ``REFUSED``), never exceptions: a
    failure is evidence too. ``pivots`` maps the addresses and name servers of
    names already judged malicious to a few of those names (empty when the
    caller has no store). Findings should use ``dns.name`` as their subject
    (kind ``host``); a finding about an address (kind ``ip``) is judged into
    a verdict of its own, so publish addresses only with strong evidence
    (shared hosting serves thousands of names). Must not send DNS queries.
    """


# -- detection: APKs ---------------------------------------------------------------


@hookspec
def analyze_apk(apk: ApkObservation, settings: Settings, archive: bytes) -> Iterable[Finding] | None:
    """Judge an Android app from what it declares and carries, without running it.

    Called once per :class:`~fraudwall.models.ApkObservation` (an APK inside an
    APK is its own observation). Findings about the app use ``apk.sha256`` as
    their subject with ``subject_kind=SubjectKind.APK``; about its signer,
    the certificate's sha256 (``CERTIFICATE``); about a host, URL, wallet or
    handle it embeds, that value with its kind: each such subject is judged
    into a verdict of its own, so a detector decides what of an app is
    published. ``archive`` is the APK file's bytes when the host has them (an
    APK analysed from a file or a download; ``b""`` when re-judged from the
    store), for detectors that scan the archive itself, as YARA does; read
    only, and never extracted to disk.
    """
