"""Helpers for the detector tests: pages from HTML, manifests, and scores combined the way fraudwall scores them."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fraudwall.blocklists.scoring import combine
from fraudwall.default_settings import SCORE_MALICIOUS, SCORE_SUSPICIOUS
from fraudwall.models import Finding, PageObservation
from fraudwall.names import parse_url
from fraudwall.pages import parse_page
from fraudwall.plugins import fraud_lexicon, url_heuristics

MALICIOUS = SCORE_MALICIOUS
SUSPICIOUS = SCORE_SUSPICIOUS


def noisy_or(findings: Iterable[Finding]) -> float:
    """1 - prod(1 - score): the scoring stage's own combination of one subject's findings."""
    return combine([finding.score for finding in findings])


def page_of(html: str | bytes, url: str = "http://example-test.top/") -> PageObservation:
    """A PageObservation built exactly as the crawler builds one."""
    body = html.encode("utf-8") if isinstance(html, str) else html
    return parse_page(url, body)


def lexicon_findings(html: str | bytes, url: str = "http://example-test.top/") -> list[Finding]:
    """The fraud_lexicon findings for ``html`` served from ``url``."""
    page = page_of(html, url)
    return fraud_lexicon.analyze_page(page, parse_url(page.final_url))


def all_findings(html: str | bytes, url: str) -> list[Finding]:
    """Page findings plus the URL findings of the page's host."""
    page = page_of(html, url)
    parsed = parse_url(page.final_url)
    return [*fraud_lexicon.analyze_page(page, parsed), *url_heuristics.analyze_url(parsed)]


@dataclass(frozen=True)
class LabelledPage:
    """One row of a corpus manifest."""

    file: Path
    url: str
    label: str


def read_manifest(manifest: Path) -> list[LabelledPage]:
    """Rows of a ``file,url,label`` manifest (extra columns are ignored)."""
    with manifest.open(encoding="utf-8", newline="") as handle:
        return [LabelledPage(manifest.parent / row["file"], row["url"], row["label"]) for row in csv.DictReader(handle)]


def html_doc(body: str, title: str = "") -> str:
    """A minimal UTF-8 HTML document around ``body``."""
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"
