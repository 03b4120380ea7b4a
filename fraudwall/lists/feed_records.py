"""Feed records (CSV rows, JSON objects) as items: the known feeds by their columns, and the metadata kept from them.

A record names a URL (``url``) or a host (``domain``, ``host``, ``hostname``).
Metadata kept from feeds: ``first_seen`` (URLhaus ``dateadded``, in UTC;
PhishTank ``submission_time``; JPCERT ``date``, in Japan time), ``target`` (the
brand a phishing page spoofs: PhishTank ``target``, JPCERT ``description``),
``categories`` (URLhaus ``threat``), ``tags`` (URLhaus ``tags``). PhishTank
records with ``verified`` ``no`` are rejected (``unverified``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from fraudwall.exceptions import InputError
from fraudwall.lists.items import ListedName
from fraudwall.lists.validate import checked_name, text_fault, url_item
from fraudwall.models import Scope
from fraudwall.rejections import readable

#: The columns (or keys) a record may name its host in, when it has no ``url``.
NAME_KEYS = ("domain", "host", "hostname")

_UTC = timezone.utc
# JPCERT/CC gives local times without a zone: they cluster in Japanese office hours.
_JST = timezone(timedelta(hours=9), "JST")
_EARLIEST_FEED_DATE = datetime(1995, 1, 1, tzinfo=_UTC)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Layout:
    """A feed known by its column (or key) names, and where its metadata is."""

    feed: str
    signature: frozenset[str]
    date: str = ""
    zone: tzinfo = _UTC
    target: str = ""
    threat: str = ""
    tags: str = ""
    verified: str = ""


_LAYOUTS = (
    Layout("urlhaus", frozenset({"dateadded", "url", "urlhaus_link"}), date="dateadded", threat="threat", tags="tags"),
    Layout("phishtank", frozenset({"phish_id", "url", "submission_time"}), date="submission_time",
           target="target", verified="verified"),
    Layout("jpcert", frozenset({"date", "url", "description"}), date="date", zone=_JST, target="description"),
)
_GENERIC = Layout("", frozenset())


def feed_layout(keys: Iterable[str]) -> Layout:
    """The known feed whose columns ``keys`` include, else the generic layout."""
    present = frozenset(keys)
    return next((layout for layout in _LAYOUTS if layout.signature <= present), _GENERIC)


def record_item(layout: Layout, record: Mapping[str, Any], source: str) -> ListedName:
    """The item one feed record (a CSV row or a JSON object) describes."""
    if layout.verified and str(record.get(layout.verified, "")).strip().lower() in ("no", "false"):
        raise InputError("unverified")
    first_seen = _moment(record.get(layout.date), layout.zone) if layout.date else None
    target = _text(record.get(layout.target)) if layout.target else ""
    threat = _text(record.get(layout.threat)) if layout.threat else ""
    categories = (threat,) if threat else ()
    tags = tuple(tag.strip() for tag in _text(record.get(layout.tags)).split(",") if tag.strip()) if layout.tags else ()
    url = _text(record.get("url"))
    if url:
        return url_item(url, source, first_seen=first_seen, categories=categories, tags=tags, target=target)
    name = next((_text(record.get(key)) for key in NAME_KEYS if _text(record.get(key))), "")
    if not name:
        raise InputError("no-url")
    return ListedName(checked_name(name), Scope.EXACT, source, first_seen=first_seen, categories=categories, tags=tags,
                      target=target)


def _text(value: object) -> str:
    """A record's field as stripped text; empty for a missing or non-text value.

    Raises :class:`InputError` (``nul-byte``, ``invalid-utf8``) for text no output
    may carry: JSON escapes such as ``\\ud800`` give lone surrogates.
    """
    if not isinstance(value, str):
        return ""
    fault = text_fault(value)
    if fault:
        raise InputError(fault, readable(value))
    return value.strip()


def _moment(value: object, zone: tzinfo) -> datetime | None:
    """A feed's timestamp (ISO 8601, or ``2019/01/04 10:12:00``) as an aware datetime.

    A date that cannot be read, or lies before 1995 or after tomorrow, leaves
    ``first_seen`` unknown; the item itself is still good.
    """
    if not isinstance(value, str):
        return None
    parsed = _parsed_moment(value, zone)
    # Later than tomorrow: a placeholder or a broken clock. Checked on every call: "now" moves on.
    if parsed is None or parsed[1] > datetime.now(_UTC) + _ONE_DAY:
        return None
    return parsed[0]


# A feed gives the same timestamp to the URLs of one submission, in time order: most rows
# repeat one of the last few, and parsing one costs more than finding it here.
@functools.lru_cache(maxsize=1024)
def _parsed_moment(text: str, zone: tzinfo) -> tuple[datetime, datetime] | None:
    """``text`` as an aware datetime (``zone`` when it names none) and the same moment in UTC.

    ``None`` for text that is no timestamp, or a moment before the first
    phishing feeds (a placeholder).
    """
    if text_fault(text):
        return None
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
        if not moment.tzinfo:
            moment = moment.replace(tzinfo=zone)
        # Every output writes UTC: 0001-01-01 in Japan time has no UTC equivalent.
        in_utc = moment.astimezone(_UTC)
    except (ValueError, OverflowError):
        return None
    if in_utc < _EARLIEST_FEED_DATE:
        return None
    return moment, in_utc
