"""Observations other than pages as JSON, and back: the store's ``observations.payload``.

A page is stored by columns and its body (``bodies``), and what no column
holds (the server's TLS certificate) as its payload (:func:`page_extras`); a URL or name
(:class:`~fraudwall.models.UrlParts`), a DNS answer
(:class:`~fraudwall.models.DnsObservation`) and an APK
(:class:`~fraudwall.models.ApkObservation`) are stored whole, as one JSON
object each, so that a re-analysis judges exactly what was observed. The
codec (:mod:`fraudwall.dataclass_json`) follows the dataclasses' own type
hints, so a field added to a model is stored without a change here; a field a
stored payload does not have takes its default when read back.
"""

from __future__ import annotations

import json
from dataclasses import replace

from fraudwall.dataclass_json import from_plain, to_plain
from fraudwall.models import ApkObservation, DnsObservation, Observation, PageObservation, ServerCertificate, UrlParts

#: ``observations.kind`` of each kind of observation; a page's is ``page``.
KINDS: dict[type, str] = {PageObservation: "page", UrlParts: "url", DnsObservation: "dns", ApkObservation: "apk"}
_CLASSES = {kind: cls for cls, kind in KINDS.items()}


def kind_of(observation: Observation) -> str:
    """The ``observations.kind`` of ``observation``."""
    try:
        return KINDS[type(observation)]
    except KeyError:
        raise TypeError(f"not an observation: {type(observation).__name__}") from None


def dumps(observation: Observation) -> str:
    """``observation`` as one JSON object (datetimes as ISO 8601, tuples as arrays)."""
    return json.dumps(to_plain(observation), ensure_ascii=False, separators=(",", ":"))


def loads(kind: str, text: str) -> Observation:
    """The observation of ``kind`` (``url``, ``dns``, ``apk``) that :func:`dumps` wrote as ``text``."""
    cls = _CLASSES.get(kind)
    if cls is None or cls is PageObservation:
        raise ValueError(f"no payload codec for observations of kind {kind!r}")
    return from_plain(cls, json.loads(text))


def page_extras(page: PageObservation) -> str | None:
    """The payload of a page's row: what its columns and body do not hold, None when that is nothing."""
    if page.certificate is None:
        return None
    return json.dumps({"certificate": to_plain(page.certificate)}, ensure_ascii=False, separators=(",", ":"))


def with_page_extras(page: PageObservation, text: str | None) -> PageObservation:
    """``page`` with what :func:`page_extras` wrote as ``text`` (a payload it cannot read is left out)."""
    if not text:
        return page
    try:
        certificate = json.loads(text).get("certificate")
        return replace(page, certificate=from_plain(ServerCertificate, certificate)) if certificate else page
    except (ValueError, TypeError, AttributeError):
        return page
