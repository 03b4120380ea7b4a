"""Page and APK detector: YARA rules from the analyst's directories, over page bodies and archives.

Every ``.yar``/``.yara`` file under the directories of the ``YARA_DIRS`` setting
(``--yara DIR``) is compiled in its own namespace (the file's path), so rule
names may repeat across files and one broken file never blocks the others: a
file that fails to compile is logged with its name and YARA's error, listed in
:attr:`YaraRuleSet.errors`, and left out; the rest are scanned.

The files are compiled together into one :class:`yara.Rules` object, because
scanning once with all rules costs a fraction of scanning once per file; when
that compile fails, YARA's error names the file (``path(line): message``), that
file is set aside and the rest compiled again. Only an error that names no file
falls back to compiling each file on its own to find the culprits. Compiled
rules are cached per process and per ``YARA_DIRS`` value. The external
variables community rule sets use (``filename``, ``extension`` ...) are
declared, empty for a page and set from the member's name in an archive.

Page bodies (``page.html`` encoded as UTF-8) are scanned with YARA's own
timeout, :data:`SCAN_TIMEOUT`: YARA runs in C, where the plugin host's alarm
cannot interrupt it. A timeout raises, and the host counts it as the plugin's
error for that page.

Each matching rule's meta may set ``category`` (default ``phishing_kit``) and
``score`` (default :data:`DEFAULT_SCORE`). Rules of one category that match one
body make a single finding, scored by the strongest (stored findings are keyed
by category), with the rule names and matched string identifiers and offsets
as evidence.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yara

from fraudwall.hookspecs import hookimpl
from fraudwall.models import ApkObservation, Finding, PageObservation, SubjectKind
from fraudwall.plugins.rules_engine import RuleFileError
from fraudwall.plugins.rule_files import files_digest
from fraudwall.settings import Settings

log = logging.getLogger(__name__)

name = "yara_rules"
version = "1.0"

YARA_SUFFIXES = (".yar", ".yara")
DEFAULT_CATEGORY = "phishing_kit"
#: A YARA signature says "this is a known kit" but not how sure its author is:
#: unless its meta says ``score``, one match alone makes a page suspicious (0.40),
#: not malicious (0.75), so a loose rule cannot publish a block on its own.
DEFAULT_SCORE = 0.7
#: Seconds YARA may spend on one scan (YARA counts whole seconds).
SCAN_TIMEOUT = 2
#: Evidence limits: matched strings shown per rule, rules shown per finding.
MAX_STRINGS_PER_RULE = 5
MAX_RULES_PER_FINDING = 8
MATCHED_DATA_MAX = 32

# Archive limits: zip headers may lie about sizes, so what is actually
# decompressed is counted and capped, never what the archive declares.
ARCHIVE_MAX_MEMBERS = 2000
ARCHIVE_MAX_MEMBER_BYTES = 5 * 1024 * 1024
ARCHIVE_MAX_TOTAL_BYTES = 50 * 1024 * 1024

# The external variables that community rule sets (LOKI, THOR, signature-base)
# read: declared at compile time so their rules compile, set per scan. A page
# body has no file name; an archive member's name fills them.
EXTERNALS = {"filename": "", "filepath": "", "extension": "", "filetype": "", "owner": ""}

_ERROR_LOCATION = re.compile(r"^(?P<path>.+?)\((?P<line>\d+)\): ")


@dataclass(frozen=True, slots=True)
class YaraHit:
    """One rule that matched some bytes: a page body, an archive, or one archive member."""

    rule: str
    namespace: str  # the rule file
    category: str
    score: float
    description: str
    strings: tuple[tuple[str, int, bytes], ...]  # (identifier, offset, first MATCHED_DATA_MAX bytes matched)
    member: str = ""  # the archive member scanned, "" for the bytes given

    def evidence(self) -> str:
        """The rule, its file, and where its strings matched, in one line."""
        shown = ", ".join(
            f"{identifier}@{offset} {data.decode('utf-8', 'replace')!r}"
            for identifier, offset, data in self.strings[:MAX_STRINGS_PER_RULE]
        )
        more = len(self.strings) - MAX_STRINGS_PER_RULE
        where = f" in {self.member}" if self.member else ""
        line = f"{self.rule} ({Path(self.namespace).name}){where}"
        if shown:
            line += f": {shown}" + (f" and {more} more" if more > 0 else "")
        return line


def _meta_score(meta: dict[str, Any], rule: str) -> float:
    value = meta.get("score")
    if value is None:
        return DEFAULT_SCORE
    try:
        score = float(value)
    except (TypeError, ValueError):
        score = -1.0
    if not 0.0 <= score <= 1.0:
        log.warning("YARA rule %s has meta score %r, not a number from 0 to 1; using %s", rule, value, DEFAULT_SCORE)
        return DEFAULT_SCORE
    return score


def _hit(match: Any, member: str = "") -> YaraHit:
    """A :class:`YaraHit` from a yara-python match object."""
    meta = dict(match.meta)
    strings = tuple(
        (string.identifier, instance.offset, bytes(instance.matched_data[:MATCHED_DATA_MAX]))
        for string in match.strings
        for instance in string.instances
    )
    return YaraHit(
        rule=match.rule, namespace=match.namespace,
        category=str(meta.get("category") or DEFAULT_CATEGORY), score=_meta_score(meta, match.rule),
        description=str(meta.get("description") or ""), strings=strings, member=member,
    )


# -- compiling ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YaraRuleSet:
    """The compiled rules of some directories, and the files that failed to compile."""

    rules: yara.Rules | None  # None when no file compiled
    files: tuple[str, ...]  # the files compiled in
    errors: tuple[RuleFileError, ...]

    def scan(self, data: bytes, member: str = "", timeout: int = SCAN_TIMEOUT) -> list[YaraHit]:
        """Every rule matching ``data``; raises ``yara.TimeoutError`` past ``timeout`` seconds."""
        if self.rules is None:
            return []
        externals = _externals(member)
        return [_hit(match, member) for match in self.rules.match(data=data, externals=externals, timeout=timeout)]


def _externals(member: str) -> dict[str, str]:
    """The external variables for scanning ``member`` of an archive ("" for a page or a whole archive)."""
    if not member:
        return EXTERNALS
    path = PurePosixPath(member)
    return {**EXTERNALS, "filename": path.name, "filepath": str(path.parent), "extension": path.suffix.lower()}


def yara_files(directory: Path) -> Iterator[Path]:
    """The YARA files under ``directory`` (recursively), in a stable order."""
    for path in sorted(directory.rglob("*")):
        if path.suffix.lower() in YARA_SUFFIXES and path.is_file():
            yield path


def _reason(message: str, path: str) -> str:
    """YARA's ``path(12): undefined string "$b"`` as ``line 12: undefined string "$b"``."""
    located = _ERROR_LOCATION.match(message)
    if located and located.group("path") == path:
        return f"line {located.group('line')}: {message[located.end():]}"
    return message


def _compile_error(path: str) -> str:
    """YARA's error for ``path`` compiled alone, or "" when it compiles."""
    try:
        yara.compile(filepath=path, externals=EXTERNALS)
    except yara.Error as exc:
        return str(exc)
    return ""


def compile_files(paths: Sequence[str | Path]) -> YaraRuleSet:
    """Compile ``paths`` together, each in its own namespace, leaving out (and reporting) those that fail."""
    pending = {str(path): str(path) for path in paths}
    errors: list[RuleFileError] = []
    while pending:
        try:
            rules = yara.compile(filepaths=pending, externals=EXTERNALS)
        except yara.Error as exc:
            message = str(exc)
            located = _ERROR_LOCATION.match(message)
            if located and located.group("path") in pending:
                failed = {located.group("path"): message}
            else:  # e.g. an error inside an included file: find the culprits one by one
                failed = {path: error for path in pending if (error := _compile_error(path))}
                # Each compiles alone but not together (a YARA limit, say): nothing can be kept.
                failed = failed or dict.fromkeys(pending, message)
            for path, error in failed.items():
                errors.append(RuleFileError(path, _reason(error, path)))
                log.error("YARA file %s does not compile and is skipped: %s", path, errors[-1].reason)
                del pending[path]
            continue
        for warning in rules.warnings:
            log.debug("YARA warning: %s", warning)
        return YaraRuleSet(rules=rules, files=tuple(pending), errors=tuple(errors))
    return YaraRuleSet(rules=None, files=(), errors=tuple(errors))


def compile_dirs(directories: Iterable[str | Path]) -> YaraRuleSet:
    """Compile every YARA file under ``directories``; a missing directory is reported, not raised."""
    paths: list[Path] = []
    missing: list[RuleFileError] = []
    for directory in map(Path, directories):
        if directory.is_dir():
            paths.extend(yara_files(directory))
        else:
            missing.append(RuleFileError(str(directory), "not a directory"))
            log.error("YARA directory %s rejected: not a directory", directory)
    compiled = compile_files(paths)
    log.info("compiled %d YARA files; %d rejected", len(compiled.files), len(compiled.errors) + len(missing))
    return YaraRuleSet(compiled.rules, compiled.files, (*missing, *compiled.errors))


@functools.cache
def _compiled(directories: tuple[str, ...]) -> YaraRuleSet:
    return compile_dirs(directories)


def ruleset(settings: Settings) -> YaraRuleSet:
    """The compiled rules of ``YARA_DIRS``, compiled once per process."""
    return _compiled(tuple(str(directory) for directory in settings.getlist("YARA_DIRS")))


@hookimpl
def configure(settings: Settings) -> str | None:
    """Compile the rules now, before any page; name them by a digest of their files (none without rules)."""
    return files_digest(ruleset(settings).files) or None


# -- findings ------------------------------------------------------------------------


def findings(subject: str, hits: Sequence[YaraHit], what: str = "page body") -> list[Finding]:
    """One finding per category of ``hits``, scored by its strongest rule."""
    by_category: dict[str, list[YaraHit]] = {}
    for hit in hits:
        by_category.setdefault(hit.category, []).append(hit)
    result = []
    for category, group in by_category.items():
        group.sort(key=lambda hit: -hit.score)
        described = [f"{hit.rule}" + (f" ({hit.description})" if hit.description else "") for hit in group]
        result.append(Finding(
            subject=subject, detector=name, detector_version=version, category=category, score=group[0].score,
            reason=f"YARA rules matched the {what}: " + "; ".join(described[:MAX_RULES_PER_FINDING]) + ".",
            evidence=tuple(hit.evidence() for hit in group[:MAX_RULES_PER_FINDING]),
        ))
    return result


@hookimpl
def analyze_page(page: PageObservation, settings: Settings) -> list[Finding]:
    """Scan the page body with the rules of ``YARA_DIRS``."""
    rules = ruleset(settings)
    if rules.rules is None:
        return []
    return findings(page.final_url, rules.scan(page.html.encode("utf-8")))


@hookimpl
def analyze_apk(apk: ApkObservation, archive: bytes, settings: Settings) -> list[Finding]:
    """Scan the APK file and its members (:func:`scan_archive`, bomb-safe) with the rules of ``YARA_DIRS``."""
    rules = ruleset(settings)
    if rules.rules is None or not archive:
        return []
    scan = scan_archive(archive, rules)
    return [replace(finding, subject_kind=SubjectKind.APK)
            for finding in findings(apk.sha256, scan.hits, "APK and its files")]


# -- archives ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArchiveScan:
    """What scanning an archive found, and what it left out and why."""

    hits: tuple[YaraHit, ...]
    members_scanned: int
    bytes_scanned: int
    skipped: tuple[tuple[str, str], ...]  # (member or "" for the archive, reason)


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes | None:
    """The member's bytes, or ``None`` when it decompresses to more than ``cap``."""
    with archive.open(info) as handle:
        data = handle.read(cap + 1)  # never more than cap + 1, whatever the header claims
    return None if len(data) > cap else data


def scan_archive(
    data: bytes,
    rules: YaraRuleSet,
    *,
    max_members: int = ARCHIVE_MAX_MEMBERS,
    max_member_bytes: int = ARCHIVE_MAX_MEMBER_BYTES,
    max_total_bytes: int = ARCHIVE_MAX_TOTAL_BYTES,
    timeout: int = SCAN_TIMEOUT,
) -> ArchiveScan:
    """Scan a downloaded archive: its own bytes, then each zip member, within bomb-safe limits.

    The archive's bytes are scanned whole first: phishing-kit rules such as the
    community set look at the zip itself (its local headers name the kit's
    files). Then, if it is a zip, each regular member is decompressed, at most
    ``max_member_bytes`` of it (a larger one is skipped), at most
    ``max_members`` members and ``max_total_bytes`` decompressed in all (the
    rest is skipped): a zip bomb costs at most those bytes, whatever its headers
    declare. Encrypted, corrupt and timed-out members are skipped with their
    reason; hostile archives never raise. Nested archives are scanned as
    members, not opened.

    ``analyze_apk`` scans APKs with it; kit downloads will too.
    """
    hits: list[YaraHit] = []
    skipped: list[tuple[str, str]] = []

    def scan(content: bytes, member: str) -> None:
        try:
            hits.extend(rules.scan(content, member=member, timeout=timeout))
        except yara.TimeoutError:
            skipped.append((member, f"YARA scan ran past {timeout}s"))

    scan(data, "")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        return ArchiveScan(tuple(hits), 0, 0, (*skipped, ("", f"not a zip archive: {exc}")))
    scanned = total = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if scanned >= max_members:
                skipped.append((info.filename, f"over the limit of {max_members} members"))
                continue
            if info.flag_bits & 0x1:
                skipped.append((info.filename, "encrypted"))
                continue
            budget = min(max_member_bytes, max_total_bytes - total)
            if budget <= 0:
                skipped.append((info.filename, f"over the limit of {max_total_bytes} bytes decompressed in all"))
                continue
            try:
                content = _read_capped(archive, info, budget)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError, EOFError, ValueError) as exc:
                skipped.append((info.filename, f"cannot decompress: {exc}"))
                continue
            if content is None:
                total += budget + 1
                limit = "per-member" if budget == max_member_bytes else "remaining total"
                skipped.append((info.filename, f"decompresses past the {limit} limit of {budget} bytes"))
                continue
            total += len(content)
            scanned += 1
            scan(content, info.filename)
    return ArchiveScan(tuple(hits), scanned, total, tuple(skipped))
