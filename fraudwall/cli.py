"""The ``fraudwall`` command line.

The only place that turns exceptions into one-line messages and exit codes:
0 success, 1 a fraudwall error (bad input file, failed export...), 2 usage.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from fraudwall import __version__
from fraudwall.analysis import analyze_page
from fraudwall.blocklists.guards import refusal
from fraudwall.blocklists.scoring import score_findings
from fraudwall.blocklists.selection import Selection, select_entries
from fraudwall.blocklists.store import Store
from fraudwall.crawl import run_crawl
from fraudwall.crawler.feeds import read_lists
from fraudwall.crawler.seeds import read_seeds
from fraudwall.demo.server import SiteServer, site_hosts
from fraudwall.exceptions import ConfigError, CrawlError, FraudwallError, InputError
from fraudwall.exporters import EXPORTERS, export
from fraudwall.models import BlockEntry, VerdictStatus
from fraudwall.pages import parse_page
from fraudwall.plugin_host import PluginHost
from fraudwall.settings import Settings, load_settings

console = Console()
err_console = Console(stderr=True)

DEMO_EXPORTS = (("hosts", "blocklist.hosts"), ("domains", "domains.txt"), ("rpz", "fraud.rpz"))


class _Context:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


def _settings(ctx: click.Context, **cmdline: Any) -> Settings:
    """The layered settings with this command's options on top."""
    base: Settings = ctx.ensure_object(_Context).settings
    return base.copy_with({k: v for k, v in cmdline.items() if v is not None and v != ()})


class _Group(click.Group):
    """Turns fraudwall errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FraudwallError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
            sys.exit(1)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="fraudwall")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML settings file.")
@click.option("--plugin", "plugin_files", multiple=True, type=click.Path(dir_okay=False), help="Load a plugin from a Python file (repeatable).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, plugin_files: tuple[str, ...], verbose: int) -> None:
    """Find the infrastructure of telecom and online fraud and publish it as blocklists."""
    cmdline: dict[str, Any] = {}
    if verbose:
        cmdline["LOG_LEVEL"] = "INFO" if verbose == 1 else "DEBUG"
    if plugin_files:
        cmdline["PLUGIN_FILES"] = list(plugin_files)
    try:
        settings = load_settings(config_file, cmdline)
        level = str(settings.get("LOG_LEVEL")).upper()
        handler = logging.StreamHandler()
        # The level sits on the handler too: Scrapy sets its own loggers to DEBUG.
        handler.setLevel(level)
    except (ConfigError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.root.addHandler(handler)
    logging.root.setLevel(level)
    ctx.obj = _Context(settings)


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
    mapping = {}
    for value in values:
        name, sep, address = value.rpartition(":") if value.count(":") == 1 else value.partition("=")
        if not sep or not name or not address:
            raise click.BadParameter(f"expected HOST:ADDRESS, got {value!r}", param_hint="--resolve")
        mapping[name.lower()] = address
    return mapping


@main.command("crawl")
@click.argument("seeds", nargs=-1, required=True)
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="SQLite database (default: DB_PATH setting).")
@click.option("--allow-net", "allow_nets", multiple=True, metavar="CIDR", help="Also allow connecting to this network (SSRF guard; repeatable).")
@click.option("--resolve", "resolve", multiple=True, metavar="HOST:ADDRESS", help="Answer HOST with ADDRESS instead of DNS (repeatable).")
@click.option("--depth", type=int, help="How many links deep to follow inside each seed's domain.")
@click.option("--max-pages", type=int, help="Stop after this many pages (0: no cap).")
@click.pass_context
def crawl_command(
    ctx: click.Context, seeds: tuple[str, ...], db_path: str | None, allow_nets: tuple[str, ...],
    resolve: tuple[str, ...], depth: int | None, max_pages: int | None,
) -> None:
    """Crawl SEED URLs, domains or seed files; analyse and store every page."""
    settings = _settings(
        ctx, DB_PATH=db_path, ALLOW_NETS=list(allow_nets) or None, HOST_MAP=_parse_resolve(resolve) or None,
        CRAWL_DEPTH=depth, CRAWL_MAX_PAGES=max_pages,
    )
    seed_list = read_seeds(seeds)
    for value, reason in seed_list.rejected.samples:
        err_console.print(f"seed rejected ({reason}): {value}", highlight=False, markup=False)
    if not seed_list.targets:
        raise CrawlError("no valid seeds: give URLs, domains or seed files")
    with console.status(f"crawling {len(seed_list.targets)} seeds..."):
        stats = run_crawl(settings, seed_list.targets)
    with Store.open(settings.get("DB_PATH")) as store:
        _print_summary(store, stats, select_entries(store), exported=[])


# -- analyze ----------------------------------------------------------------------


@main.group("analyze")
def analyze_group() -> None:
    """Analyse evidence without crawling."""


@analyze_group.command("pages")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON line per page, then a summary line.")
@click.pass_context
def analyze_pages_command(ctx: click.Context, manifest: str, as_json: bool) -> None:
    """Analyse saved HTML pages listed in MANIFEST.csv (columns: file, url[, label]).

    With a ``label`` column of fraud/benign, ends with the confusion matrix,
    precision and recall, counting a page as predicted fraud when its verdict
    is malicious (what would be published).
    """
    settings = _settings(ctx)
    host = PluginHost.from_settings(settings)
    base = Path(manifest).parent
    matrix: Counter[str] = Counter()
    rows_out = []
    with open(manifest, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"file", "url"} <= set(reader.fieldnames):
            raise InputError("bad-manifest", f"{manifest} needs the columns 'file' and 'url'")
        for line_no, row in enumerate(reader, start=2):
            file = base / (row.get("file") or "")
            try:
                body = file.read_bytes()
                page = parse_page(row["url"], body)
                analysis = analyze_page(host, page)
            except OSError as exc:
                err_console.print(f"line {line_no}: cannot read {file}: {exc.strerror}", markup=False)
                matrix["rejected"] += 1
                continue
            except InputError as exc:
                err_console.print(f"line {line_no}: rejected ({exc.reason}): {row['url']}", markup=False)
                matrix["rejected"] += 1
                continue
            verdict = score_findings(page.final_url, analysis.findings, settings)
            record = {
                "file": row["file"], "url": row["url"], "verdict": str(verdict.status), "score": verdict.score,
                "categories": list(verdict.categories),
                "findings": [
                    {"detector": f.detector, "version": f.detector_version, "category": str(f.category),
                     "score": f.score, "reason": f.reason, "evidence": list(f.evidence),
                     "indicators": [list(i) for i in f.indicators]}
                    for f in verdict.findings
                ],
            }
            label = (row.get("label") or "").strip().lower()
            if label in {"fraud", "benign"}:
                predicted = "fraud" if verdict.status == VerdictStatus.MALICIOUS else "benign"
                record["label"] = label
                matrix[{("fraud", "fraud"): "tp", ("benign", "fraud"): "fp", ("fraud", "benign"): "fn",
                        ("benign", "benign"): "tn"}[(label, predicted)]] += 1
            rows_out.append(record)
            if as_json:
                click.echo(json.dumps(record, ensure_ascii=False))
    summary = _evaluation(matrix)
    if as_json:
        click.echo(json.dumps({"summary": summary}, ensure_ascii=False))
        return
    table = Table(title=f"{len(rows_out)} pages")
    for column in ("file", "verdict", "score", "categories", "label"):
        table.add_column(column)
    for record in rows_out:
        table.add_row(record["file"], record["verdict"], f"{record['score']:.2f}", ", ".join(record["categories"]), record.get("label", ""))
    console.print(table)
    if summary.get("labelled"):
        console.print(
            f"confusion matrix: TP={summary['tp']} FP={summary['fp']} FN={summary['fn']} TN={summary['tn']}  "
            f"precision={summary['precision']:.3f} recall={summary['recall']:.3f}"
        )
    if matrix["rejected"]:
        console.print(f"rejected: {matrix['rejected']}")


def _evaluation(matrix: Counter[str]) -> dict[str, Any]:
    tp, fp, fn, tn = (matrix[k] for k in ("tp", "fp", "fn", "tn"))
    summary: dict[str, Any] = {"labelled": tp + fp + fn + tn, "rejected": matrix["rejected"]}
    if summary["labelled"]:
        summary.update(
            tp=tp, fp=fp, fn=fn, tn=tn,
            precision=round(tp / (tp + fp), 4) if tp + fp else 1.0,
            recall=round(tp / (tp + fn), 4) if tp + fn else 1.0,
        )
    return summary


# -- export ----------------------------------------------------------------------


def _entries_from_lists(paths: Sequence[str]) -> Selection:
    listed = read_lists(paths)
    selection = Selection()
    selection.refused.merge(listed.rejected)
    seen: set[str] = set()
    for item in listed.names:
        if item.name in seen:
            continue
        seen.add(item.name)
        reason = refusal(item.name)
        if reason:
            selection.refused.add(item.name, reason)
            continue
        selection.entries.append(BlockEntry(name=item.name, scope=item.scope, sources=(item.source,)))
    return selection


@main.command("export")
@click.option("--format", "format_name", required=True, type=click.Choice(sorted(EXPORTERS)), help="Output format.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="File to publish (atomically).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Export from this database (default: DB_PATH setting).")
@click.option("--input", "inputs", multiple=True, type=click.Path(exists=True, dir_okay=False), help="Export from list files instead of the database (repeatable).")
@click.option("--include-suspicious", is_flag=True, help="Also publish suspicious verdicts, not only malicious ones.")
@click.option("--verify/--no-verify", default=False, help="Run the consumer's checker before publishing.")
@click.pass_context
def export_command(
    ctx: click.Context, format_name: str, out: str, db_path: str | None, inputs: tuple[str, ...],
    include_suspicious: bool, verify: bool,
) -> None:
    """Publish a blocklist in one format, from the database or from list files."""
    if inputs and db_path:
        raise click.UsageError("give either --db or --input, not both")
    settings = _settings(ctx, DB_PATH=db_path)
    if inputs:
        selection = _entries_from_lists(inputs)
    else:
        statuses = ["malicious", "suspicious"] if include_suspicious else ["malicious"]
        if not Path(settings.get("DB_PATH")).is_file():
            raise InputError("no-database", f"no database at {settings.get('DB_PATH')}: crawl first, or give --db or --input")
        with Store.open(settings.get("DB_PATH")) as store:
            selection = select_entries(store, statuses)
    result = export(selection.entries, format_name, Path(out), title=settings.get("EXPORT_TITLE"), verify=verify,
                    refused=selection.refused.counts)
    console.print(
        f"{format_name}: {result.blocked} blocked, {result.allowed} allowed -> {out} "
        f"({selection.refused.total + result.rejected} refused; reasons in {result.report_path})",
        highlight=False,
    )


# -- demo ----------------------------------------------------------------------


@main.command("demo")
@click.option("--out", "out_dir", default="fraudwall-demo", show_default=True, type=click.Path(file_okay=False), help="Folder for the database and the blocklists.")
@click.pass_context
def demo_command(ctx: click.Context, out_dir: str) -> None:
    """Crawl the built-in demo site on 127.0.0.1, analyse it and publish blocklists."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "fraudwall.db"
    for stale in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        stale.unlink(missing_ok=True)  # the demo always starts from an empty store
    with SiteServer() as server:
        hosts = site_hosts(server.root)
        settings = _settings(
            ctx, DB_PATH=str(db_path), ALLOW_NETS=["127.0.0.0/8"], HOST_MAP={h: "127.0.0.1" for h in hosts},
            HOST_MAP_ONLY=True,
        )
        targets = read_seeds([server.url(host) for host in hosts]).targets
        with console.status(f"serving the demo site on 127.0.0.1:{server.port} as {len(hosts)} hosts; crawling..."):
            stats = run_crawl(settings, targets)
        console.print(f"crawled the demo site: {len(hosts)} hosts served on 127.0.0.1:{server.port}")
    with Store.open(db_path) as store:
        selection = select_entries(store)
        exported = []
        for format_name, file_name in DEMO_EXPORTS:
            result = export(selection.entries, format_name, out / file_name, title="fraudwall demo blocklist",
                            verify=shutil.which("named-checkzone") is not None or format_name != "rpz",
                            refused=selection.refused.counts)
            exported.append((format_name, out / file_name, result.blocked))
        _print_summary(store, stats, selection, exported)


def _print_summary(store: Store, stats: dict[str, Any], selection: Selection, exported: list[tuple[str, Path, int]]) -> None:
    counts = store.counts()
    failed = sum(v for k, v in stats.items() if k.startswith("fraudwall/fetch_failed/"))
    table = Table(title="fraudwall run", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("pages analysed", str(stats.get("fraudwall/pages", 0)))
    table.add_row("fetches failed", str(failed))
    for status in ("malicious", "suspicious", "benign"):
        table.add_row(f"pages {status}", str(stats.get(f"fraudwall/verdicts/{status}", 0)))
    for category, count in store.finding_counts_by_category().items():
        table.add_row(f"findings: {category}", str(count))
    table.add_row("names blocked", str(len(selection.entries)))
    for reason, count in sorted(selection.refused.counts.items()):
        table.add_row(f"names refused: {reason}", str(count))
    table.add_row("observations stored", str(counts["observations"]))
    console.print(table)
    if selection.entries:
        blocked = Table(title="blocked names")
        for column in ("name", "scope", "categories", "confidence"):
            blocked.add_column(column)
        for entry in selection.entries:
            blocked.add_row(entry.name, str(entry.scope), ", ".join(entry.categories), f"{entry.confidence:.2f}")
        console.print(blocked)
    for format_name, path, count in exported:
        console.print(f"wrote {format_name:8} {path} ({count} entries)")
    for (key, value) in sorted(stats.items()):
        if key.startswith("fraudwall/plugins/") and not key.endswith("/ok"):
            err_console.print(f"plugin problem: {key.removeprefix('fraudwall/plugins/')} x{value}", highlight=False)


if __name__ == "__main__":
    main()
