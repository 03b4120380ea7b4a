"""The outbox: judged pages on their way from the crawl workers to the one ingest writer, in Redis.

SQLite takes one writer, and workers run on many machines, so workers never
open the store: each pushes its judged pages (:mod:`fraudwall.judgement_codec`
messages) onto the job's ``outbox`` list, and one ``fraudwall ingest``
records them. The writer moves a batch from ``outbox`` into ``outbox:taken``
(``LMOVE``, one message at a time, atomic), records the batch in one SQLite
transaction, and only then deletes ``outbox:taken``. A writer killed before
its commit leaves the batch in ``outbox:taken``, and the next writer records
it first: nothing is lost. Killed between its commit and the delete, the
batch is recorded twice (a second observation row; findings and verdicts
are upserts, so they come out the same): **at least once**.

One writer per job is enforced by :class:`WriterLock`, a Redis key holding the
writer's id that expires unless renewed; a second writer waits for it to
lapse, up to one lease, and then gives up.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from fraudwall.exceptions import FraudwallError
from fraudwall.redis_keys import JobKeys

# KEYS: lock. ARGV: owner, milliseconds. 1 if renewed (still ours).
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
# KEYS: lock. ARGV: owner.
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def _bytes(value: Any) -> bytes:
    """A reply of this client (which never decodes) as bytes, for the type checker's sake."""
    return value if isinstance(value, bytes) else str(value).encode()


class WriterBusy(FraudwallError):
    """Another ingest writer holds the job."""


class Outbox:
    """The job's outbox list: workers push, the writer takes, records, commits."""

    def __init__(self, client: redis.Redis, job: str) -> None:
        self.client = client
        self.keys = JobKeys(job)

    def push(self, message: bytes) -> None:
        self.client.lpush(self.keys.outbox, message)

    def __len__(self) -> int:
        return int(self.client.llen(self.keys.outbox))

    def left_taken(self) -> list[bytes]:
        """The batch a writer took and never committed, oldest first (empty normally)."""
        return [_bytes(m) for m in reversed(self.client.lrange(self.keys.taken, 0, -1))]

    def take(self, limit: int, wait: float) -> list[bytes]:
        """Up to ``limit`` messages, oldest first, moved into ``outbox:taken``; waits up to ``wait`` s for the first."""
        # BLMOVE takes fractional seconds (Redis 6+); redis-py's hint says int.
        first = self.client.blmove(self.keys.outbox, self.keys.taken, wait, "RIGHT", "LEFT")  # type: ignore[arg-type]
        if first is None:
            return []
        pipe = self.client.pipeline(transaction=False)
        for _ in range(limit - 1):
            pipe.lmove(self.keys.outbox, self.keys.taken, "RIGHT", "LEFT")
        return [_bytes(first), *(_bytes(m) for m in pipe.execute() if m is not None)]

    def set_aside(self, message: bytes) -> None:
        """Keep a message the writer cannot read in ``outbox:rejected``, for a person to look at."""
        self.client.lpush(self.keys.rejected, message)

    def commit(self) -> None:
        """The taken batch is recorded: let it go."""
        self.client.delete(self.keys.taken)


class WriterLock:
    """The job's one-writer lock: a key with this writer's id and a time to live, renewed while it works."""

    def __init__(self, client: redis.Redis, job: str, owner: str, ttl_seconds: float) -> None:
        self.client = client
        self.key = JobKeys(job).writer
        self.owner = owner
        self.ttl_ms = max(1000, int(ttl_seconds * 1000))
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self, wait: float) -> None:
        """Take the lock, waiting up to ``wait`` seconds for a previous writer's to lapse; :class:`WriterBusy` if not."""
        deadline = time.monotonic() + wait
        while not self.client.set(self.key, self.owner, nx=True, px=self.ttl_ms):
            if time.monotonic() >= deadline:
                holder = self.client.get(self.key)
                raise WriterBusy(f"another ingest writer ({_bytes(holder).decode() if holder else 'gone just now'}) "
                                 f"holds this job; SQLite keeps one writer")
            time.sleep(0.2)

    def renew(self) -> None:
        """Extend the lock; :class:`WriterBusy` if it lapsed and someone else took it."""
        if not self._renew(keys=[self.key], args=[self.owner, self.ttl_ms]):
            if self.client.set(self.key, self.owner, nx=True, px=self.ttl_ms):
                return  # lapsed (a long batch) and nobody took it: ours again
            raise WriterBusy("another ingest writer took over this job while this one was recording")

    def release(self) -> None:
        self._release(keys=[self.key], args=[self.owner])
