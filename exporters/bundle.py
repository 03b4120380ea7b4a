"""An export folder: several formats published together, with a manifest and deltas.

``fraudwall export --format hosts,rpz,... --out-dir DIR`` renders every format
beside its file in ``DIR`` and verifies it when asked. Only once every format
is staged are they published, each atomically, one rename after another; a
format that fails leaves every file of the folder at the previous generation.
Then it writes:

* ``entries.txt`` — the generation's entries, one ``block|allow name scope`` or
  ``url URL`` key per line, sorted: what the next generation diffs against;
* ``delta-N.json`` — what was added and removed since generation ``N - 1``
  (the last :data:`DELTAS_KEPT` are kept);
* ``manifest.json`` — written last, so a reader that sees generation ``N`` in it
  finds every file of generation ``N`` in place: files with sha256, size,
  counts, verification, and the RPZ serial where there is one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fraudwall.exceptions import ExportError
from fraudwall.exporters.base import Exporter, ExportMeta
from fraudwall.exporters.parallel import FormatJob, SharedInput, stage_formats, worker_count
from fraudwall.exporters.publish import write_atomic
from fraudwall.exporters.registry import get_exporter
from fraudwall.exporters.run import ExportResult, StagedExport
from fraudwall.entries import SCOPES
from fraudwall.exporters.validation import SharedEntries, prepare
from fraudwall.models import BlockEntry
from fraudwall.rejections import Rejections

MANIFEST = "manifest.json"
SNAPSHOT = "entries.txt"
DELTAS_KEPT = 30

#: The file each format is published as inside an export folder.
FILE_NAMES: dict[str, str] = {
    "hosts": "hosts",
    "domains": "domains.txt",
    "rpz": "fraudwall.rpz",
    "unbound-rpz": "fraudwall.unbound.rpz",
    "dnsmasq": "dnsmasq.conf",
    "unbound": "unbound.conf",
    "adblock": "adblock.txt",
    "squid": "squid-dstdomain.txt",
    "squid-url": "squid-url-regex.txt",
    "suricata": "fraudwall.rules",
    "ipset": "ipset.restore",
    "nftables": "fraudwall.nft",
    "csv": "fraudwall.csv",
    "json": "fraudwall.json",
    "stix": "fraudwall.stix.json",
    "misp": "misp",
}


@dataclass(frozen=True, slots=True)
class BundleResult:
    """What one export folder run published."""

    directory: Path
    generation: int
    results: tuple[ExportResult, ...]
    added: int
    removed: int


def entry_keys(entries: Sequence[BlockEntry]) -> list[str]:
    """The sorted, validated identity of each entry, for deltas."""
    prepared = prepare(entries, allow_underscore=True)
    keys = [f"url {entry.url}" for entry in prepared.urls]
    words = [f" {scope}" for scope in SCOPES]
    for table in (prepared.blocked, prepared.allowed):  # by column: millions of names
        keys += [f"{table.action} {name}{words[scope]}" for name, scope in zip(table.names, table.scopes)]
    keys.sort()  # unique already: one row per name and action, one entry per URL
    return keys


def export_bundle(
    entries: Sequence[BlockEntry],
    formats: Sequence[str],
    directory: Path,
    *,
    title: str,
    verify: bool,
    refused: Rejections | None = None,
    options: Mapping[str, Mapping[str, object]] | None = None,
    generated_at: datetime | None = None,
    workers: int | None = None,
) -> BundleResult:
    """Publish every format in ``formats`` into ``directory``, then the delta and the manifest.

    ``options`` maps a format name to its format options. The formats render
    side by side in ``workers`` processes (default: one per CPU, up to four;
    see :mod:`fraudwall.exporters.parallel`) and are staged beside their files.
    A format that fails (verification included) raises before any is published:
    every format, the manifest, the delta and the entries snapshot stay at the
    previous, complete generation.
    """
    directory.mkdir(parents=True, exist_ok=True)
    entries = SharedEntries(entries)  # each name policy prepared once, not once per format
    when = generated_at or datetime.now(UTC)
    previous = _read_manifest(directory)
    generation = int(previous.get("generation", 0)) + 1
    jobs = [FormatJob(name, directory / FILE_NAMES.get(name, f"fraudwall-{name}.txt"), dict((options or {}).get(name, {})))
            for name in formats]
    workers = worker_count(workers, len(jobs))
    if workers > 1:
        # Each name policy prepared before the workers fork, so that they share its result instead of each
        # redoing it: the base class's preparation, the part formats share (their own refinements, such as
        # MISP's stricter names, run in the workers). The delta is worked out meanwhile, as the workers render.
        for job in jobs:
            Exporter.prepare(get_exporter(job.format), entries, ExportMeta(title, when, job.options))
    delta_name = f"delta-{generation}.json"
    staged, change = stage_formats(
        SharedInput(entries, title, verify, when, refused), jobs, workers=workers,
        meanwhile=lambda: _changes(entries, directory / SNAPSHOT, generation, when),
    )
    results = _commit_all(staged)
    write_atomic(directory / delta_name, change.delta)
    write_atomic(directory / SNAPSHOT, change.snapshot)
    for stale in directory.glob("delta-*.json"):
        number = stale.stem.removeprefix("delta-")
        if number.isdigit() and int(number) <= generation - DELTAS_KEPT:
            stale.unlink()
    write_atomic(directory / MANIFEST, _json({
        "generation": generation,
        "generated_at": when.isoformat(),
        "title": title,
        "entries": change.entries,
        "delta": {"file": delta_name, "added": change.added, "removed": change.removed},
        "files": [_describe(result) for result in results],
    }))
    return BundleResult(directory, generation, tuple(results), change.added, change.removed)


def _commit_all(staged: Sequence[StagedExport]) -> list[ExportResult]:
    """Publish every staged format, in order; if a rename fails, the ones not yet published are discarded.

    The renames follow one another within milliseconds, and the manifest is
    written only after the last one, so a reader that goes by the manifest never
    mixes generations.
    """
    results: list[ExportResult] = []
    try:
        for output in staged:
            results.append(output.commit())
    finally:
        for output in staged[len(results) + 1:]:
            output.discard()
    return results


@dataclass(frozen=True, slots=True)
class _Changes:
    """A generation's entries snapshot and delta, rendered; written only once every format is published."""

    snapshot: str
    delta: str
    entries: int
    added: int
    removed: int


def _changes(entries: Sequence[BlockEntry], snapshot: Path, generation: int, when: datetime) -> _Changes:
    keys = entry_keys(entries)
    old_keys = _read_snapshot(snapshot)
    new_keys = set(keys)
    added = [key for key in keys if key not in old_keys]  # in order: keys are sorted
    removed = sorted(old_keys - new_keys)
    delta = _json({
        "generation": generation, "previous_generation": generation - 1, "generated_at": when.isoformat(),
        "added": added, "removed": removed,
    })
    return _Changes("".join(f"{key}\n" for key in keys), delta, len(keys), len(added), len(removed))


def _describe(result: ExportResult) -> dict[str, object]:
    report = json.loads(result.report_path.read_text(encoding="utf-8"))
    described: dict[str, object] = {
        "format": result.format, "file": result.path.name, "sha256": result.sha256,
        "blocked": result.blocked, "allowed": result.allowed, "rejected": result.rejected,
        "verified": result.verified, "report": result.report_path.name,
    }
    serial = report.get("options", {}).get("serial")
    if serial is not None:
        described["serial"] = serial
    return described


def _read_manifest(directory: Path) -> dict[str, object]:
    path = directory / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ExportError(f"{path} is unreadable; move it away to start a new series: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _read_snapshot(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return set(path.read_text(encoding="utf-8").splitlines())


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
