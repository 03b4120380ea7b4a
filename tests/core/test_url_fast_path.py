"""The fast paths for feed URLs and dates give exactly what the full paths give: the same value or the same rejection.

A feed of hundreds of thousands of URLs is read, compiled and prepared for
export through one-match shortcuts: :func:`~fraudwall.names.split_host_port`
for ``urlsplit``, plain hosts in :func:`~fraudwall.names.url_host`, URLs
already normal in ``fraudwall.exporters.validation`` (``_validated_url``, and
``_validated`` for a URL-level entry), cached dates in ``_moment``, details
shared between a feed's rows in the compiler. Each is held here to the full path
it stands in for: ``urlsplit`` itself, or the implementation before the
shortcut, kept below as the reference. The URLs are built to be hostile:
userinfo, backslashes, brackets, percent signs, upper case, IDN, empty and
out-of-range ports, trailing dots, spaces, control characters, lone surrogates.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.exceptions import InputError, InvalidName
from fraudwall.exporters.validation import MAX_URL_LENGTH, _quoted, _URL_SAFE, _validated, _validated_url
from fraudwall.list_compiler import compile_lists
from fraudwall.lists.feed_records import _moment
from fraudwall.lists.items import ListedName
from fraudwall.lists.validate import checked_name, text_fault, url_item
from fraudwall.models import Action, BlockEntry, Scope
from fraudwall.names import (
    SplitUrl,
    browser_slashes,
    is_ip_literal,
    normalize_name,
    split_host_port,
    split_url,
    url_address,
    url_host,
)
from tests.test_list_compiler import _one_by_one

EXAMPLES = settings(max_examples=3000, derandomize=True, deadline=None)

# -- URLs built to be hostile ----------------------------------------------------------------------

_SCHEMES = st.sampled_from(["http", "https", "HTTP", "hTTps", "ftp", "javascript", "h1ttp", "", " http", "http\t"])
_SEPARATORS = st.sampled_from(["://", "://", "://", ":/", ":", ":///", ":\\\\", ":/\\", "://\\"])
_LABEL = st.text(alphabet="abcxyzAZ019-_", min_size=1, max_size=8)
_NAMES = st.lists(_LABEL, min_size=1, max_size=4).map(".".join)
_HOSTS = st.one_of(
    _NAMES,
    _NAMES.map(lambda name: name + "."),  # the root's trailing dot
    st.sampled_from([
        "", "example.com", "EXAMPLE.Com", "1.2.3.4", "8.8.8.8", "10.0.0.1", "127.0.0.1", "0x7f.1", "a.123",
        "[::1]", "[2001:4860::8888]", "[::1", "::1]", "[v1.x]", "[fe80::1%25eth0]", "[fe80::1%25ETH0]",
        "ex%41mple.com", "Ex%4Bmple.COM", "xn--r8jz45g.jp", "xn--zz.top", "工商银行.top", "ＦＵＬＬ.top",
        "bücher.de", "a..b.com", ".a.com", "localhost", "localhost.localdomain", "a b.com", "a\tb.com",
        "x" * 64 + ".com", ".".join(["a" * 61] * 5), "under_score.top", "a.b_c", "-lead.top", "user@host.com",
        "user:pass@host.com", "a@b@c.com", "host.com\\@evil.top", "ho\u00adst.com", "a.com:80@b.com",
    ]),
)
_PORTS = st.one_of(
    st.just(""),
    st.sampled_from(["0", "00", "1", "80", "080", "0080", "8443", "65535", "65536", "99999", "123456", "",
                     "8a", "-1", "+80", " 80", "٣", "²", "80:90"]).map(lambda port: ":" + port),
)
_REST_CHARACTERS = st.sampled_from([
    *"aZ09/?#&=%:@!$'()*+,;~-._ \\[]{}|^`\"<>\t\n\r\x00\x7féü日\u00a0\u200b\u2028\ufeff", "\ud800", "%2F", "%zz",
])
_RESTS = st.lists(_REST_CHARACTERS, max_size=24).map("".join)
_WHITESPACE = st.sampled_from(["", "", "", " ", "\t", "\n", "\x0c", "\u3000", "\x01"])
# What the fast paths take, or a character away from it.
_SAFE_CHARACTERS = st.sampled_from([*"aZ09/?&=%:@!$'()*+,;~-._", "/", "/", "?", "#", "é"])


@st.composite
def hostile_urls(draw: Callable[..., Any]) -> str:
    """A URL-like text: mostly the http(s) shape, each part drawn from plain and hostile choices."""
    parts = (_WHITESPACE, _SCHEMES, _SEPARATORS, _HOSTS, _PORTS, _RESTS, _WHITESPACE)
    return "".join(draw(part) for part in parts)


@st.composite
def plain_urls(draw: Callable[..., Any]) -> str:
    """A URL of the shape the fast paths take, or one a port or a character away from it."""
    scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
    host = draw(st.one_of(_NAMES.map(str.lower), _NAMES))
    port = draw(st.sampled_from(["", "", ":80", ":8443", ":0", ":080", ":65535", ":65536"]))
    start = draw(st.sampled_from(["/", "/", "/", "", "?", "#"]))
    rest = draw(st.lists(_SAFE_CHARACTERS, max_size=16).map("".join))
    return f"{scheme}://{host}{port}{start}{rest}"


URLS = st.one_of(hostile_urls(), plain_urls(), st.text(max_size=40), st.text(max_size=40).map("http://".__add__))
_DATES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).flatmap(lambda moment: st.sampled_from([
        moment.strftime("%Y/%m/%d %H:%M:%S"), moment.isoformat(), moment.isoformat() + "Z",
        moment.isoformat() + "+09:00", moment.strftime("%Y-%m-%d"), f" {moment:%Y/%m/%d %H:%M} ",
        moment.strftime("%Y/%m/%d %H:%M:%S") + "\x00",
    ])),
    st.sampled_from(["", " ", "2019/02/30 10:00:00", "1994/12/31 23:59:59", "1995/01/01 08:59:59",
                     "1995/01/01 09:00:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59", "2019/01/04 10:12:00\ud800",
                     "today", "2019/1/4"]),
    st.text(max_size=25),
    st.integers(),
    st.none(),
)


def _outcome(function: Callable[..., Any], *args: Any) -> tuple[Any, ...]:
    """What ``function(*args)`` gives: its value, or the exception's type, reason (if any) and text."""
    try:
        return "value", function(*args)
    except (ValueError, InputError, InvalidName) as exc:
        return "raised", type(exc), getattr(exc, "reason", None), str(exc)


# -- the references: each full path as it was before its shortcut -------------------------------------

def _urlsplit_host_port(url: str) -> tuple[Any, str, int | None]:
    split = urlsplit(url)
    return split, split.hostname or "", split.port


def _url_item_reference(raw: str, source: str) -> ListedName:
    url = raw.strip().replace(" ", "%20")
    if not url.isprintable():
        raise InputError("bad-url", url)
    scheme, separator, _ = url.partition(":")
    if not (separator and scheme.isascii() and scheme.isalpha()):
        raise InputError("url-without-scheme", url)
    if scheme.lower() not in ("http", "https"):
        raise InputError("unsupported-scheme", url)
    url = browser_slashes(url)
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError as exc:
        raise InputError("bad-url", f"{url}: {exc}") from exc
    if port == 0:
        raise InputError("bad-url", f"{url}: port 0")
    if not split.hostname:
        raise InputError("no-host", url)
    host = url_address(split.hostname) if is_ip_literal(split.hostname) else checked_name(split.hostname)
    return ListedName(host, Scope.EXACT, source, url)


def _split_url_reference(url: str) -> SplitUrl:
    url = url.strip()
    if url[:8].lower().startswith(("http://", "https://")):
        url = browser_slashes(url)
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError as exc:
        raise InvalidName("bad-url", f"{url!r}: {exc}") from exc
    if port == 0:
        raise InvalidName("bad-url", f"{url!r}: port 0")
    raw_host = split.hostname or ""
    if not raw_host:
        raise InvalidName("no-host", url)
    if is_ip_literal(raw_host):
        return SplitUrl(url, split, str(ipaddress.ip_address(raw_host.strip("[]"))), port, True)
    return SplitUrl(url, split, normalize_name(raw_host, allow_underscore=True), port, False)


def _url_host_reference(raw: str, allow_underscore: bool) -> str:
    return url_address(raw) if is_ip_literal(raw) else normalize_name(raw, allow_underscore=allow_underscore)


def _validated_url_reference(raw: str, name: str) -> str:
    if not isinstance(raw, str) or not raw.isprintable() or " " in raw:
        raise InvalidName("bad-url", repr(raw)[:200])
    _, split, host, port, _ = _split_url_reference(raw)
    scheme = split.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidName("bad-url", f"{raw[:200]}: not http(s)")
    if host != name:
        raise InvalidName("url-host-mismatch", f"{raw[:200]} is not on {name}")
    netloc = host if port is None else f"{host}:{port}"
    url = urlunsplit((scheme, netloc, quote(split.path or "/", safe=_URL_SAFE), quote(split.query, safe=_URL_SAFE), ""))
    if len(url) > MAX_URL_LENGTH:
        raise InvalidName("url-too-long", f"{len(url)} > {MAX_URL_LENGTH} characters")
    return url


def _validated_reference(entry: BlockEntry, max_length: int) -> BlockEntry:
    """``_validated`` of a URL-level entry (its name-level branch has no shortcut)."""
    name = _url_host_reference(entry.name, allow_underscore=True)
    if len(name) > max_length:
        raise InvalidName("too-long-for-format", f"{len(name)} > {max_length} characters")
    try:
        scope = entry.scope if entry.scope.__class__ is Scope else Scope(entry.scope)
        action = entry.action if entry.action.__class__ is Action else Action(entry.action)
    except ValueError as exc:
        raise InvalidName("bad-scope-or-action", str(exc)) from exc
    url = _validated_url_reference(entry.url, name)
    if action is Action.ALLOW:
        raise InvalidName("url-allow", f"{url}: exceptions are name-level only")
    if name == entry.name and scope is entry.scope and action is entry.action and url == entry.url:
        return entry
    return replace(entry, name=name, scope=scope, action=action, url=url)


def _moment_reference(value: object, zone: tzinfo) -> datetime | None:
    if not isinstance(value, str) or text_fault(value):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
        if not moment.tzinfo:
            moment = moment.replace(tzinfo=zone)
        in_utc = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    if not datetime(1995, 1, 1, tzinfo=UTC) <= in_utc <= datetime.now(UTC) + timedelta(days=1):
        return None
    return moment


def _host_of(url: str) -> str:
    """The name ``prepare`` gets with ``url``: its host as the full path finds it, else as its text shows it.

    A URL the full path refuses, on the name its text shows: the fast path must refuse it too.
    """
    try:
        return _split_url_reference(url).host
    except InvalidName:
        try:
            return urlsplit(url.strip()).hostname or "example.com"
        except ValueError:
            return "example.com"


# -- reading ----------------------------------------------------------------------------------------------

@EXAMPLES
@given(URLS)
@example("http://a.com:65536/")
@example("http://a.com:0/x")
@example("HTTP://A.Example.COM:080/p?q#f")
@example("http://a.com/x\ny?z")  # urlsplit deletes line breaks and tabs
@example("http://a.com#f?q")
@example("http://a.com?q#f")
@example("https://phish.top\\@bank.example/")
@example("http://user@Host.com:8080/")
@example("http://Ex%4Bmple.COM/")  # urlsplit lowercases a host only up to a "%" (a zone)
@example("http://[::1]:80/")
def test_split_host_port_is_urlsplit(url: str) -> None:
    """Part for part as ``urlsplit`` and its ``hostname`` and ``port``, and the same ValueError where they raise."""
    assert _outcome(split_host_port, url) == _outcome(_urlsplit_host_port, url)


@EXAMPLES
@given(URLS)
@example("http://localhost/x")
@example("http://a.com.:8080")
@example("http://1.2.3.4/x")
def test_url_item_is_the_full_path(raw: str) -> None:
    """The same item, or the same rejection with the same text, for every URL a feed may hold."""
    assert _outcome(url_item, raw, "list:feed") == _outcome(_url_item_reference, raw, "list:feed")


@EXAMPLES
@given(_DATES, st.sampled_from([UTC, timezone(timedelta(hours=9), "JST")]))
def test_moment_is_the_full_path(value: object, zone: tzinfo) -> None:
    """The same datetime, its zone too, or the same unknown date; asked twice, as the cache answers the second time."""
    expected = _moment_reference(value, zone)
    for _ in range(2):
        moment = _moment(value, zone)
        assert repr(moment) == repr(expected)


def test_moment_never_caches_the_future_bound() -> None:
    """A date later than tomorrow stays unknown however often it is asked: "now" is read at each call."""
    later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert [_moment(later, UTC) for _ in range(3)] == [None, None, None]


def test_rows_alike_share_details_but_keep_their_own_times(tmp_path: Path) -> None:
    """Rows of one timestamp share their details in the compiled list; a row of the same instant written in
    another zone keeps its own: the same entries, times and zones as compiling item by item."""
    feed = tmp_path / "jpcert.csv"
    feed.write_text("\n".join([
        "date,URL,description",
        "2019/01/04 10:12:00,http://a.top/x,Brand", "2019/01/04 10:12:00,http://b.top/y,Brand",
        "2019-01-04T01:12:00+00:00,http://c.top/z,Brand", "2019/01/04 10:12:00,http://d.top/,Other",
        "2019/01/05 10:12:00,http://a.top/x,Brand", "bad date,http://e.top/,Brand",
    ]) + "\n", encoding="utf-8")
    urlhaus = tmp_path / "urlhaus.csv"
    urlhaus.write_text("\n".join([
        "id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter",
        "1,2021-03-04 05:06:07,http://f.top/a,online,,malware_download,a,l,r",
        "2,2021-03-04 05:06:07,http://g.top/a,online,,,a,l,r",
        "3,2021-03-04 05:06:07,http://h.top/a,online,,malware_download,a,l,r",
    ]) + "\n", encoding="utf-8")
    paths = [str(feed), str(urlhaus)]
    guard = PublishGuard.from_files(())
    selection = compile_lists(paths, guard)
    expected, refused = _one_by_one(paths, guard)
    assert sorted(map(repr, selection.entries)) == sorted(map(repr, expected))  # repr: a time's zone too
    assert selection.refused.counts == refused.counts
    by_name = {entry.name: entry.first_seen for entry in selection.entries.blocks}
    assert by_name["a.top"] is by_name["b.top"]  # one timestamp, one object
    assert by_name["c.top"] == by_name["a.top"] and by_name["c.top"].utcoffset() == timedelta(0)


# -- preparing for export ------------------------------------------------------------------------------------

@EXAMPLES
@given(URLS)
def test_split_url_is_the_full_path(url: str) -> None:
    """The same split, host and port, or the same rejection."""
    assert _outcome(split_url, url) == _outcome(_split_url_reference, url)


@EXAMPLES
@given(st.one_of(_HOSTS, st.text(max_size=20)), st.booleans())
def test_url_host_is_the_full_path(raw: str, allow_underscore: bool) -> None:
    """A plain host comes back as it is; every other one as url_address or normalize_name give it."""
    def fast(text: str) -> str:
        return url_host(text, allow_underscore=allow_underscore)

    assert _outcome(fast, raw) == _outcome(_url_host_reference, raw, allow_underscore)


@EXAMPLES
@given(URLS, st.one_of(st.none(), _HOSTS))
@example("http://a.com", None)
@example("http://a.com:8080?q", None)
@example("http://a.com/?", None)
@example("http://a.com/#", None)
@example("http://a.com:0/", None)
@example("http://a.com:080/", None)
@example("http://a.com:65536/", None)
@example("http://a..com/", "a..com")  # a name no check passed: the shortcut must not vouch for it
@example("http://xn--zz.top/", "xn--zz.top")
@example("http://1.2.3.4/", "1.2.3.4")
@example("http://a.com./", "a.com.")
@example("http://a.com/" + "x" * (MAX_URL_LENGTH - 13), None)  # 2048 characters: the longest kept
@example("http://a.com/" + "x" * (MAX_URL_LENGTH - 12), None)
def test_validated_url_is_the_full_path(raw: str, name: str | None) -> None:
    """The same normal URL, or the same rejection, on the entry's own host and on others."""
    host = _host_of(raw) if name is None else name
    assert _outcome(_validated_url, raw, host) == _outcome(_validated_url_reference, raw, host)


@EXAMPLES
@given(URLS.filter(bool), st.one_of(st.none(), _HOSTS), st.sampled_from([*Scope, "exact", "subtree", "nope"]),
       st.sampled_from([*Action, "block", "allow", "nope"]), st.sampled_from([253, 20, 5]), st.booleans())
@example("http://a.com/x", None, Scope.EXACT, Action.BLOCK, 253, False)  # the common case: the entry itself
@example("http://a.com", None, Scope.EXACT, Action.BLOCK, 253, False)  # a new entry, with the path "/"
@example("http://a.com/x", None, Scope.EXACT, Action.ALLOW, 253, False)
@example("http://a.com/x", None, "exact", Action.BLOCK, 253, False)
@example("http://long-name.com/x", None, Scope.EXACT, Action.BLOCK, 12, False)
def test_validated_url_entry_is_the_full_path(
    raw: str, name: str | None, scope: Any, action: Any, max_length: int, allow_underscore: bool,
) -> None:
    """A URL-level entry comes back as itself, as a new entry or as a rejection, as the full path gives it."""
    entry = BlockEntry(_host_of(raw) if name is None else name, scope, action, url=raw)

    def fast(entry: BlockEntry) -> tuple[BlockEntry, bool]:
        result = _validated(entry, allow_underscore=allow_underscore, max_length=max_length)
        return result, result is entry

    def reference(entry: BlockEntry) -> tuple[BlockEntry, bool]:
        result = _validated_reference(entry, max_length)
        return result, result is entry

    assert _outcome(fast, entry) == _outcome(reference, entry)


@EXAMPLES
@given(_RESTS)
def test_quoted_is_quote(text: str) -> None:
    """Text with nothing to encode comes back as it is; the rest is quote()'s."""
    assert _outcome(_quoted, text) == _outcome(quote, text, _URL_SAFE)
