"""Frozen dataclasses as plain JSON values, and back, by their own type hints.

The one codec of the models' JSON forms: the store's observation payloads
(:mod:`fraudwall.blocklists.payloads`) and the messages of a distributed crawl
(:mod:`fraudwall.judgement_codec`). It follows each dataclass's type hints,
so a field added to a model is carried without a change here, and a field a
stored value lacks takes its default when read back. Tuples and lists become
arrays, datetimes ISO 8601 strings, enums their values, and each comes back as
the hint says.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
from datetime import datetime
from typing import Any, Union, get_args, get_origin, get_type_hints


def to_plain(value: Any) -> Any:
    """``value`` (a dataclass, or anything inside one) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def from_plain(cls: type, data: dict[str, Any], **given: Any) -> Any:
    """The ``cls`` instance that :func:`to_plain` wrote as ``data``; ``given`` fields are passed as they are."""
    hints = _hints(cls)
    values = {name: _typed(hints[name], value) for name, value in data.items() if name in hints}
    return cls(**values, **given)


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
    if origin is dict:
        _, item_hint = get_args(hint)
        return {key: _typed(item_hint, item) for key, item in value.items()}
    if hint is datetime:
        return datetime.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_plain(hint, value)
    return value
