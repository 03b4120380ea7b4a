"""The shared frontier of a distributed crawl, with leases: a request taken is never lost with its worker.

scrapy-redis keeps the queue and the duplicate filter in Redis (see
:mod:`fraudwall.crawler.redis_scheduler`), but its queue *pops*: a worker
killed with requests in flight takes them with it. Here a worker's pop moves
the request, atomically (one Lua script), from the queue into the worker's
own lease hash (``leases:<worker>``, token -> score and request). The worker
acknowledges a lease once its page is handed to the outbox, or its fetch has
failed for good, or the request went back into the queue as a retry or
redirect; it gives back what it still holds when it stops. While it runs it
renews its deadline in the ``workers`` sorted set (Redis server time, so the
machines' clocks need not agree); any worker that finds a deadline passed
moves that worker's leases back into the queue (:meth:`RedisFrontier.reap`),
in one script, so two reapers never both re-queue a request.

Semantics: **at least once**. A request is fetched again only when the
worker holding it died or stalled past its lease (the page may have been
fetched, even handed over, just before); with no worker lost, every request
is fetched exactly once, because the duplicate filter is one Redis set and
each pop hands a request to one worker. A crawl is finished when the queue
is empty and no worker holds a lease; the last worker to leave a finished
crawl clears its duplicate filter and its domains' counts (the per-domain
caps hold for the job, so its workers count together), so the job can be
crawled again. A crawl left unfinished (every worker stopped) keeps queue and
leases for the next worker of the job: it reaps them and goes on.

Scripts read keys beyond their ``KEYS`` (a dead worker's lease hash), which a
single Redis server allows and Redis Cluster does not.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import redis

from fraudwall.exceptions import FraudwallError
from fraudwall.exit_codes import ExitCode
from fraudwall.redis_keys import JobKeys

log = logging.getLogger(__name__)

#: Default seconds a worker's leases outlive its last heartbeat; it beats three times per lease.
LEASE_SECONDS = 30.0
#: Default seconds a worker waits with nothing queued and nothing in flight anywhere before it exits.
IDLE_SECONDS = 30.0

# The worker's deadline is now + lease, in the server's clock.
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "

# Move every entry of a lease hash back into the queue, with its score; the entry is "score\nrequest".
_REQUEUE_ALL = """
local function requeue_all(leases, queue)
  local moved = 0
  for _, entry in ipairs(redis.call('HVALS', leases)) do
    local cut = string.find(entry, '\\n', 1, true)
    redis.call('ZADD', queue, string.sub(entry, 1, cut - 1), string.sub(entry, cut + 1))
    moved = moved + 1
  end
  redis.call('DEL', leases)
  return moved
end
"""

# KEYS: requests, own leases, workers. ARGV: token, worker, lease seconds. The request, or nil.
_POP = _NOW + """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('HSET', KEYS[2], ARGV[1], r[2] .. '\\n' .. r[1])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
return r[1]
"""

# KEYS: workers. ARGV: worker, lease seconds. 1 when the worker was not registered (new, or reaped).
_HEARTBEAT = _NOW + "return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])"

# KEYS: workers, requests. ARGV: leases prefix. The number of requests re-queued.
_REAP = _NOW + _REQUEUE_ALL + """
local moved = 0
for _, worker in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  moved = moved + requeue_all(ARGV[1] .. worker, KEYS[2])
  redis.call('ZREM', KEYS[1], worker)
end
return moved
"""

# KEYS: own leases, requests. ARGV: tokens. The number re-queued.
_REQUEUE = """
local moved = 0
for _, token in ipairs(ARGV) do
  local entry = redis.call('HGET', KEYS[1], token)
  if entry then
    local cut = string.find(entry, '\\n', 1, true)
    redis.call('ZADD', KEYS[2], string.sub(entry, 1, cut - 1), string.sub(entry, cut + 1))
    redis.call('HDEL', KEYS[1], token)
    moved = moved + 1
  end
end
return moved
"""

# KEYS: workers, requests, seen, own leases, domain pages, domain bytes, pages. ARGV: worker. {re-queued, 1 if the crawl is finished and cleared}.
_LEAVE = _REQUEUE_ALL + """
local moved = requeue_all(KEYS[4], KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[3], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9])
  return {moved, 1}
end
return {moved, 0}
"""

# KEYS: workers, requests. ARGV: leases prefix. {queued, live workers, leases held by any registered worker}.
_STATE = _NOW + """
local held = 0
for _, worker in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  held = held + redis.call('HLEN', ARGV[1] .. worker)
end
return {redis.call('ZCARD', KEYS[2]), redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf'), held}
"""


class FrontierError(FraudwallError):
    """The shared frontier cannot be used: Redis unreachable, or not answering as it should."""

    exit_code = ExitCode.FAILURE


@dataclass(frozen=True, slots=True)
class FrontierConfig:
    """What a worker needs to join a job's frontier; travels in the Scrapy setting ``FRAUDWALL_FRONTIER``."""

    redis_url: str
    job: str
    worker: str
    lease_seconds: float = LEASE_SECONDS
    idle_seconds: float = IDLE_SECONDS


@dataclass(frozen=True, slots=True)
class CrawlState:
    """How far a shared crawl is: requests queued, workers alive, leases held (by live or dead workers)."""

    queued: int
    live_workers: int
    in_flight: int

    @property
    def finished(self) -> bool:
        """Nothing queued and nothing in flight: no worker can produce more work."""
        return not self.queued and not self.in_flight


def new_worker_id() -> str:
    """A worker id that names its machine and process, and differs between restarts of one pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(url: str) -> redis.Redis:
    """A client of the Redis server at ``url``, checked with a PING; :class:`FrontierError` when unreachable."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise FrontierError(f"cannot reach Redis at {redacted(url)}: {exc}") from exc
    return client


class RedisFrontier:
    """One worker's view of a job's frontier: take requests under lease, acknowledge, heartbeat, reap."""

    def __init__(self, client: redis.Redis, config: FrontierConfig) -> None:
        self.client = client
        self.config = config
        self.keys = JobKeys(config.job)
        self.worker = config.worker
        self.leases = self.keys.leases(config.worker)
        self._tokens = itertools.count(1)
        self._pop = client.register_script(_POP)
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._reap = client.register_script(_REAP)
        self._requeue = client.register_script(_REQUEUE)
        self._leave = client.register_script(_LEAVE)
        self._state = client.register_script(_STATE)
        self.registered = False

    def pop(self) -> tuple[str, bytes] | None:
        """The next request (token, encoded request), now leased to this worker; ``None`` when the queue is empty."""
        token = format(next(self._tokens), "x")
        data = self._pop(keys=[self.keys.requests, self.leases, self.keys.workers],
                         args=[token, self.worker, self.config.lease_seconds])
        return None if data is None else (token, bytes(data))

    def ack(self, token: str) -> None:
        """The request under ``token`` is done with: its lease goes."""
        self.client.hdel(self.leases, token)

    def heartbeat(self) -> None:
        """Renew this worker's deadline. A worker found missing had been reaped: its requests are queued again."""
        new = self._heartbeat(keys=[self.keys.workers], args=[self.worker, self.config.lease_seconds])
        if new and self.registered:
            log.warning("worker %s missed its lease of %.0fs: the requests it held were queued again and may be "
                        "fetched twice", self.worker, self.config.lease_seconds)
        self.registered = True

    def reap(self) -> int:
        """Queue again the requests of every worker past its deadline; how many were."""
        moved = int(self._reap(keys=[self.keys.workers, self.keys.requests], args=[self.keys.leases_prefix]))
        if moved:
            log.warning("queued again %d requests of workers that stopped renewing their leases", moved)
        return moved

    def requeue(self, tokens: Iterable[str]) -> int:
        """Give back these leases of this worker: their requests go back into the queue."""
        tokens = list(tokens)
        if not tokens:
            return 0
        return int(self._requeue(keys=[self.leases, self.keys.requests], args=tokens))

    def held(self) -> list[str]:
        """The tokens this worker holds."""
        return [_text(token) for token in self.client.hkeys(self.leases)]

    def leave(self) -> tuple[int, bool]:
        """Give back every lease and deregister; (requests re-queued, whether the crawl was finished and cleared)."""
        moved, cleared = self._leave(keys=[self.keys.workers, self.keys.requests, self.keys.seen, self.leases,
                                           self.keys.domain_pages, self.keys.domain_bytes, self.keys.pages,
                                           self.keys.host_failures, self.keys.hosts_given_up],
                                     args=[self.worker])
        self.registered = False
        return int(moved), bool(cleared)

    def count_domain_pages(self, domain: str, pages: int) -> int:
        """Add ``pages`` to the pages kept of ``domain`` by every worker of the job; the job's total now."""
        return int(self.client.hincrby(self.keys.domain_pages, domain, pages))

    def count_pages(self, pages: int) -> int:
        """Add ``pages`` to the pages kept by every worker of the job; the job's total now."""
        return int(self.client.incrby(self.keys.pages, pages))

    def host_failed(self, host: str, limit: int) -> bool:
        """Count a failed attempt against ``host`` for the whole job; True once it failed ``limit`` times in a row,
        when it is given up for every worker."""
        if int(self.client.hincrby(self.keys.host_failures, host, 1)) < limit:
            return False
        self.client.sadd(self.keys.hosts_given_up, host)
        return True

    def host_answered(self, host: str) -> None:
        """``host`` answered: its failures in a row start again from none, for every worker."""
        self.client.hdel(self.keys.host_failures, host)

    def host_health(self) -> tuple[set[str], set[str]]:
        """The hosts that failed their last attempts (not yet given up), and the hosts given up, for the job."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hkeys(self.keys.host_failures)
            pipe.smembers(self.keys.hosts_given_up)
            failing, given_up = pipe.execute()
        return {_text(host) for host in failing}, {_text(host) for host in given_up}

    def count_domain_bytes(self, domain: str, size: int) -> int:
        """Add ``size`` to the bytes downloaded from ``domain`` by every worker of the job; the job's total now."""
        return int(self.client.hincrby(self.keys.domain_bytes, domain, size))

    def state(self) -> CrawlState:
        """The job's progress, read in one script."""
        queued, live, held = self._state(keys=[self.keys.workers, self.keys.requests], args=[self.keys.leases_prefix])
        return CrawlState(int(queued), int(live), int(held))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
