"""Helpers for the detector tests: pages from HTML, manifests, and scores combined the way fraudwall scores them."""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from fraudwall.blocklists.scoring import combine
from fraudwall.default_settings import SCORE_MALICIOUS, SCORE_SUSPICIOUS
from fraudwall.judging import judge
from fraudwall.models import Finding, PageObservation, Verdict
from fraudwall.page_view import PageView
from fraudwall.pages import parse_page
from fraudwall.plugin_host import PluginHost
from fraudwall.plugins import fraud_lexicon
from fraudwall.settings import Settings
from fraudwall.testing import run_plugin

MALICIOUS = SCORE_MALICIOUS
SUSPICIOUS = SCORE_SUSPICIOUS


def noisy_or(findings: Iterable[Finding]) -> float:
    """1 - prod(1 - score): the scoring stage's own combination of one subject's findings."""
    return combine([finding.score for finding in findings])


def page_of(html: str | bytes, url: str = "http://example-test.top/") -> PageObservation:
    """A PageObservation built exactly as the crawler builds one."""
    body = html.encode("utf-8") if isinstance(html, str) else html
    return parse_page(url, body)


def view_of(html: str | bytes, url: str = "http://example-test.top/") -> PageView:
    """The PageView the page hooks get for ``html`` served from ``url``."""
    return PageView(page_of(html, url))


def page_findings(plugin: ModuleType, html: str | bytes, url: str = "http://example-test.top/") -> list[Finding]:
    """The findings of one page plugin module for ``html`` served from ``url``, run by the host as in a crawl."""
    return run_plugin(plugin, page=page_of(html, url))


def lexicon_findings(html: str | bytes, url: str = "http://example-test.top/") -> list[Finding]:
    """The fraud_lexicon findings for ``html`` served from ``url``."""
    return page_findings(fraud_lexicon, html, url)


@functools.cache
def plugin_host() -> PluginHost:
    """Every installed plugin, loaded once, as ``fraudwall analyze pages`` loads them."""
    return PluginHost.from_settings(Settings())


def all_findings(html: str | bytes, url: str) -> list[Finding]:
    """Every plugin's findings for the page and its host, through the host as a crawl runs them."""
    return list(judge(plugin_host(), page_of(html, url)).findings)


def verdict(html: str | bytes, url: str) -> Verdict:
    """The verdict the scoring stage gives the page: every plugin's findings, combined and thresholded."""
    return judge(plugin_host(), page_of(html, url)).verdict


@dataclass(frozen=True)
class LabelledPage:
    """One row of a corpus manifest."""

    file: Path
    url: str
    label: str
    notes: str = ""


def read_manifest(manifest: Path) -> list[LabelledPage]:
    """Rows of a ``file,url,label[,notes]`` manifest (other columns are ignored)."""
    with manifest.open(encoding="utf-8", newline="") as handle:
        return [
            LabelledPage(manifest.parent / row["file"], row["url"], row["label"], row.get("notes") or "")
            for row in csv.DictReader(handle)
        ]


def html_doc(body: str, title: str = "") -> str:
    """A minimal UTF-8 HTML document around ``body``."""
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"
