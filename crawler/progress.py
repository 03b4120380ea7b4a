"""Crawl progress: a live panel on a terminal, plain lines elsewhere, and the final stats table.

:class:`CrawlProgress` is a Scrapy extension (enabled through ``EXTENSIONS``).
Once a second it reads the crawler's stats and the engine's queues into a
:class:`Progress` and shows it:

* on a terminal, as a rich ``Live`` panel on stderr: pages and pages/s,
  requests in flight and queued, pages waiting in the pipelines, seeds found
  cloaking, APKs captured and judged, findings, verdicts by status, errors and
  refusals by reason, and the time elapsed. Log records written to stderr meanwhile are printed above
  the panel instead of through it;
* elsewhere (a pipe, a file, a service's journal), as one plain line every
  ``FRAUDWALL_PROGRESS_LOG_SECONDS``. The lines are printed on stderr, not
  logged: a crawl logs at WARNING by default, and progress that only ``-v``
  could show would not be shown. No line closes the crawl: its summary
  (:func:`stats_table`, or Scrapy's stats dump) says it all once, and a crawl
  shorter than the interval stays quiet.

Settings: ``FRAUDWALL_PROGRESS`` is ``auto`` (the panel on a terminal, lines
otherwise), ``live``, ``log`` or ``off`` (the extension is not loaded);
``FRAUDWALL_PROGRESS_LOG_SECONDS`` (default 10) spaces the plain lines.

Stats keys are namespaced by the component that counts them; the table is
:mod:`fraudwall.stats_keys`, and the final table groups them so.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from fraudwall import stats_keys
from fraudwall.exceptions import ConfigError

log = logging.getLogger(__name__)

MODES = ("auto", "live", "log", "off")
#: Seconds between two readings of the stats.
INTERVAL = 1.0
#: Seconds between two plain lines when not on a terminal.
LOG_SECONDS = 10.0
#: pages/s is measured over this many seconds: long enough to be steady, short enough to follow a stall.
RATE_WINDOW = 5.0

#: The order verdicts are shown in (the counts are read from fraudwall.stats_keys).
VERDICT_ORDER = ("malicious", "suspicious", "benign", "allowlisted")

#: The order namespaces are shown in; others follow by name, Scrapy's own last.
NAMESPACE_ORDER = ("crawl", "fetch", "resume", "render", "frontier", "cloaking", "apk", "judge", "store", "outbox")
SCRAPY = "scrapy"


@dataclass(frozen=True, slots=True)
class Progress:
    """One reading of a crawl's progress."""

    pages: int = 0
    #: Pages per second over the last :data:`RATE_WINDOW` seconds.
    pages_per_second: float = 0.0
    apks_captured: int = 0
    apks_judged: int = 0
    apks_malicious: int = 0
    findings: int = 0
    #: Seeds whose clients were compared, and those shown different pages.
    cloaking_compared: int = 0
    cloaking_found: int = 0
    #: Status -> count, most severe first.
    verdicts: Mapping[str, int] = field(default_factory=dict)
    #: Requests being downloaded, requests waiting in the scheduler, items waiting in the pipelines.
    in_flight: int = 0
    queued: int = 0
    judging: int = 0
    #: Reason -> count: failed fetches and renders, abandoned judgements, plugin failures.
    errors: Mapping[str, int] = field(default_factory=dict)
    #: Reason -> count: requests the network policy or the host map did not let out.
    refusals: Mapping[str, int] = field(default_factory=dict)
    elapsed: float = 0.0


def read_progress(
    stats: Mapping[str, Any], *, elapsed: float = 0.0, pages_per_second: float = 0.0,
    engine: tuple[int, int, int] = (0, 0, 0),
) -> Progress:
    """The :class:`Progress` in ``stats``, with the rate and the engine's (in flight, queued, judging) given."""
    errors = _family(stats, stats_keys.FETCH_FAILED)
    for reason, count in _family(stats, stats_keys.RENDER_FAILED).items():
        errors[f"render {reason}"] = count
    abandoned = _count(stats, stats_keys.JUDGE_ABANDONED)
    if abandoned:
        errors["judging abandoned"] = abandoned
    for name, count in _family(stats, stats_keys.JUDGE_PLUGINS).items():
        outcome = name.rsplit("/", 1)[-1]
        if outcome != "ok":
            errors[f"plugin {outcome}"] = errors.get(f"plugin {outcome}", 0) + count
    verdicts = _family(stats, stats_keys.JUDGE_VERDICTS)
    ordered = {status: verdicts.pop(status) for status in VERDICT_ORDER if status in verdicts}
    apk_verdicts = _family(stats, stats_keys.APK_VERDICTS)
    in_flight, queued, judging = engine
    return Progress(
        pages=_count(stats, stats_keys.FETCH_PAGES), pages_per_second=pages_per_second,
        apks_captured=_count(stats, stats_keys.APK_DOWNLOADED), apks_judged=sum(apk_verdicts.values()),
        apks_malicious=apk_verdicts.get("malicious", 0),
        findings=_count(stats, stats_keys.JUDGE_FINDINGS),
        cloaking_compared=_count(stats, stats_keys.CLOAKING + "compared"),
        cloaking_found=_count(stats, stats_keys.CLOAKING + "found"), verdicts={**ordered, **dict(sorted(verdicts.items()))},
        in_flight=in_flight, queued=queued, judging=judging,
        errors=dict(sorted(errors.items(), key=lambda item: (-item[1], item[0]))),
        # A refusal is a refusal whether the downloader or the rendering browser met it.
        refusals=dict(sorted(_family(stats, stats_keys.FETCH_REFUSED, stats_keys.RENDER_REFUSED).items(),
                             key=lambda item: (-item[1], item[0]))),
        elapsed=elapsed,
    )


def _count(stats: Mapping[str, Any], key: str) -> int:
    return int(stats.get(key) or 0)


def _family(stats: Mapping[str, Any], *prefixes: str) -> dict[str, int]:
    """Name after the prefix -> count, summed over ``prefixes``."""
    found: dict[str, int] = {}
    for prefix in prefixes:
        for key, value in stats.items():
            if key.startswith(prefix) and isinstance(value, int):
                name = key.removeprefix(prefix)
                found[name] = found.get(name, 0) + value
    return found


# -- showing it --------------------------------------------------------------------


def _number(value: int) -> str:
    return f"{value:,}"


def _reasons(counts: Mapping[str, int]) -> str:
    return " · ".join(f"{reason} {_number(count)}" for reason, count in counts.items()) or "none"


def _elapsed(seconds: float) -> str:
    return str(timedelta(seconds=int(seconds)))


def render(progress: Progress) -> Panel:
    """The live panel."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("pages", f"{_number(progress.pages)}  ({progress.pages_per_second:.1f}/s)")
    grid.add_row("requests", f"{_number(progress.in_flight)} in flight · {_number(progress.queued)} queued · "
                             f"{_number(progress.judging)} in the pipelines")
    grid.add_row("cloaking", f"{_number(progress.cloaking_found)} of {_number(progress.cloaking_compared)} seeds")
    grid.add_row("APKs", f"{_number(progress.apks_captured)} captured · {_number(progress.apks_judged)} judged · "
                         f"{_number(progress.apks_malicious)} malicious")
    grid.add_row("findings", _number(progress.findings))
    grid.add_row("verdicts", _reasons(progress.verdicts))
    grid.add_row("errors", _reasons(progress.errors), style="red" if progress.errors else "")
    grid.add_row("refused", _reasons(progress.refusals), style="yellow" if progress.refusals else "")
    return Panel(grid, title="fraudwall crawl", subtitle=f"elapsed {_elapsed(progress.elapsed)}",
                 expand=False, border_style="blue")


def log_line(progress: Progress) -> str:
    """The plain line: ``pages 120 (4.0/s); requests 16 in flight, 230 queued, 3 in the pipelines; ...``."""
    parts = [
        f"pages {progress.pages} ({progress.pages_per_second:.1f}/s)",
        f"requests {progress.in_flight} in flight, {progress.queued} queued, {progress.judging} in the pipelines",
        f"cloaking {progress.cloaking_found} of {progress.cloaking_compared} seeds",
        f"APKs {progress.apks_captured} captured, {progress.apks_judged} judged, {progress.apks_malicious} malicious",
        f"findings {progress.findings}",
        "verdicts " + (", ".join(f"{status} {count}" for status, count in progress.verdicts.items()) or "none"),
        "errors " + (", ".join(f"{reason} {count}" for reason, count in progress.errors.items()) or "none"),
        "refused " + (", ".join(f"{reason} {count}" for reason, count in progress.refusals.items()) or "none"),
        f"elapsed {_elapsed(progress.elapsed)}",
    ]
    return "crawl progress: " + "; ".join(parts)


def namespace_of(key: str) -> tuple[str, str]:
    """(namespace, name within it) of a stats key: ``fraudwall/fetch/failed/X`` -> (``fetch``, ``failed/X``).

    Scrapy's own keys go under ``scrapy``.
    """
    if not key.startswith(stats_keys.ROOT):
        return SCRAPY, key
    namespace, _, name = key.removeprefix(stats_keys.ROOT).partition("/")
    return namespace, name or namespace


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return _number(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _namespace_rank(namespace: str) -> tuple[int, str]:
    if namespace in NAMESPACE_ORDER:
        return NAMESPACE_ORDER.index(namespace), namespace
    return (len(NAMESPACE_ORDER) + (1 if namespace == SCRAPY else 0)), namespace


def stats_table(stats: Mapping[str, Any], *, scrapy: bool = True) -> Table:
    """The final stats, one section per namespace (:func:`namespace_of`); Scrapy's own last, or left out."""
    groups: dict[str, list[tuple[str, Any]]] = {}
    for key, value in stats.items():
        namespace, name = namespace_of(key)
        if namespace == SCRAPY and not scrapy:
            continue
        groups.setdefault(namespace, []).append((name, value))
    table = Table(title="crawl stats", show_header=True)
    table.add_column("stat")
    table.add_column("value", justify="right")
    for namespace in sorted(groups, key=_namespace_rank):
        table.add_row(f"[bold]{namespace}[/bold]", "")
        for name, value in sorted(groups[namespace], key=lambda item: item[0]):
            table.add_row(f"  {name}", _value(value))
        table.add_section()
    return table


# -- the extension ------------------------------------------------------------------


def check_mode(mode: object) -> str:
    """``mode`` in lower case when it is one of :data:`MODES`; a :class:`~fraudwall.exceptions.ConfigError` if not."""
    checked = str(mode).strip().lower()
    if checked not in MODES:
        raise ConfigError(f"FRAUDWALL_PROGRESS must be one of {', '.join(MODES)}, got {mode!r}")
    return checked


def resolve_mode(mode: str, console: Console) -> str:
    """``auto`` made definite: ``live`` on a terminal that can move its cursor, ``log`` otherwise."""
    mode = check_mode(mode)
    if mode == "auto":
        return "live" if console.is_terminal and not console.is_dumb_terminal else "log"
    return mode


def engine_counts(crawler: Any) -> tuple[int, int, int]:
    """(requests in flight, requests queued, items in the pipelines) of a running crawler's engine.

    Read from Scrapy's internals, which move between releases: what cannot be
    read counts 0 rather than stopping the display.
    """
    counts = []
    for read in (lambda engine: len(engine.downloader.active), lambda engine: len(engine.scheduler),
                 lambda engine: engine.scraper.slot.itemproc_size):
        try:
            # Scrapy raises RuntimeError for an engine asked for before the crawl starts.
            counts.append(int(read(crawler.engine)))
        except (AttributeError, TypeError, RuntimeError):
            counts.append(0)
    return counts[0], counts[1], counts[2]


class CrawlProgress:
    """Shows a crawl's progress each :data:`INTERVAL` seconds: a live panel on a terminal, plain lines elsewhere."""

    def __init__(
        self,
        stats: Any,
        *,
        mode: str = "auto",
        log_seconds: float = LOG_SECONDS,
        interval: float = INTERVAL,
        console: Console | None = None,
        engine: Callable[[], tuple[int, int, int]] = lambda: (0, 0, 0),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stats = stats
        self.console = console if console is not None else Console(stderr=True)
        self.mode = resolve_mode(mode, self.console)
        self.log_seconds = log_seconds
        self.interval = interval
        self.engine = engine
        self.clock = clock
        self.live: Live | None = None
        self.task: Any = None
        self._started = 0.0
        self._last_line: float | None = None
        self._samples: deque[tuple[float, int]] = deque()
        self._handlers: list[tuple[logging.StreamHandler[Any], Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlProgress:
        settings = crawler.settings
        mode = check_mode(settings.get("FRAUDWALL_PROGRESS", "auto"))
        if mode == "off":
            raise NotConfigured  # no message: Scrapy would print it as a warning, and "off" asked for quiet
        extension = cls(crawler.stats, mode=mode,
                        log_seconds=settings.getfloat("FRAUDWALL_PROGRESS_LOG_SECONDS", LOG_SECONDS),
                        engine=lambda: engine_counts(crawler))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    # Scrapy's signals -------------------------------------------------------------

    def spider_opened(self) -> None:
        self.start()
        self.task = create_looping_call(self.tick)
        self.task.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.stop()

    # the display ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the clock, and the live panel in live mode."""
        self._started = self.clock()
        self._last_line = self._started
        if self.mode == "live":
            # stdout stays untouched: it may be a pipe carrying a report; stderr is where the panel is.
            self.live = Live(render(self.read()), console=self.console, auto_refresh=False,
                             redirect_stdout=False, redirect_stderr=True)
            self.live.start(refresh=True)
            self._adopt_log_handlers()

    def read(self) -> Progress:
        """The progress now."""
        now = self.clock()
        stats = self.stats.get_stats()
        pages = _count(stats, stats_keys.FETCH_PAGES)
        self._samples.append((now, pages))
        while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW:
            self._samples.popleft()
        first_time, first_pages = self._samples[0]
        rate = (pages - first_pages) / (now - first_time) if now > first_time else 0.0
        return read_progress(stats, elapsed=now - self._started, pages_per_second=rate, engine=self.engine())

    def tick(self) -> None:
        """Read the stats and show them: each second on the panel, each ``log_seconds`` as a line."""
        try:
            progress = self.read()
            if self.live is not None:
                self.live.update(render(progress), refresh=True)
            elif self.mode == "log" and self._last_line is not None and \
                    self.clock() - self._last_line >= self.log_seconds:
                self._print_line(progress)
        except Exception:  # a display must never stop a crawl
            log.exception("the progress display failed and is switched off")
            self._stop_live()
            self.mode = "off"

    def stop(self) -> None:
        """Show the last reading on the panel and let go of the terminal."""
        if self.live is not None:
            self.live.update(render(self.read()), refresh=True)
            self._stop_live()

    def _print_line(self, progress: Progress) -> None:
        self._last_line = self.clock()
        self.console.print(log_line(progress), markup=False, highlight=False, soft_wrap=True)

    def _stop_live(self) -> None:
        if self.live is not None:
            self._release_log_handlers()
            self.live.stop()
            self.live = None

    def _adopt_log_handlers(self) -> None:
        """Point the handlers that write to the real stderr at the live display's proxy of it.

        The panel is redrawn by moving the cursor up over it; a log record
        written straight to the terminal would be drawn over or torn. Live
        replaced ``sys.stderr`` with a proxy that prints above the panel, but a
        handler keeps the stream it was given when it was made.
        """
        proxy = sys.stderr
        real = getattr(proxy, "rich_proxied_file", None)
        if real is None:
            return  # not redirected (not a terminal): nothing to tear
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is real:
                self._handlers.append((handler, handler.setStream(proxy)))

    def _release_log_handlers(self) -> None:
        for handler, stream in self._handlers:
            handler.setStream(stream)
        self._handlers.clear()
