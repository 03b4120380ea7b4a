"""Observations other than pages as JSON, and back: the store's ``observations.payload``.

A page is stored by columns and its body (``bodies``); a URL or name
(:class:`~fraudwall.models.UrlParts`), a DNS answer
(:class:`~fraudwall.models.DnsObservation`) and an APK
(:class:`~fraudwall.models.ApkObservation`) are stored whole, as one JSON
object each, so that a re-analysis judges exactly what was observed. The
codec follows the dataclasses' own type hints, so a field added to a model
is stored without a change here; a field a stored payload does not have
takes its default when read back.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
from datetime import datetime
from typing import Any, Union, get_args, get_origin, get_type_hints

from fraudwall.models import ApkObservation, DnsObservation, Observation, PageObservation, UrlParts

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
    return json.dumps(_plain(observation), ensure_ascii=False, separators=(",", ":"))


def loads(kind: str, text: str) -> Observation:
    """The observation of ``kind`` (``url``, ``dns``, ``apk``) that :func:`dumps` wrote as ``text``."""
    cls = _CLASSES.get(kind)
    if cls is None or cls is PageObservation:
        raise ValueError(f"no payload codec for observations of kind {kind!r}")
    return _build(cls, json.loads(text))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _build(cls: type, data: dict[str, Any]) -> Any:
    hints = _hints(cls)
    return cls(**{name: _typed(hints[name], value) for name, value in data.items() if name in hints})


def _typed(hint: Any, value: Any) -> Any:
    """``value`` read from JSON as the type ``hint`` names."""
    if value is None:
        return None
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:  # X | None: the one type that is not None
        return _typed(next(arg for arg in get_args(hint) if arg is not type(None)), value)
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_typed(args[0], item) for item in value)
        return tuple(_typed(arg, item) for arg, item in zip(args, value))
    if hint is datetime:
        return datetime.fromisoformat(value)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value)
    return value
