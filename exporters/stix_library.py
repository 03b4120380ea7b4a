"""Every object of a STIX bundle through the ``stix2`` library, on every core.

``stix2.parse(..., allow_custom=False)`` is what a consumer's platform runs on
an indicator: every property checked, the pattern parsed by the STIX
patterning grammar (ANTLR). It takes most of a millisecond per indicator, so a
national list of millions would take the better part of an hour on one core.
:class:`LibraryCheck` sends batches of object lines to worker processes, keeps
a bounded number of batches in flight (memory stays flat however long the
bundle) and reports the first object the library rejects. Small bundles are
checked in the calling process: starting workers costs more than they save.
"""

from __future__ import annotations

import functools
import json
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context

from fraudwall.exceptions import ExportError

BATCH = 2048
"""Objects per batch sent to a worker."""

MAX_WORKERS = 8


@functools.cache
def _parser() -> Callable[[object], object]:
    # Imported on first use: stix2 takes a tenth of a second to import and only verification needs it.
    import stix2

    return functools.partial(stix2.parse, allow_custom=False, version="2.1")


def check_objects(texts: list[str]) -> str | None:
    """The first of ``texts`` (one JSON object each) that ``stix2`` rejects, as a message; None if all pass."""
    import stix2.exceptions

    parse = _parser()
    for text in texts:
        item = json.loads(text)
        try:
            parse(item)
        except (stix2.exceptions.STIXError, ValueError) as exc:
            return f"stix2 rejected {str(item.get('id'))[:120]}: {exc}"
    return None


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class LibraryCheck:
    """Object lines in, checked by ``stix2`` in batches; :class:`ExportError` on the first rejected one.

    :meth:`add` each object's JSON text in bundle order, then :meth:`finish`.
    A rejection found by a worker is raised by a later :meth:`add` or by
    :meth:`finish`, naming the object's id.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = min(MAX_WORKERS, workers or available_cores())
        self._batch: list[str] = []
        self._pool: ProcessPoolExecutor | None = None
        self._in_flight: deque[Future[str | None]] = deque()

    def add(self, text: str) -> None:
        """One object's JSON text."""
        self._batch.append(text)
        if len(self._batch) >= BATCH:
            self._submit()

    def finish(self) -> None:
        """Check what is left and wait for every batch; the workers are stopped either way."""
        try:
            if self._pool is None:
                self._raise_for(check_objects(self._batch))
            else:
                self._submit()
                while self._in_flight:
                    self._raise_for(self._in_flight.popleft().result())
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers without waiting for batches still queued."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._in_flight.clear()
        self._batch = []

    def _submit(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        if self.workers < 2:
            self._raise_for(check_objects(batch))
            return
        if self._pool is None:
            # spawn, not fork: the caller may hold threads (a crawl's reactor) and open files.
            self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
        self._in_flight.append(self._pool.submit(check_objects, batch))
        # Two batches queued per worker keep every core busy; more would only hold memory.
        while len(self._in_flight) > 2 * self.workers:
            self._raise_for(self._in_flight.popleft().result())

    def _raise_for(self, message: str | None) -> None:
        if message is not None:
            self.close()
            raise ExportError(message)
