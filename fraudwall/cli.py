"""The ``fraudwall`` command line.

The only place that turns exceptions into one-line messages and exit codes
(:class:`~fraudwall.exit_codes.ExitCode`: 0 success, 1 failure, 2 usage,
3 bad input or data, 4 nothing fetched, 5 publishing refused, 130 interrupted).
Every error, click's usage errors included, is one line on stderr, never a
traceback.
"""

from __future__ import annotations

import csv
import difflib
import gc
import ipaddress
import io
import json
import logging
import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.table import Table

from fraudwall import __version__, stats_keys
from fraudwall.exceptions import (
    ConfigError, CrawlBroken, CrawlError, ExportError, FraudwallError, InputError, Interrupted, InvalidName,
    NothingFetched,
)
from fraudwall.exit_codes import ExitCode
from fraudwall.exporters import EXPORTERS, CollapseGuard, ExportMeta, export, get_exporter
from fraudwall.exporters.base import FolderExporter
from fraudwall.judging import judge
from fraudwall.models import (
    ApkObservation, Category, DnsObservation, Judgement, Observation, PageObservation, UrlParts, VerdictStatus,
)
from fraudwall.names import normalize_name, parse_url
from fraudwall.plugin_host import PluginHost
from fraudwall.rejections import Rejections
from fraudwall.settings import Settings, load_settings

if TYPE_CHECKING:
    from fraudwall.blocklists.selection import Selection
    from fraudwall.blocklists.store import Store
    from fraudwall.crawl import CrawlOutcome

# Each command imports what only it needs (the crawler, the guards and selection, the list
# compiler, APK analysis) when it runs: a command starts in a fraction of a second.

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DEMO_EXPORTS = (("hosts", "blocklist.hosts"), ("domains", "domains.txt"), ("rpz", "fraud.rpz"))


def _open_store(path: str | Path, *, create: bool = True) -> Store:
    """The findings database (imported here: commands that need none start faster)."""
    from fraudwall.blocklists.store import Store

    return Store.open(path, create=create)


def _settings(ctx: click.Context, **cmdline: Any) -> Settings:
    """The layered settings with this command's options on top, every value checked."""
    # The settings object is the context's (its class is shared by every copy of this module, even when
    # it runs as ``python -m fraudwall.cli`` and a command module imports ``fraudwall.cli`` again).
    base = ctx.find_object(Settings) or load_settings()
    settings = base.copy_with({k: v for k, v in cmdline.items() if v is not None and v != ()})
    try:
        settings.check()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    return settings


def _one_line(message: str) -> str:
    """``message`` on one line: a checker's multi-line output joined with `` | ``."""
    return " | ".join(part.strip() for part in message.splitlines() if part.strip())


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {_one_line(message)}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Ends every run with its documented exit code and at most one line of error on stderr."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any) -> NoReturn:
        extra.pop("standalone_mode", None)
        # What is loaded by now (the CLI's modules) lives as long as the process: out of the collector's
        # sight, it is not traversed by each collection, not copied into forked workers by the collector
        # touching it, and not walked again at exit (a tenth of a second of a short command).
        gc.freeze()
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(exc.format_message() + where, ExitCode.USAGE)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            _fail("interrupted", ExitCode.INTERRUPTED)
        except FraudwallError as exc:
            _fail(str(exc), exc.exit_code)
        except OSError as exc:  # an unreadable input or an unwritable output, named by the OS
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}", ExitCode.DATA)
        sys.exit(code if isinstance(code, int) else ExitCode.OK)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="fraudwall")
@click.option("--config", "config_file", type=click.Path(exists=True), help="TOML settings file.")
@click.option("--plugin", "plugin_files", multiple=True, type=click.Path(exists=True), help="Load a plugin from a Python file (repeatable).")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(file_okay=False, exists=True), help="A folder of YAML rule files (repeatable).")
@click.option("--yara", "yara_dirs", multiple=True, type=click.Path(file_okay=False, exists=True), help="A folder of YARA rule files (repeatable).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def main(
    ctx: click.Context, config_file: str | None, plugin_files: tuple[str, ...], rules_dirs: tuple[str, ...],
    yara_dirs: tuple[str, ...], verbose: int,
) -> None:
    """Find the infrastructure of telecom and online fraud and publish it as blocklists."""
    if config_file is not None:
        _require_regular_file(Path(config_file), "--config")
    for plugin_file in plugin_files:
        _require_regular_file(Path(plugin_file), "--plugin")
    cmdline: dict[str, Any] = {}
    if rules_dirs:
        cmdline["RULES_DIRS"] = list(rules_dirs)
    if yara_dirs:
        cmdline["YARA_DIRS"] = list(yara_dirs)
    if verbose:
        cmdline["LOG_LEVEL"] = "INFO" if verbose == 1 else "DEBUG"
    if plugin_files:
        cmdline["PLUGIN_FILES"] = list(plugin_files)
    try:
        settings = load_settings(config_file, cmdline)
        settings.check()
        level = str(settings.get("LOG_LEVEL")).upper()
        handler = logging.StreamHandler()
        # The level sits on the handler too: Scrapy sets its own loggers to DEBUG.
        handler.setLevel(level)
    except (ConfigError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.root.addHandler(handler)
    logging.root.setLevel(level)
    ctx.obj = settings


# -- plugins ------------------------------------------------------------------


@main.command("plugins")
@click.pass_context
def plugins_command(ctx: click.Context) -> None:
    """List the detector plugins: name, version, hooks, where each came from."""
    host = PluginHost.from_settings(_settings(ctx))
    table = Table(title="fraudwall plugins")
    for column in ("name", "version", "hooks", "origin"):
        table.add_column(column)
    for info in host.describe():
        table.add_row(info.name, info.version, ", ".join(info.hooks), info.origin)
    console.print(table)
    for name, error in host.load_errors:
        err_console.print(f"[red]failed to load[/] {name}: {error}", highlight=False)


# -- crawl ----------------------------------------------------------------------


def _parse_resolve(values: Sequence[str]) -> dict[str, str]:
    """``--resolve HOST:ADDRESS`` values as a host map; the address must be an IP address."""
    mapping = {}
    for value in values:
        name, sep, address = value.rpartition(":") if value.count(":") == 1 else value.partition("=")
        if not sep or not name or not address:
            raise click.BadParameter(f"expected HOST:ADDRESS, got {value!r}", param_hint="--resolve")
        try:
            ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            raise click.BadParameter(f"{address!r} is not an IP address (in {value!r})", param_hint="--resolve") from None
        mapping[name.lower()] = address.strip("[]")
    return mapping


@main.command("crawl")
@click.argument("seeds", nargs=-1, required=True)
@click.option("--db", "db_path", type=click.Path(), help="SQLite database (default: DB_PATH setting).")
@click.option("--allow-net", "allow_nets", multiple=True, metavar="CIDR", help="Also allow connecting to this network (SSRF guard; repeatable).")
@click.option("--resolve", "resolve", multiple=True, metavar="HOST:ADDRESS", help="Answer HOST with ADDRESS instead of DNS (repeatable).")
@click.option("--depth", type=click.IntRange(min=0), help="How many links deep to follow inside each seed's domain (0: the seeds only).")
@click.option("--max-pages", type=click.IntRange(min=0), help="Store at most this many pages (0: no cap); with --redis, the whole job's.")
@click.option("--job", "job", metavar="NAME", help="A resumable job: run the same command again to resume it after a stop or a crash.")
@click.pass_context
def crawl_command(
    ctx: click.Context, seeds: tuple[str, ...], db_path: str | None, allow_nets: tuple[str, ...],
    resolve: tuple[str, ...], depth: int | None, max_pages: int | None, job: str | None,
) -> None:
    """Crawl SEED URLs, domains or seed files; analyse and store every page.

    Exits 4 when not a single page could be fetched, and 130 when SIGINT or
    SIGTERM stopped the crawl (every page fetched before is stored).
    """
    from fraudwall.blocklists.guards import PublishGuard
    from fraudwall.blocklists.selection import select_entries
    from fraudwall.crawl import run_crawl
    from fraudwall.crawler.seeds import read_seeds

    settings = _settings(
        ctx, DB_PATH=db_path, ALLOW_NETS=list(allow_nets) or None, HOST_MAP=_parse_resolve(resolve) or None,
        CRAWL_DEPTH=depth, CRAWL_MAX_PAGES=max_pages, CRAWL_JOB=job,
    )
    seed_list = read_seeds(seeds)
    if not seed_list.targets:
        first = "; ".join(f"{value} ({reason})" for value, reason in seed_list.rejected.samples[:3])
        raise CrawlError(f"no valid seeds: give URLs, domains or seed files{': rejected ' + first if first else ''}")
    for value, reason in seed_list.rejected.samples:
        err_console.print(f"seed rejected ({reason}): {value}", highlight=False, markup=False)
    _open_store(settings.get("DB_PATH")).close()  # a database that is not ours is refused before the crawl starts
    # The crawl shows its own progress on stderr (CRAWL_PROGRESS, fraudwall.crawler.progress); a spinner on
    # stdout would fight its live panel for the terminal.
    outcome = run_crawl(settings, seed_list.targets)
    with _open_store(settings.get("DB_PATH")) as store:
        _print_summary(store, outcome, select_entries(store, PublishGuard.from_settings(settings)), exported=[])
    if outcome.interrupted:
        raise Interrupted(f"crawl interrupted by {outcome.interrupted}: {outcome.pages} pages analysed and stored")
    if not outcome.pages:
        failures = ", ".join(f"{reason} x{count}" for reason, count in sorted(outcome.failures.items()))
        first = f"; first: {outcome.first_refusal}" if outcome.first_refusal else ""
        raise NothingFetched(f"nothing fetched from {len(seed_list.targets)} seeds ({failures or 'no response'}){first}")
    if outcome.internal_errors:
        raise CrawlBroken(f"the crawl finished, but its machinery raised {outcome.internal_errors} error(s) "
                          f"({outcome.pages} pages analysed and stored); first: {outcome.first_internal_error}")


# -- analyze ----------------------------------------------------------------------


@main.group("analyze")
def analyze_group() -> None:
    """Analyse evidence without crawling."""


@analyze_group.command("pages")
@click.argument("manifest", type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="One JSON line per page, then a summary line.")
@click.option("--split", "split", metavar="NAME", help="Only the rows whose 'split' column is NAME (e.g. tune, heldout).")
@click.pass_context
def analyze_pages_command(ctx: click.Context, manifest: str, as_json: bool, split: str | None) -> None:
    """Analyse saved HTML pages listed in MANIFEST.csv (columns: file, url[, label, class, split]).

    With a ``label`` column of fraud/benign, ends with the confusion matrix,
    precision and recall, counting a page as predicted fraud when its verdict
    is malicious (what would be published); a ratio with nothing to divide by
    (no page predicted fraud, no fraud page) is shown as n/a. With a ``class``
    column, also each class's pages and how many were judged malicious
    (recall for fraud classes; for benign ones, the pages wrongly blocked).
    """
    from fraudwall.pages import parse_page

    settings = _settings(ctx)
    rows = _manifest_rows(Path(manifest))
    if split is not None:
        rows = [(line_no, row) for line_no, row in rows if (row.get("split") or "").strip() == split]
        if not rows:
            raise click.BadParameter(f"no row of {manifest} has split {split!r}", param_hint="--split")
    classes: dict[tuple[str, str], Counter[str]] = {}
    host = PluginHost.from_settings(settings)
    base = Path(manifest).parent
    matrix: Counter[str] = Counter()
    rows_out = []
    for line_no, row in rows:
        file = base / (row.get("file") or "")
        try:
            body = file.read_bytes()
            page = parse_page(row["url"] or "", body)
            verdict = judge(host, page).verdict
        except OSError as exc:
            err_console.print(f"line {line_no}: cannot read {file}: {exc.strerror}", markup=False)
            matrix["rejected"] += 1
            continue
        except InputError as exc:
            err_console.print(f"line {line_no}: rejected ({exc.reason}): {row['url']}", markup=False)
            matrix["rejected"] += 1
            continue
        record = {
            "file": row["file"], "url": row["url"], "verdict": str(verdict.status), "score": verdict.score,
            "categories": list(verdict.categories),
            **({"reason": verdict.reason} if verdict.reason else {}),
            "findings": [
                {"detector": f.detector, "version": f.detector_version, "category": str(f.category),
                 "score": f.score, "reason": f.reason, "evidence": list(f.evidence),
                 "indicators": [list(i) for i in f.indicators]}
                for f in verdict.findings
            ],
        }
        label = (row.get("label") or "").strip().lower()
        if label:
            predicted = "fraud" if verdict.status == VerdictStatus.MALICIOUS else "benign"
            record["label"] = label
            matrix[{("fraud", "fraud"): "tp", ("benign", "fraud"): "fp", ("fraud", "benign"): "fn",
                    ("benign", "benign"): "tn"}[(label, predicted)]] += 1
            page_class = (row.get("class") or "").strip()
            if page_class:
                record["class"] = page_class
                tally = classes.setdefault((label, page_class), Counter())
                tally["pages"] += 1
                tally[str(verdict.status)] += 1
        rows_out.append(record)
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
    summary = _evaluation(matrix)
    if classes:
        summary["classes"] = [
            {"label": label, "class": name, "pages": tally["pages"], "malicious": tally["malicious"],
             "suspicious": tally["suspicious"], "benign": tally["benign"],
             **({"recall": round(tally["malicious"] / tally["pages"], 4)} if label == "fraud" else {})}
            for (label, name), tally in sorted(classes.items())
        ]
    if as_json:
        click.echo(json.dumps({"summary": summary}, ensure_ascii=False))
        return
    table = Table(title=f"{len(rows_out)} pages")
    for column in ("file", "verdict", "score", "categories", "label"):
        table.add_column(column)
    for record in rows_out:
        table.add_row(record["file"], record["verdict"], f"{record['score']:.2f}", ", ".join(record["categories"]), record.get("label", ""))
    console.print(table)
    if summary.get("classes"):
        by_class = Table(title="by class (malicious: what would be published)")
        for column in ("label", "class", "pages", "malicious", "suspicious", "benign", "recall"):
            by_class.add_column(column, justify="left" if column in ("label", "class") else "right")
        for entry in summary["classes"]:
            by_class.add_row(entry["label"], entry["class"], str(entry["pages"]), str(entry["malicious"]),
                             str(entry["suspicious"]), str(entry["benign"]),
                             _ratio(entry["recall"]) if "recall" in entry else "")
        console.print(by_class)
    if summary.get("labelled"):
        console.print(
            f"confusion matrix: TP={summary['tp']} FP={summary['fp']} FN={summary['fn']} TN={summary['tn']}  "
            f"precision={_ratio(summary['precision'])} recall={_ratio(summary['recall'])}"
        )
    if matrix["rejected"]:
        console.print(f"rejected: {matrix['rejected']}")


def _download_url(url: str, files: list[Path]) -> str:
    """``--source-url``, checked: an http(s) URL with a host, for exactly one file."""
    if len(files) != 1:
        raise click.UsageError(f"--source-url names where one file came from; {len(files)} files were given")
    parsed = urlsplit(url.strip())
    if parsed.scheme.lower() not in ("http", "https") or not parsed.hostname:
        raise click.BadParameter(f"{url!r} is not an http(s) URL with a host", param_hint="--source-url")
    return url.strip()


@analyze_group.command("apk")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="One JSON line per APK (and per APK found inside one), then a summary line.")
@click.option("--db", "db_path", type=click.Path(), help="Also record observations, findings and verdicts in this database.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: APK_WORKERS, or one per CPU).")
@click.option("--full", is_flag=True, help="Also run androguard's analysis of the code (much slower): the sensitive "
              "framework methods the app really calls, which corroborate its permissions.")
@click.option("--source-url", metavar="URL", help="Where the APK was downloaded from (one file only): its URL and "
              "host become indicators, and the host a subject of the lists, as for an APK the crawler captures.")
@click.pass_context
def analyze_apk_command(ctx: click.Context, paths: tuple[str, ...], as_json: bool, db_path: str | None,
                        workers: int | None, full: bool, source_url: str | None) -> None:
    """Analyse Android apps: APK files, or folders searched for *.apk.

    Each APK is read without running it (manifest, components, certificates,
    strings of its code, packers and web shells, tamper signs) in a worker
    process with time and memory caps, then judged by the fraud-app
    detectors. A file that is no APK, or breaks the analysis, is a rejection
    with its reason; the others go on. With --db the results are recorded
    (each APK once, by sha256) for `fraudwall export` and `reanalyze`.
    """
    from fraudwall.apk_analysis import ApkBatch, ApkBudget
    from fraudwall.apk_intake import apk_files, judge_results

    settings = _settings(ctx)
    files = apk_files(paths)
    if not files:
        raise InputError("no-apk", f"no *.apk file in {', '.join(paths)}")
    if source_url is not None:
        source_url = _download_url(source_url, files)
    store = _open_store(db_path) if db_path else None  # a database that is not ours is refused before any work
    # --full: the worker's timer covers the fast path (APK_TIMEOUT) and the full analysis's own allowance.
    timeout = settings.getfloat("APK_TIMEOUT") + (ApkBudget().full_seconds if full else 0.0)
    # The workers start on the first files now; the detectors load beside them.
    batch = ApkBatch(files, workers=workers or settings.getint("APK_WORKERS") or None,
                     timeout=timeout, memory_mb=settings.getint("APK_MEMORY_MB"), full=full)
    host = PluginHost.from_settings(settings, hooks={"analyze_apk"})  # no page rules to compile
    counts: Counter[str] = Counter()
    table = Table(title=f"{len(files)} files")
    for column in ("file", "package", "label", "verdict", "score", "categories"):
        table.add_column(column, overflow="fold")
    try:
        for outcome in judge_results(batch, host, source_url=source_url or ""):
            if not outcome.result.ok:
                counts["rejected"] += 1
                rejection = {"file": outcome.file, "sha256": outcome.result.sha256, "rejected": outcome.result.rejected}
                if as_json:
                    click.echo(json.dumps(rejection, ensure_ascii=False))
                else:
                    table.add_row(outcome.file, "", "", f"rejected: {outcome.result.rejected}", "", "")
                continue
            counts["files"] += 1
            if store is not None:
                store.record(outcome.judgements, settings)
            for index, judgement in enumerate(outcome.judgements):
                record = _apk_record(outcome.file, judgement)
                counts[record["verdict"]] += 1
                if as_json:
                    click.echo(json.dumps(record, ensure_ascii=False))
                else:
                    name = outcome.file if not index else f"  inside: {judgement.observation.sha256[:16]}"
                    table.add_row(name, record["package"], record["label"], record["verdict"], f"{record['score']:.2f}",
                                  ", ".join(record["categories"]))
    finally:
        batch.close()
        if store is not None:
            store.close()
    summary = {"files": counts["files"], "rejected": counts["rejected"],
               **{status.value: counts[status.value] for status in VerdictStatus if counts[status.value]}}
    if as_json:
        click.echo(json.dumps({"summary": summary}, ensure_ascii=False))
    else:
        console.print(table)
        console.print(", ".join(f"{what}: {count}" for what, count in summary.items()), highlight=False)
    if not counts["files"]:
        raise InputError("no-apk", f"none of the {len(files)} files could be analysed as an APK")


def _apk_record(file: str, judgement: Judgement) -> dict[str, Any]:
    """One APK's JSON line: what it is, its verdict, and every finding with the subject it is about."""
    apk = judgement.observation
    assert isinstance(apk, ApkObservation)
    verdict = judgement.verdict
    record: dict[str, Any] = {
        "file": file, "sha256": apk.sha256, "package": apk.package,
        "label": next((label for _, label in apk.labels if label), ""),
        "verdict": str(verdict.status), "score": verdict.score, "categories": list(verdict.categories),
        "findings": [
            {"subject": f.subject, "subject_kind": str(f.subject_kind), "detector": f.detector,
             "version": f.detector_version, "category": str(f.category), "score": f.score, "reason": f.reason,
             "evidence": list(f.evidence)}
            for f in sorted(judgement.findings, key=lambda f: (-f.score, f.detector, str(f.category)))
        ],
        "related": [{"subject": v.subject, "subject_kind": str(v.subject_kind), "verdict": str(v.status),
                     "score": v.score} for v in judgement.related],
    }
    if apk.fully_analysed or apk.api_calls:  # analyze apk --full
        record["api_calls"] = list(apk.api_calls)
        record["fully_analysed"] = apk.fully_analysed
    if apk.parent:  # found inside another APK: the carrier's sha256 and where in it
        record["inside"] = apk.parent
        record["member"] = apk.member
    if apk.download_url:  # --source-url
        record["download_url"] = apk.download_url
    return record


LABELS = ("fraud", "benign")


def _manifest_rows(manifest: Path) -> list[tuple[int, dict[str, str]]]:
    """The rows of an ``analyze pages`` manifest with their line numbers, checked before any page runs.

    A file that is not UTF-8 CSV with ``file`` and ``url`` columns is an
    :class:`InputError`; a label other than fraud, benign or empty is a usage
    error naming its line, so that no evaluation silently leaves pages out.
    """
    _require_regular_file(manifest, "MANIFEST")
    try:
        text = manifest.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("bad-manifest", f"{manifest} is not UTF-8 text (byte {exc.start})") from None
    if "\0" in text:
        raise InputError("bad-manifest", f"{manifest} is not a CSV file (it holds NUL bytes)")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames or not {"file", "url"} <= set(reader.fieldnames):
            raise InputError("bad-manifest", f"{manifest} needs the columns 'file' and 'url'")
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise InputError("bad-manifest", f"{manifest} is not valid CSV: {exc}") from None
    for line_no, row in rows:
        label = (row.get("label") or "").strip().lower()
        if label and label not in LABELS:
            raise click.UsageError(f"{manifest} line {line_no}: unknown label {label!r}; labels are fraud, benign or empty")
    return rows


def _require_regular_file(path: Path, what: str) -> None:
    """Refuse a device, a pipe or a folder where a file is read whole: ``/dev/zero`` never ends, a FIFO may never open."""
    if not path.is_file():
        raise InputError("not-a-file", f"{what} {path} is not a regular file")


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _evaluation(matrix: Counter[str]) -> dict[str, Any]:
    """Counts, precision and recall; a ratio with nothing to divide by is ``None`` (no prediction, no fraud)."""
    tp, fp, fn, tn = (matrix[k] for k in ("tp", "fp", "fn", "tn"))
    summary: dict[str, Any] = {"labelled": tp + fp + fn + tn, "rejected": matrix["rejected"]}
    if summary["labelled"]:
        summary.update(
            tp=tp, fp=fp, fn=fn, tn=tn,
            precision=round(tp / (tp + fp), 4) if tp + fp else None,
            recall=round(tp / (tp + fn), 4) if tp + fn else None,
        )
    return summary


# -- DNS: probe, permute, recheck ------------------------------------------------------

_nameserver_option = click.option(
    "--nameserver", "nameservers", multiple=True, metavar="HOST:PORT",
    help="Resolver to ask (repeatable; default: DNS_NAMESERVERS, else the system's).")


@main.command("probe")
@click.argument("names", nargs=-1, required=True)
@_nameserver_option
@click.option("--db", "db_path", type=click.Path(), help="Record names that exist, their verdicts and every name's lifecycle here.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per name, then a summary line.")
@click.pass_context
def probe_command(ctx: click.Context, names: tuple[str, ...], nameservers: tuple[str, ...], db_path: str | None,
                  as_json: bool) -> None:
    """Ask DNS about NAMES (names, URLs, or list and feed files), every record type; judge the names that exist.

    Each name gets an outcome per record type (NOERROR, NODATA, NXDOMAIN,
    SERVFAIL, TIMEOUT, REFUSED), its records with TTLs, CNAME chain, and the
    signs seen (a parent zone's wildcard, fast flux). Names that exist are
    judged by the name and DNS detectors. A value that is no usable name is a
    counted rejection; a resolver that stops answering gives TIMEOUT outcomes.
    """
    from fraudwall.discovery import names_to_probe

    settings = _settings(ctx)
    wanted, rejected = names_to_probe(names)
    for value, reason in rejected.samples:
        err_console.print(f"name rejected ({reason}): {value}", highlight=False, markup=False)
    if not wanted:
        raise InputError("no-name", f"no name to probe in {', '.join(names)}")
    counts = _probe_names(settings, wanted, nameservers, db_path, as_json, source="probe")
    _dns_summary(counts, rejected.total, as_json)


def _probe_names(settings: Settings, names: Sequence[str], nameservers: Sequence[str], db_path: str | None,
                 as_json: bool, *, source: str, only_registered: bool = False,
                 on_registered: Any = None, show: bool = True) -> Counter[str]:
    """Probe and judge ``names``; print each (JSON lines or a table, unless not ``show``); with a store,
    record as they come. ``on_registered`` is called with each outcome shown (``only_registered``: each
    name that exists with an answer of its own)."""
    from fraudwall.blocklists.lifecycle import Lifecycle, dns_pivots
    from fraudwall.discovery import dns_record, nameservers_from, probe_and_judge, probe_options, registered

    servers = nameservers_from(settings, nameservers)
    store = _open_store(db_path) if db_path else None
    lifecycle = Lifecycle(store, settings) if store else None
    pivots = dns_pivots(store) if store else None
    host = PluginHost.from_settings(settings)
    counts: Counter[str] = Counter()
    transitions: Counter[str] = Counter()
    table = Table(title=f"{len(names)} names asked of {', '.join(map(str, servers))}")
    for column in ("name", "outcome", "records", "signs", "verdict"):
        table.add_column(column, overflow="fold")
    batch: list[Any] = []

    def flush() -> None:
        # Permutations record only what exists: thousands of unregistered candidates per brand are not names.
        kept = [o for o in batch if registered(o.observation)] if only_registered else batch
        if store is not None and lifecycle is not None and kept:
            transitions.update(lifecycle.record([o.observation for o in kept], source=source))
            store.record([o.judgement for o in kept if o.judgement is not None and registered(o.observation)],
                         settings)
        batch.clear()

    try:
        with console.status(f"probing {len(names)} names...") if show and not as_json else nullcontext():
            for outcome in probe_and_judge(names, servers, probe_options(settings), host, pivots):
                observation = outcome.observation
                counts[observation.rcode] += 1
                if observation.wildcard:
                    counts["wildcard"] += 1
                if outcome.judgement is not None:
                    counts[str(outcome.judgement.verdict.status)] += 1
                batch.append(outcome)
                if len(batch) >= 256:
                    flush()
                if only_registered and not registered(observation):
                    continue
                counts["shown"] += 1
                if on_registered is not None:
                    on_registered(outcome)
                if not show:
                    continue
                if as_json:
                    click.echo(json.dumps(dns_record(outcome), ensure_ascii=False))
                else:
                    record = dns_record(outcome)
                    shown = ", ".join(f"{r['type']} {r['value']}" for r in record["records"][:4])
                    table.add_row(record["name"], record["rcode"], shown + (" ..." if len(record["records"]) > 4 else ""),
                                  ", ".join(record["signs"]), record["verdict"] or "")
            flush()
    finally:
        if store is not None:
            store.close()
    if show and not as_json:
        console.print(table)
    return counts + Counter({f"lifecycle {key}": value for key, value in transitions.items()})


def _dns_summary(counts: Counter[str], rejected: int, as_json: bool, **extra: object) -> None:
    summary = {key: counts[key] for key in ("NOERROR", "NODATA", "NXDOMAIN", "SERVFAIL", "TIMEOUT", "REFUSED",
                                            "wildcard", "malicious", "suspicious", "benign") if counts[key]}
    summary = {"names": sum(counts[k] for k in ("NOERROR", "NXDOMAIN", "SERVFAIL", "TIMEOUT", "REFUSED", "NODATA")),
               **summary, "rejected": rejected, **extra}
    if as_json:
        click.echo(json.dumps({"summary": summary}, ensure_ascii=False))
    else:
        console.print(", ".join(f"{key}: {value}" for key, value in summary.items()), highlight=False)


@main.command("permute")
@click.argument("domains", nargs=-1)
@click.option("--brands", "all_brands", is_flag=True, help="Permute every protected brand's official domains too.")
@click.option("--registered", is_flag=True, help="Probe the candidates; print only those that exist (wildcards excluded).")
@_nameserver_option
@click.option("--fuzzer", "fuzzers", multiple=True, metavar="NAME", help="Only this fuzzer (repeatable; default: all).")
@click.option("--dictionary", type=click.Path(exists=True, dir_okay=False), help="Extra words, one per line, for the dictionary fuzzers.")
@click.option("--tld-file", type=click.Path(exists=True, dir_okay=False), help="TLDs for the TLD swaps, one per line (default: the bundled list).")
@click.option("--db", "db_path", type=click.Path(), help="With --registered: record the registered candidates, their verdicts and crawl targets.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="With --registered: write the registered names to this file, a seed file for `fraudwall crawl`.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per candidate, then a summary line.")
@click.pass_context
def permute_command(ctx: click.Context, domains: tuple[str, ...], all_brands: bool, registered: bool,
                    nameservers: tuple[str, ...], fuzzers: tuple[str, ...], dictionary: str | None,
                    tld_file: str | None, db_path: str | None, out_path: str | None, as_json: bool) -> None:
    """Lookalikes of DOMAINS: typos, homoglyphs, TLD swaps, fraud words, pinyin and brand numbers.

    Every fuzzer dnstwist has, and dictionary words with TLD swaps, fraud
    words and pinyin, and the brand's service numbers. Multi-label suffixes
    (.com.cn, .gov.cn) stay whole: the registrable part is permuted. With
    --registered the candidates are probed and only those that exist are
    printed, each with its records and verdict; --db records them (and adds
    them as crawl targets), --out writes them as a seed file.
    """
    from fraudwall.crawler.permutations import FUZZERS, brand_domains, permute

    settings = _settings(ctx)
    unknown = sorted(set(fuzzers) - set(FUZZERS))
    if unknown:
        raise click.BadParameter(f"unknown fuzzer {', '.join(unknown)}; known: {', '.join(FUZZERS)}", param_hint="--fuzzer")
    if not domains and not all_brands:
        raise click.UsageError("give DOMAIN... or --brands")
    if (db_path or out_path) and not registered:
        raise click.UsageError("--db and --out record registered candidates: add --registered")
    words = _word_file(dictionary)
    tlds = _word_file(tld_file)
    targets = [*domains, *(brand_domains() if all_brands else [])]
    candidates: dict[str, tuple[str, str, str]] = {}
    rejected = Rejections()
    for domain in dict.fromkeys(targets):
        try:
            found = permute(domain, fuzzers=fuzzers or None, dictionary=words, tlds=tlds)
        except InvalidName as error:
            rejected.add(domain, error.reason)
            err_console.print(f"domain rejected ({error.reason}): {domain}", highlight=False, markup=False)
            continue
        for candidate in found:
            candidates.setdefault(candidate.name, (domain, candidate.fuzzer, candidate.unicode_name))
    if not candidates:
        raise InputError("no-candidate", "no candidate to show: every domain was rejected")
    if not registered:
        for name, (domain, fuzzer, unicode_name) in candidates.items():
            if as_json:
                click.echo(json.dumps({"domain": domain, "name": name, "unicode": unicode_name, "fuzzer": fuzzer},
                                      ensure_ascii=False))
            else:
                click.echo(f"{name}\t{fuzzer}\t{domain}" + (f"\t{unicode_name}" if unicode_name != name else ""))
        if as_json:
            click.echo(json.dumps({"summary": {"domains": len(targets) - rejected.total, "candidates": len(candidates),
                                               "rejected": rejected.total}}))
        return
    found_names: list[str] = []

    def keep(outcome: Any) -> None:
        found_names.append(outcome.observation.name)

    counts = _probe_names(settings, list(candidates), nameservers, db_path, as_json, source="permute",
                          only_registered=True, on_registered=keep)
    if db_path:
        from fraudwall.models import Target

        with _open_store(db_path) as store:
            store.record_targets(Target(url=f"http://{name}/", source=f"permute:{candidates[name][0]}")
                                 for name in found_names)
    if out_path:
        from fraudwall.exporters.publish import publish

        publish("".join(f"{name}\n" for name in found_names), Path(out_path))
    _dns_summary(counts, rejected.total, as_json, candidates=len(candidates), registered=len(found_names))


def _word_file(path: str | None) -> list[str]:
    """The words of a one-per-line file (``#`` comments and blank lines skipped)."""
    if not path:
        return []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(f"cannot read {path}: {error}") from None
    return [line.split("#", 1)[0].strip().lower() for line in text.splitlines() if line.split("#", 1)[0].strip()]


@main.command("recheck")
@click.option("--db", "db_path", type=click.Path(), help="The database (default: DB_PATH setting).")
@_nameserver_option
@click.option("--limit", type=click.IntRange(min=1), help="Probe at most this many due names, longest overdue first.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per name, then a summary line.")
@click.pass_context
def recheck_command(ctx: click.Context, db_path: str | None, nameservers: tuple[str, ...], limit: int | None,
                    as_json: bool) -> None:
    """Probe the stored names that are due again; record first seen, first live, last live and gone.

    Every host judged malicious or suspicious is followed, beside the names
    probes and permutations found. A live name is due RECHECK_HOURS after its
    last probe, a gone or never-live one RECHECK_GONE_HOURS after, a failed
    probe RECHECK_RETRY_HOURS after.
    """
    from fraudwall.blocklists.lifecycle import Lifecycle

    settings = _settings(ctx, DB_PATH=db_path)
    _require_database(settings)
    with _open_store(settings.get("DB_PATH"), create=False) as store:
        lifecycle = Lifecycle(store, settings)
        followed = lifecycle.track_verdicts()
        due = lifecycle.due(limit=limit)
    counts = _probe_names(settings, due, nameservers, settings.get("DB_PATH"), as_json, source="recheck") if due else Counter()
    transitions = {key.removeprefix("lifecycle ").replace(" ", "_"): value for key, value in sorted(counts.items())
                   if key.startswith("lifecycle ")}
    _dns_summary(counts, 0, as_json, due=len(due), newly_followed=followed, **transitions)


@main.command("reanalyze")
@click.option("--rerun", "rerun", multiple=True, metavar="PLUGIN", help="Re-run this plugin (by name) even if its version did not change (repeatable).")
@click.option("--since", help="Only observations fetched since: ISO date, or 7d / 12h / 30m.")
@click.option("--db", "db_path", type=click.Path(), help="The database (default: DB_PATH setting).")
@click.pass_context
def reanalyze_command(ctx: click.Context, rerun: tuple[str, ...], since: str | None, db_path: str | None) -> None:
    """Re-run new or changed plugins over stored pages, without recrawling.

    Without --rerun, each stored page is re-analysed by the plugins whose
    installed version has not analysed it yet. New findings are stored beside
    the old versions' and every touched verdict is recomputed from the latest
    version of each detector. The summary counts what changed in the store:
    findings new to it, and verdicts whose status moved.
    """
    settings = _settings(ctx, DB_PATH=db_path)
    _require_database(settings)
    cutoff = _parse_since(since)
    host = PluginHost.from_settings(settings)
    versions = host.versions()
    unknown = sorted(set(rerun) - set(versions))
    if unknown:
        raise click.BadParameter(f"no plugin named {', '.join(unknown)}; see 'fraudwall plugins'", param_hint="--rerun")
    changes: Counter[str] = Counter()
    with _open_store(settings.get("DB_PATH"), create=False) as store:
        findings_before = store.db["findings"].count
        stored_count = store.observation_count(cutoff)
        for stored in store.pending(versions, rerun, cutoff):
            try:
                subjects = [*_subjects(stored.observation), *store.subjects_named(stored.observation_id)]
                kept = store.current_findings(subjects, exclude_detectors=stored.plugins)
                judgement = judge(host, stored.observation, only=set(stored.plugins), kept=kept,
                                  observation_id=stored.observation_id)
            except InputError as exc:
                changes[f"observations rejected ({exc.reason})"] += 1
                continue
            before = store.verdict_status(judgement.verdict.subject)
            store.record([judgement], settings)
            changes["observations re-analysed"] += 1
            if before != judgement.verdict.status:
                changes[f"verdicts now {judgement.verdict.status}"] += 1
        changes["observations up to date"] = stored_count - sum(
            count for what, count in changes.items() if what.startswith("observations "))
        changes["findings new to the store"] = store.db["findings"].count - findings_before
    for what, count in sorted(changes.items()):
        console.print(f"{what}: {count}", highlight=False)


# -- export ----------------------------------------------------------------------


def _parse_since(value: str | None) -> datetime | None:
    """An ISO date/time, or a span back from now such as ``7d``, ``12h``, ``30m``."""
    if not value:
        return None
    units = {"d": 86400, "h": 3600, "m": 60}
    if value[:-1].isdigit() and value[-1:] in units:
        return datetime.now(timezone.utc) - timedelta(seconds=int(value[:-1]) * units[value[-1]])
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"expected an ISO date or 7d/12h/30m, got {value!r}", param_hint="--since") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _parse_options(values: Sequence[str]) -> dict[str, dict[str, object]]:
    """``--option [FORMAT.]KEY=VALUE`` into per-format options; integers become ints."""
    options: dict[str, dict[str, object]] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected [FORMAT.]KEY=VALUE, got {value!r}", param_hint="--option")
        format_name, _, option = key.rpartition(".")
        converted: object = int(raw) if raw.lstrip("-").isdigit() else raw
        options.setdefault(format_name or "*", {})[option] = converted
    return options


def _format_names(values: Sequence[str]) -> list[str]:
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if "all" in names:
        return sorted(EXPORTERS)
    unknown = [name for name in names if name not in EXPORTERS]
    if unknown:
        raise click.BadParameter(f"unknown format {', '.join(unknown)}; known: {', '.join(sorted(EXPORTERS))}, all",
                                 param_hint="--format")
    return names


def _subjects(observation: Observation) -> list[str]:
    """The subjects whose stored findings a re-judged observation's verdict keeps: its own, and its host's."""
    if isinstance(observation, PageObservation):
        return [observation.final_url, parse_url(observation.final_url).host]
    if isinstance(observation, UrlParts):
        return [observation.host]
    if isinstance(observation, DnsObservation):  # plugins file under the name asked, the verdict under its A-labels
        return [observation.name, normalize_name(observation.name, allow_underscore=True)]
    return [observation.sha256]


def _require_database(settings: Settings, hint: str = "crawl first, or give --db") -> None:
    """The database a reading command names must exist; a missing one is a usage error, never a new empty store."""
    path = Path(settings.get("DB_PATH"))
    if not path.exists():
        raise click.BadParameter(f"no database at {path}: {hint}", param_hint="--db")


def _check_format_options(per_format: dict[str, dict[str, object]], title: str) -> None:
    """Every ``--option`` must be one its format has, with a value it takes: checked before any work."""
    for name, options in per_format.items():
        try:
            get_exporter(name).options(ExportMeta(title, datetime.now(timezone.utc), options))
        except (ExportError, TypeError, ValueError) as exc:
            raise click.BadParameter(str(exc), param_hint="--option") from exc


def _check_categories(categories: Sequence[str], store: Store) -> None:
    """Every ``--category`` must be a known category: fraudwall's own, or one stored findings use."""
    if not categories:
        return
    known = {str(category) for category in Category} | store.finding_categories()
    for category in categories:
        if category not in known:
            close = difflib.get_close_matches(category, sorted(known), n=2, cutoff=0.7)
            hint = f"; did you mean {' or '.join(close)}?" if close else f"; known: {', '.join(sorted(known))}"
            raise click.BadParameter(f"unknown category {category!r}{hint}", param_hint="--category")


def _collapse_guard(settings: Settings, allow_shrink: bool) -> CollapseGuard | None:
    """The publishing guard against collapse, unless ``--allow-shrink`` turns it off."""
    return None if allow_shrink else CollapseGuard(max_shrink=settings.getfloat("PUBLISH_MAX_SHRINK"))


@main.command("export")
@click.option("--format", "formats", required=True, multiple=True, metavar="NAME[,NAME...]",
              help=f"Output format(s), or 'all': {', '.join(sorted(EXPORTERS))}.")
@click.option("--out", "out", type=click.Path(), help="File (or folder, for folder formats) to publish, for one format.")
@click.option("--out-dir", "out_dir", type=click.Path(file_okay=False), help="Export folder for several formats, with manifest.json and deltas.")
@click.option("--db", "db_path", type=click.Path(), help="Export from this database (default: DB_PATH setting).")
@click.option("--input", "inputs", multiple=True, type=click.Path(exists=True), help="Export from list or feed files instead of the database (repeatable).")
@click.option("--status", "statuses", multiple=True, type=click.Choice(["malicious", "suspicious"]), help="Verdicts to publish (default: malicious; repeatable).")
@click.option("--min-score", type=click.FloatRange(0, 1), help="Only verdicts scoring at least this.")
@click.option("--category", "categories", multiple=True, help="Only verdicts with one of these categories (repeatable).")
@click.option("--since", help="Only verdicts updated since: ISO date, or 7d / 12h / 30m.")
@click.option("--allowlist", "allowlists", multiple=True, type=click.Path(exists=True), help="Your allowlist: plain names or .toml (repeatable).")
@click.option("--exceptions-from", "exception_lists", multiple=True, type=click.Path(exists=True), metavar="FILE",
              help="An ABP/AdGuard list, read as an --input, whose @@ exceptions are honoured (repeatable); in any other input an @@ line is a counted rejection.")
@click.option("--option", "option_values", multiple=True, metavar="[FORMAT.]KEY=VALUE", help="A format option, e.g. rpz.zone=rpz.example.net (repeatable).")
@click.option("--verify/--no-verify", default=False, help="Run the consumer's own checker on each file before publishing it.")
@click.option("--workers", type=click.IntRange(min=1), help="Processes rendering an --out-dir's formats side by side (default: EXPORT_WORKERS, or one per CPU, at most 4).")
@click.option("--allow-shrink", is_flag=True, help="Publish even a list that would shrink past PUBLISH_MAX_SHRINK, come out empty, or come from rejections only.")
@click.pass_context
def export_command(
    ctx: click.Context, formats: tuple[str, ...], out: str | None, out_dir: str | None, db_path: str | None,
    inputs: tuple[str, ...], statuses: tuple[str, ...], min_score: float | None, categories: tuple[str, ...],
    since: str | None, allowlists: tuple[str, ...], exception_lists: tuple[str, ...], option_values: tuple[str, ...],
    verify: bool, workers: int | None, allow_shrink: bool,
) -> None:
    """Publish blocklists from the database or from list and feed files (a standalone list compiler).

    A list that would lose more than PUBLISH_MAX_SHRINK (default half) of the
    previous generation's entries, come out empty where the previous one was
    not, or come from inputs that yielded nothing but rejections is refused
    (exit 5) and the previous list stays in place, unless --allow-shrink.
    """
    from fraudwall.blocklists.guards import PublishGuard
    from fraudwall.blocklists.selection import SelectionFilter, select_entries
    from fraudwall.exporters.bundle import export_bundle
    from fraudwall.list_compiler import compile_lists

    names = _format_names(formats)
    inputs = (*inputs, *(path for path in exception_lists if path not in inputs))  # a trusted list is an input too
    if inputs and db_path:
        raise click.UsageError("give either --db or --input/--exceptions-from, not both")
    if inputs and (statuses or min_score is not None or categories or since):
        raise click.UsageError("--status, --min-score, --category and --since filter verdicts in the database; "
                               "list files given with --input have none")
    if (out is None) == (out_dir is None):
        raise click.UsageError("give --out PATH for one format, or --out-dir DIR")
    if out is not None and len(names) != 1:
        raise click.UsageError("--out takes one format; use --out-dir for several")
    cutoff = _parse_since(since)
    settings = _settings(ctx, DB_PATH=db_path, ALLOWLIST_FILES=list(allowlists) or None)
    for path in allowlists:
        _require_regular_file(Path(path), "--allowlist")
    guard = PublishGuard.from_settings(settings)
    options = _parse_options(option_values)
    title = settings.get("EXPORT_TITLE")
    per_format = {name: {**options.get("*", {}), **options.get(name, {})} for name in names}
    _check_format_options(per_format, title)
    collapse = _collapse_guard(settings, allow_shrink)
    if inputs:
        for path in inputs:
            _require_regular_file(Path(path), "--input")
        selection = compile_lists(inputs, guard, max_bytes=settings.getint("LIST_MAX_BYTES"), trusted=exception_lists)
    else:
        _require_database(settings, hint="crawl first, or give --db or --input")
        wanted = SelectionFilter(tuple(statuses) or ("malicious",), min_score or 0.0, tuple(categories), cutoff)
        with _open_store(settings.get("DB_PATH"), create=False) as store:
            _check_categories(categories, store)
            selection = select_entries(store, guard, wanted)
    if out is not None:
        results = [export(selection.entries, names[0], Path(out), title=title, verify=verify,
                          refused=selection.refused, collapse=collapse, **per_format[names[0]])]
    else:
        bundle = export_bundle(selection.entries, names, Path(out_dir or "."), title=title, verify=verify,
                               refused=selection.refused, options=per_format, collapse=collapse,
                               workers=workers or settings.getint("EXPORT_WORKERS") or None)
        results = list(bundle.results)
        console.print(f"generation {bundle.generation}: +{bundle.added} -{bundle.removed} since the previous one; "
                      f"manifest {Path(out_dir or '.') / 'manifest.json'}", highlight=False)
    for result in results:
        console.print(
            f"{result.format}: {result.blocked} blocked, {result.allowed} allowed -> {result.path} "
            f"({selection.refused.total + result.rejected} refused; reasons in {result.report_path.name})",
            highlight=False,
        )


@main.command("verify")
@click.option("--format", "format_name", required=True, type=click.Choice(sorted(EXPORTERS)), help="The file's format.")
@click.option("--option", "option_values", multiple=True, metavar="KEY=VALUE", help="Format option the file was made with, e.g. zone=rpz.example.net.")
@click.argument("path", type=click.Path(exists=True))
def verify_command(format_name: str, option_values: tuple[str, ...], path: str) -> None:
    """Check PATH as its consumer would load it (named-checkzone, unbound-checkconf, dnsmasq --test, squid -k parse...)."""
    target = Path(path)
    exporter = get_exporter(format_name)
    if isinstance(exporter, FolderExporter) != target.is_dir() or not (target.is_file() or target.is_dir()):
        # A device or a pipe is no list and may never end; a folder is a list only for folder formats.
        kind = "a folder" if isinstance(exporter, FolderExporter) else "a regular file"
        raise InputError("not-a-file", f"{path} is not {kind}, as a {format_name} list is")
    options = _parse_options(option_values)
    meta = ExportMeta("verify", datetime.now(timezone.utc), {**options.get("*", {}), **options.get(format_name, {})})
    exporter.verify(target, meta)
    console.print(f"{path}: accepted as {format_name}", highlight=False)


# -- demo ----------------------------------------------------------------------


@main.command("demo")
@click.option("--out", "out_dir", default="fraudwall-demo", show_default=True, type=click.Path(file_okay=False), help="Folder for the database and the blocklists.")
@click.pass_context
def demo_command(ctx: click.Context, out_dir: str) -> None:
    """Discover, crawl and judge the built-in demo world on 127.0.0.1, and publish blocklists.

    Offline from end to end: the demo bank's name is permuted, the candidates
    are probed against a small DNS server on loopback that holds the demo's
    zones, and what is registered is crawled beside the seed sites, so the
    lists include names no seed named.
    """
    from fraudwall.blocklists.guards import PublishGuard
    from fraudwall.blocklists.selection import select_entries
    from fraudwall.crawl import run_crawl
    from fraudwall.crawler.seeds import read_seeds
    from fraudwall.demo.dns_server import ZoneServer, zone_origins
    from fraudwall.demo.server import SiteServer, site_hosts

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "fraudwall.db"
    for stale in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        stale.unlink(missing_ok=True)  # the demo always starts from an empty store
    with SiteServer() as server, ZoneServer() as zones:
        hosts = site_hosts(server.root)
        settings = _settings(
            ctx, DB_PATH=str(db_path), ALLOW_NETS=["127.0.0.0/8"], HOST_MAP={h: "127.0.0.1" for h in hosts},
            HOST_MAP_ONLY=True, DNS_NAMESERVERS=[f"127.0.0.1:{zones.port}"], DNS_TIMEOUT=1.0, DNS_RETRIES=1,
        )
        discovered = _demo_discovery(settings, db_path)
        unregistered = set(zone_origins()) - set(discovered)  # seeds never name them: only discovery can
        seeds = [host for host in hosts if host not in unregistered and host not in discovered] + discovered
        targets = read_seeds([server.url(host) for host in seeds]).targets
        console.print(f"serving the demo site on 127.0.0.1:{server.port} as {len(hosts)} hosts; crawling...")
        outcome = run_crawl(settings, targets)  # its progress shows on stderr (CRAWL_PROGRESS)
        console.print(f"crawled the demo site: {len(seeds)} hosts served on 127.0.0.1:{server.port}, "
                      f"{len(discovered)} of them found by discovery")
    with _open_store(db_path) as store:
        selection = select_entries(store, PublishGuard.from_settings(settings))
        exported = []
        if not outcome.interrupted:
            for format_name, file_name in DEMO_EXPORTS:
                result = export(selection.entries, format_name, out / file_name, title="fraudwall demo blocklist",
                                verify=shutil.which("named-checkzone") is not None or format_name != "rpz",
                                refused=selection.refused, collapse=_collapse_guard(settings, allow_shrink=False))
                exported.append((format_name, out / file_name, result.blocked))
        _print_summary(store, outcome, selection, exported)
    if outcome.interrupted:
        raise Interrupted(f"demo interrupted by {outcome.interrupted}; no list was written")


#: The demo bank whose lookalikes the demo's discovery step looks for.
DEMO_BANK = "zhujiang-bank.com.cn"


def _demo_discovery(settings: Settings, db_path: Path) -> list[str]:
    """Permute the demo bank's name, probe every candidate, record and return the registered ones."""
    from fraudwall.crawler.permutations import permute

    candidates = [candidate.name for candidate in permute(DEMO_BANK)]
    found: list[str] = []
    with console.status(f"discovery: probing {len(candidates)} lookalikes of {DEMO_BANK}..."):
        counts = _probe_names(settings, candidates, (), str(db_path), as_json=False, source=f"permute:{DEMO_BANK}",
                              only_registered=True, on_registered=lambda outcome: found.append(outcome.observation.name),
                              show=False)
    aside = f" ({counts['wildcard']} answered only through a wildcard, set aside)" if counts["wildcard"] else ""
    console.print(f"discovery: {len(candidates)} lookalikes of {DEMO_BANK} probed, {len(found)} registered: "
                  f"{', '.join(found) or 'none'}{aside}", highlight=False)
    return found


def _print_summary(store: Store, outcome: CrawlOutcome, selection: Selection, exported: list[tuple[str, Path, int]]) -> None:
    """What the crawl did and what an export of the store would publish now: names, and URLs apart.

    The entries go through the exporters' own validation, so a URL on a
    loopback address, which every format refuses, is counted as refused here too.
    """
    from fraudwall.exporters.validation import prepare

    counts = store.counts()
    prepared = prepare(selection.entries)
    names, urls = list(prepared.blocked), list(prepared.urls)
    not_published = Counter(selection.refused.counts) + prepared.rejections
    table = Table(title="fraudwall run" + (f" (interrupted by {outcome.interrupted})" if outcome.interrupted else ""),
                  show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("pages analysed", str(outcome.pages))
    table.add_row("fetches failed or refused", str(sum(outcome.failures.values())))
    for reason, count in sorted(outcome.failures.items()):
        table.add_row(f"  failed: {reason}", str(count))
    # What the limits left out (each counts its own things: requests, pages or links): a crawl cut short says so.
    for key, count in sorted(outcome.stats.items()):
        if key.startswith(stats_keys.FETCH_SKIPPED):
            table.add_row(f"  skipped: {key.removeprefix(stats_keys.FETCH_SKIPPED)}", str(count))
    for status in ("malicious", "suspicious", "benign"):
        table.add_row(f"pages {status}", str(outcome.stats.get(stats_keys.JUDGE_VERDICTS + status, 0)))
    if outcome.stats.get(stats_keys.APK_DOWNLOADED):
        table.add_row("APKs captured", str(outcome.stats[stats_keys.APK_DOWNLOADED]))
        for status in ("malicious", "suspicious", "benign"):
            table.add_row(f"  APKs {status}", str(outcome.stats.get(stats_keys.APK_VERDICTS + status, 0)))
        for key, count in sorted(outcome.stats.items()):
            if key.startswith(stats_keys.APK_REJECTED):
                table.add_row(f"  APKs rejected: {key.removeprefix(stats_keys.APK_REJECTED)}", str(count))
    for category, count in store.finding_counts_by_category().items():
        table.add_row(f"findings: {category}", str(count))
    table.add_row("names blocked (every format)", str(len(names)))
    table.add_row("URLs blocked (URL-matching formats only)", str(len(urls)))
    for reason, count in sorted(not_published.items()):
        table.add_row(f"not published: {reason}", str(count))
    table.add_row("observations stored", str(counts["observations"]))
    if outcome.interrupted:
        table.add_row("interrupted", outcome.interrupted)
    console.print(table)
    if names:
        blocked = Table(title="blocked names")
        for column in ("name", "scope", "categories", "confidence"):
            blocked.add_column(column)
        for entry in names:
            blocked.add_row(entry.name, str(entry.scope), ", ".join(entry.categories), f"{entry.confidence:.2f}")
        console.print(blocked)
    if urls:
        blocked_urls = Table(title="blocked URLs (their hosts are not blocked)")
        for column in ("url", "categories", "confidence"):
            blocked_urls.add_column(column)
        for entry in urls:
            blocked_urls.add_row(entry.url, ", ".join(entry.categories), f"{entry.confidence:.2f}")
        console.print(blocked_urls)
    for format_name, path, count in exported:
        console.print(f"wrote {format_name:8} {path} ({count} entries)")
    for (key, value) in sorted(outcome.stats.items()):
        if key.startswith(stats_keys.JUDGE_PLUGINS) and not key.endswith("/ok"):
            err_console.print(f"plugin problem: {key.removeprefix(stats_keys.JUDGE_PLUGINS)} x{value}", highlight=False)


from fraudwall.cli_distributed import register as _register_distributed  # noqa: E402  (needs main defined)

_register_distributed(main)

if __name__ == "__main__":
    main()
