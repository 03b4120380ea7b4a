"""Atomic publishing: a failed build never replaces a good list.

:func:`publish` writes the new file beside the old one, fsyncs it, lets a
verifier (the consumer's own checker) look at it, keeps the old version as
``PATH.prev``, renames the new one over ``PATH`` and fsyncs the directory, so a
reader (or a crash) sees the old file or the new one, never half of either. A
JSON report ``PATH.report.json`` goes beside it, written the same way; it
carries the output's sha256, so a report that does not belong to the file
(a crash between the two renames) is detectable.

The temporary files start with a dot and end in ``.tmp``; they are removed on
any failure. A new file gets the old file's permissions, or 0666 less the umask
for a first export (created with ``mkstemp``'s 0600, a resolver running as its
own user could not read it). One writer per path at a time is assumed.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from fraudwall.exceptions import ExportError


@dataclass(frozen=True, slots=True)
class PublishResult:
    """Where the output went, what it was, and where the old version is kept."""

    path: Path
    report_path: Path
    previous_path: Path | None
    sha256: str
    size: int


def publish(
    text: str,
    path: Path,
    verify: Callable[[Path], None] | None = None,
    *,
    report: Mapping[str, object] | None = None,
) -> PublishResult:
    """Write ``text`` to ``path`` atomically, after ``verify`` accepted it.

    ``verify`` gets the path of the new, complete, synced file before it is
    published; whatever it raises (typically
    :class:`~fraudwall.exceptions.VerificationError`) propagates, and ``path``,
    its ``.prev`` and its report are left exactly as they were. ``report`` adds
    fields to the JSON report (format, counts, rejections...).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise ExportError(f"cannot publish {path}: directory {path.parent} does not exist")
    data = text.encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    report_path = path.with_name(f"{path.name}.report.json")
    summary = {**(report or {}), "file": path.name, "sha256": digest, "bytes": len(data)}
    report_data = (json.dumps(summary, indent=2, ensure_ascii=False) + "\n").encode()
    mode = _mode_of(path)
    temporary: list[Path] = []
    try:
        new = _write_temp(path, data, mode, temporary)
        if verify is not None:
            verify(new)
        new_report = _write_temp(report_path, report_data, mode, temporary)
        previous = _keep_previous(path, temporary)
        os.replace(new, path)
        os.replace(new_report, report_path)
        _fsync_directory(path.parent)
    except OSError as exc:
        raise ExportError(f"cannot publish {path}: {exc}") from exc
    finally:
        for leftover in temporary:  # already renamed away on success
            leftover.unlink(missing_ok=True)
    return PublishResult(path, report_path, previous, digest, len(data))


def _mode_of(path: Path) -> int | None:
    """The permission bits of the file being replaced, if there is one."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def _temp_name(path: Path) -> Path:
    """A fresh hidden name beside ``path``: same directory, so the rename is atomic."""
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")


def _write_temp(path: Path, data: bytes, mode: int | None, temporary: list[Path]) -> Path:
    """Write ``data`` to a new temporary file beside ``path`` and fsync it."""
    target = _temp_name(path)
    # 0o666 goes through the umask, like any file the user creates; O_EXCL never reuses a file.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    temporary.append(target)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        if mode is not None:
            os.fchmod(handle.fileno(), mode)
        os.fsync(handle.fileno())
    return target


def _keep_previous(path: Path, temporary: list[Path]) -> Path | None:
    """Keep the file about to be replaced as ``PATH.prev``; ``None`` if there is none.

    A hard link costs nothing and is the old file exactly; where links are not
    possible (some network and FAT file systems) the file is copied. Either way
    the new ``.prev`` is renamed into place, so the old ``.prev`` stays whole
    until the last moment.
    """
    if not path.exists():
        return None
    staged = _temp_name(path)
    temporary.append(staged)
    try:
        os.link(path, staged)
    except OSError:
        shutil.copy2(path, staged)
        with staged.open("rb") as handle:
            os.fsync(handle.fileno())
    previous = path.with_name(f"{path.name}.prev")
    os.replace(staged, previous)
    return previous


def _fsync_directory(directory: Path) -> None:
    """Make the renames durable: they live in the directory, not in the files."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
