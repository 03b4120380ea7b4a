"""A cache keyed by an object's identity, for values built from large frozen reference data.

The lexicon and the brand list are frozen dataclasses: equal by value, and hashed
by walking every term they hold, which costs more than the page work a detector
caches them for. :func:`by_identity` keeps one value per object instead, and holds
the object so that its id is not reused while the value is kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def by_identity(build: Callable[[K], V]) -> Callable[[K], V]:
    """``build`` cached by the identity of its one argument."""
    cache: dict[int, tuple[K, V]] = {}

    @functools.wraps(build)
    def cached(key: K) -> V:
        known = cache.get(id(key))
        if known is None or known[0] is not key:
            known = cache[id(key)] = (key, build(key))
        return known[1]

    return cached
