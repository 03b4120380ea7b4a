"""Judged observations and crawl targets as bytes, for the trip from a crawl worker to the ingest writer.

A distributed crawl's workers never open SQLite: each judged page travels
through Redis as one message, and the one ingest writer records it. A message
is ``FWJ1`` followed by zlib-compressed JSON (a page's decoded body is most of
it; level 1 costs little and shrinks HTML about fivefold)::

    {"type": "judgements", "judgements": [{"kind": "page", "observation": {...}, "findings": [...],
                                           "verdict": {...}, "host": ..., "plugins": [...], ...}, ...]}
    {"type": "targets", "targets": [{"url": ..., "source": ..., "parent": ..., "depth": ...}, ...]}

One message holds what must be recorded together: a page's judgement, or a
downloaded APK's with those of the APKs inside it.

JSON rather than pickle: whoever can write to the Redis server must not be
able to run code in the writer. Like the store's payload codec
(:mod:`fraudwall.blocklists.payloads`, whose tagging by ``kind`` this
follows) the codec reads the models' own type hints, so a field added to a
model travels without a change here; it also rebuilds enums (a verdict's
status, a finding's subject kind), which stored payloads never hold. A
message that is not one (another version, broken JSON, a value a model
refuses) is a :class:`MessageError` with a reason token; the writer counts
and sets it aside.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Sequence
from typing import Any

from fraudwall.dataclass_json import from_plain, to_plain
from fraudwall.exceptions import InputError
from fraudwall.models import ApkObservation, DnsObservation, Judgement, PageObservation, Target, UrlParts

#: Bytes every message starts with; a later format takes the next number.
MAGIC = b"FWJ1"
#: The observation classes by the ``kind`` the store gives them.
KINDS: dict[str, type] = {"page": PageObservation, "url": UrlParts, "dns": DnsObservation, "apk": ApkObservation}
_KIND_OF = {cls: kind for kind, cls in KINDS.items()}


class MessageError(InputError):
    """A message that cannot be read back; ``reason`` says why (``bad-version``, ``bad-json``, ``bad-type``,
    ``bad-value``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    """One decoded message: judgements to record together, or the targets a crawl was started with."""

    judgements: tuple[Judgement, ...] = ()
    targets: tuple[Target, ...] = ()


def encode_judgements(judgements: Sequence[Judgement]) -> bytes:
    """``judgements`` as one message, to be recorded in one transaction."""
    return _pack({"type": "judgements", "judgements": [_plain_judgement(judgement) for judgement in judgements]})


def _plain_judgement(judgement: Judgement) -> dict[str, Any]:
    observation = judgement.observation
    try:
        kind = _KIND_OF[type(observation)]
    except KeyError:
        raise TypeError(f"not an observation: {type(observation).__name__}") from None
    fields = {field.name: to_plain(getattr(judgement, field.name)) for field in dataclasses.fields(judgement)}
    fields["kind"] = kind
    return fields


def encode_targets(targets: Sequence[Target]) -> bytes:
    """The seeds of a crawl as one message, so the writer records them as the store's targets."""
    return _pack({"type": "targets", "targets": [to_plain(target) for target in targets]})


def decode(message: bytes) -> Message:
    """The judgement or targets in ``message``; :class:`MessageError` when it is none of ours."""
    if not message.startswith(MAGIC):
        raise MessageError("bad-version", f"not a {MAGIC.decode()} message (starts {message[:4]!r})")
    try:
        data = json.loads(zlib.decompress(message[len(MAGIC):]))
    except (zlib.error, ValueError) as exc:
        raise MessageError("bad-json", f"unreadable message: {exc}") from exc
    try:
        if data["type"] == "targets":
            return Message(targets=tuple(from_plain(Target, item) for item in data["targets"]))
        if data["type"] == "judgements":
            return Message(judgements=tuple(_judgement(dict(fields)) for fields in data["judgements"]))
        raise MessageError("bad-type", f"unknown message type {data['type']!r}")
    except MessageError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MessageError("bad-value", f"message does not fit the models: {type(exc).__name__}: {exc}") from exc


def _judgement(fields: dict[str, Any]) -> Judgement:
    observation = from_plain(KINDS[fields.pop("kind")], fields.pop("observation"))
    return from_plain(Judgement, fields, observation=observation)


def _pack(data: dict[str, Any]) -> bytes:
    return MAGIC + zlib.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), 1)



