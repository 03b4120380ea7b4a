"""One call from entries to a published, verified file (or folder): what ``fraudwall export`` runs."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fraudwall.exceptions import PublishRefused
from fraudwall.exporters.base import Exporter, ExportMeta, FolderExporter, comment_text
from fraudwall.exporters.collapse import CollapseGuard, previous_entries
from fraudwall.exporters.publish import StagedOutput, stage, stage_directory
from fraudwall.exporters.registry import get_exporter
from fraudwall.exporters.validation import PreparedEntries
from fraudwall.models import BlockEntry
from fraudwall.rejections import Rejections


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What :func:`export` published, with the counts the CLI prints.

    ``entries`` is what the format published (:meth:`Exporter.entry_count`),
    ``previous_entries`` the previous generation's count the collapse guard
    compared it with (``None`` when unknown, or without a guard).
    """

    path: Path
    report_path: Path
    previous_path: Path | None
    format: str
    sha256: str
    blocked: int
    allowed: int
    rejected: int
    verified: bool
    entries: int
    previous_entries: int | None


@dataclass(frozen=True, slots=True)
class StagedExport:
    """A format rendered and verified beside its path (:func:`stage_export`), waiting to be published."""

    output: StagedOutput
    format: str
    blocked: int
    allowed: int
    rejected: int
    verified: bool
    entries: int
    previous_entries: int | None

    def commit(self) -> ExportResult:
        """Publish the staged file (or folder); see :meth:`StagedOutput.commit`."""
        published = self.output.commit()
        return ExportResult(
            path=published.path, report_path=published.report_path,
            previous_path=published.previous_path, format=self.format, sha256=published.sha256,
            blocked=self.blocked, allowed=self.allowed, rejected=self.rejected, verified=self.verified,
            entries=self.entries, previous_entries=self.previous_entries,
        )

    def discard(self) -> None:
        """Remove the staged output; the published one stays as it was."""
        self.output.discard()


@dataclass(frozen=True, slots=True)
class CheckedExport:
    """A format's entries prepared for its path and let through by the collapse guard (:func:`check_export`).

    Nothing is rendered or written yet: :meth:`stage` does that. An export
    folder checks every format this way before it renders any, and its worker
    processes inherit these (fork), so none is prepared twice.
    """

    exporter: Exporter[Any]
    meta: ExportMeta
    prepared: PreparedEntries
    path: Path
    refused: Rejections | None
    entries: int
    previous_entries: int | None
    collapse: CollapseGuard | None

    def stage(self, *, verify: bool) -> StagedExport:
        """Render the format and verify it beside its path, ready to publish (see :func:`stage_export`)."""
        exporter, meta, prepared, refused = self.exporter, self.meta, self.prepared, self.refused
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
            "entries": self.entries,
            # What the collapse guard allowed; both null when it did not run.
            "previous_entries": self.previous_entries,
            "max_shrink": self.collapse.max_shrink if self.collapse else None,
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
            staged = stage_directory(output, self.path, checker, report=report)
        else:
            staged = stage(output, self.path, checker, report=report)
        return StagedExport(staged, exporter.name, len(prepared.blocked), len(prepared.allowed), prepared.rejected,
                            verify, self.entries, self.previous_entries)


def export(
    entries: Sequence[BlockEntry],
    format_name: str,
    path: Path,
    *,
    title: str,
    verify: bool,
    generated_at: datetime | None = None,
    refused: Rejections | None = None,
    collapse: CollapseGuard | None = None,
    **options: object,
) -> ExportResult:
    """Render ``entries`` as ``format_name``, verify, and publish atomically to ``path``.

    :func:`stage_export`, then commit: the arguments are the same.
    """
    return stage_export(entries, format_name, path, title=title, verify=verify, generated_at=generated_at,
                        refused=refused, collapse=collapse, **options).commit()


def stage_export(
    entries: Sequence[BlockEntry],
    format_name: str,
    path: Path,
    *,
    title: str,
    verify: bool,
    generated_at: datetime | None = None,
    refused: Rejections | None = None,
    collapse: CollapseGuard | None = None,
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
    for every input. With ``collapse``, a list that would collapse raises
    :class:`~fraudwall.exceptions.PublishRefused` before anything is rendered
    (see :func:`check_export`).
    """
    return check_export(entries, format_name, path, title=title, generated_at=generated_at, refused=refused,
                        collapse=collapse, **options).stage(verify=verify)


def check_export(
    entries: Sequence[BlockEntry],
    format_name: str,
    path: Path,
    *,
    title: str,
    generated_at: datetime | None = None,
    refused: Rejections | None = None,
    collapse: CollapseGuard | None = None,
    **options: object,
) -> CheckedExport:
    """Prepare ``entries`` as ``format_name`` for ``path`` and hold them to ``collapse``; nothing is written.

    The arguments are :func:`stage_export`'s. The format counts what it would
    publish (:meth:`~fraudwall.exporters.base.Exporter.entry_count`). With a
    guard (``None``: no guard), that count is compared with the previous
    generation's, read from the report beside ``path``
    (:func:`~fraudwall.exporters.collapse.previous_entries`), and a list the
    guard refuses raises :class:`~fraudwall.exceptions.PublishRefused` with its
    reasons. The report of what is then published records the count as
    ``entries``, and what the guard allowed as ``previous_entries`` and
    ``max_shrink`` (both null without a guard).
    """
    exporter = get_exporter(format_name)
    path = Path(path)
    meta = ExportMeta(title, generated_at or datetime.now(UTC), options)
    meta = exporter.continue_from(path, meta)
    prepared = exporter.prepare(entries, meta)
    count = exporter.entry_count(prepared)
    previous = None
    if collapse is not None:
        previous = previous_entries(path)
        rejections = Counter(prepared.rejections)
        if refused:
            rejections.update(refused.counts)
        kept = len(prepared.blocked) + len(prepared.allowed) + len(prepared.urls) + len(prepared.indicators)
        reasons = collapse.refusals(exporter.name, previous=previous, entries=count, kept=kept, rejections=rejections)
        if reasons:
            raise PublishRefused(reasons)
    return CheckedExport(exporter, meta, prepared, path, refused, count, previous, collapse)
