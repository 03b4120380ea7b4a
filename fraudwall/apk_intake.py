"""APK files to judged observations: the road ``fraudwall analyze apk`` takes.

Orchestration (like :mod:`fraudwall.pipelines`): it wires the APK stage
(:mod:`fraudwall.apk_analysis`, each file observed in a capped worker
process) to the one judging road (:func:`fraudwall.judging.judge`) and the
store. Folders are searched for ``*.apk`` files; a file named on its own is
tried whatever its name, and one that is no APK is a counted rejection with
its reason, never an error that stops the batch.

An APK's own observation is judged with the file's bytes (for detectors that
scan the archive, such as YARA); an APK found inside it is judged as its own
observation, on what was read of it, and before its carrier, which is judged
knowing the verdicts on what it carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from fraudwall.apk_analysis.pool import ApkBatch, ApkResult
from fraudwall.judging import judge
from fraudwall.models import ApkObservation, Judgement
from fraudwall.plugin_host import PluginHost


@dataclass(frozen=True, slots=True)
class ApkOutcome:
    """One file: its observation result and the judgement of each APK in it (its own first)."""

    file: str
    result: ApkResult
    judgements: tuple[Judgement, ...] = ()


def apk_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files to analyse: each file as named, and every ``*.apk`` below each folder, sorted, each once."""
    found: dict[Path, None] = {}
    for path in map(Path, paths):
        if path.is_dir():
            found.update(dict.fromkeys(sorted(p for p in path.rglob("*") if p.suffix.lower() == ".apk" and p.is_file())))
        else:
            found[path] = None
    return list(found)


def analyze_apks(
    files: Sequence[Path], host: PluginHost, *, workers: int | None = None, timeout: float = 60.0,
    memory_mb: int = 2048, full: bool = False,
) -> Iterator[ApkOutcome]:
    """Observe ``files`` in worker processes, then judge every APK observed, in the order of ``files``;
    ``full`` adds the full analysis of their code (``ApkBatch``)."""
    return judge_results(ApkBatch(files, workers=workers, timeout=timeout, memory_mb=memory_mb, full=full), host)


def judge_results(results: Iterable[ApkResult], host: PluginHost, *, source_url: str = "") -> Iterator[ApkOutcome]:
    """Judge every APK of each observed file as its result arrives (a started :class:`ApkBatch`, say:
    the detectors can load while its workers run). ``source_url`` is where the files were downloaded
    from, as the crawler records it for the APKs it captures: their download URL and host become
    indicators and subjects."""
    for result in results:
        if not result.ok:
            yield ApkOutcome(result.path, result)
            continue
        observations = result.observations
        if source_url:
            observations = (replace(observations[0], download_url=source_url), *observations[1:])
        yield ApkOutcome(result.path, result, tuple(judge_apk(observations, host, _read(result.path))))


def judge_apk(observations: Sequence[ApkObservation], host: PluginHost, archive: bytes) -> list[Judgement]:
    """Every APK of one file judged, the file's own first: the APKs inside it on their observations alone,
    innermost first, so that each carrier is judged knowing what it carries; the file's own APK with its
    bytes (``archive``), for the detectors that scan the archive."""
    judged: dict[str, Judgement] = {}
    for observation in reversed(observations):
        carried = [judged[sha].verdict for sha in observation.nested if sha in judged]
        own = archive if observation is observations[0] else b""
        judged[observation.sha256] = judge(host, observation, archive=own, carried=carried)
    return [judged[observation.sha256] for observation in observations]


def _read(path: str) -> bytes:
    """The file's bytes for archive-scanning detectors; none if it went away since it was observed."""
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""
