"""Reading list files: each file opened, its format recognised, read by its reader, and summarised.

Exceptions count only where they may. An ``@@`` rule allows a name only in a
file that is an ABP/AdGuard list (:func:`~fraudwall.lists.detect.is_abp_list`)
and that the caller trusts for allowing (``trusted_exceptions``); in any other
file it is rejected as ``untrusted-exception``. Without that, one feed could
unblock what every other feed blocks: a plain domain feed holding
``@@||bank-phish.top^`` would have allowed that name for all of them.
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import IO

from fraudwall.lists.compressed import DAMAGE_ERRORS
from fraudwall.lists.csv_feeds import read_csv
from fraudwall.lists.detect import BINARY_CONTROL_SHARE, Detected, Shape, detect, is_abp_list
from fraudwall.lists.input import MAX_LIST_BYTES, open_text, read_head
from fraudwall.lists.items import FileRead, Item, ListedName, ListRead, PlainNames
from fraudwall.lists.json_feeds import read_json
from fraudwall.lists.lines import read_list_text
from fraudwall.lists.tally import ReadLimitExceeded, Rejector, Tally
from fraudwall.models import Scope
from fraudwall.rejections import readable


def read_lists(
    paths: Iterable[str | Path], *, max_bytes: int = MAX_LIST_BYTES, trusted_exceptions: Collection[str | Path] = (),
) -> ListRead:
    """Read every file into one :class:`ListRead`; names are lowercase A-labels; ``max_bytes`` per file.

    ``trusted_exceptions`` as for :func:`iter_list_items`.
    """
    result = ListRead()
    # Millions of small items trigger the cycle collector again and again, and it
    # then walks every item read so far: half the time of a 2-million-line read.
    # Items hold no cycles, so collection waits until the list is built.
    collecting = gc.isenabled()
    gc.disable()
    try:
        result.names.extend(iter_lists(paths, result, max_bytes=max_bytes, trusted_exceptions=trusted_exceptions))
    finally:
        if collecting:
            gc.enable()
    return result


def iter_lists(
    paths: Iterable[str | Path], into: ListRead, *, max_bytes: int = MAX_LIST_BYTES,
    trusted_exceptions: Collection[str | Path] = (),
) -> Iterator[ListedName]:
    """Yield the items of every file as they are read, without keeping them.

    Rejections and the per-file summaries are recorded in ``into`` (its
    ``names`` are left alone). Raises :class:`~fraudwall.exceptions.InputError`
    (``unreadable-file``) only for a file that cannot be opened.
    ``trusted_exceptions`` as for :func:`iter_list_items`.
    """
    for item in iter_list_items(paths, into, max_bytes=max_bytes, trusted_exceptions=trusted_exceptions):
        if isinstance(item, PlainNames):
            exact, source = Scope.EXACT, item.source
            for name in item.names:
                yield ListedName(name, exact, source)
        else:
            yield item


def iter_list_items(
    paths: Iterable[str | Path], into: ListRead, *, max_bytes: int = MAX_LIST_BYTES,
    trusted_exceptions: Collection[str | Path] = (),
) -> Iterator[Item]:
    """As :func:`iter_lists`, but a run of plain names comes as one :class:`PlainNames`.

    For compiling lists of millions: a run costs one object, not one per name.
    ``max_bytes`` caps what is read of each file (:data:`MAX_LIST_BYTES`).

    ``trusted_exceptions`` names those of ``paths`` whose ``@@`` exceptions
    may count (the same file under another spelling of its path too); they
    count only if the file is an ABP/AdGuard list. It reads nothing itself: a
    file in it that is not among ``paths`` is a :class:`ValueError`, so that
    no caller believes exceptions were read that never were.
    """
    files = [Path(path) for path in paths]
    trusted = {Path(path).resolve() for path in trusted_exceptions}
    unread = trusted.difference(path.resolve() for path in files)
    if unread:
        raise ValueError(f"trusted_exceptions names files that are not read: {', '.join(sorted(map(str, unread)))}")
    for path in files:
        yield from _read_file(path, into, max_bytes, trusted=bool(trusted) and path.resolve() in trusted)


def _read_file(path: Path, into: ListRead, max_bytes: int, *, trusted: bool) -> Iterator[Item]:
    """Yield one file's items, recording its rejections and summary in ``into``."""
    before = into.rejected.total
    tally = Tally()
    # A file name is bytes on POSIX: an undecodable one must not reach the outputs as a lone surrogate.
    shown_name = readable(path.name)
    reject = Rejector(into.rejected, shown_name, tally)
    source = f"list:{shown_name}"
    try:
        head = read_head(path)
        detected = detect(head.text)
        if detected.shape is Shape.BINARY:
            tally.format = "binary"
            reject(0, f"over {BINARY_CONTROL_SHARE:.0%} control characters in its first bytes", "binary-file")
        else:
            exceptions = trusted and detected.shape is Shape.LINES and is_abp_list(head.text)
            with open_text(path, head, max_bytes) as stream:
                yield from _read_stream(stream, detected, source, reject, tally, exceptions=exceptions)
    except DAMAGE_ERRORS as exc:
        # A truncated or corrupt compressed file (or one failing to read): the whole lines
        # read before the damage are kept; the damage is one rejection.
        reject.record(tally.lines, str(exc), "corrupt-file")
    except ReadLimitExceeded as exc:
        # As for a damaged file, the items read before the limit are kept.
        reject.record(tally.lines, exc.detail, exc.reason)
    if not tally.format:
        kinds = sorted((-count, kind) for kind, count in tally.kinds.items() if count)
        tally.format = "+".join(kind for _, kind in kinds) or "empty"
    into.files.append(FileRead(readable(str(path)), tally.format, tally.lines, tally.accepted, into.rejected.total - before))


def _read_stream(
    stream: IO[str], detected: Detected, source: str, reject: Rejector, tally: Tally, *, exceptions: bool,
) -> Iterator[Item]:
    """Dispatch on the format detected; ``exceptions``: whether ``@@`` rules may count."""
    if detected.shape is Shape.JSON:
        return read_json(stream, source, reject, tally)
    if detected.shape is Shape.CSV:
        return read_csv(stream, detected.header, source, reject, tally)
    return read_list_text(stream, source, reject, tally, exceptions=exceptions)
