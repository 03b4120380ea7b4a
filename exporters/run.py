"""One call from entries to a published, verified file (or folder): what ``fraudwall export`` runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fraudwall.exporters.base import ExportMeta, FolderExporter, comment_text
from fraudwall.exporters.publish import StagedOutput, stage, stage_directory
from fraudwall.exporters.registry import get_exporter
from fraudwall.models import BlockEntry
from fraudwall.rejections import Rejections


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What :func:`export` published, with the counts the CLI prints."""

    path: Path
    report_path: Path
    previous_path: Path | None
    format: str
    sha256: str
    blocked: int
    allowed: int
    rejected: int
    verified: bool


@dataclass(frozen=True, slots=True)
class StagedExport:
    """A format rendered and verified beside its path (:func:`stage_export`), waiting to be published."""

    output: StagedOutput
    format: str
    blocked: int
    allowed: int
    rejected: int
    verified: bool

    def commit(self) -> ExportResult:
        """Publish the staged file (or folder); see :meth:`StagedOutput.commit`."""
        published = self.output.commit()
        return ExportResult(
            path=published.path, report_path=published.report_path,
            previous_path=published.previous_path, format=self.format, sha256=published.sha256,
            blocked=self.blocked, allowed=self.allowed, rejected=self.rejected, verified=self.verified,
        )

    def discard(self) -> None:
        """Remove the staged output; the published one stays as it was."""
        self.output.discard()


def export(
    entries: Sequence[BlockEntry],
    format_name: str,
    path: Path,
    *,
    title: str,
    verify: bool,
    generated_at: datetime | None = None,
    refused: Rejections | None = None,
    **options: object,
) -> ExportResult:
    """Render ``entries`` as ``format_name``, verify, and publish atomically to ``path``.

    :func:`stage_export`, then commit: the arguments are the same.
    """
    return stage_export(entries, format_name, path, title=title, verify=verify, generated_at=generated_at,
                        refused=refused, **options).commit()


def stage_export(
    entries: Sequence[BlockEntry],
    format_name: str,
    path: Path,
    *,
    title: str,
    verify: bool,
    generated_at: datetime | None = None,
    refused: Rejections | None = None,
    **options: object,
) -> StagedExport:
    """Render ``entries`` as ``format_name`` and verify it beside ``path``, ready to publish.

    ``path`` is a file, or a folder for formats that write several files (misp).

    ``options`` are the format's own (e.g. ``zone=``, ``ttl=``, ``serial=`` for
    rpz). With ``verify`` the format's verifier must accept the file first; a
    rejected file raises :class:`~fraudwall.exceptions.VerificationError` and
    the previous file stays in place. ``refused`` holds the candidates an
    earlier step (selection guards, list reading) kept out: the report beside
    the file counts them by reason and shows the first of them, so it accounts
    for every input.
    """
    exporter = get_exporter(format_name)
    path = Path(path)
    meta = ExportMeta(title, generated_at or datetime.now(UTC), options)
    meta = exporter.continue_from(path, meta)
    prepared = exporter.prepare(entries, meta)
    # Rendered piece by piece as it is written: a render guard that refuses stops
    # the export there, and the published file stays as it was.
    output = (exporter.render_files(prepared, meta) if isinstance(exporter, FolderExporter)
              else exporter.render_chunks(prepared, meta))
    checker: Callable[[Path], None] | None = None
    if verify:

        def checker(candidate: Path) -> None:
            exporter.verify(candidate, meta)

    report = {
        "format": exporter.name,
        "title": comment_text(meta.title),
        "generated_at": meta.generated_at.isoformat(),
        "options": dataclasses.asdict(exporter.options(meta)),
        "blocked": len(prepared.blocked),
        "allowed": len(prepared.allowed),
        "merged_duplicates": prepared.merged,
        "rejected": prepared.rejected,
        "rejections": dict(sorted(prepared.rejections.items())),
        "samples": [{"input": raw, "reason": reason} for raw, reason in prepared.samples],
        "refused_before_export": dict(sorted(refused.counts.items())) if refused else {},
        "refused_samples_before_export": [{"input": raw, "reason": reason} for raw, reason in refused.samples]
        if refused else [],
        "notes": exporter.notes_once(prepared),
        "verified": verify,
    }
    if isinstance(output, dict):  # a folder format (MISP feed): all its files swap in together
        staged = stage_directory(output, path, checker, report=report)
    else:
        staged = stage(output, path, checker, report=report)
    return StagedExport(staged, exporter.name, len(prepared.blocked), len(prepared.allowed), prepared.rejected, verify)
