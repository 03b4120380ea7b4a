"""Where a distributed crawl keeps its state in Redis: one key prefix per job.

A job is one crawl shared by any number of workers on any number of machines
(``--job NAME``; ``default`` when none is given). Every key of a job starts
with ``fraudwall:<job>:``, so jobs never see each other's requests, and
``redis-cli --scan --pattern 'fraudwall:<job>:*'`` shows all a job holds:

========================  ======  ==============================================================
key                       type    holds
========================  ======  ==============================================================
``requests``              ZSET    the frontier: encoded requests scored by -priority (scrapy-redis)
``seen``                  SET     fingerprints of every request ever scheduled (scrapy-redis)
``workers``               ZSET    worker id -> its lease deadline, in Redis server time
``leases:<worker>``       HASH    a worker's requests in flight: token -> ``score\\n`` + request
``domains:pages``         HASH    registered domain -> pages its workers kept (the per-domain cap)
``domains:bytes``         HASH    registered domain -> bytes its workers downloaded (the byte cap)
``pages``                 STRING  pages every worker kept (the job's ``--max-pages``)
``hosts:failures``        HASH    host -> its failed attempts in a row, by any worker
``hosts:given-up``        SET     hosts no worker sends requests to any more
``outbox``                LIST    judged pages and targets on their way to the ingest writer
``outbox:taken``          LIST    the batch the ingest writer is recording now
``outbox:rejected``       LIST    messages the writer could not read, kept for inspection
``writer``                STRING  the ingest writer's id, expiring unless renewed (one writer)
========================  ======  ==============================================================

This module is the one place that names them: the crawler's frontier and the
ingest writer both read their keys from :class:`JobKeys`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fraudwall.exceptions import ConfigError

#: A job name: what fits in a Redis key and a log line without quoting.
JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: The job of a crawl started without ``--job``.
DEFAULT_JOB = "default"


def check_job(job: str) -> str:
    """``job`` if it is a usable job name, else a :class:`ConfigError` saying what one looks like."""
    if not JOB_NAME.fullmatch(job):
        raise ConfigError(f"job name {job!r} is not usable: 1 to 64 letters, digits, '_', '.' or '-', "
                          "starting with a letter or digit")
    return job


@dataclass(frozen=True, slots=True)
class JobKeys:
    """The Redis keys of one job (see the module's table)."""

    job: str

    def __post_init__(self) -> None:
        check_job(self.job)

    @property
    def prefix(self) -> str:
        return f"fraudwall:{self.job}:"

    @property
    def requests(self) -> str:
        return self.prefix + "requests"

    @property
    def seen(self) -> str:
        return self.prefix + "seen"

    @property
    def workers(self) -> str:
        return self.prefix + "workers"

    @property
    def leases_prefix(self) -> str:
        """Followed by a worker id: that worker's lease hash (the frontier's scripts build the key)."""
        return self.prefix + "leases:"

    def leases(self, worker: str) -> str:
        return self.leases_prefix + worker

    @property
    def domain_pages(self) -> str:
        return self.prefix + "domains:pages"

    @property
    def domain_bytes(self) -> str:
        return self.prefix + "domains:bytes"

    @property
    def pages(self) -> str:
        return self.prefix + "pages"

    @property
    def host_failures(self) -> str:
        return self.prefix + "hosts:failures"

    @property
    def hosts_given_up(self) -> str:
        return self.prefix + "hosts:given-up"

    @property
    def outbox(self) -> str:
        return self.prefix + "outbox"

    @property
    def taken(self) -> str:
        return self.prefix + "outbox:taken"

    @property
    def rejected(self) -> str:
        return self.prefix + "outbox:rejected"

    @property
    def writer(self) -> str:
        return self.prefix + "writer"
