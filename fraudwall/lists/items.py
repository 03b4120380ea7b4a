"""What reading lists gives: the items read, and what is recorded about each file and each rejection."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from fraudwall.models import Action, Scope
from fraudwall.rejections import Rejections


class ListedName(NamedTuple):
    """One name or URL read from a list or feed, with what its line or record said.

    A URL-level item has ``url`` set and ``name`` is the URL's host (IDNA
    A-labels, lowercase); otherwise ``name`` is the listed name and ``scope``
    the extent its syntax asked for. A NamedTuple rather than a frozen
    dataclass: one is built per line, and it costs a third as much.
    """

    name: str
    scope: Scope
    source: str
    url: str = ""
    action: Action = Action.BLOCK
    first_seen: datetime | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    target: str = ""


class PlainNames(NamedTuple):
    """A run of names read from one line file, each a plain name: exact scope, a block, no metadata.

    Each is what a :class:`ListedName` with only ``name``, ``scope=EXACT`` and
    ``source`` would say; the names are lowercase A-labels needing no IDNA care.
    """

    names: list[str]
    source: str


#: What the readers yield: one item, or a run of plain names.
Item = ListedName | PlainNames


@dataclass(frozen=True, slots=True)
class FileRead:
    """What reading one file gave: its format and the counts behind it.

    ``format`` is ``urlhaus-csv``, ``phishtank-json``, ``jpcert-csv``, ``csv``,
    ``json``, ``binary``, or for line files the syntaxes met, most frequent
    first (``hosts``, ``abp+plain``...). ``lines`` counts lines read (records,
    for JSON); ``accepted`` and ``rejected`` count items, and a hosts line may
    hold several. Comments, blank lines and headers are neither.
    """

    path: str
    format: str
    lines: int
    accepted: int
    rejected: int


@dataclass
class ListRead:
    """Items read from one or more files, the rejections by reason, and a summary per file."""

    names: list[ListedName] = field(default_factory=list)
    rejected: Rejections = field(default_factory=Rejections)
    files: list[FileRead] = field(default_factory=list)
