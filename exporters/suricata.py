"""Suricata rules: DNS, TLS SNI and HTTP Host rules for names, HTTP rules for URLs.

Each blocked name gets three rules, one per place a client names the host it
wants, so a client with a cached or hard-coded answer is still seen:

- ``dns.query`` (the question of a DNS request),
- ``tls.sni`` (the server name of a TLS client hello),
- ``http.host`` (the Host of a plain HTTP request; Suricata lowercases it and
  drops the port, so it takes no ``nocase``).

An EXACT entry matches the whole buffer: ``content:"name"; startswith;
endswith;``. A SUBTREE entry uses the ``dotprefix`` transform, which puts a
``.`` in front of the buffer, and ``content:".name"; endswith;``: that matches
the name itself and every name below it, and never ``evilname``. DNS and SNI
matches take ``nocase`` (resolvers randomise case; SNI is sent as typed).

ALLOW entries become ``pass`` rules of the same shape. Suricata's default
``action-order`` applies pass before drop, reject and alert, so an allowed name
is never blocked, also below a blocked subtree. A blocked name an allow covers
entirely (same name, or an allowed subtree) gets no rules; a blocked subtree
whose apex alone is allowed keeps its rules, so its children stay blocked, as
in RPZ. Unlike RPZ, a blocked name *below* an allowed subtree passes too: a
pass rule cannot be made to yield to a more specific block. The header counts.

A URL-level entry (a page on a shared host) gets one ``http`` rule:
``http.host`` equal to the host, and a ``pcre`` on ``http.uri.raw``, the
request target as sent. The raw buffer is used because Suricata's normalised
``http.uri`` depends on the configured server personality (the default IDS
personality lowercases the path and rewrites non-ASCII); the pattern accepts
both request forms, ``/path`` and the proxy form ``http://host/path``. Path
exact and case-sensitive, hex digits of percent-escapes in either case; query
exact when the entry has one, any query or none when it has none (the Squid
``squid-url`` semantics). The port is not checked: ``http.host`` carries none.
HTTP rules see plain HTTP, or HTTPS only where it is decrypted; URL entries
never become TLS or DNS rules, which would block the whole shared host.

Every byte of a name or URL that is not a letter or a digit (or, in
``content``, one of ``.-_``) is written as ``|HH|`` in contents and ``\\xHH``
in patterns (a percent-escape's ``%`` aside), and ``msg`` holds only the
format's own words and an LDH name, so no input can end a string or start an
option. Sids run from ``sid_start`` in
file order (names sorted from the root label down, then URLs), so the same
entries get the same sids; a list needing sids past ``sid_end`` is an error,
never a wrap into someone else's range. For national-scale lists, Suricata
datasets scale better than one rule per name; this format is for lists a
ruleset can carry.

Suricata is not packaged where fraudwall is tested, so verification re-reads
the file with a strict grammar and with the rule parser of the OISF's
``idstools`` package (what ``suricata-update`` is built on): it must split each
rule into exactly the options written, with unique sids in the configured range.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fraudwall.entries import EXACT, SCOPES, SUBTREE, EntryTable, find, sort_key, subtree
from fraudwall.exceptions import ExportError, InvalidName, VerificationError
from fraudwall.exporters.base import LINES_PER_CHUNK, Exporter, ExportMeta, name_regex
from fraudwall.exporters.templates import CheckedLines, LineTemplate, safe_name_pattern
from fraudwall.exporters.validation import PreparedEntries
from fraudwall.models import BlockEntry, Scope
from fraudwall.names import normalize_name, url_host

ACTIONS = ("alert", "drop", "reject")
_SAFE_NAME = safe_name_pattern(allow_underscore=True)
# Sid-shaped placeholders for rule templates, two sets of three, none a part of another.
_SID_PLACEHOLDERS = (("3999999901", "3999999902", "3999999903"), ("3999999911", "3999999912", "3999999913"))
MAX_SID = 2**32 - 1  # sid and rev are unsigned 32-bit in Suricata
# (protocol, sticky buffer, nocase?) of the three rules per name; http.host is lowercase already.
_NAME_BUFFERS = (("dns", "dns.query", True), ("tls", "tls.sni", True), ("http", "http.host", False))
_CONTENT_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
_CONTENT_PLAIN_TEXT = re.compile(r"[A-Za-z0-9._-]*")
_PCRE_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
# The option names (in order) of each kind of rule, as idstools must split them.
_NAME_OPTIONS = {
    (False, False): ["msg", "{buffer}", "content", "startswith", "endswith", "sid", "rev"],
    (False, True): ["msg", "{buffer}", "content", "nocase", "startswith", "endswith", "sid", "rev"],
    (True, False): ["msg", "{buffer}", "dotprefix", "content", "endswith", "sid", "rev"],
    (True, True): ["msg", "{buffer}", "dotprefix", "content", "nocase", "endswith", "sid", "rev"],
}
_URL_OPTIONS = ["msg", "http.host", "content", "startswith", "endswith", "http.uri.raw", "pcre", "sid", "rev"]


def _is_int(value: object) -> bool:
    """True for a real int (bool is an int to Python, not to a rule file)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class SuricataOptions:
    """Suricata options: the sid range, the rules' revision and the action of block rules."""

    # Three rules per name: a national list of millions needs room, so the
    # default range spans ten million sids from the local-use 9,100,000.
    sid_start: int = 9_100_000
    sid_end: int = 19_099_999
    rev: int = 1
    action: str = "alert"

    def __post_init__(self) -> None:
        if not (_is_int(self.sid_start) and _is_int(self.sid_end) and 1 <= self.sid_start <= self.sid_end <= MAX_SID):
            raise ExportError(
                f"suricata sids need 1 <= sid_start <= sid_end <= {MAX_SID}, got {self.sid_start!r}..{self.sid_end!r}"
            )
        if not (_is_int(self.rev) and 1 <= self.rev <= MAX_SID):
            raise ExportError(f"suricata rev must be an integer in [1, {MAX_SID}], got {self.rev!r}")
        if self.action not in ACTIONS:
            raise ExportError(f"suricata action must be one of {', '.join(ACTIONS)}, got {self.action!r}")


def content_text(data: str) -> str:
    """``data`` for a ``content:"..."``: letters, digits and ``.-_`` as they are, any other byte as ``|HH|``."""
    if _CONTENT_PLAIN_TEXT.fullmatch(data):  # every name: nothing to escape
        return data
    out: list[str] = []
    pending: list[str] = []
    for byte in data.encode("utf-8"):
        char = chr(byte)
        if char in _CONTENT_PLAIN:
            if pending:
                out.append("|" + " ".join(pending) + "|")
                pending = []
            out.append(char)
        else:
            pending.append(f"{byte:02X}")
    if pending:
        out.append("|" + " ".join(pending) + "|")
    return "".join(out)


def _pcre_literal(text: str) -> str:
    """``text`` (an encoded URL part) as a PCRE literal: letters and digits as they are, other bytes
    as ``\\xHH``, and percent-escapes with their hex digits in either case."""
    out: list[str] = []
    index = 0
    while index < len(text):
        if text[index] == "%" and len(text) >= index + 3 and set(text[index + 1:index + 3]) <= _HEX:
            digits = text[index + 1:index + 3]
            out.append("%" + "".join(d if d.isdigit() else f"[{d.lower()}{d.upper()}]" for d in digits))
            index += 3
            continue
        char = text[index]
        out.append(char if char in _PCRE_PLAIN else "".join(f"\\x{byte:02X}" for byte in char.encode("utf-8")))
        index += 1
    return "".join(out)


def url_pcre(url: str) -> str:
    """The pattern for ``http.uri.raw`` of a validated URL (see the module docstring)."""
    parts = urlsplit(url)
    tail = r"\x3F" + _pcre_literal(parts.query) if parts.query else r"(?:\x3F.*)?"
    return rf"^(?:https?:\x2F\x2F[^\x2F]*)?{_pcre_literal(parts.path)}{tail}$"


def _name_match(name: str, scope: Scope, nocase: bool) -> str:
    """The content match for ``name`` in a host buffer, exact or with its subtree."""
    subtree = scope is Scope.SUBTREE
    return _content_match(content_text("." + name if subtree else name), subtree, nocase)


def _content_match(content: str, subtree: bool, nocase: bool) -> str:
    """The content match of :func:`_name_match`, for its content already escaped."""
    flag = " nocase;" if nocase else ""
    if subtree:
        return f'dotprefix; content:"{content}";{flag} endswith;'
    return f'content:"{content}";{flag} startswith; endswith;'


def _covered(prepared: PreparedEntries) -> set[int]:
    """The blocked rows an allow covers entirely (same name, or an allowed subtree): they get no rules."""
    blocked, allowed = prepared.blocked, prepared.allowed
    return {row for allow, name in enumerate(allowed.names) if (row := find(blocked.names, name)) is not None
            and (allowed.scopes[allow] == SUBTREE or blocked.scopes[row] == EXACT)}


def _passed_below(prepared: PreparedEntries) -> int:
    """How many blocked names lie below an allowed subtree: their rules are written, but the subtree's
    pass rules match them first, so Suricata lets them through (the module docstring)."""
    blocked, allowed = prepared.blocked, prepared.allowed
    below: set[int] = set()
    for row in allowed.subtree_rows():
        name = allowed.names[row]
        below.update(index for index in subtree(blocked.names, name) if blocked.names[index] != name)
    return len(below)


def _rule_count(prepared: PreparedEntries, covered: set[int]) -> int:
    """How many rules the file holds: three per name (pass or block), one per URL."""
    return len(_NAME_BUFFERS) * (len(prepared.allowed) + len(prepared.blocked) - len(covered)) + len(prepared.urls)


def _scope_runs(table: EntryTable, rows: range) -> Iterator[range]:
    """``rows`` cut where the scope changes (found at C speed in the scope column)."""
    scopes, start = table.scopes, rows.start
    while start < rows.stop:
        other = scopes.find(SUBTREE if scopes[start] == EXACT else EXACT, start, rows.stop)
        stop = rows.stop if other < 0 else other
        yield range(start, stop)
        start = stop


class _RuleWriter:
    """Rules in file order with their sids; the blocked names between exceptions filled from templates."""

    def __init__(self, exporter: SuricataExporter, action: str, rev: int, sid: int) -> None:
        self.exporter, self.action, self.rev, self.sid = exporter, action, rev, sid

    def numbered(self, rules: list[str]) -> list[str]:
        """``rules`` (each ending just before ``sid``) with the next sids."""
        lines = [f"{rule} sid:{sid}; rev:{self.rev};)" for sid, rule in enumerate(rules, start=self.sid)]
        self.sid += len(rules)
        return lines

    def blocks(self, table: EntryTable, rows: range) -> Iterator[CheckedLines]:
        """The block rules of ``rows``: one template per scope run, three sids per name."""
        per_name = len(_NAME_BUFFERS)
        for run in _scope_runs(table, rows):
            scope = SCOPES[table.scopes[run.start]]

            def render(name: str, *sids: str) -> str:
                rules = _name_rules(self.action, "block", name, scope)
                return "\n".join(f"{rule} sid:{sid}; rev:{self.rev};)" for rule, sid in zip(rules, sids, strict=True))

            template = LineTemplate.build(render, self._check, _SAFE_NAME, ids=per_name,
                                          placeholders=_SID_PLACEHOLDERS)
            if template is None:  # cannot happen for LDH names; kept so a future change fails safe, not wrong
                raise ExportError("suricata: no rule template for a run of names")
            for start in range(run.start, run.stop, LINES_PER_CHUNK // per_name):
                names = table.names[start:min(start + LINES_PER_CHUNK // per_name, run.stop)]
                first = self.sid
                self.sid += per_name * len(names)
                sids = [list(map(str, range(first + k, self.sid, per_name))) for k in range(per_name)]
                yield template.fill(names, sids)

    def _check(self, text: str) -> None:
        self.exporter.check_lines(text.split("\n"))


def _rules(prepared: PreparedEntries, writer: _RuleWriter, covered: set[int]) -> Iterator[str | CheckedLines]:
    """Per name its pass rules, then its block rules unless ``covered``; then the URLs.

    Allowed names are placed among the blocked ones by binary search; the
    blocked runs between them are written from templates.
    """
    blocked, allowed = prepared.blocked, prepared.allowed
    names = blocked.names
    start = 0
    for allow, name in enumerate(allowed.names):
        at = bisect.bisect_left(names, sort_key(name), lo=start, key=sort_key)
        yield from writer.blocks(blocked, range(start, at))
        yield from writer.numbered(_name_rules("pass", "allow", name, SCOPES[allowed.scopes[allow]]))
        if at < len(names) and names[at] == name:
            if at not in covered:  # covered: the pass rules already cover all it would
                yield from writer.numbered(_name_rules(writer.action, "block", name, SCOPES[blocked.scopes[at]]))
            at += 1
        start = at
    yield from writer.blocks(blocked, range(start, len(names)))
    yield from writer.numbered([_url_rule(writer.action, entry) for entry in prepared.urls])


def _name_rules(action: str, verb: str, name: str, scope: Scope) -> list[str]:
    """The dns.query, tls.sni and http.host rules for one name."""
    subtree = scope is Scope.SUBTREE
    below = " and below" if subtree else ""
    content = content_text("." + name if subtree else name)  # once for the three rules
    return [
        f'{action} {proto} any any -> any any (msg:"fraudwall {verb} {buffer} {name}{below}";'
        f" {buffer}; {_content_match(content, subtree, nocase)}"
        for proto, buffer, nocase in _NAME_BUFFERS
    ]


def _url_rule(action: str, entry: BlockEntry) -> str:
    """The http.host and http.uri.raw rule for one URL-level entry."""
    return (
        f'{action} http any any -> any any (msg:"fraudwall block url on {entry.name}";'
        f" http.host; {_name_match(entry.name, Scope.EXACT, False)}"
        f' http.uri.raw; pcre:"/{url_pcre(entry.url)}/";'
    )


def _rule_regex() -> re.Pattern[str]:
    """The strict grammar of every rule this format writes."""
    name = name_regex(allow_underscore=True)
    # Possessive: a content is always followed by its closing quote, and guards run over millions of rules.
    content = r'(?:[A-Za-z0-9._-]++|\|[0-9A-F]{2}(?: [0-9A-F]{2})*+\|)++'
    pcre_piece = r"(?:[A-Za-z0-9%]|\\x[0-9A-F]{2}|\[[a-f][A-F]\])"
    head = r"(?P<action>alert|drop|reject|pass) (?P<proto>dns|tls|http) any any -> any any \("
    name_rule = (
        rf'msg:"fraudwall (?:block|allow) (?P<buffer>dns\.query|tls\.sni|http\.host) (?P<name>{name})(?: and below)?";'
        rf" (?P=buffer); (?:dotprefix; )?content:\"{content}\";(?: nocase;)?(?: startswith;)? endswith;"
    )
    url_rule = (
        rf'msg:"fraudwall block url on (?P<host>{name})"; http\.host; content:"{content}"; startswith; endswith;'
        rf' http\.uri\.raw; pcre:"/\^\(\?:https\?:\\x2F\\x2F\[\^\\x2F\]\*\)\?{pcre_piece}*'
        rf'(?:\\x3F{pcre_piece}*|\(\?:\\x3F\.\*\)\?)\$/";'
    )
    return re.compile(rf"{head}(?:{name_rule}|{url_rule}) sid:(?P<sid>[1-9][0-9]*); rev:(?P<rev>[1-9][0-9]*);\)")


class SuricataExporter(Exporter[SuricataOptions]):
    """Suricata rules: per name dns.query, tls.sni and http.host; per URL an http rule."""

    name = "suricata"
    render_cost = 4
    description = "Suricata rules; dns.query, tls.sni and http.host per name, http.uri.raw per URL"
    subtree_capable = True
    url_capable = True
    allow_underscore = True
    comment_prefix = "#"
    options_type = SuricataOptions
    data_line = _rule_regex()

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Count rules, exceptions and the sid range used."""
        covered = _covered(prepared)
        subtree = prepared.blocked.subtree_count() + prepared.allowed.subtree_count()
        return [
            "scope: per name one rule each for dns.query, tls.sni and http.host;"
            f" subtree entries (dotprefix, name and below): {subtree}",
            f"allow: pass rules, applied first by Suricata's default action-order; allow entries:"
            f" {len(prepared.allowed)}, blocked names an allow covers entirely and left out: {len(covered)}",
            f"allow: blocked names below an allowed subtree, whose pass rules let them through: {_passed_below(prepared)}",
            f"urls: http.host plus a pcre on http.uri.raw (exact path, exact query if given, else any;"
            f" port not checked); URL entries: {len(prepared.urls)}",
            f"rules: {_rule_count(prepared, covered)}",
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str | CheckedLines]:
        """The rules in file order, numbered from ``sid_start``.

        The count comes first, so a list too long for the sid range is refused
        before any rule is made.
        """
        options = self.options(meta)
        covered = _covered(prepared)
        count = _rule_count(prepared, covered)
        last = options.sid_start + count - 1
        if last > options.sid_end:
            raise ExportError(
                f"suricata: {count} rules need sids {options.sid_start}..{last}, past sid_end"
                f" {options.sid_end}; raise sid_end or move sid_start"
            )
        yield from _rules(prepared, _RuleWriter(self, options.action, options.rev, options.sid_start), covered)

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The strict re-read, then idstools' parser: the options written, unique sids in range."""
        super().verify(path, meta)
        try:
            from idstools import rule as idstools_rule  # only verification needs it
        except ImportError as exc:
            raise ExportError("suricata verification needs the Python package idstools (pip install idstools)") from exc
        options = self.options(meta)
        seen: set[int] = set()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith(self.comment_prefix):
                continue
            where = f"{path}:{number}"
            match = self.data_line.fullmatch(line)
            parsed = idstools_rule.parse(line)
            if match is None or parsed is None:
                raise VerificationError(f"{where}: not a rule idstools can parse")
            if [option["name"] for option in parsed["options"]] != _expected_options(match):
                raise VerificationError(f"{where}: idstools splits the rule into other options than were written")
            passes = parsed["action"] == "pass"
            if passes != (" allow " in parsed["msg"]) or parsed["action"] not in ("pass", options.action):
                raise VerificationError(f"{where}: action {parsed['action']} does not fit the rule or the options")
            sid = parsed["sid"]
            if sid in seen or not options.sid_start <= sid <= options.sid_end or parsed["rev"] != options.rev:
                raise VerificationError(f"{where}: sid {sid} rev {parsed['rev']} is a duplicate or out of range")
            seen.add(sid)
            name = match.group("name") or match.group("host")
            normalize = normalize_name if match.group("name") else url_host  # a URL's host may be an address
            try:
                valid = normalize(name, allow_underscore=True) == name
            except InvalidName:
                valid = False
            if not valid:
                raise VerificationError(f"{where}: invalid name {name!r}")


def _expected_options(match: re.Match[str]) -> list[str]:
    """The option names a rule matched by the strict grammar was written with."""
    if match.group("host"):
        return _URL_OPTIONS
    line = match.string
    key = ("dotprefix;" in line, " nocase;" in line)
    return [option.replace("{buffer}", match.group("buffer")) for option in _NAME_OPTIONS[key]]
