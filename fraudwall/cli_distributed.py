"""The distributed crawl's commands: ``fraudwall worker``, ``fraudwall ingest``, and ``crawl --redis``.

One crawl, many machines::

    fraudwall ingest --redis redis://queue:6379/0 --db fraudwall.db        # one writer, where the database is
    fraudwall crawl SEED... --redis redis://queue:6379/0                   # seeds the job and works on it
    fraudwall worker --redis redis://queue:6379/0                          # on any number of other machines

The frontier (queue and duplicate filter) is in Redis, per ``--job`` (the
``CRAWL_JOB`` setting, as for a resumable single-machine crawl; ``default``
when none is given): a job stopped on every machine resumes when any worker
of it starts again. Workers judge pages and send judgements through Redis to the
one ``ingest`` writer, the only process that opens SQLite. Workers exit once
the job has had nothing queued or in flight for ``--idle-exit`` seconds; a
worker killed mid-crawl loses nothing: its requests go back to the queue
when its lease (``--lease`` seconds) runs out, and are fetched again (at
least once; exactly once when no worker is lost).

:func:`register` adds ``worker`` and ``ingest`` to the ``fraudwall`` group and
the ``--redis``/``--job``/``--idle-exit``/``--lease`` options to its ``crawl``
command (``crawl`` without ``--redis`` is untouched).
"""

from __future__ import annotations

import functools
from typing import Any

import click

#: The Redis job of a crawl given no ``--job``.
DEFAULT_JOB = "default"

_job_option = click.option("--job", metavar="NAME", help="Name of the shared crawl; its Redis keys are fraudwall:NAME:* (default: CRAWL_JOB, else 'default').")
_redis_option = click.option("--redis", "redis_url", metavar="URL", help="Redis server of the shared crawl, e.g. redis://host:6379/0 (default: REDIS_URL).")
_lease_option = click.option(
    "--lease", type=click.FloatRange(min=1), metavar="SECONDS",
    help="A worker silent this long loses its requests to the others (default: DISTRIBUTED_LEASE_SECONDS, 30).")
_idle_option = click.option(
    "--idle-exit", type=click.FloatRange(min=0), metavar="SECONDS",
    help="Exit once the job has had nothing queued or in flight this long; 0 waits for work forever "
         "(default: DISTRIBUTED_IDLE_SECONDS, 30).")


def _frontier_config(settings: Any, worker: str | None = None) -> Any:
    from fraudwall.crawler.redis_frontier import FrontierConfig, new_worker_id
    from fraudwall.redis_keys import check_job

    url = str(settings.get("REDIS_URL") or "")
    if not url:
        raise click.UsageError("give the Redis server with --redis URL (or the REDIS_URL setting)")
    return FrontierConfig(
        redis_url=url, job=check_job(str(settings.get("CRAWL_JOB") or DEFAULT_JOB)), worker=worker or new_worker_id(),
        lease_seconds=float(settings.get("DISTRIBUTED_LEASE_SECONDS")),
        idle_seconds=float(settings.get("DISTRIBUTED_IDLE_SECONDS")),
    )


def _cmdline(redis_url: str | None, job: str | None, idle_exit: float | None, lease: float | None) -> dict[str, Any]:
    return {"REDIS_URL": redis_url, "CRAWL_JOB": job, "DISTRIBUTED_IDLE_SECONDS": idle_exit,
            "DISTRIBUTED_LEASE_SECONDS": lease}


def _work(ctx: click.Context, cmdline: dict[str, Any], seeds: tuple[str, ...]) -> None:
    """Run one worker with these settings; push ``seeds`` first. Prints what it did; raises as ``crawl`` does."""
    from fraudwall.cli import _parse_resolve, _settings, console, err_console
    from fraudwall.crawler.redis_frontier import FrontierError, redacted
    from fraudwall.crawler.worker_lifecycle import UNREACHABLE_STAT
    from fraudwall.crawler.seeds import read_seeds
    from fraudwall.distributed import run_worker
    from fraudwall.exceptions import CrawlError, Interrupted

    resolve = cmdline.pop("resolve", ())
    settings = _settings(ctx, HOST_MAP=_parse_resolve(resolve) or None, **cmdline)
    config = _frontier_config(settings)
    targets = []
    if seeds:
        seed_list = read_seeds(seeds)
        if not seed_list.targets:
            first = "; ".join(f"{value} ({reason})" for value, reason in seed_list.rejected.samples[:3])
            raise CrawlError(f"no valid seeds: give URLs, domains or seed files{': rejected ' + first if first else ''}")
        for value, reason in seed_list.rejected.samples:
            err_console.print(f"seed rejected ({reason}): {value}", highlight=False, markup=False)
        targets = seed_list.targets
    with console.status(f"worker {config.worker} on job {config.job!r} at {redacted(config.redis_url)}..."):
        outcome = run_worker(settings, config, targets)
    pushed = int(outcome.stats.get("fraudwall/outbox/pushed", 0))
    failures = ", ".join(f"{reason} x{count}" for reason, count in sorted(outcome.failures.items()))
    console.print(f"worker {config.worker} (job {config.job}): {outcome.pages} pages fetched, {pushed} judgements "
                  f"sent to the ingest writer" + (f"; not fetched: {failures}" if failures else ""),
                  highlight=False, markup=False)
    if outcome.interrupted:
        raise Interrupted(f"worker interrupted by {outcome.interrupted}: its unfinished requests went back to the job")
    if lost := outcome.stats.get(UNREACHABLE_STAT):
        raise FrontierError(f"lost Redis at {redacted(config.redis_url)} ({lost}): the worker stopped; "
                            "its requests go back to the job when its lease expires")


@click.command("worker")
@_redis_option
@_job_option
@_idle_option
@_lease_option
@click.option("--allow-net", "allow_nets", multiple=True, metavar="CIDR", help="Also allow connecting to this network (SSRF guard; repeatable).")
@click.option("--resolve", "resolve", multiple=True, metavar="HOST:ADDRESS", help="Answer HOST with ADDRESS instead of DNS (repeatable).")
@click.option("--depth", type=click.IntRange(min=0), help="How many links deep to follow inside each seed's domain (0: the seeds only).")
@click.option("--max-pages", type=click.IntRange(min=0), help="Keep at most this many pages in the job, all workers together (0: no cap).")
@click.pass_context
def worker_command(
    ctx: click.Context, redis_url: str | None, job: str | None, idle_exit: float | None, lease: float | None,
    allow_nets: tuple[str, ...], resolve: tuple[str, ...], depth: int | None, max_pages: int | None,
) -> None:
    """Work on a shared crawl: fetch and judge what its Redis frontier hands out.

    Judgements go to the job's ``fraudwall ingest`` writer through Redis; a
    worker never opens the database. The network policy (--allow-net,
    --resolve) and limits are this machine's own. Exits once the job has had
    nothing queued or in flight for --idle-exit seconds, and 130 on SIGINT or
    SIGTERM (its unfinished requests go back to the job).
    """
    _work(ctx, {**_cmdline(redis_url, job, idle_exit, lease), "ALLOW_NETS": list(allow_nets) or None,
                "resolve": resolve, "CRAWL_DEPTH": depth, "CRAWL_MAX_PAGES": max_pages}, ())


@click.command("ingest")
@_redis_option
@click.option("--db", "db_path", type=click.Path(), help="SQLite database (default: DB_PATH setting).")
@_job_option
@click.option("--until-idle", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Exit once nothing has come in and no worker of the job has run for this long, counted from the "
                   "job's first worker or judgement (default: run until stopped).")
@click.option("--batch", "batch_size", type=click.IntRange(min=1), help="Judgements recorded per transaction (default: 256).")
@click.option("--lease", type=click.FloatRange(min=1), metavar="SECONDS",
              help="The writer's lock lapses this long after it stops renewing it (default: DISTRIBUTED_LEASE_SECONDS, 30).")
@click.pass_context
def ingest_command(
    ctx: click.Context, redis_url: str | None, db_path: str | None, job: str | None, until_idle: float | None,
    batch_size: int | None, lease: float | None,
) -> None:
    """Record a shared crawl's judgements in the database: the job's one writer.

    Takes what the workers send through Redis, a batch per transaction, and
    lets go of a batch only after it is committed: killed at any point, the
    next writer records what this one had not. A second writer on one job
    waits for the first one's lock to lapse (--lease), then gives up.
    Exits 130 on SIGINT or SIGTERM, after the batch in hand.
    """
    from fraudwall.cli import _settings, console
    from fraudwall.exceptions import Interrupted
    from fraudwall.ingest import run_ingest
    from fraudwall.pipelines import STORE_BATCH

    settings = _settings(ctx, DB_PATH=db_path, **_cmdline(redis_url, job, None, lease))
    config = _frontier_config(settings, worker="ingest")
    path = settings.get("DB_PATH")
    outcome = run_ingest(settings, redis_url=config.redis_url, job=config.job, db_path=path, until_idle=until_idle,
                         batch_size=batch_size or STORE_BATCH, lease_seconds=config.lease_seconds)
    rejected = ", ".join(f"{reason} x{count}" for reason, count in sorted(outcome.rejected.items()))
    console.print(f"ingested {outcome.judgements} judgements and {outcome.targets} targets of job {config.job} "
                  f"into {path} in {outcome.batches} batches"
                  + (f"; {outcome.recovered} of them left by a writer that stopped mid-batch" if outcome.recovered else "")
                  + (f"; set aside: {rejected}" if rejected else ""),
                  highlight=False, markup=False)
    if outcome.interrupted:
        raise Interrupted(f"ingest interrupted by {outcome.interrupted}: every batch taken was recorded")


_CRAWL_OPTIONS = (
    click.Option(["--redis", "redis_url"], metavar="URL",
                 help="Crawl with many machines: seed this Redis frontier and work on it (see `fraudwall worker`, "
                      "`fraudwall ingest`); pages go to the ingest writer, not to --db."),
    click.Option(["--idle-exit", "idle_exit"], type=click.FloatRange(min=0), metavar="SECONDS",
                 help="With --redis: exit once the job has had nothing queued or in flight this long (default 30)."),
    click.Option(["--lease"], type=click.FloatRange(min=1), metavar="SECONDS",
                 help="With --redis: a worker silent this long loses its requests to the others (default 30)."),
)


#: ``--job`` for a ``crawl`` that has none of its own (it names the Redis job only).
_JOB_OPTION = click.Option(["--job"], metavar="NAME", help="With --redis: name of the shared crawl (default: 'default').")


def _extend_crawl(command: click.Command) -> None:
    """Give ``crawl`` the distributed options; without ``--redis`` it runs as it always did.

    ``crawl`` may have a ``--job`` of its own (a resumable single-machine
    crawl): with ``--redis`` it names the Redis job, without it goes to
    ``crawl`` untouched.
    """
    if any(param.name == "redis_url" for param in command.params):
        return
    own_job = not any(param.name == "job" for param in command.params)
    command.params.extend([*_CRAWL_OPTIONS, *([_JOB_OPTION] if own_job else [])])
    single = command.callback
    assert single is not None

    def callback(*args: Any, redis_url: str | None, idle_exit: float | None, lease: float | None, **kwargs: Any) -> Any:
        job = kwargs.pop("job", None) if own_job else kwargs.get("job")
        if redis_url is None:
            given = [name for name, value in (("--job", job if own_job else None), ("--idle-exit", idle_exit),
                                              ("--lease", lease)) if value is not None]
            if given:
                raise click.UsageError(f"{', '.join(given)}: only with --redis")
            return single(*args, **kwargs)
        if kwargs.get("db_path"):
            raise click.UsageError("with --redis, pages go to `fraudwall ingest --db PATH`, not to crawl --db")
        cmdline = {**_cmdline(redis_url, job, idle_exit, lease), "ALLOW_NETS": list(kwargs.get("allow_nets") or ()) or None,
                   "resolve": kwargs.get("resolve") or (), "CRAWL_DEPTH": kwargs.get("depth"),
                   "CRAWL_MAX_PAGES": kwargs.get("max_pages")}
        _work(click.get_current_context(), cmdline, tuple(kwargs.get("seeds") or ()))

    command.callback = functools.update_wrapper(callback, single)


def register(main: click.Group) -> None:
    """Add ``worker`` and ``ingest`` to ``main``, and ``--redis`` to its ``crawl``; calling it twice changes nothing."""
    for command in (worker_command, ingest_command):
        if command.name not in main.commands:
            main.add_command(command)
    crawl = main.commands.get("crawl")
    if crawl is not None:
        _extend_crawl(crawl)
