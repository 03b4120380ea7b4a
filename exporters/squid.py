"""Squid ACL files: ``dstdomain`` for names (``squid``), ``url_regex`` for URLs (``squid-url``).

Both are loaded from squid.conf by reference, one item per line, ``#`` comments::

    acl fraud dstdomain "/etc/squid/fraudwall.squid"
    acl fraudurl url_regex "/etc/squid/fraudwall.squid-url"
    http_access deny fraud
    http_access deny fraudurl

``squid`` (dstdomain) matching: ``name`` matches that host only; ``.name``
matches the name and every name below it. Squid refuses to start when one ACL
holds both ``x`` and ``.x`` ("ERROR: '.x' is a subdomain of 'x'", then FATAL),
and complains about any name below a listed ``.parent``, so the file never has
a parent/child overlap: names a written ``.parent`` already matches are left
out and counted. dstdomain has no exceptions, so an ALLOW entry wins by
subtraction: a blocked name equal to an allowed one is left out (a subtree one
too, with its children: dstdomain cannot say "the children but not the
apex"), and a subtree entry with an allowed name below it is narrowed to its
apex, as the header counts. Blocked names below an allowed name stay: the more
specific rule wins, as in RPZ. Squid matches dstdomain on the request's host,
including the authority of a CONNECT, so it blocks HTTPS names without
decrypting. Underscores are allowed: Squid accepts them in host names by
default (``allow_underscore on``).

``squid-url`` (url_regex) matching: one anchored POSIX extended regex per
URL-level entry. Squid matches url_regex against the request URL *after*
decoding its percent-escapes (``rfc1738_unescape``: ``%XX`` becomes the byte,
``%%`` a ``%``, ``%00`` stays), with scheme and host lowercased; so each
pattern is written for that decoded form, which also makes ``%2f`` and ``%2F``,
or ``%61`` and ``a``, the same. Semantics, those of Safe Browsing's URL
expressions:

- scheme ``http`` or ``https`` either way: the same host and path are the same
  page over both, and a plain-HTTP proxy only ever sees the ``http`` one;
- the host exactly (no subdomains: those belong in the ``squid`` list);
- the URL's explicit port, or else none or the default one (``:80``/``:443``);
- the path exactly, case-sensitive: load the file *without* ``-i``, which
  would also match other capitalisations of the path;
- the query exactly when the entry has one; any query, or none, when it has none.

Every regex metacharacter is escaped with a backslash and nothing else is (GNU
regcomp gives ``\\w``, ``\\<`` and friends a meaning), so no URL can widen its
own pattern. Squid splits ACL file lines at whitespace, so a decoded space is
written ``[[:blank:]]`` (a tab matches too; no real URL differs by that alone).
A URL whose decoded form holds a control character or bytes that are not UTF-8
(a GBK-encoded query, say) cannot be written as a line of this file: it is left
out and counted. Without TLS interception (ssl_bump) Squid sees only
``host:443`` of an HTTPS request, so ``squid-url`` matches HTTPS URLs only on
bumped traffic; it is never turned into a host block, because URL-level entries
sit on shared hosts. URL entries do not yield to ALLOW entries: fraud on an
allowlisted platform is exactly what they are for. Name-level entries are not
in this file (use ``squid``), nor URL entries in ``squid``.

Verification runs the real ``squid -k parse`` on a minimal squid.conf that
loads the file. Squid reports a bad regex or an overlap on stderr and still
exits 0 for some of them (a bad regex is skipped, not fatal), so any WARNING,
ERROR or FATAL line fails the check, not just the exit code.
"""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters.base import Exporter, ExportMeta, NoOptions, line_blocks, name_regex
from fraudwall.exporters.validation import PreparedEntries, uniform_scope
from fraudwall.exporters.verify import run_checker
from fraudwall.models import Scope

# What Squid needs to parse a configuration without root, cache dirs or a
# running instance: -k parse only reads it, and nothing here writes anywhere.
_SQUID_CONF = """\
pid_filename none
cache_log /dev/null
access_log none
netdb_filename none
http_port 127.0.0.1:3128
acl fraudwall {acl_type} "{path}"
http_access deny fraudwall
http_access deny all
"""
# Squid says what is wrong with an ACL file in these words, and for some faults
# (an invalid regex is skipped) exits 0 all the same.
_SQUID_COMPLAINT = re.compile(r"\b(?:WARNING|ERROR|FATAL)\b")
# Squid's advice that many regexes are slow is no fault of the file: a URL list
# of any real size triggers it. Every other warning still fails verification.
_SQUID_ADVICE = re.compile(r"WARNING: there are more than \d+ regular expressions")

_DEFAULT_PORTS = {"http": 80, "https": 443}
# ERE metacharacters outside brackets (POSIX, "Extended Regular Expressions").
_ERE_SPECIAL = frozenset(".[\\()*+?{|^$")
_HEX = b"0123456789abcdefABCDEF"


def _ancestors(name: str) -> Iterator[str]:
    """The names strictly above ``name`` (``b.c`` and ``c`` for ``a.b.c``)."""
    labels = name.split(".")
    for cut in range(1, len(labels)):
        yield ".".join(labels[cut:])


@dataclass(frozen=True, slots=True)
class _DomainPlan:
    """What the dstdomain file holds, and how many entries each rule changed."""

    lines: Iterable[tuple[str, Scope]]  # made as they are read for a list of exact names: iterate once
    subtree: int  # '.name' lines
    allowed_omitted: int
    narrowed: int
    covered: int


def _plan_domains(prepared: PreparedEntries) -> _DomainPlan:
    """The (name, scope) pairs to write: exceptions subtracted, overlaps removed."""
    if uniform_scope(prepared) is Scope.EXACT:
        # Exact names and nothing else: no exception, no '.parent' to overlap; straight from the name column.
        return _DomainPlan(zip(prepared.blocked.names, itertools.repeat(Scope.EXACT)), 0, 0, 0, 0)
    allowed = prepared.allowed_names
    # A subtree with an allowed name at or below it cannot be written as '.name'.
    shadowed = {name for allow in allowed for name in (allow, *_ancestors(allow))}
    kept: list[tuple[str, Scope]] = []
    narrowed = 0
    for entry in prepared.blocked:
        if entry.name in allowed:
            continue
        scope = entry.scope
        if scope is Scope.SUBTREE and entry.name in shadowed:
            scope, narrowed = Scope.EXACT, narrowed + 1
        kept.append((entry.name, scope))
    subtrees = {name for name, scope in kept if scope is Scope.SUBTREE}
    lines = tuple((name, scope) for name, scope in kept if subtrees.isdisjoint(_ancestors(name)))
    return _DomainPlan(
        lines=lines,
        subtree=sum(scope is Scope.SUBTREE for _, scope in lines),
        allowed_omitted=len(prepared.blocked) - len(kept),
        narrowed=narrowed,
        covered=len(kept) - len(lines),
    )


def find_overlaps(lines: Iterable[str]) -> list[str]:
    """Descriptions of every dstdomain parent/child overlap among ``lines`` (``x``/``.x`` too)."""
    items = list(lines)
    subtrees = {line[1:] for line in items if line.startswith(".")}
    problems = []
    for line in items:
        name = line.removeprefix(".")
        parents = [parent for parent in _ancestors(name) if parent in subtrees]
        if parents:
            problems.append(f"{line} is below .{parents[0]}")
        if not line.startswith(".") and name in subtrees:
            problems.append(f"{line} and .{name} are both listed")
    return problems


def squid_parse(acl_type: str, path: Path) -> None:
    """Load ``path`` as an ``acl_type`` ACL with ``squid -k parse``; any complaint fails.

    The file is copied beside a minimal squid.conf in a temporary directory,
    so a path with quotes or spaces cannot break the configuration line.
    """
    with tempfile.TemporaryDirectory(prefix="fraudwall-squid-") as tmp:
        acl = Path(tmp) / "list.acl"
        shutil.copyfile(path, acl)
        conf = Path(tmp) / "squid.conf"
        conf.write_text(_SQUID_CONF.format(acl_type=acl_type, path=acl), encoding="utf-8")
        output = run_checker("squid", "squid", ["-k", "parse", "-f", str(conf)], path)
    complaints = [
        line for line in output.splitlines() if _SQUID_COMPLAINT.search(line) and not _SQUID_ADVICE.search(line)
    ]
    if complaints:
        raise VerificationError(f"squid -k parse complained about {path}:\n" + "\n".join(complaints))


class SquidExporter(Exporter[NoOptions]):
    """A dstdomain ACL file: ``.name`` for subtrees, ``name`` for single hosts."""

    name = "squid"
    description = "Squid dstdomain ACL file; '.name' blocks the subtree, 'name' one host"
    subtree_capable = True
    allow_underscore = True
    comment_prefix = "#"
    options_type = NoOptions
    # The dot is outside the owner, so 'x' and '.x' count as a duplicate owner.
    data_line = re.compile(rf"\.?(?P<owner>{name_regex(allow_underscore=True)})")

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Count subtrees, covered names and what the exceptions took out."""
        plan = _plan_domains(prepared)
        return [
            f"scope: '.name' lines match the name and every name below it: {plan.subtree}",
            f"covered: names left out because a listed '.parent' already matches them: {plan.covered}",
            f"allow: dstdomain has no exceptions; allow entries: {len(prepared.allowed)},"
            f" blocked names equal to one and left out: {plan.allowed_omitted},"
            f" subtree entries narrowed to their apex because an allowed name lies below: {plan.narrowed}",
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[list[str]]:
        """One line per written name, in name order."""
        lines = _plan_domains(prepared).lines
        return line_blocks(f".{name}" if scope is Scope.SUBTREE else name for name, scope in lines)

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The strict re-read, an overlap check, then ``squid -k parse`` with a dstdomain ACL."""
        super().verify(path, meta)
        lines = [line for line in path.read_text(encoding="utf-8").splitlines()
                 if not line.startswith(self.comment_prefix)]
        overlaps = find_overlaps(lines)
        if overlaps:
            raise VerificationError(f"{path}: dstdomain overlaps Squid refuses: " + "; ".join(overlaps[:10]))
        squid_parse("dstdomain", path)


def squid_unescape(text: str) -> bytes:
    """``text`` decoded the way Squid decodes a URL before url_regex matching (``rfc1738_unescape``)."""
    data = text.encode("utf-8")
    out = bytearray()
    index = 0
    while index < len(data):
        byte = data[index]
        index += 1
        if byte == 0x25:  # '%'
            if data[index:index + 1] == b"%":
                index += 1
            elif len(data) >= index + 2 and all(c in _HEX for c in data[index:index + 2]):
                value = int(data[index:index + 2], 16)
                if value:  # %00 stays as it is: a C string cannot hold the NUL
                    byte, index = value, index + 2
        out.append(byte)
    return bytes(out)


#: Longest pattern Squid 5 takes whole: past about 1 KiB it warns that it cannot
#: optimise the list, and a much longer line is cut mid-pattern ("Unmatched [").
MAX_PATTERN_LENGTH = 1000


def url_pattern(url: str) -> str | None:
    """The anchored ERE for a validated http(s) URL, or ``None`` when no file line can hold it.

    See the module docstring for the semantics and for what cannot be written;
    a pattern longer than :data:`MAX_PATTERN_LENGTH` cannot be either.
    """
    parts = urlsplit(url)
    if parts.port is None or parts.port == _DEFAULT_PORTS.get(parts.scheme):
        port = "(:(80|443))?"
    else:
        port = f":{parts.port}"
    try:
        path = squid_unescape(parts.path).decode("utf-8")
        query = squid_unescape(parts.query).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not all(char == " " or char.isprintable() for char in path + query):
        return None
    tail = rf"\?{_escape(query)}$" if parts.query else r"(\?.*)?$"
    pattern = f"^https?://{_escape(parts.hostname or '')}{port}{_escape(path)}{tail}"
    return pattern if len(pattern) <= MAX_PATTERN_LENGTH else None


def _escape(text: str) -> str:
    """``text`` (printable, spaces allowed) as a literal ERE that holds no whitespace."""
    return "".join(
        "[[:blank:]]" if char == " " else f"\\{char}" if char in _ERE_SPECIAL else char for char in text
    )


def _pattern_line_regex() -> re.Pattern[str]:
    """The strict grammar of a ``squid-url`` line: exactly what :func:`url_pattern` writes."""
    host = name_regex(allow_underscore=True).replace(r"\.", r"\\\.")
    specials = re.escape("".join(sorted(_ERE_SPECIAL)))
    piece = rf"(?:[^\s{specials}]|\\[{specials}]|\[\[:blank:\]\])"
    return re.compile(
        rf"\^https\?://(?P<host>{host})(?:\(:\(80\|443\)\)\?|:[1-9][0-9]{{0,4}})"
        rf"/{piece}*(?:\\\?{piece}*\$|\(\\\?\.\*\)\?\$)"
    )


class SquidUrlExporter(Exporter[NoOptions]):
    """A url_regex ACL file: one anchored, escaped pattern per URL-level entry."""

    name = "squid-url"
    description = "Squid url_regex ACL file; one anchored pattern per blocked URL"
    subtree_capable = False
    url_capable = True
    allow_underscore = True
    comment_prefix = "#"
    options_type = NoOptions
    data_line = _pattern_line_regex()

    def entry_count(self, prepared: PreparedEntries) -> int:
        """The URL-level entries: names are the ``squid`` format's."""
        return len(prepared.urls)

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Say what the patterns match, what could not be written, and what is left to ``squid``."""
        patterns = [url_pattern(entry.url) for entry in prepared.urls]
        written = {pattern for pattern in patterns if pattern is not None}
        return [
            "urls: http or https, exact host, default or given port, exact path;"
            " exact query if given, else any; matched after Squid decodes %XX; load without -i",
            f"urls: URL-level entries: {len(prepared.urls)}, patterns: {len(written)}"
            f" (URLs differing only in scheme, default port or escaping share one)",
            f"urls: left out (control characters, non-UTF-8, pattern over {MAX_PATTERN_LENGTH} characters):"
            f" {patterns.count(None)}",
            f"names: name-level entries are in the squid format, not here: {len(prepared.blocked)} block,"
            f" {len(prepared.allowed)} allow",
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        """One pattern per distinct decoded URL, in host and then URL order."""
        patterns = (url_pattern(entry.url) for entry in prepared.urls)
        yield from dict.fromkeys(pattern for pattern in patterns if pattern is not None)

    def parse_line(self, line: str) -> str | None:
        """As the base, and printable only: the grammar's negated classes let other characters by."""
        if not line.isprintable():
            raise ExportError(f"{self.name}: not a printable line: {line[:120]!r}")
        return super().parse_line(line)

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The strict re-read, no duplicate pattern, then ``squid -k parse`` with a url_regex ACL."""
        super().verify(path, meta)
        lines = [line for line in path.read_text(encoding="utf-8").splitlines()
                 if not line.startswith(self.comment_prefix)]
        if len(set(lines)) != len(lines):
            raise VerificationError(f"{path}: duplicate url_regex pattern")
        squid_parse("url_regex", path)
