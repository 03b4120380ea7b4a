"""Scrapy requests as JSON in the shared frontier: scrapy-redis's ``SCHEDULER_SERIALIZER``.

scrapy-redis pickles requests by default. Any worker unpickles what any
other (or anyone who can write to the Redis server) put there, and unpickling
runs code; JSON does not. A request's dict (``Request.to_dict``: URL,
callback and errback names, headers, body, meta...) holds bytes, which travel
as ``{"$b": base64}``. A meta value JSON cannot carry fails the push with a
``TypeError`` naming it, instead of turning into something else on the way.

The module is the serializer itself: scrapy-redis wants an object with
``dumps`` and ``loads``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_BYTES = "$b"


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {_key(key): _encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"a request carries a {type(value).__name__}, which the frontier cannot store: {value!r:.80}")


def _key(key: Any) -> str:
    # Header names are bytes; they come back as str, which Scrapy's Headers accepts alike.
    if isinstance(key, bytes):
        return key.decode("latin-1")
    if isinstance(key, str):
        return key
    raise TypeError(f"a request carries a mapping keyed by {type(key).__name__}, which JSON cannot store")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _BYTES in value:
            return base64.b64decode(value[_BYTES])
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def dumps(request_dict: dict[str, Any]) -> bytes:
    """A request's dict (``Request.to_dict``) as compact JSON bytes."""
    return json.dumps(_encode(request_dict), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def loads(data: bytes) -> dict[str, Any]:
    """The request dict :func:`dumps` wrote."""
    return dict(_decode(json.loads(data)))
