"""The one road from evidence to a verdict: :func:`judge`.

Every kind of evidence takes it, whoever brings it: the live crawl (in worker
processes, see :mod:`fraudwall.judge_pool`), ``fraudwall analyze``, and
``fraudwall reanalyze`` over stored observations. :func:`judge` runs the
detectors for the observation's kind through the isolating
:class:`~fraudwall.plugin_host.PluginHost`, scores their findings into a
verdict, and returns both as a :class:`~fraudwall.models.Judgement`, which
:meth:`~fraudwall.blocklists.store.Store.record` stores in batches.

==========================  ===========================  ======================  ===============
evidence                    hooks, in order              verdict subject         subject kind
==========================  ===========================  ======================  ===============
:class:`PageObservation`    ``analyze_url`` (final URL), the page's final URL    ``url``
                            ``analyze_page``
:class:`UrlParts`           ``analyze_url``              the URL's host          ``host``/``ip``
:class:`DnsObservation`     ``analyze_url`` (the name),  the name asked          ``host``
                            ``analyze_dns``
:class:`ApkObservation`     ``analyze_apk``              the APK's sha256        ``apk``
==========================  ===========================  ======================  ===============

A finding about the verdict's subject or its host name counts towards the
verdict; a finding about any other subject (a host, certificate, wallet or
handle an APK carries) is judged on its own, into one of the judgement's
``related`` verdicts, so the embedded C2 host of a fake app can be published
while the app's hash cannot.

An APK that carries other APKs (``apk.nested``) is judged after them, given
their verdicts (``carried``): carrying a fraud app is what a dropper does, so
the carrier gets a finding of the core's own (detector ``apk_carrier``) at the
score of the worst APK it carries, suspicious or worse.

A page reached through redirects from other sites (a campaign's throw-away
entry domains, the short link in a text message) hands its verdict on to them
when it is suspicious or worse: each URL of its redirect chain on another
registered domain gets a finding of the core's own (detector
``redirect_entry``) at the page's score (at least the threshold of its
status: a page malicious by corroboration makes its entries malicious), judged
into a ``related`` verdict, so
the names victims are sent to are blocked with the page they lead to. A hop
whose URL carries the next one's host (``?url=https://landing...``: an open
redirect on a site that is not the scam's) and an allowlisted name get none.

A page the crawler fetched without the user name its link wrote before the
host (``http://www.icbc.com.cn@pay-verify.top/``) is given to the URL hooks as
linked, so they see what a reader of the link saw.

A page's hooks share one :class:`~fraudwall.page_view.PageView`, built here
once per page, so that the text and facts several detectors read are
extracted once, and no detector needs another's module to get them.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

from fraudwall import __version__
from fraudwall.blocklists.scoring import score_findings
from fraudwall.models import (
    ApkObservation, Category, DnsObservation, DnsPivots, Finding, Judgement, Observation, PageObservation, SubjectKind, UrlParts,
    Verdict, VerdictStatus,
)
from fraudwall.exceptions import InvalidName
from fraudwall.names import normalize_name, parse_url, without_user_info
from fraudwall.page_view import PageView
from fraudwall.plugin_host import PluginHost
from fraudwall.reference import is_allowlisted
from fraudwall.settings import Settings

#: Hops of a redirect chain shown in an entry's evidence (the last ones, the landing page included).
MAX_HOPS_SHOWN = 6


def judge(
    host: PluginHost,
    observation: Observation,
    *,
    only: set[str] | None = None,
    kept: Iterable[Finding] = (),
    observation_id: int | None = None,
    archive: bytes = b"",
    carried: Iterable[Verdict] = (),
    pivots: DnsPivots | None = None,
    extra: Iterable[Finding] = (),
    view: PageView | None = None,
) -> Judgement:
    """Run the plugins for ``observation``'s kind and score their findings (see the module's table).

    ``only`` restricts the run to the named plugins. ``archive`` is an APK's
    file, for the detectors that scan it (see ``analyze_apk``); ``carried``
    the verdicts on the APKs inside it; ``pivots`` the addresses and name
    servers of blocked names, for the DNS detectors (none known by default);
    ``view`` a page's view, when the caller reads it afterwards too. Raises
    :class:`~fraudwall.exceptions.InvalidName` for a page or name that is no
    usable URL or name: a rejection the caller counts.
    """
    settings = host.settings
    if isinstance(observation, PageObservation):
        url = parse_url(_as_linked(observation))
        findings = host.call("analyze_url", only=only, url=url, settings=settings)
        view = view or PageView(observation)
        findings += host.call("analyze_page", only=only, page=observation, url=url, settings=settings, view=view)
        subject, kind, name = observation.final_url, SubjectKind.URL, url.host
    elif isinstance(observation, UrlParts):
        findings = host.call("analyze_url", only=only, url=observation, settings=settings)
        subject = name = observation.host
        kind = SubjectKind.IP if observation.is_ip else SubjectKind.HOST
    elif isinstance(observation, DnsObservation):
        name = normalize_name(observation.name, allow_underscore=True)
        # A probed name is judged as a name too: a lookalike is one whatever its records say.
        findings = host.call("analyze_url", only=only, url=parse_url(f"http://{name}/"), settings=settings)
        findings += host.call("analyze_dns", only=only, dns=observation, settings=settings,
                              pivots=pivots or DnsPivots())
        subject, kind = name, SubjectKind.HOST
    elif isinstance(observation, ApkObservation):
        findings = host.call("analyze_apk", only=only, apk=observation, settings=settings, archive=archive)
        findings += _carrier_findings(observation, carried)
        subject, kind, name = observation.sha256, SubjectKind.APK, ""
    else:
        raise TypeError(f"judge() takes an observation, not {type(observation).__name__}")
    # The caller's own findings about this evidence (the crawl's cross-profile cloaking check) are
    # scored and stored like the plugins': a re-analysis keeps them, as it keeps apk_carrier's.
    findings = [*findings, *extra]
    own = {subject, name}
    about: dict[str, list[Finding]] = {}
    for finding in [*findings, *kept]:
        about.setdefault(subject if finding.subject in own else finding.subject, []).append(finding)
    verdict = score_findings(subject, about.pop(subject, []), settings, kind=kind)
    if isinstance(observation, PageObservation):
        entries = _entry_findings(observation, verdict, settings)
        findings += entries
        for finding in entries:
            about.setdefault(finding.subject, []).append(finding)
    related = tuple(score_findings(other, found, settings, kind=found[0].subject_kind)
                    for other, found in sorted(about.items()))
    plugins = tuple((plugin, version) for plugin, version in sorted(host.versions().items())
                    if only is None or plugin in only)
    return Judgement(observation, tuple(findings), verdict, name, plugins, observation_id, related)


#: The detector name of the core's finding on an APK that carries a fraud app.
CARRIER_DETECTOR = "apk_carrier"


def _carrier_findings(apk: ApkObservation, carried: Iterable[Verdict]) -> list[Finding]:
    """One finding when an APK inside ``apk`` was judged suspicious or worse, at the worst one's score."""
    inside = set(apk.nested)
    bad = [verdict for verdict in carried if verdict.subject in inside
           and verdict.status in (VerdictStatus.MALICIOUS, VerdictStatus.SUSPICIOUS)]
    if not bad:
        return []
    worst = max(bad, key=lambda verdict: verdict.score)
    return [Finding(
        apk.sha256, CARRIER_DETECTOR, __version__, worst.categories[0] if worst.categories else Category.FAKE_APP.value,
        worst.score, f"Carries an APK judged {worst.status} ({worst.score:.2f}): a dropper installs what it carries.",
        evidence=tuple(f"inside: {verdict.subject} ({verdict.status}, {verdict.score:.2f})" for verdict in bad[:5]),
        subject_kind=SubjectKind.APK,
    )]


def _as_linked(page: PageObservation) -> str:
    """The page's final URL as it was linked: with the user name a link wrote before its host (the crawler
    fetches without it, :mod:`fraudwall.crawler.url_credentials`) when that is all that tells them apart."""
    return page.url if page.url != page.final_url and without_user_info(page.url) == page.final_url else page.final_url


#: The detector name of the core's finding on a URL a suspicious or malicious page was reached through.
ENTRY_DETECTOR = "redirect_entry"


def _entry_findings(page: PageObservation, verdict: Verdict, settings: Settings) -> list[Finding]:
    """A finding for each URL of ``page``'s redirect chain on another registered domain, at the page's score,
    when the page is suspicious or worse (see the module's docstring). A page malicious by corroboration, under
    the malicious score, hands on the malicious score: the entry leads to what the page is."""
    if not page.redirect_chain or verdict.status not in (VerdictStatus.MALICIOUS, VerdictStatus.SUSPICIOUS):
        return []
    floor = settings.getfloat("SCORE_MALICIOUS" if verdict.status is VerdictStatus.MALICIOUS else "SCORE_SUSPICIOUS")
    score = max(verdict.score, floor)
    hops = [*page.redirect_chain, page.final_url]
    try:
        landing = parse_url(page.final_url)
    except InvalidName:
        return []
    category = verdict.categories[0] if verdict.categories else Category.SUSPICIOUS_URL.value
    chain = " -> ".join(hops[-MAX_HOPS_SHOWN:])
    findings: list[Finding] = []
    for entry, next_hop in zip(hops, hops[1:]):
        try:
            parts = parse_url(entry)
            following = parse_url(next_hop).host
        except InvalidName:
            continue
        site = parts.registrable_domain or parts.host
        if site in (landing.registrable_domain, landing.host) or is_allowlisted(parts.host):
            continue
        if following in unquote(entry.split("//", 1)[-1].partition("/")[2]).lower():
            continue  # an open redirect: the URL names where it sends, whoever asks
        findings.append(Finding(
            entry, ENTRY_DETECTOR, __version__, category, score,
            f"Redirects to a page judged {verdict.status} ({verdict.score:.2f}): {page.final_url}",
            evidence=(f"redirect chain: {chain}",), subject_kind=SubjectKind.URL,
        ))
    return findings
