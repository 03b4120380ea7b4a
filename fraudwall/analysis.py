"""Run the detector plugins over one observation.

Shared by the crawl pipelines, ``fraudwall analyze pages`` and re-analysis, so
a page gets the same findings whichever way it arrives: the URL hooks on the
page's final URL, then the page hooks.
"""

from __future__ import annotations

from dataclasses import dataclass

from fraudwall.models import Finding, PageObservation, UrlParts
from fraudwall.names import parse_url
from fraudwall.plugin_host import PluginHost


@dataclass(frozen=True, slots=True)
class PageAnalysis:
    """A page with its parsed URL and every finding about it and its host."""

    page: PageObservation
    url: UrlParts
    findings: tuple[Finding, ...]
    #: (plugin name, version) of every plugin that ran, found something or not:
    #: what tells re-analysis later which plugins are new or changed.
    plugins: tuple[tuple[str, str], ...] = ()


def analyze_page(host: PluginHost, page: PageObservation, only: set[str] | None = None) -> PageAnalysis:
    """All findings for ``page``; raises :class:`~fraudwall.exceptions.InvalidName` for an unusable URL."""
    url = parse_url(page.final_url)
    findings = host.call("analyze_url", only=only, url=url, settings=host.settings)
    findings += host.call("analyze_page", only=only, page=page, url=url, settings=host.settings)
    plugins = tuple((name, version) for name, version in sorted(host.versions().items()) if only is None or name in only)
    return PageAnalysis(page=page, url=url, findings=tuple(findings), plugins=plugins)
