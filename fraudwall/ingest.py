"""The ingest writer: the one process that records a distributed crawl's judgements in SQLite.

Orchestration: it reads the job's outbox (:mod:`fraudwall.outbox`) and writes
through :meth:`~fraudwall.blocklists.store.Store.record`, the store's one
write path, a batch per transaction. A batch is acknowledged (its
``outbox:taken`` list deleted) only after its commit, so a writer killed at
any point loses nothing; one killed between commit and acknowledgement
records that batch again when restarted (at least once, see
:mod:`fraudwall.outbox`). A message it cannot read is counted by reason and
set aside in ``outbox:rejected``; the rest of its batch is recorded.

It runs until SIGINT/SIGTERM (the batch in hand is finished first) or, with
``until_idle``, until the outbox has been empty and no worker of the job
alive for that many seconds, counted from when the job started: a writer
started before the crawl (as a script starts them) waits for its first worker
or judgement, however long the crawl takes to start.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from fraudwall.blocklists.store import Store
from fraudwall.crawler.redis_frontier import (
    LEASE_SECONDS, FrontierConfig, FrontierError, RedisFrontier, connect, new_worker_id, redacted,
)
from fraudwall.judgement_codec import MessageError, decode
from fraudwall.models import Judgement, Target
from fraudwall.outbox import Outbox, WriterLock
from fraudwall.pipelines import STORE_BATCH
from fraudwall.settings import Settings

log = logging.getLogger(__name__)

#: Seconds one wait for the outbox blocks: how soon a stop or an idle end is noticed.
TAKE_WAIT = 1.0


@dataclass
class IngestOutcome:
    """What the writer recorded, what it set aside and why, and the signal that stopped it, if one did."""

    judgements: int = 0
    targets: int = 0
    batches: int = 0
    #: Messages left taken by a writer that stopped before its commit, recorded first.
    recovered: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    interrupted: str | None = None


@contextmanager
def _stop_on_signals(outcome: IngestOutcome) -> Iterator[None]:
    """SIGINT and SIGTERM ask the loop to stop after its batch; the previous handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.getsignal(signum) for signum in signals}

    def stop(signum: int, frame: object) -> None:
        outcome.interrupted = signal.Signals(signum).name

    for signum in signals:
        signal.signal(signum, stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_ingest(
    settings: Settings, *, redis_url: str, job: str, db_path: str | Path, until_idle: float | None = None,
    batch_size: int = STORE_BATCH, lease_seconds: float = LEASE_SECONDS,
) -> IngestOutcome:
    """Record the job's outbox into the store at ``db_path`` (see the module's docstring).

    Raises :class:`~fraudwall.crawler.redis_frontier.FrontierError` when Redis
    is unreachable, :class:`~fraudwall.outbox.WriterBusy` when another writer
    holds the job, :class:`~fraudwall.exceptions.StoreError` when the store
    cannot be written (the batch in hand stays taken for the next writer).
    """
    client = connect(redis_url)
    outbox = Outbox(client, job)
    crawl = RedisFrontier(client, FrontierConfig(redis_url, job, worker="ingest"))
    lock = WriterLock(client, job, new_worker_id(), lease_seconds)
    store = Store.open(db_path)  # a database that is not ours is refused before the lock is taken
    outcome = IngestOutcome()
    try:
        _ingest(settings, store, outbox, crawl, lock, outcome, until_idle, batch_size, lease_seconds)
    except redis.RedisError as exc:
        raise FrontierError(f"lost Redis at {redacted(redis_url)} ({exc}): what was taken and not recorded stays "
                            "taken for the next writer") from exc
    finally:
        try:
            lock.release()
        except redis.RedisError:
            pass  # it lapses by itself
        store.close()
    return outcome


def _ingest(settings: Settings, store: Store, outbox: Outbox, crawl: RedisFrontier, lock: WriterLock,
            outcome: IngestOutcome, until_idle: float | None, batch_size: int, lease_seconds: float) -> None:
    """The writer's loop: what a stopped writer left taken first, then batch after batch."""
    lock.acquire(wait=lease_seconds + 1)
    with _stop_on_signals(outcome):
        messages = outbox.left_taken()
        outcome.recovered = len(messages)
        if messages:
            log.warning("recording %d messages a previous writer took and never committed", len(messages))
        quiet_since = time.monotonic()
        job_started = bool(messages)
        while not outcome.interrupted:
            messages = messages or outbox.take(batch_size, wait=TAKE_WAIT)
            if messages:
                _record(store, settings, outbox, messages, outcome)
                outbox.commit()  # only now: a writer killed before this line leaves the batch taken, not lost
                messages = []
                job_started = True
                quiet_since = time.monotonic()
            elif until_idle is not None:
                live = crawl.state().live_workers > 0
                job_started = job_started or live
                if live or not job_started:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= until_idle:
                    break
            lock.renew()


def _record(store: Store, settings: Settings, outbox: Outbox, messages: list[bytes], outcome: IngestOutcome) -> None:
    judgements: list[Judgement] = []
    targets: list[Target] = []
    for message in messages:
        try:
            decoded = decode(message)
        except MessageError as exc:
            outcome.rejected[exc.reason] += 1
            log.warning("outbox message set aside (%s)", exc)
            outbox.set_aside(message)
            continue
        judgements.extend(decoded.judgements)
        targets.extend(decoded.targets)
    if targets:
        store.record_targets(targets)
    if judgements:
        store.record(judgements, settings)
    outcome.judgements += len(judgements)
    outcome.targets += len(targets)
    outcome.batches += 1
