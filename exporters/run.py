"""One call from entries to a published, verified file (or folder): what ``fraudwall export`` runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fraudwall.exporters.base import ExportMeta, FolderExporter, comment_text
from fraudwall.exporters.publish import publish, publish_directory
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
    # the export there, and publish() leaves the published file as it was.
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
        published = publish_directory(output, path, checker, report=report)
    else:
        published = publish(output, path, checker, report=report)
    return ExportResult(
        path=published.path, report_path=published.report_path,
        previous_path=published.previous_path, format=exporter.name, sha256=published.sha256,
        blocked=len(prepared.blocked), allowed=len(prepared.allowed),
        rejected=prepared.rejected, verified=verify,
    )
