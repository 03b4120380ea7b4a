"""Packers, web-to-APK shells and remote-control SDKs, named by what they leave in an APK.

The rules are data (``data/marks.toml``): member name patterns, class names
and package prefixes. Classes are looked up in the DEX string tables, where
every class an app defines or references has its type descriptor
(``Lcom/stub/StubApp;``) and classes reached by reflection or JNI their name,
and among the manifest's application and component names, which is all a
packed app's stub leaves visible. Each mark comes with
the first evidence that named it.
"""

from __future__ import annotations

import bisect
import fnmatch
import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "marks.toml"
KINDS = ("packer", "shell", "sdk")
#: Pieces of evidence reported per mark: classes first, then packages, then files.
EVIDENCE_PER_MARK = 3


@dataclass(frozen=True, slots=True)
class MarkRule:
    """One mark and how to recognise it (see ``data/marks.toml``)."""

    kind: str
    name: str
    files: re.Pattern[str] | None = None
    classes: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    start_files: re.Pattern[str] | None = None
    start: str = ""


@dataclass(frozen=True, slots=True)
class Mark:
    """A mark found: its kind, name and evidence."""

    kind: str
    name: str
    evidence: str


@functools.cache
def mark_rules() -> tuple[MarkRule, ...]:
    """The rules of ``data/marks.toml``, file patterns compiled into one regex per rule."""
    data = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    return tuple(
        MarkRule(
            kind=kind,
            name=entry["name"],
            files=_patterns(entry.get("files", ())),
            classes=tuple(entry.get("classes", ())),
            packages=tuple(entry.get("packages", ())),
            start_files=_patterns(entry.get("start_files", ())),
            start=entry.get("start", ""),
        )
        for kind in KINDS for entry in data.get(kind, ())
    )


def _patterns(globs: Iterable[str]) -> re.Pattern[str] | None:
    globs = list(globs)
    return re.compile("|".join(f"(?:{fnmatch.translate(glob)})" for glob in globs)) if globs else None


class ClassIndex:
    """Class names an APK carries, in internal form (``com/stub/StubApp``).

    From the DEX strings: type descriptors (``Lcom/stub/StubApp;``), internal
    names as JNI's ``FindClass`` takes them (``com/stub/StubApp``) and dotted
    names as reflection and class loaders take them (``com.stub.StubApp``, how
    a packer's stub names the code it unpacks); and the manifest's class names.
    """

    def __init__(self, dex_strings: Iterable[str], manifest_classes: Iterable[str]) -> None:
        names: set[str] = {name.replace(".", "/") for name in manifest_classes}
        for text in dex_strings:
            if text[:1] == "L" and text[-1:] == ";":
                names.add(text[1:-1])
            elif "/" in text or "." in text:
                names.add(text.replace(".", "/"))
        self._names = sorted(names)

    def has_class(self, name: str) -> bool:
        """True when class ``name`` (dotted) is named anywhere."""
        internal = name.replace(".", "/")
        index = bisect.bisect_left(self._names, internal)
        return index < len(self._names) and self._names[index] == internal

    def in_package(self, package: str) -> str:
        """A class inside ``package`` (dotted), dotted, or ""."""
        prefix = package.replace(".", "/") + "/"
        index = bisect.bisect_left(self._names, prefix)
        if index < len(self._names) and self._names[index].startswith(prefix):
            return self._names[index].replace("/", ".")
        return ""


def find_marks(member_names: Iterable[str], classes: ClassIndex) -> list[tuple[Mark, MarkRule]]:
    """Every mark whose rule matches, once per piece of evidence (at most :data:`EVIDENCE_PER_MARK`), with its rule."""
    names = list(dict.fromkeys(member_names))
    found = []
    for rule in mark_rules():
        for evidence in _evidence(rule, names, classes)[:EVIDENCE_PER_MARK]:
            found.append((Mark(rule.kind, rule.name, evidence), rule))
    return found


def _evidence(rule: MarkRule, names: list[str], classes: ClassIndex) -> list[str]:
    evidence = [f"class {name}" for name in rule.classes if classes.has_class(name)]
    evidence += [f"package {package} ({found})" for package in rule.packages
                 if (found := classes.in_package(package)) and found not in rule.classes]
    if rule.files is not None:
        evidence += [f"file {name}" for name in names if rule.files.fullmatch(name)]
    return evidence
