"""APK bytes in, :class:`~fraudwall.models.ApkObservation` out: the one entry point of APK analysis.

:func:`observe_apk` reads the zip with the package's own tolerant reader,
then the manifest and resources (androguard's AXML and ARSC parsers, on bytes
this package extracted), the signatures, the DEX string tables and the
text-like assets, and names packers, web shells and remote-control SDKs.
APKs nested inside the APK (droppers carry their payload that way) are
observed too, to ``max_depth``; the outer observation lists their sha256. An
app bundle (``.xapk``, ``.apks``: a zip of a base APK and its splits, with no
manifest of its own) is observed as the carrier of its APKs.

With ``full=True`` the DEX files read on the way are kept (within
``ApkBudget.full_dex_bytes``) and, once every observation is made, go
through androguard's analysis (:mod:`.full_analysis`): the APK's own first,
then the nested APKs' while ``ApkBudget.full_seconds`` last. Each observation so
analysed gets ``api_calls``, and ``fully_analysed`` when all its DEX files
were analysed.

Everything is bounded by an :class:`~.budget.ApkBudget`; whatever a hostile
file does, the result is observations or :class:`~.errors.ApkRejected`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import datetime, timezone

from fraudwall.apk_analysis.archive import LOCAL_SIGNATURE, Archive, Member
from fraudwall.apk_analysis.assets import asset_texts
from fraudwall.apk_analysis.budget import ApkBudget, Meter
from fraudwall.apk_analysis.certificates import read_certificates
from fraudwall.apk_analysis.dex_strings import MAIN_DEX, StringAllowance, dex_sources, read_strings
from fraudwall.apk_analysis.errors import ApkRejected
from fraudwall.apk_analysis.full_analysis import NOTE, PREFIX, CodeAllowance, DexCode, full_meter, scan
from fraudwall.apk_analysis.indicators import Collector
from fraudwall.apk_analysis.manifest import MANIFEST_NAME, Manifest, read_manifest
from fraudwall.apk_analysis.marks import ClassIndex, MarkRule, find_marks
from fraudwall.apk_analysis.notes import Notes
from fraudwall.apk_analysis.resources import Resources
from fraudwall.apk_analysis.string_pool import pool_strings
from fraudwall.apk_analysis.web_shells import remote_start_url
from fraudwall.models import ApkObservation

RESOURCES_NAME = "resources.arsc"
_LIBRARY = re.compile(r"lib/[^/]+/([^/]+\.so)")


def observe_apk(data: bytes, *, download_url: str = "", referrer: str = "", max_depth: int = 2,
                budget: ApkBudget | None = None, full: bool = False) -> list[ApkObservation]:
    """Observe the APK in ``data``: its own observation first, then those of the APKs nested in it.

    ``full`` adds the full analysis (slower: see :mod:`.full_analysis`), which
    fills ``api_calls`` and ``fully_analysed``; it never turns an APK the fast
    path observes into a rejection. Raises :class:`ApkRejected` when ``data``
    is not an APK at all (empty, not a zip, truncated beyond recovery, a zip
    with neither a manifest nor a DEX).
    """
    meter = Meter(budget or ApkBudget())
    observer = _Observer(meter, max_depth, full=full)
    observations = observer.observe(data, download_url, referrer, depth=0)
    return observer.with_calls(observations) if full else observations


class _Observer:
    """One :func:`observe_apk` call: the shared meter, and the nested APKs already observed."""

    def __init__(self, meter: Meter, max_depth: int, *, full: bool = False) -> None:
        self.meter = meter
        self.max_depth = max_depth
        self.seen: set[str] = set()
        self.full = full
        #: With ``full``: the DEX files kept for the full analysis, by the sha256 of their APK.
        self.code: dict[str, DexCode] = {}
        self.code_allowance = CodeAllowance.of(meter.budget)

    def observe(self, data: bytes, download_url: str, referrer: str, depth: int) -> list[ApkObservation]:
        sha256 = hashlib.sha256(data).hexdigest()
        self.seen.add(sha256)
        notes = Notes()
        archive = Archive.open(data, self.meter, notes)
        manifest_member = archive.member(MANIFEST_NAME)
        if manifest_member is None and not any(MAIN_DEX.fullmatch(name) for name in archive.names):
            if depth == 0 and any(name.lower().endswith(".apk") for name in archive.names):
                return self._bundle(archive, sha256, len(data), notes, download_url, referrer)
            raise ApkRejected("no AndroidManifest.xml and no classes.dex")
        manifest, resource_texts = self._manifest(archive, manifest_member, notes)
        certificates = read_certificates(archive, notes)
        code = DexCode(self.code_allowance) if self.full else None
        strings = self._dex_strings(archive, notes, code)
        if code is not None:
            self.code[sha256] = code
        # The version name is a dotted quad often enough ("2.12.9.2") to be taken for an address.
        collector = Collector(self.meter.budget.indicators, ignored_addresses=(manifest.version_name,))
        collector.scan("\n".join(strings))
        for text in resource_texts:
            collector.scan(text)
        for text in asset_texts(archive, notes):
            collector.scan(text)
        classes = ClassIndex(strings, manifest.application_classes + tuple(c.name for c in manifest.components))
        marks: dict[str, list[tuple[str, str]]] = {"packer": [], "shell": [], "sdk": []}
        shells: dict[str, MarkRule] = {}
        for mark, rule in find_marks(archive.names, classes):
            marks[mark.kind].append((mark.name, mark.evidence))
            if mark.kind == "shell":
                shells.setdefault(rule.name, rule)
        for name, rule in shells.items():
            if start := remote_start_url(archive, rule, notes):
                marks["shell"].append((name, f"start url {start}"))
                collector.add_url(start)
        nested = self._nested(archive, depth, notes, sha256)
        if self.meter.expired():
            notes.add("budget", f"analysis ran past its budget of {self.meter.budget.seconds:g} s; results are partial")
        found = collector.result()
        observation = ApkObservation(
            sha256=sha256,
            size=len(data),
            package=manifest.package,
            labels=manifest.labels,
            version_code=manifest.version_code,
            version_name=manifest.version_name,
            min_sdk=manifest.min_sdk,
            target_sdk=manifest.target_sdk,
            permissions=manifest.permissions,
            components=manifest.components,
            certificates=certificates,
            urls=found.urls,
            hosts=found.hosts,
            ips=found.ips,
            wallets=found.wallets,
            handles=found.handles,
            phones=found.phones,
            native_libraries=_native_libraries(archive.names),
            packers=tuple(marks["packer"]),
            shells=tuple(marks["shell"]),
            sdks=tuple(marks["sdk"]),
            tamper=notes.result(),
            nested=tuple(sha for sha, _, _ in nested),
            download_url=download_url,
            referrer=referrer,
            observed_at=datetime.now(timezone.utc),
        )
        return [observation] + [inner for _, _, observations in nested for inner in observations]

    def _bundle(self, archive: Archive, sha256: str, size: int, notes: Notes, download_url: str,
                referrer: str) -> list[ApkObservation]:
        """An app bundle (``.xapk``, ``.apks``, ``.apkm``: a zip of the base APK and its splits, installed together
        by an installer app): observed as the carrier of its APKs, named after its base (the one with
        components), which judging carries its verdict from. A zip of no APK at all is rejected."""
        nested = self._nested(archive, 0, notes, sha256)
        inner = [observations[0] for _, _, observations in nested if observations]
        if not inner:
            raise ApkRejected("a bundle of no readable APK")
        base = max(inner, key=lambda observation: (len(observation.components), len(observation.permissions)))
        notes.add("bundle", f"an app bundle of {len(nested)} APKs, base {base.member}")
        observation = ApkObservation(
            sha256=sha256, size=size, package=base.package, labels=base.labels, version_code=base.version_code,
            version_name=base.version_name, certificates=base.certificates,  # a bundle is signed as its base is
            tamper=notes.result(), nested=tuple(sha for sha, _, _ in nested),
            download_url=download_url, referrer=referrer, observed_at=datetime.now(timezone.utc),
        )
        return [observation] + [each for _, _, observations in nested for each in observations]

    def with_calls(self, observations: list[ApkObservation]) -> list[ApkObservation]:
        """``observations`` with the full analysis of each one's kept DEX files, in order (the APK's own first).

        After a time or memory limit stopped one analysis (the worker's, or the
        in-process timer), the rest are not tried: they keep what the fast path
        found, and a note says so.
        """
        result: list[ApkObservation] = []
        stopped = False
        meter = full_meter(self.meter.budget)
        for observation in observations:
            code = self.code.pop(observation.sha256, None)
            if code is None:
                result.append(observation)
                continue
            notes = Notes()
            for name, reason in code.left_out:
                notes.add(NOTE, f"{PREFIX}{name} not analysed ({reason})")
            if stopped:
                notes.add(NOTE, f"{PREFIX}not run (an earlier one was stopped at its time or memory limit: budget)")
                found, complete = (), False
            else:
                outcome = scan(code.files, meter, notes)
                found, complete, stopped = outcome.calls, outcome.complete and not code.left_out, outcome.stopped
            code.files.clear()
            result.append(replace(observation, api_calls=found, fully_analysed=complete,
                                  tamper=observation.tamper + notes.result()))
        return result

    def _manifest(self, archive: Archive, member: Member | None, notes: Notes) -> tuple[Manifest, list[str]]:
        """The manifest read, and the strings of it and of ``resources.arsc`` for indicator search."""
        if member is None:
            notes.add("manifest", "no AndroidManifest.xml")
            return Manifest(), []
        resources_member = archive.member(RESOURCES_NAME)
        table = archive.read(resources_member) if resources_member else None
        axml = archive.read(member)
        manifest = read_manifest(axml, Resources(table, notes), notes)
        return manifest, ["\n".join(pool_strings(axml)), "\n".join(pool_strings(table)) if table else ""]

    def _dex_strings(self, archive: Archive, notes: Notes, code: DexCode | None) -> list[str]:
        """Strings of every DEX Android would load, a Janus prefix DEX and DEX files elsewhere in the APK.

        With ``code`` (the full analysis asked for), each DEX read is offered to it.
        """
        budget = self.meter.budget
        allowance = StringAllowance(budget.dex_strings, budget.dex_string_bytes)
        strings: list[str] = []
        for name, member in dex_sources(archive):  # one DEX in memory at a time (unless kept in ``code``)
            if self.meter.expired() or allowance.strings <= 0 or allowance.bytes <= 0:
                notes.add("budget", f"{name}: strings not read (analysis budget spent)")
                if code is not None:
                    code.skip(name, "analysis budget spent")
                continue
            dex = archive.prefix if member is None else archive.read(member)
            if code is not None:
                code.offer(name, archive.data if member is None else dex)
            result = read_strings(dex, allowance, self.meter)
            strings.extend(result.strings)
            if result.problem:
                notes.add("dex", f"{name}: {result.problem}")
        return strings

    def _nested(self, archive: Archive, depth: int, notes: Notes,
                carrier: str) -> list[tuple[str, str, list[ApkObservation]]]:
        """(sha256, member name, observations) of each APK inside ``archive`` (whose sha256 is ``carrier``);
        deeper than ``max_depth``, none. Each nested APK's own observation names its carrier and member."""
        found: list[tuple[str, str, list[ApkObservation]]] = []
        for member in archive.members:
            if self.meter.expired():
                break
            if member.name.endswith("/") or archive.read(member, limit=4) != LOCAL_SIGNATURE:
                continue
            if len(found) >= self.meter.budget.nested:
                notes.add("budget", f"more than {self.meter.budget.nested} nested APKs: the rest are not read")
                break
            inner = archive.read(member)
            sha256 = hashlib.sha256(inner).hexdigest()
            if first := next((name for sha, name, _ in found if sha == sha256), None):
                notes.add("nested", f"nested APK {member.name} (the same as {first})")
                continue
            if sha256 in self.seen:  # an APK holding itself, or one already observed at another level
                notes.add("nested", f"nested APK {member.name} (already observed)")
                found.append((sha256, member.name, []))
            elif depth + 1 > self.max_depth:
                if _is_apk(inner, self.meter):
                    notes.add("nested", f"nested APK {member.name} (beyond depth {self.max_depth}, not observed)")
                    found.append((sha256, member.name, []))
            else:
                try:
                    observations = self.observe(inner, "", "", depth + 1)
                except ApkRejected:
                    continue  # a zip, but no APK: resources, a font pack...
                observations[0] = replace(observations[0], parent=carrier, member=member.name)
                notes.add("nested", f"nested APK {member.name}")
                found.append((sha256, member.name, observations))
        return found


def _is_apk(data: bytes, meter: Meter) -> bool:
    """True when ``data`` opens as a zip holding a manifest or a DEX (without observing it)."""
    try:
        archive = Archive.open(data, meter, Notes())
    except ApkRejected:
        return False
    return archive.member(MANIFEST_NAME) is not None or any(MAIN_DEX.fullmatch(name) for name in archive.names)


def _native_libraries(names: list[str]) -> tuple[str, ...]:
    """Native libraries by file name (one entry per library, whatever its ABIs), and .so files elsewhere by path."""
    found: dict[str, None] = {}
    for name in names:
        if not name.endswith(".so"):
            continue
        library = _LIBRARY.fullmatch(name)
        found.setdefault(library.group(1) if library else name, None)
    return tuple(found)
