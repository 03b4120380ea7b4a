"""Helpers for testing detector plugins: build observations, run one plugin, assert findings.

For plugin authors and for fraudwall's own tests. Pages are built exactly as
the crawler builds them, and plugins run through the real
:class:`~fraudwall.plugin_host.PluginHost`, so a test sees what a crawl would::

    from fraudwall.testing import assert_finding, run_plugin

    import my_detector

    def test_unfreezing_fee_page():
        findings = run_plugin(my_detector, page="<p>缴纳解冻费后即可提现</p>", url="http://loan.example/")
        assert_finding(findings, category="loan", min_score=0.5, evidence_contains="解冻费")

Unlike a crawl, :func:`run_plugin` does not swallow a plugin's failure: an
exception, a timeout or a result that is not findings fails the test, with the
plugin's own exception chained when there is one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fraudwall.judging import judge
from fraudwall.models import ApkObservation, DnsObservation, Finding, Observation, PageObservation, UrlParts
from fraudwall.names import parse_url
from fraudwall.pages import parse_page
from fraudwall.plugin_host import PluginHost
from fraudwall.settings import Settings

__all__ = [
    "DEFAULT_URL",
    "PluginRunError",
    "assert_finding",
    "assert_no_finding",
    "make_page",
    "make_url",
    "run_plugin",
]

#: The URL a page is served from when a test does not say.
DEFAULT_URL = "http://example-test.top/"


class PluginRunError(AssertionError):
    """A plugin failed while :func:`run_plugin` ran it: it raised, timed out or returned junk."""


def make_page(html: str | bytes, url: str = DEFAULT_URL, **observation: Any) -> PageObservation:
    """A :class:`PageObservation` of ``html`` served from ``url``, built as the crawler builds one.

    ``html`` as ``str`` is encoded as UTF-8; pass ``bytes`` to test other
    encodings (a GBK page with its ``<meta charset>``). Keyword arguments go to
    :func:`fraudwall.pages.parse_page`: ``final_url``, ``status``, ``headers``,
    ``redirect_chain`` ...
    """
    body = html.encode("utf-8") if isinstance(html, str) else html
    return parse_page(url, body, **observation)


def make_url(url: str) -> UrlParts:
    """The :class:`UrlParts` of ``url``, IDNA-normalised as the URL hooks receive it."""
    return parse_url(url)


@contextmanager
def _host_failures() -> Iterator[list[logging.LogRecord]]:
    """Collect the error records the plugin host logs while the block runs."""
    records: list[logging.LogRecord] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = _Collect(level=logging.ERROR)
    logger = logging.getLogger("fraudwall.plugin_host")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def run_plugin(
    plugin: object | str | Path,
    *,
    page: PageObservation | str | bytes | None = None,
    url: str | UrlParts | None = None,
    dns: DnsObservation | None = None,
    apk: ApkObservation | None = None,
    archive: bytes = b"",
    settings: Settings | Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Run one plugin in isolation through the real plugin host; return its findings.

    ``plugin`` is a module or object with ``name``, ``version`` and hook
    implementations, or the path of a plugin file (as ``--plugin`` loads it).

    * With ``page`` (an observation, or HTML to build one from, served from
      ``url`` or :data:`DEFAULT_URL`), the plugin sees what a crawl shows it:
      ``analyze_url`` on the page's final URL, then ``analyze_page``.
    * With ``url`` alone, only ``analyze_url`` runs.
    * With ``dns`` (a :class:`~fraudwall.models.DnsObservation`), ``analyze_dns`` runs;
      with ``apk`` (an :class:`~fraudwall.models.ApkObservation`), ``analyze_apk``,
      given ``archive`` as the APK file's bytes.

    Whatever the evidence, it takes the crawl's own road, :func:`fraudwall.judging.judge`.

    ``settings`` are the settings hooks receive (a mapping is layered over
    the defaults). Raises :class:`PluginRunError` when the plugin raises,
    runs past ``PLUGIN_TIMEOUT`` or returns something other than findings.
    """
    if sum(x is not None for x in (page or url, dns, apk)) != 1:
        raise TypeError("run_plugin needs one kind of evidence: a page (and its url), a url, dns or apk")
    if isinstance(page, PageObservation) and url is not None:
        raise TypeError("give the URL of a PageObservation through the observation itself, not url=")
    if not isinstance(settings, Settings):
        settings = Settings(settings or {})
    host = PluginHost(settings)
    if isinstance(plugin, (str, Path)):
        plugin_name = host.load_file(plugin)
    else:
        plugin_name = host.register(plugin, origin="fraudwall.testing")
    observation: Observation
    if page is not None:
        if not isinstance(page, PageObservation):
            page = make_page(page, url if isinstance(url, str) else (url.url if url else DEFAULT_URL))
        observation = page
    elif url is not None:
        observation = url if isinstance(url, UrlParts) else make_url(str(url))
    else:
        observation = dns if dns is not None else apk  # type: ignore[assignment]  # one is given, checked above
    with _host_failures() as failures:
        findings = list(judge(host, observation, archive=archive).findings)
    problems = {
        outcome: count for (name, outcome), count in host.stats.items() if name == plugin_name and outcome != "ok"
    }
    if problems:
        first = failures[0] if failures else None
        counts = ", ".join(f"{outcome} x{count}" for outcome, count in problems.items())
        message = f"plugin {plugin_name!r} failed: {counts}"
        if first is not None:
            message += f": {first.getMessage()}"
        cause = first.exc_info[1] if first is not None and first.exc_info else None
        raise PluginRunError(message) from cause
    return findings


# -- assertions --------------------------------------------------------------------------


def _describe(findings: Sequence[Finding]) -> str:
    if not findings:
        return "  (no findings)"
    lines = []
    for finding in findings:
        head = f"{finding.detector} {finding.detector_version} {finding.category} score={finding.score}"
        lines.append(f"  - {head}: {finding.reason}")
        lines.extend(f"      evidence: {item}" for item in finding.evidence)
    return "\n".join(lines)


_Check = tuple[str, Callable[[Finding], bool]]


def _checks(
    category: str | None = None,
    detector: str | None = None,
    min_score: float | None = None,
    max_score: float | None = None,
    evidence_contains: str | None = None,
) -> list[_Check]:
    """The given criteria as (description, predicate) pairs."""
    checks: list[_Check] = []
    if category is not None:
        wanted_category = str(category)  # a Category member compares by its value
        checks.append((f"category={wanted_category!r}", lambda f: str(f.category) == wanted_category))
    if detector is not None:
        wanted_detector = detector
        checks.append((f"detector={wanted_detector!r}", lambda f: f.detector == wanted_detector))
    if min_score is not None:
        floor = min_score
        checks.append((f"score>={floor}", lambda f: f.score >= floor))
    if max_score is not None:
        ceiling = max_score
        checks.append((f"score<={ceiling}", lambda f: f.score <= ceiling))
    if evidence_contains is not None:
        needle = evidence_contains
        checks.append((f"evidence containing {needle!r}", lambda f: any(needle in item for item in f.evidence)))
    return checks


def assert_finding(
    findings: Iterable[Finding],
    *,
    category: str | None = None,
    detector: str | None = None,
    min_score: float | None = None,
    max_score: float | None = None,
    evidence_contains: str | None = None,
) -> Finding:
    """Assert that one finding meets every given criterion; return it.

    ``evidence_contains`` is a substring of one of the finding's evidence
    snippets. On failure the message lists every finding, and for the findings
    of the wanted category (or all, without one) which criteria they missed.
    """
    findings = list(findings)
    checks = _checks(category, detector, min_score, max_score, evidence_contains)
    for finding in findings:
        if all(check(finding) for _, check in checks):
            return finding
    wanted = ", ".join(label for label, _ in checks) or "any finding"
    message = f"no finding with {wanted}.\nFindings:\n{_describe(findings)}"
    near = [f for f in findings if category is None or str(f.category) == str(category)]
    if near and checks:
        message += "\nClosest:\n" + "\n".join(
            f"  - {f.detector} {f.category} score={f.score}: misses "
            + ", ".join(label for label, check in checks if not check(f))
            for f in near
        )
    raise AssertionError(message)


def assert_no_finding(
    findings: Iterable[Finding],
    *,
    category: str | None = None,
    detector: str | None = None,
    min_score: float | None = None,
) -> None:
    """Assert that no finding meets all the given criteria (with none given: no finding at all).

    ``min_score`` makes weak findings acceptable: ``assert_no_finding(f,
    category="loan", min_score=0.4)`` allows a loan finding below 0.4.
    """
    checks = _checks(category, detector, min_score)
    offending = [f for f in findings if all(check(f) for _, check in checks)]
    if offending:
        wanted = ", ".join(label for label, _ in checks) or "no criteria"
        raise AssertionError(f"expected no finding with {wanted}, got:\n{_describe(offending)}")
