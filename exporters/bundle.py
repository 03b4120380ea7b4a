"""An export folder: several formats published together, with a manifest and deltas.

``fraudwall export --format hosts,rpz,... --out-dir DIR`` renders every format
beside its file in ``DIR`` and verifies it when asked, and stages these state
files beside theirs too. Only once everything is staged is it published, each
file atomically, one rename after another (see :func:`_commit_all`); a format
or state file that fails leaves every file of the folder at the previous
generation. The state files:

* ``entries.txt`` — the generation's entries, one ``block|allow name scope`` or
  ``url URL`` key per line, sorted: what the next generation diffs against;
* ``delta-N.json`` — what was added and removed since generation ``N - 1``
  (the last :data:`DELTAS_KEPT` are kept);
* ``manifest.json`` — put in place last, so a reader that sees generation ``N`` in it
  finds every file of generation ``N`` in place: files with sha256, size,
  counts, verification, and the RPZ serial where there is one; each file's
  ``entries`` beside the ``previous_entries`` the collapse guard compared them
  with, and the guard's ``max_shrink`` (both null when it did not run).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fraudwall.exceptions import ExportError, PublishRefused
from fraudwall.exporters.collapse import CollapseGuard
from fraudwall.exporters.parallel import stage_formats, worker_count
from fraudwall.exporters.publish import StagedState, stage_state
from fraudwall.exporters.run import CheckedExport, ExportResult, StagedExport, check_export
from fraudwall.entries import SCOPES
from fraudwall.exporters.validation import SharedEntries, prepare
from fraudwall.models import BlockEntry
from fraudwall.rejections import Rejections

MANIFEST = "manifest.json"
SNAPSHOT = "entries.txt"
DELTAS_KEPT = 30
#: Generations a folder counts up to: one a minute for a million years.
MAX_GENERATION = 10**12

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
    collapse: CollapseGuard | None = None,
) -> BundleResult:
    """Publish every format in ``formats`` into ``directory``, then the delta and the manifest.

    ``options`` maps a format name to its format options. The formats render
    side by side in ``workers`` processes (default: one per CPU, up to four;
    see :mod:`fraudwall.exporters.parallel`) and are staged beside their files.
    A format that fails (verification included) raises before any is published:
    every format, the manifest, the delta and the entries snapshot stay at the
    previous, complete generation. With ``collapse`` every format is held to
    the guard before any is rendered, and the refusals of all of them raise
    together as one :class:`~fraudwall.exceptions.PublishRefused`: nothing in
    the folder changes and the generation does not advance.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with _only_writer(directory):
        return _export_generation(entries, formats, directory, title=title, verify=verify, refused=refused,
                                  options=options, generated_at=generated_at, workers=workers, collapse=collapse)


@contextmanager
def _only_writer(directory: Path) -> Iterator[None]:
    """Hold ``directory``'s lock for one generation: a second export into it meanwhile is an error.

    Two at once would both number their generation N + 1 and lose a delta.
    The lock is on the folder itself (``flock``), so no lock file is left behind.
    """
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ExportError(f"another export is writing {directory}; try again when it has finished") from exc
        yield
    finally:
        os.close(fd)  # releases the lock


def _export_generation(
    entries: Sequence[BlockEntry],
    formats: Sequence[str],
    directory: Path,
    *,
    title: str,
    verify: bool,
    refused: Rejections | None,
    options: Mapping[str, Mapping[str, object]] | None,
    generated_at: datetime | None,
    workers: int | None,
    collapse: CollapseGuard | None,
) -> BundleResult:
    entries = SharedEntries(entries)  # each name policy prepared once, not once per format
    when = generated_at or datetime.now(UTC)
    previous = _read_manifest(directory)
    generation = int(previous.get("generation", 0)) + 1
    # Every format is prepared and checked here before any renders: worker processes inherit the
    # preparations (fork) instead of each redoing them, and one refusal stops the folder before
    # anything in it is written. The delta is worked out meanwhile, as the formats render.
    exports = _check_formats(entries, formats, directory, title=title, when=when, refused=refused,
                             options=options or {}, collapse=collapse)
    delta_name = f"delta-{generation}.json"
    staged, change = stage_formats(
        exports, verify=verify, workers=worker_count(workers, len(exports)),
        meanwhile=lambda: _changes(entries, directory / SNAPSHOT, generation, when),
    )
    # The state files are staged too before anything is published: a folder in the way of one
    # must not be found once the formats are in place.
    states: list[StagedState] = []
    try:
        manifest = _json({
            "generation": generation,
            "generated_at": when.isoformat(),
            "title": title,
            "entries": change.entries,
            "max_shrink": collapse.max_shrink if collapse else None,  # null: published without the collapse guard
            "delta": {"file": delta_name, "added": change.added, "removed": change.removed},
            "files": [_describe(output) for output in staged],
        })
        for name, text in ((delta_name, change.delta), (SNAPSHOT, change.snapshot), (MANIFEST, manifest)):
            states.append(stage_state(directory / name, text))
    except BaseException:
        for output in [*staged, *states]:
            output.discard()
        raise
    results = _commit_all(staged, states)
    for stale in directory.glob("delta-*.json"):
        number = stale.stem.removeprefix("delta-")
        if number.isdigit() and int(number) <= generation - DELTAS_KEPT:
            stale.unlink()
    return BundleResult(directory, generation, tuple(results), change.added, change.removed)


def _check_formats(
    entries: SharedEntries,
    formats: Sequence[str],
    directory: Path,
    *,
    title: str,
    when: datetime,
    refused: Rejections | None,
    options: Mapping[str, Mapping[str, object]],
    collapse: CollapseGuard | None,
) -> list[CheckedExport]:
    """Every format prepared for its file in ``directory`` and held to ``collapse``.

    Every format is checked, so one :class:`~fraudwall.exceptions.PublishRefused`
    names all those refused: each format counts what it publishes (an ipset
    only addresses, squid-url only URLs), so one may collapse alone.
    """
    exports: list[CheckedExport] = []
    reasons: list[str] = []
    for name in formats:
        path = directory / FILE_NAMES.get(name, f"fraudwall-{name}.txt")
        try:
            exports.append(check_export(entries, name, path, title=title, generated_at=when, refused=refused,
                                        collapse=collapse, **dict(options.get(name, {}))))
        except PublishRefused as exc:
            reasons += exc.reasons
    if reasons:
        raise PublishRefused(reasons)
    return exports


def _commit_all(staged: Sequence[StagedExport], states: Sequence[StagedState]) -> list[ExportResult]:
    """Publish every staged format, in order, then the state files, the manifest last.

    Only renames are left by now, and everything that could stop one (a folder
    in the way of a file, a missing directory) was checked while staging; they
    follow one another within milliseconds. Should one fail all the same (a
    disk error), the formats before it are published, those after it and the
    state files are discarded, and the manifest still names the previous
    generation: a reader that goes by the manifest's sha256 sees which files
    moved on.
    """
    results: list[ExportResult] = []
    committed_states = 0
    try:
        for output in staged:
            results.append(output.commit())
        for state in states:
            state.commit()
            committed_states += 1
    finally:
        for output in staged[len(results) + 1:]:
            output.discard()
        for state in states[committed_states + 1:]:
            state.discard()
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


def _describe(staged: StagedExport) -> dict[str, object]:
    output = staged.output
    report = json.loads(output.staged_report.read_text(encoding="utf-8"))
    described: dict[str, object] = {
        "format": staged.format, "file": output.path.name, "sha256": output.sha256,
        "blocked": staged.blocked, "allowed": staged.allowed, "rejected": staged.rejected,
        "verified": staged.verified, "report": output.report_path.name,
        "entries": staged.entries, "previous_entries": staged.previous_entries,
    }
    serial = report.get("options", {}).get("serial")
    if serial is not None:
        described["serial"] = serial
    return described


def _read_manifest(directory: Path) -> dict[str, object]:
    """The previous generation's manifest, ``{}`` for a new folder; :class:`ExportError` if it is not one of ours."""
    path = directory / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ExportError(f"{path} is unreadable; move it away to start a new series: {exc}") from exc
    generation = data.get("generation") if isinstance(data, dict) else None
    # bool is an int to Python, not a generation; the bound keeps delta file names short.
    if not (isinstance(generation, int) and not isinstance(generation, bool) and 0 <= generation < MAX_GENERATION):
        raise ExportError(f"{path} has no generation from 0 to {MAX_GENERATION - 1}; move it away to start a new series")
    return data


def _read_snapshot(path: Path) -> set[str]:
    if not path.exists():
        return set()
    try:
        return set(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path} is unreadable; move it away (the next delta then lists every entry): {exc}") from exc


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
