"""How independent scores add up: noisy-OR, ``1 - Π(1 - s)``.

One strong signal suffices, weak ones accumulate, and no number of them exceeds 1.
The scoring stage combines a subject's findings this way; detectors that weigh
several independent pieces of their own evidence use the same arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable


def noisy_or(scores: Iterable[float]) -> float:
    """``1 - Π(1 - s)`` over ``scores`` in [0, 1]."""
    remaining = 1.0
    for score in scores:
        remaining *= 1.0 - score
    return 1.0 - remaining
