"""Line files: each line recognised on its own, so one file may mix plain, hosts, ABP/AdGuard and URL lines.

Line syntaxes, tried in this order on each line (``#``, ``!``, ``;`` and ``[``
start comments and list headers):

- ABP/AdGuard network rules: ``||a.example^`` blocks the subtree,
  ``|a.example^`` the name only, ``@@`` in front makes an exception (an allow
  entry). The options ``important``, ``all`` and ``document`` keep the rule
  whole; any other option narrows it to some requests and the rule is rejected
  (``abp-option``), as are wildcards, paths, unanchored, regex and
  element-hiding rules. An exception counts only where the file may carry
  exceptions (``exceptions``: an ABP/AdGuard list from a trusted source);
  anywhere else it is rejected as ``untrusted-exception``, so that one list
  can never unblock what another blocks.
- URLs (``https://a.example/login``, one a line as in OpenPhish): a URL-level item.
- hosts lines (``0.0.0.0 a.example b.example # note``): every name, exact. Only
  blocking addresses (``0.0.0.0``, ``127.0.0.1``, ``::``, ``::1``) count; a line
  pointing a name at any other address is a redirect (``hosts-redirect``), and
  the ``localhost`` boilerplate is ``local-name``.
- plain names (``a.example``: exact; ``.a.example``, as in Squid and Surge: the
  subtree).
- resolver syntax that is not a list is rejected by name: ``$INCLUDE``/``$ORIGIN``
  (``zone-directive``), ``server=/x/`` (``dnsmasq-directive``), ``local-zone:``
  (``unbound-directive``).

Line files are read 64 KiB at a time: a run of lines that are plain names is
checked by one regex and comes out as one :class:`~fraudwall.lists.PlainNames`,
so a 2-million-line list reads in about a second; other lines go through the
full path one by one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import IO, NamedTuple

from fraudwall.exceptions import InputError
from fraudwall.lists.input import MAX_LINE_CHARS, blocks
from fraudwall.lists.items import Item, ListedName, PlainNames
from fraudwall.lists.tally import Rejector, Tally
from fraudwall.lists.validate import LOCAL_NAMES, checked_name, plain_ldh, text_fault, url_item
from fraudwall.models import Action, Scope
from fraudwall.names import MAX_NAME_LENGTH, is_ip_literal, plain_name_run

#: What starts a comment or a list header in a line file.
COMMENT_STARTS = frozenset("#!;[")
# Lines _line_items reads nothing from: blank (ASCII whitespace that str.strip removes) or a
# comment, each shorter than MAX_LINE_CHARS (a longer one is rejected), any number in a row.
_SKIPPED_LINES = re.compile(rf"(?:(?=[^\n]{{0,{MAX_LINE_CHARS - 1}}}\n)[ \t\r\x0b\x0c\x1c-\x1f]*(?:[#!;\[][^\n]*)?\n)+")
# Addresses a hosts line points a name at to block it; any other address is a redirect.
_HOSTS_BLOCK_ADDRESSES = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1", "0", "::0"})
# ABP options that do not narrow a rule to some requests, so the rule still means "this domain".
_ABP_WHOLE_DOMAIN_OPTIONS = frozenset({"important", "all", "document", "doc"})
_DNSMASQ_KEYS = ("server=", "address=", "local=", "ipset=", "nftset=", "rebind-domain-ok=")
_ABP_COSMETIC_MARKS = frozenset("#@?$%")


class _Candidate(NamedTuple):
    """A name or URL a line states, before validation."""

    text: str
    scope: Scope = Scope.EXACT
    action: Action = Action.BLOCK
    is_url: bool = False


def read_list_text(stream: IO[str], source: str, reject: Rejector, tally: Tally, *, exceptions: bool) -> Iterator[Item]:
    """Items of a line file; every line is recognised on its own; ``@@`` exceptions count only with ``exceptions``.

    The common case, runs of lines that each hold just a name needing no IDNA
    care, is taken a run at a time: one regex over the run, and one
    :class:`PlainNames` for it. Any other line goes through :func:`_line_items`.
    """
    for lineno, text in blocks(stream, reject, tally):
        start, end = 0, len(text)
        # Most lists are ASCII: matched lowercase, a block at once. Other lines keep their case.
        ascii_text = text.isascii()
        matched = text.lower() if ascii_text else text
        while start < end:
            stop = plain_name_run(matched, start, lowercase=ascii_text)
            if stop > start:
                run = matched[start:stop] if ascii_text else text[start:stop].lower()
                names = run.split("\n")
                names.pop()  # the run ends with a line end
                # What the run's regex leaves to check; hosts-file boilerplate takes the full path.
                if max(map(len, names)) <= MAX_NAME_LENGTH and "xn--" not in run and LOCAL_NAMES.isdisjoint(names):
                    tally.kinds["plain"] += len(names)
                    tally.accepted += len(names)
                    yield PlainNames(names, source)
                else:
                    lines = text[start:stop - 1].split("\n")
                    yield from _split_run(names, lines, lineno, source, reject, tally, exceptions)
                lineno += len(names)
                start = stop
                continue
            elif skipped := _SKIPPED_LINES.match(text, start):
                # Blank lines and comments, read nothing from: a run of them at once, not one line each.
                lineno += text.count("\n", start, skipped.end())
                start = skipped.end()
                continue
            else:
                stop = text.index("\n", start) + 1
            for line in text[start:stop - 1].split("\n"):
                yield from _line_items(line, lineno, source, reject, tally, exceptions)
                lineno += 1
            start = stop


def _split_run(
    names: list[str], lines: list[str], lineno: int, source: str, reject: Rejector, tally: Tally, exceptions: bool,
) -> Iterator[Item]:
    """A run of plain-looking lines holding a few that need the full path (an IDN, an overlong or a local name).

    Only those few go through :func:`_line_items`; the names between them stay
    :class:`PlainNames`, in reading order, so one IDN does not send thousands
    of lines down the slow path.
    """
    full_path = [index for index, name in enumerate(names)
                 if len(name) > MAX_NAME_LENGTH or "xn--" in name or name in LOCAL_NAMES]
    done = 0
    for index in [*full_path, len(names)]:
        if index > done:
            tally.kinds["plain"] += index - done
            tally.accepted += index - done
            yield PlainNames(names[done:index], source)
        if index < len(names):
            yield from _line_items(lines[index], lineno + index, source, reject, tally, exceptions)
        done = index + 1


def _line_items(
    line: str, lineno: int, source: str, reject: Rejector, tally: Tally, exceptions: bool,
) -> Iterator[ListedName]:
    """Items of one line of a line file (without its line end)."""
    if len(line) >= MAX_LINE_CHARS:
        reject(lineno, line[:80], "line-too-long")
        return
    text = line.strip()
    if not text or text[0] in COMMENT_STARTS:
        return
    # The two common cases first, without building candidates: "a.example"
    # and "0.0.0.0 a.example", with a name that needs no IDNA care.
    name = plain_ldh(text)
    if name is not None:
        tally.kinds["plain"] += 1
        tally.accepted += 1
        yield ListedName(name, Scope.EXACT, source)
        return
    fields = text.split()
    if len(fields) == 2 and fields[0] in _HOSTS_BLOCK_ADDRESSES:
        name = plain_ldh(fields[1])
        if name is not None:
            tally.kinds["hosts"] += 1
            tally.accepted += 1
            yield ListedName(name, Scope.EXACT, source)
            return
    for item in text_items(text, lineno, source, reject, tally.kinds, exceptions=exceptions):
        tally.accepted += 1
        yield item


def text_items(
    text: str, lineno: int, source: str, reject: Rejector, kinds: Counter[str], *, exceptions: bool,
) -> Iterator[ListedName]:
    """Items of one stripped, non-comment line (or JSON string), rejecting what is unusable.

    An ``@@`` exception is an item only with ``exceptions``; otherwise it is
    rejected as ``untrusted-exception``, whatever name it names.
    """
    fault = text_fault(text)
    if fault:
        reject(lineno, text, fault)
        return
    try:
        kind, candidates = _line_candidates(text)
    except InputError as exc:
        reject(lineno, text, exc.reason)
        return
    kinds[kind] += 1
    for candidate in candidates:
        if candidate.action is Action.ALLOW and not exceptions:
            reject(lineno, text, "untrusted-exception")
            continue
        try:
            if candidate.is_url:
                yield url_item(candidate.text, source)
            else:
                yield ListedName(checked_name(candidate.text), candidate.scope, source, action=candidate.action)
        except InputError as exc:
            reject(lineno, text if len(candidates) == 1 else candidate.text, exc.reason)


def _line_candidates(text: str) -> tuple[str, list[_Candidate]]:
    """The syntax of one line and the names or URLs it states, or :class:`InputError`."""
    first = text[0]
    if first == "|":
        return "abp", [_abp_rule(text, Action.BLOCK)]
    if first == "@":
        if text.startswith("@@"):
            return "abp", [_abp_rule(text[2:], Action.ALLOW)]
        raise InputError("unrecognised-line")
    if first == "$":  # $INCLUDE, $ORIGIN, $TTL: a zone file, not a list
        raise InputError("zone-directive")
    if first == "/":
        raise InputError("abp-regex" if len(text) > 2 and text.endswith("/") else "unrecognised-line")
    if "://" in text:
        fields = text.split()
        if len(fields) > 1 and not fields[1].startswith("#"):
            raise InputError("unrecognised-line")
        return "urls", [_Candidate(fields[0], is_url=True)]
    hash_at = text.find("#")
    if hash_at > 0:
        if text[hash_at - 1] not in " \t":  # a.example##.banner is element hiding, not a comment
            raise InputError("abp-cosmetic" if text[hash_at + 1:hash_at + 2] in _ABP_COSMETIC_MARKS else "bad-character")
        text = text[:hash_at].rstrip()
    fields = text.split()
    if len(fields) == 1:
        return "plain", [_plain_name(fields[0])]
    head = fields[0]
    if head in _HOSTS_BLOCK_ADDRESSES:
        return "hosts", [_Candidate(name) for name in fields[1:]]
    if head.endswith(":"):  # local-zone:, local-data:, forward-zone: ...
        raise InputError("unbound-directive")
    if is_ip_literal(head):
        raise InputError("hosts-redirect")  # a name pointed at a real address is not a block
    raise InputError("unrecognised-line")


def _plain_name(token: str) -> _Candidate:
    """The name a one-token line states; a leading dot (Squid, Surge) means the subtree."""
    if "=" in token:
        raise InputError("dnsmasq-directive" if token.startswith(_DNSMASQ_KEYS) else "unrecognised-line")
    if "^" in token or "$" in token:
        raise InputError("abp-unanchored")
    if "*" in token:
        raise InputError("wildcard")
    if "/" in token:
        raise InputError("url-without-scheme")
    if token.startswith(".") and not token.startswith(".."):
        return _Candidate(token[1:], Scope.SUBTREE)
    return _Candidate(token)


def _abp_rule(rule: str, action: Action) -> _Candidate:
    """The name an ABP/AdGuard network rule blocks (or allows, for ``@@`` rules)."""
    body, dollar, options = rule.partition("$")
    if dollar and not _ABP_WHOLE_DOMAIN_OPTIONS.issuperset(o.strip().lower() for o in options.split(",")):
        raise InputError("abp-option")  # $third-party, $script, $dnstype...: only some requests
    if body.startswith("||"):
        host, scope = body[2:], Scope.SUBTREE
    elif body.startswith("|"):  # AdGuard: |a.example^ matches that name only
        host, scope = body[1:], Scope.EXACT
    else:
        raise InputError("abp-unanchored")
    host = host.removesuffix("|")
    if not host.endswith("^"):
        raise InputError("abp-no-separator")  # ||a.example alone also matches a.example.evil.top
    host = host[:-1]
    if "*" in host:
        raise InputError("wildcard")
    if "/" in host or ":" in host:
        raise InputError("abp-path")
    return _Candidate(host, scope, action)
