"""Atomic publishing: a failed build never replaces a good list.

:func:`publish` writes the new file beside the old one, fsyncs it, lets a
verifier (the consumer's own checker) look at it, keeps the old version as
``PATH.prev``, renames the new one over ``PATH`` and fsyncs the directory, so a
reader (or a crash) sees the old file or the new one, never half of either. A
JSON report ``PATH.report.json`` goes beside it, written the same way; it
carries the output's sha256, so a report that does not belong to the file
(a crash between the two renames) is detectable: :func:`published_report`
reads one back only when it belongs.

The temporary files start with a dot and end in ``.tmp``; they are removed on
any failure. A new file gets the old file's permissions, or 0666 less the umask
for a first export (created with ``mkstemp``'s 0600, a resolver running as its
own user could not read it). One writer per path at a time is assumed.

:func:`publish_directory` does the same for a format that is a folder of files
(a MISP feed): the new folder is built and fsynced beside the old one, verified
whole, then swapped in, the old folder kept as ``PATH.prev``.

Each is two steps, :func:`stage` (or :func:`stage_directory`) and
:meth:`StagedOutput.commit`, so that an export folder publishes a generation's
formats only once every one of them is written and verified.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import queue
import secrets
import shutil
import stat
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path
from typing import Any, BinaryIO

from fraudwall.exceptions import OutputError


@dataclass(frozen=True, slots=True)
class PublishResult:
    """Where the output went, what it was, and where the old version is kept."""

    path: Path
    report_path: Path
    previous_path: Path | None
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class StagedOutput:
    """A complete, synced and verified output waiting beside its path, not yet published.

    :meth:`commit` publishes it (the old version kept as ``PATH.prev``);
    :meth:`discard` removes it, leaving ``path`` as it was. Staging every format
    of a folder first lets a generation be published only once all of them are
    good. It holds paths and strings only, so a worker process can hand it back.
    """

    path: Path
    staged: Path
    staged_report: Path
    sha256: str
    size: int
    is_folder: bool

    @property
    def report_path(self) -> Path:
        return self.path.with_name(f"{self.path.name}.report.json")

    def commit(self) -> PublishResult:
        """Put the staged output and its report in place; on any failure both are discarded."""
        temporary: list[Path] = []
        published = False
        try:
            if self.is_folder:
                previous = _swap_in(self.staged, self.path)
            else:
                previous = _keep_previous(self.path, temporary)
                os.replace(self.staged, self.path)
            published = True
            os.replace(self.staged_report, self.report_path)
            _fsync_directory(self.path.parent)
        except OSError as exc:
            raise OutputError(f"cannot publish {self.path}: {exc}") from exc
        finally:
            for leftover in temporary:  # already renamed away on success
                leftover.unlink(missing_ok=True)
            self.staged_report.unlink(missing_ok=True)  # renamed away on success
            if not published:
                self.discard()
        return PublishResult(self.path, self.report_path, previous, self.sha256, self.size)

    def discard(self) -> None:
        """Remove what was staged; what is published stays as it was."""
        self.staged_report.unlink(missing_ok=True)
        if self.is_folder:
            shutil.rmtree(self.staged, ignore_errors=True)
        else:
            self.staged.unlink(missing_ok=True)


def publish(
    text: str | Iterable[str],
    path: Path,
    verify: Callable[[Path], None] | None = None,
    *,
    report: Mapping[str, object] | None = None,
) -> PublishResult:
    """Write ``text`` to ``path`` atomically, after ``verify`` accepted it: :func:`stage` and commit."""
    return stage(text, path, verify, report=report).commit()


def stage(
    text: str | Iterable[str],
    path: Path,
    verify: Callable[[Path], None] | None = None,
    *,
    report: Mapping[str, object] | None = None,
) -> StagedOutput:
    """Write ``text`` and its report beside ``path``, synced, once ``verify`` accepted it.

    ``text`` is the whole output, or its pieces in order: a list of millions of
    names is written as it is rendered (the sha256 is taken on the way), and a
    piece that fails to render (a guard refusing a line) raises with nothing
    staged. ``verify`` gets the path of the new, complete, synced file;
    whatever it raises (typically
    :class:`~fraudwall.exceptions.VerificationError`) propagates, and ``path``,
    its ``.prev`` and its report are left exactly as they were. ``report`` adds
    fields to the JSON report (format, counts, rejections...).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(f"cannot publish {path}: {_not_a_folder(path.parent)}")
    report_path = path.with_name(f"{path.name}.report.json")
    # Found now, not when the staged file is put in place: by then other formats may be published.
    for in_the_way in (path, report_path, path.with_name(f"{path.name}.prev")):
        if in_the_way.is_dir():
            raise OutputError(f"cannot publish the file {path}: a folder {in_the_way.name} is in the way")
    pieces = (text,) if isinstance(text, str) else text
    mode = _mode_of(path)
    temporary: list[Path] = []
    try:
        new = _temp_name(path)
        digest, size = _write_new(new, (piece.encode("utf-8") for piece in pieces), mode, temporary)
        if verify is not None:
            verify(new)
        summary = {**(report or {}), "file": path.name, "sha256": digest, "bytes": size}
        report_data = (json.dumps(summary, indent=2, ensure_ascii=False) + "\n").encode()
        new_report = _write_temp(report_path, report_data, mode, temporary)
        staged = StagedOutput(path, new, new_report, digest, size, is_folder=False)
        temporary.clear()  # staged: kept until committed or discarded
    except OSError as exc:
        raise OutputError(f"cannot publish {path}: {exc}") from exc
    finally:
        for leftover in temporary:
            leftover.unlink(missing_ok=True)
    return staged


def publish_directory(
    files: Mapping[str, str | Iterable[str]],
    path: Path,
    verify: Callable[[Path], None] | None = None,
    *,
    report: Mapping[str, object] | None = None,
) -> PublishResult:
    """Publish ``files`` as the folder ``path`` after ``verify`` accepted it: :func:`stage_directory` and commit."""
    return stage_directory(files, path, verify, report=report).commit()


def stage_directory(
    files: Mapping[str, str | Iterable[str]],
    path: Path,
    verify: Callable[[Path], None] | None = None,
    *,
    report: Mapping[str, object] | None = None,
) -> StagedOutput:
    """Build ``files`` (``{file name: text, or its pieces}``) as a folder beside ``path``, once ``verify`` accepted it.

    The new folder is built under a hidden temporary name, every file and then
    the folder fsynced, and ``verify`` gets it complete. On commit it replaces
    ``path``: where the system can swap two names atomically (Linux
    ``renameat2(RENAME_EXCHANGE)``), a reader always finds either the old folder
    or the new one; elsewhere ``path`` is missing between two renames. The old
    folder becomes ``PATH.prev`` (replacing an older one), and
    ``PATH.report.json`` goes beside it with each file's sha256 and the
    folder's: the sha256 of its ``sha256sum`` listing (``cd PATH && sha256sum *
    | sha256sum`` in the C locale). Whatever fails, ``verify`` included, leaves
    ``path``, its ``.prev`` and its report exactly as they were.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(f"cannot publish {path}: {_not_a_folder(path.parent)}")
    if path.exists() and not path.is_dir():
        raise OutputError(f"cannot publish the folder {path}: a file of that name is in the way")
    report_path = path.with_name(f"{path.name}.report.json")
    if report_path.is_dir():
        raise OutputError(f"cannot publish {path}: a folder {report_path.name} is in the way")
    for name in files:
        # Plain names only: nothing may land outside the folder or hide in it.
        if not name or name != Path(name).name or name.startswith(".") or "\\" in name:
            raise OutputError(f"cannot publish {path}: bad file name {name!r}")
    staged = _temp_name(path)
    temporary: list[Path] = []
    done = False
    try:
        os.mkdir(staged, 0o777)  # through the umask, like any folder the user creates
        folder_mode = _mode_of(path)
        if folder_mode is not None:
            os.chmod(staged, folder_mode)
        written: dict[str, tuple[str, int]] = {}
        for name in sorted(files):  # no list of them to clean: the staged folder goes whole
            content = files[name]
            pieces = (content,) if isinstance(content, str) else content
            written[name] = _write_new(
                staged / name, (piece.encode("utf-8") for piece in pieces), _mode_of(path / name), [])
        _fsync_directory(staged)
        if verify is not None:
            verify(staged)
        digest = _listing_sha256((name, sha) for name, (sha, _) in written.items())
        size = sum(length for _, length in written.values())
        summary = {
            **(report or {}), "folder": path.name, "sha256": digest, "bytes": size,
            "files": {name: {"sha256": sha, "bytes": length} for name, (sha, length) in written.items()},
        }
        report_data = (json.dumps(summary, indent=2, ensure_ascii=False) + "\n").encode()
        new_report = _write_temp(report_path, report_data, _mode_of(report_path), temporary)
        result = StagedOutput(path, staged, new_report, digest, size, is_folder=True)
        done = True
    except OSError as exc:
        raise OutputError(f"cannot publish {path}: {exc}") from exc
    finally:
        if not done:
            for leftover in temporary:
                leftover.unlink(missing_ok=True)
            shutil.rmtree(staged, ignore_errors=True)
    return result


def published_report(path: Path) -> dict[str, Any] | None:
    """The report beside ``path`` if it describes what is published at ``path`` now; ``None`` otherwise.

    A report belongs to its output by the sha256 it carries: the file's, or for
    a folder its listing's (see :func:`stage_directory`). ``None`` when there is
    no report or no output, when either cannot be read, or when the sha256
    differs (a crash between the two renames of a commit left the old report
    beside the new file, or a file was put there by hand): nothing the report
    says can then be taken as true of ``path``. The output is hashed, about a
    second per gigabyte.
    """
    report_path = path.with_name(f"{path.name}.report.json")
    if not report_path.is_file():  # a pipe in its place would never end
        return None
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(report, dict) or not isinstance(report.get("sha256"), str):
        return None
    return report if _published_sha256(path) == report["sha256"] else None


def _published_sha256(path: Path) -> str | None:
    """The sha256 a report of the output at ``path`` carries; ``None`` for anything but a file or a folder of files."""
    try:
        if path.is_file():
            return _file_sha256(path)
        if not path.is_dir():
            return None
        files = [(name, path / name) for name in sorted(os.listdir(path))]
        if not all(file.is_file() for _, file in files):
            return None  # stage_directory writes plain files only: this folder is not one it wrote
        return _listing_sha256((name, _file_sha256(file)) for name, file in files)
    except OSError:
        return None


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _listing_sha256(files: Iterable[tuple[str, str]]) -> str:
    """A folder's sha256 from ``(file name, sha256)`` in name order: that of ``cd PATH && sha256sum * | sha256sum``."""
    listing = "".join(f"{sha}  {name}\n" for name, sha in files)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class StagedState:
    """A small state file (a manifest, a delta) written and synced beside its path, not yet in place."""

    path: Path
    staged: Path

    def commit(self) -> None:
        """Rename the staged file over ``path``; on failure it is removed and ``path`` left as it was."""
        try:
            os.replace(self.staged, self.path)
            _fsync_directory(self.path.parent)
        except OSError as exc:
            self.discard()
            raise OutputError(f"cannot write {self.path}: {exc}") from exc

    def discard(self) -> None:
        self.staged.unlink(missing_ok=True)


def stage_state(path: Path, text: str) -> StagedState:
    """Write ``text`` beside ``path`` and sync it, for :meth:`StagedState.commit` to put in place."""
    if path.is_dir():
        raise OutputError(f"cannot write {path}: a folder of that name is in the way")
    temporary: list[Path] = []
    try:
        staged = _write_temp(path, text.encode("utf-8"), _mode_of(path), temporary)
    except OSError as exc:
        for leftover in temporary:
            leftover.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc}") from exc
    return StagedState(path, staged)


def remove_staged_leftovers(path: Path) -> None:
    """Remove the hidden files a staging for ``path`` may have left when its process was killed."""
    for leftover in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


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
    _write_new(target, (data,), mode, temporary)
    return target


def _write_new(target: Path, pieces: Iterable[bytes], mode: int | None, created: list[Path]) -> tuple[str, int]:
    """Create ``target`` (never an existing file), write ``pieces``, set ``mode`` and fsync; note it in ``created``.

    Returns the sha256 and the size of what was written.
    """
    # 0o666 goes through the umask, like any file the user creates; O_EXCL never reuses a file.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    created.append(target)
    with os.fdopen(fd, "wb") as handle:
        digest, size = _write_pieces(handle, pieces)
        handle.flush()
        if mode is not None:
            os.fchmod(handle.fileno(), mode)
        os.fsync(handle.fileno())
    return digest, size


def _write_pieces(handle: BinaryIO, pieces: Iterable[bytes]) -> tuple[str, int]:
    """Hash and write ``pieces`` in a second thread while the next ones are rendered.

    hashlib and file writes release the GIL for large buffers, so a long list
    is rendered (Python) on one core while the pieces before it are hashed and
    written on another. At most one finished piece waits, so memory stays
    bounded. Whatever fails, in either thread, raises here once the writer has
    stopped.
    """
    waiting: queue.Queue[bytes | None] = queue.Queue(maxsize=1)
    digest = hashlib.sha256()
    failures: list[BaseException] = []

    def drain() -> None:
        try:
            while (piece := waiting.get()) is not None:
                digest.update(piece)
                handle.write(piece)
        except BaseException as exc:  # noqa: BLE001 (handed to the rendering thread, which raises it)
            failures.append(exc)
            while waiting.get() is not None:  # keep taking pieces, so the renderer never blocks
                pass

    writer = threading.Thread(target=drain, name="fraudwall-writer", daemon=True)
    writer.start()
    size = 0
    try:
        for piece in pieces:
            if failures:
                break
            size += len(piece)
            waiting.put(piece)
    finally:
        waiting.put(None)
        writer.join()
    if failures:
        raise failures[0]
    return digest.hexdigest(), size


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


def _swap_in(staged: Path, path: Path) -> Path | None:
    """Put the folder ``staged`` in place of ``path``, keeping the old one as ``PATH.prev``.

    The older ``.prev`` is moved aside first (a rename, so it can be put back if
    the swap fails) and deleted only once the new folder is in place.
    """
    if not path.exists():
        os.rename(staged, path)
        return None
    previous = path.with_name(f"{path.name}.prev")
    discarded = None
    if previous.exists() or previous.is_symlink():
        discarded = _temp_name(previous)
        os.rename(previous, discarded)
    try:
        if _exchange(staged, path):
            try:
                os.rename(staged, previous)  # staged now holds the old folder
            except OSError:
                _exchange(staged, path)  # swap back: the old folder is published again
                raise
        else:
            os.rename(path, previous)
            os.rename(staged, path)
    except OSError:
        if not path.exists() and previous.is_dir():
            os.rename(previous, path)  # the fallback failed half-way: the old folder goes back
        if discarded is not None and not previous.exists():
            os.rename(discarded, previous)
        raise
    if discarded is not None and discarded.is_dir() and not discarded.is_symlink():
        shutil.rmtree(discarded, ignore_errors=True)
    elif discarded is not None:
        discarded.unlink(missing_ok=True)
    return previous


# renameat2(2): swap two names atomically (Linux 3.15+, glibc 2.28+).
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(first: Path, second: Path) -> bool:
    """Swap ``first`` and ``second`` in one atomic step; ``False`` where the system or file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _not_a_folder(directory: Path) -> str:
    """Why ``directory`` cannot hold an output, for messages."""
    return f"{directory} is not a folder" if directory.exists() else f"folder {directory} does not exist"
