"""Read blocklists and feeds of names: plain lists, hosts files, ABP rules, URL lists.

Each line yields a name and the scope its syntax states (``||x^`` covers the
subtree; a hosts line or a plain name covers one name). A line that is not a
usable name is rejected with a reason and counted; reading goes on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fraudwall.exceptions import InputError
from fraudwall.models import Scope
from fraudwall.names import normalize_name, parse_url
from fraudwall.rejections import Rejections

_HOSTS_ADDRESSES = {"0.0.0.0", "127.0.0.1", "::", "::1", "0", "::0"}
_ABP = re.compile(r"^\|\|([^\^/$|*]+)\^(\$.*)?$")


@dataclass(frozen=True, slots=True)
class ListedName:
    """A name read from a list, with the scope its line asked for."""

    name: str
    scope: Scope
    source: str


@dataclass
class ListRead:
    """Names read from one or more lists, and the lines rejected by reason."""

    names: list[ListedName] = field(default_factory=list)
    rejected: Rejections = field(default_factory=Rejections)


def parse_line(line: str) -> tuple[str, Scope] | None:
    """The (raw name, scope) a list line states; ``None`` for blanks and comments."""
    text = line.strip().lstrip("\ufeff")
    if not text or text.startswith(("#", "!", ";", "[")):
        return None
    if text.startswith("@@"):
        raise InputError("allow-rule", text)
    match = _ABP.match(text)
    if match:
        return match.group(1), Scope.SUBTREE
    if "://" in text:
        return parse_url(text).host, Scope.EXACT
    fields = text.split("#", 1)[0].split()
    if len(fields) >= 2 and fields[0] in _HOSTS_ADDRESSES:
        if len(fields) > 2:
            raise InputError("several-names-on-line", text)
        return fields[1], Scope.EXACT
    if len(fields) != 1:
        raise InputError("unrecognised-line", text)
    return fields[0], Scope.EXACT


def read_lists(paths: Iterable[str | Path]) -> ListRead:
    """Read every list file; names are normalised to lowercase A-labels."""
    result = ListRead()
    for path in paths:
        file = Path(path)
        with file.open(encoding="utf-8", errors="replace", newline="") as handle:
            for raw in handle:
                line = raw.rstrip("\r\n")
                try:
                    parsed = parse_line(line)
                    if parsed is None:
                        continue
                    name = normalize_name(parsed[0], allow_underscore=True)
                except InputError as exc:
                    result.rejected.add(line, exc.reason)
                    continue
                result.names.append(ListedName(name, parsed[1], f"list:{file.name}"))
    return result
