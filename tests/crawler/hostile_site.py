"""A hostile web site on loopback, for testing that the crawler survives one.

``HostileSite()`` is a real HTTP/1.1 server on 127.0.0.1 (a free port), written on raw
sockets and threads so it can misbehave byte by byte: drip a body, never finish its
headers, reset the connection, lie about lengths, types and charsets. Use it as a
context manager::

    with HostileSite() as site:
        crawl(site.url("/"))                       # http://hostile.test:PORT/
        assert site.requested("/huge-tail") == 0   # never read past the body cap

Every path it serves is described in ``CASES`` (path -> what it does, and what a
well-behaved crawler should record); ``EXPECT`` has just the short reason. Links that
must never be requested at all (other schemes, private addresses) are in
``FOREIGN_LINKS``; loopback variants of the site's own address in ``LOOPBACK_LINKS``.

Hosts: the ``Host`` header (or the host of an absolute-form request target, so the site
also works as a forward proxy for any name) picks the virtual host. It matters for
``/cloak-host`` (fraud only when addressed by name), ``/ssrf-canary`` and for private
addresses: any request whose host is a private, link-local or otherwise non-global,
non-loopback IP gets an "SSRF canary" page, and ``private_requests()`` lists them, so a
proxy-mode test can prove they were never contacted.

Bounds: every connection is served by a daemon thread; an "endless" response stops after
``endless_seconds`` (60 s by default) or when the client leaves; ``stop()`` (leaving the
``with`` block) closes the listener and shuts every open connection, so the test process
never hangs on exit. Every response carries ``Connection: close``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import html
import io
import ipaddress
import random
import re
import select
import socket
import struct
import threading
import time
import traceback
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "CASES",
    "DEFAULT_HOST",
    "EXPECT",
    "FOREIGN_LINKS",
    "HUGE_QUERY_PATH",
    "HUGE_TAIL_PATH",
    "LONG_URL_PATH",
    "LOOPBACK_LINKS",
    "REDIRECTS",
    "HostileSite",
    "Request",
    "fixture_apk",
    "gzip_bomb",
    "deflate_bomb",
    "is_private_host",
]

DEFAULT_HOST = "hostile.test"
ENDLESS_SECONDS = 60.0  # the longest any response lasts
DRIP_INTERVAL = 2.0  # seconds between dripped body bytes and slow header lines
REQUEST_TIMEOUT = 10.0  # how long a client may take to send its request head
LINGER_SECONDS = 1.0  # how long to wait for the client to close after a response
MAX_REQUEST_HEAD = 256 * 1024  # larger request heads get 431
HUGE_BODY_BYTES = 50 * 1024 * 1024
BOMB_INFLATED_BYTES = 1 << 30  # what the compression bombs inflate to
ENDLESS_RATE = 20 * 1024 * 1024  # bytes per second at most, so a careless client fills slowly
CHAIN_LENGTH = 30
MANY_LINKS = 50_000
CALENDAR_START = dt.date(2024, 1, 1)
MOBILE_UA = re.compile(r"iPhone|iPad|iPod|Android|MicroMessenger", re.IGNORECASE)
APK_DIR = Path(__file__).resolve().parents[1] / "data" / "apks"

HUGE_TAIL_PATH = "/huge-tail"  # linked only from the last bytes of /huge
LONG_URL_PATH = "/long/" + "/".join(f"segment-{i:04d}" for i in range(640))  # 8,000+ characters
HUGE_QUERY_PATH = "/search?" + "&".join(f"k{i:05d}={'v' * 20}" for i in range(2_600))  # ~70,000 characters

HTML = "text/html; charset=utf-8"
FRAUD_ZH = "兼职刷单返利，动动手指日赚300-800元！完成任务立返佣金，本金加佣金秒到账。添加客服QQ：88889999 领取任务。"
SPA_TEXT = "USDT 理财 日收益 3% 稳赚不赔，联系客服领取体验金"
GBK_TEXT = "兼职刷单返利，日赚500元，佣金当日结算，联系客服QQ 88889999"
GB18030_TEXT = "刷单返利 日赚 佣金 客服QQ 88889999，𠮷祥客服在线"  # 𠮷 is not in GBK: only gb18030 decodes it
BIG5_TEXT = "投資詐騙防範：保證獲利、穩賺不賠？請加LINE線上客服專員，詐騙集團常冒充客服。"

# name -> Location (``{port}`` and ``{authority}`` are filled in); None sends no Location at all.
REDIRECTS: dict[str, str | None] = {
    "file": "file:///etc/passwd",
    "ftp": "ftp://ftp.hostile.test/pub/payload.apk",
    "javascript": "javascript:alert(1)",
    "data": "data:text/html,%3Cb%3Ex%3C/b%3E",
    "private-10": "http://10.0.0.1/",
    "private-172": "http://172.16.0.1/",
    "private-192": "http://192.168.1.1/admin",
    "private-v6": "http://[fd00::1]/",
    "private-mapped-v6": "http://[::ffff:10.0.0.1]/",
    "private-userinfo": "http://hostile.test@10.0.0.1/",
    "metadata": "http://169.254.169.254/latest/meta-data/",
    "metadata-decimal": "http://2852039166/latest/meta-data/",
    "metadata-hex": "http://0xa9fea9fe/latest/meta-data/",
    "loopback-v4": "http://127.0.0.1:{port}/ssrf-canary",
    "loopback-v6": "http://[::1]:{port}/ssrf-canary",
    "loopback-name": "http://localhost:{port}/ssrf-canary",
    "loopback-decimal": "http://2130706433:{port}/ssrf-canary",
    "loopback-short": "http://127.1:{port}/ssrf-canary",
    "loopback-zero": "http://0.0.0.0:{port}/ssrf-canary",
    "loopback-mapped-v6": "http://[::ffff:127.0.0.1]:{port}/ssrf-canary",
    "no-location": None,
    "bad-location": "http://[::1/broken",
}

_NON_HTTP = "non-http scheme never fetched"
_PRIVATE = "private address refused"
_LOOPBACK = "loopback: fetched when loopback is allowed (as in the tests), else private address refused"

# href -> what a crawler should record. All are on the index and on /private-links; none may be requested.
FOREIGN_LINKS: dict[str, str] = {
    "javascript:alert(1)": _NON_HTTP,
    "data:text/html,<b>x</b>": _NON_HTTP,
    "mailto:kefu@hostile.test": _NON_HTTP,
    "tel:+8613800138000": _NON_HTTP,
    "sms:+8613800138000": _NON_HTTP,
    "weixin://dl/chat": _NON_HTTP,
    "alipays://platformapi/startapp?appId=20000067": _NON_HTTP,
    "file:///etc/passwd": _NON_HTTP,
    "ftp://ftp.hostile.test/pub/payload.apk": _NON_HTTP,
    "market://details?id=com.hostile.rebate": _NON_HTTP,
    "intent://scan/#Intent;scheme=weixin;package=com.tencent.mm;end": _NON_HTTP,
    "itms-services://?action=download-manifest&url=https://hostile.test/manifest.plist": _NON_HTTP
    + " (iOS sideloading lure)",
    "http://10.0.0.1/": _PRIVATE,
    "http://10.255.255.1:8080/admin": _PRIVATE,
    "http://167772161/": _PRIVATE + " (10.0.0.1 written as one decimal number)",
    "http://012.0.0.1/": _PRIVATE + " (10.0.0.1 written in octal)",
    "http://172.16.0.1/": _PRIVATE,
    "http://192.168.0.1/": _PRIVATE,
    "http://192.168.1.1/admin": _PRIVATE,
    "http://100.64.0.1/": _PRIVATE + " (carrier-grade NAT, not global)",
    "http://169.254.169.254/latest/meta-data/": _PRIVATE + " (cloud metadata)",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/": _PRIVATE + " (cloud metadata)",
    "http://2852039166/latest/meta-data/": _PRIVATE + " (169.254.169.254 as a decimal number)",
    "http://0xa9fea9fe/latest/meta-data/": _PRIVATE + " (169.254.169.254 in hex)",
    "http://[fd00::1]/": _PRIVATE + " (IPv6 unique local)",
    "http://[fe80::1]/": _PRIVATE + " (IPv6 link local)",
    "http://[::ffff:10.0.0.1]/": _PRIVATE + " (IPv4-mapped IPv6)",
    "http://hostile.test@10.0.0.1/": _PRIVATE + " (the host is 10.0.0.1; hostile.test is only userinfo)",
}

# Templates (``{port}``) of the site's own address in other spellings; they lead to /ssrf-canary.
LOOPBACK_LINKS: dict[str, str] = {
    "http://127.0.0.1:{port}/ssrf-canary": _LOOPBACK,
    "http://[::1]:{port}/ssrf-canary": _LOOPBACK + " (nothing listens on ::1: connection refused)",
    "http://localhost:{port}/ssrf-canary": _LOOPBACK,
    "http://2130706433:{port}/ssrf-canary": _LOOPBACK + " (127.0.0.1 as a decimal number)",
    "http://0x7f000001:{port}/ssrf-canary": _LOOPBACK + " (127.0.0.1 in hex)",
    "http://127.1:{port}/ssrf-canary": _LOOPBACK + " (short form)",
    "http://0.0.0.0:{port}/ssrf-canary": _LOOPBACK + " (unspecified address)",
    "http://[::ffff:127.0.0.1]:{port}/ssrf-canary": _LOOPBACK + " (IPv4-mapped IPv6)",
}


def _redirect_case(name: str, location: str | None) -> tuple[str, str, str]:
    path = f"/redirect/{name}"
    if location is None:
        return path, "302 with no Location header.", "redirect without location"
    if name == "bad-location":
        return path, f"302 to the unparseable {location}.", "invalid redirect location"
    if name.startswith("loopback"):
        return path, f"302 to {location} (a loopback spelling).", _LOOPBACK
    reason = _PRIVATE if location.startswith("http") else _NON_HTTP
    return path, f"302 to {location}.", reason


# (path, what it does, what a well-behaved crawler records). The index links to every path.
_CASE_TABLE: tuple[tuple[str, str, str], ...] = (
    ("/", "Index page (HTML) linking to every case, every FOREIGN_LINKS href, every loopback "
     "spelling and the long-URL and huge-query links.", "ok"),
    ("/loop/a", "302 to /loop/b, which 302s back to /loop/a.", "redirect loop"),
    ("/loop/b", "302 to /loop/a, which 302s back to /loop/b.", "redirect loop"),
    ("/loop/self", "301 to itself.", "redirect loop"),
    ("/chain/1", f"A chain of {CHAIN_LENGTH} redirects (/chain/1 ... /chain/{CHAIN_LENGTH}, mixing 301/302/303/"
     "307/308 and relative/absolute Locations) ending at /chain/final.", "too many redirects"),
    ("/chain/final", "The 200 page at the end of the redirect chain.", "ok"),
    *(_redirect_case(name, location) for name, location in REDIRECTS.items()),
    ("/meta-refresh", "200 HTML whose <meta http-equiv=refresh> points at http://169.254.169.254/latest/meta-data/.",
     _PRIVATE),
    ("/private-links", "200 HTML with every FOREIGN_LINKS and LOOPBACK_LINKS href on its own.",
     "every private and non-http link refused, none requested"),
    ("/ssrf-canary", "200 'internal admin' page; the target of the loopback spellings.", _LOOPBACK),
    ("/huge", f"200 HTML of {HUGE_BODY_BYTES} bytes with Content-Length, generated on the fly; its last bytes "
     f"link to {HUGE_TAIL_PATH}, which must therefore never be requested.", "body over cap"),
    ("/endless", f"200 chunked HTML that never ends (at most ~{ENDLESS_RATE >> 20} MB/s; the connection drops "
     "without a last chunk after the time limit).", "body over cap (or timeout)"),
    ("/gzip-bomb", f"200 text/html, Content-Encoding: gzip: ~1 MB on the wire inflating to {BOMB_INFLATED_BYTES} "
     "zero bytes.", "decompression bomb"),
    ("/deflate-bomb", f"200 text/html, Content-Encoding: deflate (zlib-wrapped): ~1 MB on the wire inflating to "
     f"{BOMB_INFLATED_BYTES} zero bytes.", "decompression bomb"),
    ("/drip", f"200 with Content-Length: 1000, then one body byte every {DRIP_INTERVAL:g} s until the time limit.",
     "timeout"),
    ("/slow-headers", f"A status line, then one header line every {DRIP_INTERVAL:g} s; the headers never end.",
     "timeout"),
    ("/no-response", "Reads the request and never sends a byte.", "timeout"),
    ("/reset", "Resets the connection (RST) right after reading the request.", "connection reset"),
    ("/truncated", "200 with Content-Length: 100000, sends 1000 bytes and closes.", "truncated body"),
    ("/not-http", "Answers with an SSH banner and binary noise instead of HTTP.", "invalid response"),
    ("/conflicting-length", "200 with two Content-Length headers that disagree (20 and 2000).", "invalid response"),
    ("/empty-reply", "Reads the request and closes the connection without a byte.", "connection closed"),
    ("/bad-gzip", "200 text/html, Content-Encoding: gzip over a plain HTML body.", "bad content encoding"),
    ("/gbk", "GBK-encoded Chinese (刷单返利, 客服) while the header says charset=utf-8 and no meta says otherwise.",
     "decoded as GBK despite the header; text contains 刷单返利 and 客服"),
    ("/gb18030", "GB18030 Chinese (with 𠮷, not in GBK); no charset in the header, only <meta charset=\"gb18030\">.",
     "decoded as gb18030 from the meta tag"),
    ("/big5", "Big5 traditional Chinese (詐騙, 客服) under a wrong <meta> charset (gb2312), no charset header.",
     "decoded as Big5 despite the meta tag; text contains 詐騙 and 客服"),
    ("/bad-utf8", "charset=utf-8 with invalid UTF-8 (overlong, lone continuation, surrogate, truncated) around 客服.",
     "decoded with replacement characters, no crash"),
    ("/maze/0", "/maze/<n> links to /maze/<n+1> and to a random-looking /maze/<m> (seeded by n), forever.",
     "crawl limit (depth or page budget)"),
    (f"/calendar?date={CALENDAR_START.isoformat()}", "Calendar trap: links to the next and the previous day, forever.",
     "crawl limit (depth or page budget)"),
    ("/fake-image.jpg", "A real APK (zip starting with PK, with AndroidManifest.xml) served as image/jpeg.",
     "APK found by its magic bytes despite the type"),
    ("/download?id=1", "The APK as application/octet-stream, no extension, no Content-Disposition.",
     "APK found by its magic bytes"),
    ("/app.apk", "The APK served as text/html.", "APK found by its magic bytes despite the type"),
    ("/broken.apk", "The first 1,000 bytes of the APK, as application/vnd.android.package-archive.",
     "downloaded, rejected by the analysis with its reason"),
    ("/page.png", "A Chinese fraud HTML page served as image/png.", "HTML found by sniffing despite the type"),
    ("/profile.mobileconfig", "An (unsigned) iOS configuration profile with a web clip, application/x-apple-aspen-config.",
     "iOS configuration profile (sideloading lure)"),
    ("/manifest.plist", "An itms-services install manifest (application/xml) naming https://hostile.test/app.ipa.",
     "iOS install manifest (sideloading lure)"),
    ("/cloak", "Cloaking by User-Agent: 'Welcome, nothing here' for desktops and crawlers, a task/rebate scam "
     "(刷单返利, 日赚, 佣金, 客服QQ) for iPhone/iPad/Android and WeChat (MicroMessenger).",
     "cloaking: content differs by user agent"),
    ("/cloak-redirect", "Mobile user agents get 302 to /cloak-landing; others get a harmless 200.",
     "cloaking: redirect only for mobile user agents"),
    ("/cloak-landing", "The scam landing page behind /cloak-redirect (served to anyone).", "fraud page"),
    ("/mobile-only", "Desktop and crawler user agents get 403 'Access denied'; mobile ones get the scam page.",
     "cloaking: blocked for desktop user agents"),
    ("/cloak-host", "Cloaking by Host: the scam page when addressed by a name, a harmless page when addressed by an "
     "IP literal (as scanners do).", "cloaking: content differs by host"),
    ("/spa", "An SPA shell: an empty <div id=\"app\"></div> and a script that writes the scam text (USDT 理财 日收益) "
     "from \\u escapes, so the text is not in the static HTML.", "needs rendering to see the fraud text"),
    ("/long-links", f"A page with a {len(LONG_URL_PATH)}-character path link and a {len(HUGE_QUERY_PATH)}-character "
     "query link (both answer 200 if requested).", "URL too long"),
    ("/many-links", f"A page with {MANY_LINKS} distinct links (/link-target/<i>, each a tiny 200 page).",
     "link cap per page"),
)

CASES: dict[str, str] = {path: f"{does} Expect: {expect}." for path, does, expect in _CASE_TABLE}
EXPECT: dict[str, str] = {path: expect for path, _, expect in _CASE_TABLE}


# ---------------------------------------------------------------------------------------------
# Addresses


def _parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``host`` spells, including legacy IPv4 forms (127.1, 0x7f000001, 2130706433)."""
    bare = host.strip("[]")
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(bare))
        except (OSError, UnicodeError, ValueError):
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_private_host(host: str) -> bool:
    """True for IP literals that are not global and not loopback/unspecified (10/8, 169.254/16, fd00::/8...)."""
    address = _parse_ip(host)
    if address is None:
        return False
    return not (address.is_global or address.is_loopback or address.is_unspecified)


def _is_ip_literal(host: str) -> bool:
    return _parse_ip(host) is not None


def _hostname(authority: str) -> str:
    """The lower-case host of ``host[:port]`` without brackets."""
    try:
        return urlsplit("//" + authority).hostname or ""
    except ValueError:
        return authority.lower()


# ---------------------------------------------------------------------------------------------
# Bodies


@functools.cache
def _zeros_deflated() -> tuple[bytes, int, int]:
    """Raw deflate of BOMB_INFLATED_BYTES zero bytes, with their CRC-32 and Adler-32."""
    block = bytes(1 << 20)
    squeezer = zlib.compressobj(9, zlib.DEFLATED, -15)
    # A full flush byte-aligns the output and forgets the history, so every megabyte of zeros
    # compresses to the same bytes: compress one and repeat it.
    segment = squeezer.compress(block) + squeezer.flush(zlib.Z_FULL_FLUSH)
    count = BOMB_INFLATED_BYTES // len(block)
    raw = segment * count + squeezer.flush(zlib.Z_FINISH)
    crc, adler = 0, 1
    for _ in range(count):
        crc = zlib.crc32(block, crc)
        adler = zlib.adler32(block, adler)
    return raw, crc, adler


@functools.cache
def gzip_bomb() -> bytes:
    """A gzip member inflating to BOMB_INFLATED_BYTES zeros (about 1 MB)."""
    raw, crc, _ = _zeros_deflated()
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x02\xff"
    return header + raw + struct.pack("<II", crc, BOMB_INFLATED_BYTES & 0xFFFFFFFF)


@functools.cache
def deflate_bomb() -> bytes:
    """A zlib stream (HTTP's ``deflate``) inflating to BOMB_INFLATED_BYTES zeros."""
    raw, _, adler = _zeros_deflated()
    return b"\x78\xda" + raw + struct.pack(">I", adler)


def _plain_apk(data: bytes) -> bool:
    """A sound zip starting with PK that holds AndroidManifest.xml, with no tricks in it."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            inflated = sum(info.file_size for info in archive.infolist())
            sound = archive.testzip() is None
    except Exception:  # a tampered fixture may fail in any way; it is simply not chosen
        return False
    tricks = any(".." in name or name.startswith("/") for name in names)
    return sound and "AndroidManifest.xml" in names and not tricks and inflated < 50 * len(data)


def _placeholder_apk() -> bytes:
    """A tiny APK-shaped zip, for when no fixture APK is available."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00placeholder manifest")
        archive.writestr("classes.dex", b"dex\n035\x00" + bytes(104))
    return buffer.getvalue()


@functools.cache
def fixture_apk() -> bytes:
    """The bytes of the smallest sound APK in tests/data/apks (a placeholder zip if there is none)."""
    for path in sorted(APK_DIR.glob("*.apk"), key=lambda p: (p.stat().st_size, p.name)):
        data = path.read_bytes()
        if _plain_apk(data):
            return data
    return _placeholder_apk()


def _html(title: str, body: str, head: str = "", charset: str = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"<!doctype html>\n<html><head>{meta}<title>{html.escape(title)}</title>{head}</head>\n<body>\n{body}\n</body></html>\n"


def _fraud_page(title: str = "兼职刷单返利") -> bytes:
    body = f"<h1>{html.escape(title)}</h1>\n<p>{FRAUD_ZH}</p>\n<p>佣金日结，客服QQ：88889999，微信：kefu8888</p>"
    return _html(title, body).encode()


def _harmless_page() -> bytes:
    return _html("Welcome", "<h1>Welcome, nothing here</h1>\n<p>This site is under construction.</p>").encode()


def _link_list(hrefs: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f'<li><a href="{html.escape(href)}">{html.escape(text)}</a></li>' for href, text in hrefs)


def _loopback_links(port: int) -> dict[str, str]:
    return {template.format(port=port): why for template, why in LOOPBACK_LINKS.items()}


def _foreign_section(port: int) -> str:
    foreign = _link_list((href, f"{href[:80]} ({why})") for href, why in FOREIGN_LINKS.items())
    loopback = _link_list((href, f"{href} ({why})") for href, why in _loopback_links(port).items())
    return f"<h2>Never request these</h2>\n<ul>\n{foreign}\n</ul>\n<h2>Loopback spellings</h2>\n<ul>\n{loopback}\n</ul>"


def _long_section() -> str:
    return _link_list([(LONG_URL_PATH, "a very long URL"), (HUGE_QUERY_PATH, "a huge query string")])


def _index_page(port: int) -> bytes:
    cases = "\n".join(
        f'<li><a href="{html.escape(path)}">{html.escape(path)}</a>: {html.escape(what)}</li>'
        for path, what in CASES.items()
    )
    body = (f"<h1>Hostile test site</h1>\n<ul>\n{cases}\n</ul>\n{_foreign_section(port)}\n"
            f"<h2>Long links</h2>\n<ul>\n{_long_section()}\n</ul>")
    return _html("Hostile test site", body).encode()


@functools.cache
def _many_links_page() -> bytes:
    links = "\n".join(f'<a href="/link-target/{i}">{i}</a>' for i in range(MANY_LINKS))
    return _html("Many links", f"<h1>{MANY_LINKS} links</h1>\n{links}").encode()


@functools.cache
def _filler() -> bytes:
    paragraph = b"<p>Lorem ipsum filler for a very large page; nothing to see here.</p>\n"
    return paragraph * (65536 // len(paragraph))


def _huge_pieces() -> Iterator[bytes]:
    """Exactly HUGE_BODY_BYTES of HTML, in pieces; the tail links to HUGE_TAIL_PATH."""
    prefix = _html("Huge", "<h1>Huge page</h1>").split("</body>")[0].encode()
    tail = f'<a href="{HUGE_TAIL_PATH}">the end</a></body></html>\n'.encode()
    yield prefix
    left = HUGE_BODY_BYTES - len(prefix) - len(tail)
    block = _filler()
    while left > 0:
        piece = block[:left]
        left -= len(piece)
        yield piece
    yield tail


def _spa_page() -> bytes:
    escaped = "".join(f"\\u{ord(c):04x}" for c in SPA_TEXT)
    script = (
        "<script>\n(function () {\n"
        f"  var text = '{escaped}';\n"
        "  document.body.innerHTML = '<h1>' + text + '</h1><p id=\"kefu\"></p>';\n"
        "})();\n</script>"
    )
    return _html("Loading...", f'<div id="app"></div>\n{script}').encode()


def _mobileconfig(authority: str) -> bytes:
    landing = html.escape(f"http://{authority}/cloak-landing")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>PayloadType</key><string>com.apple.webClip.managed</string>
      <key>PayloadIdentifier</key><string>test.hostile.webclip</string>
      <key>PayloadUUID</key><string>6B1F0D3E-8C1A-4E55-9A63-0D2B7C4E1F01</string>
      <key>PayloadVersion</key><integer>1</integer>
      <key>Label</key><string>客服中心</string>
      <key>URL</key><string>{landing}</string>
      <key>IsRemovable</key><false/>
    </dict>
  </array>
  <key>PayloadDisplayName</key><string>安全证书（必须安装）</string>
  <key>PayloadIdentifier</key><string>test.hostile.profile</string>
  <key>PayloadType</key><string>Configuration</string>
  <key>PayloadUUID</key><string>6B1F0D3E-8C1A-4E55-9A63-0D2B7C4E1F00</string>
  <key>PayloadVersion</key><integer>1</integer>
</dict>
</plist>
""".encode()


def _install_manifest() -> bytes:
    return """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>items</key>
  <array>
    <dict>
      <key>assets</key>
      <array>
        <dict>
          <key>kind</key><string>software-package</string>
          <key>url</key><string>https://hostile.test/app.ipa</string>
        </dict>
      </array>
      <key>metadata</key>
      <dict>
        <key>bundle-identifier</key><string>test.hostile.rebate</string>
        <key>bundle-version</key><string>1.0</string>
        <key>kind</key><string>software</string>
        <key>title</key><string>返利助手</string>
      </dict>
    </dict>
  </array>
</dict>
</plist>
""".encode()


# ---------------------------------------------------------------------------------------------
# Requests and exchanges


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    host: str  # lower case, no port, no brackets ("" when absent)
    path: str  # path and query, as sent
    authority: str  # host[:port] as sent, for absolute links back to the site
    headers: dict[str, str]  # lower-case names
    at: float  # time.monotonic() when it was read

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")


class _Exchange:
    """One request on one connection; handlers write to the socket through it."""

    def __init__(self, site: HostileSite, conn: socket.socket, request: Request) -> None:
        self.site = site
        self.conn = conn
        self.request = request
        self.deadline = time.monotonic() + site.endless_seconds
        self.hard_close = False

    @property
    def mobile(self) -> bool:
        return bool(MOBILE_UA.search(self.request.user_agent))

    @property
    def head_only(self) -> bool:
        return self.request.method == "HEAD"

    def running(self) -> bool:
        return not self.site.stopping and time.monotonic() < self.deadline

    def send(self, data: bytes) -> bool:
        """Send everything; False when the client left, the server stops or time is up."""
        view = memoryview(data)
        while view:
            if not self.running():
                return False
            try:
                view = view[self.conn.send(view):]
            except TimeoutError:
                continue
            except OSError:
                return False
        return True

    def pause(self, seconds: float) -> bool:
        """Wait; False when the client left, the server stops or time is up."""
        end = min(time.monotonic() + seconds, self.deadline)
        poller = select.poll()  # not select(): descriptors above 1023 must work too
        poller.register(self.conn, select.POLLIN)
        while (left := end - time.monotonic()) > 0:
            if self.site.stopping:
                return False
            try:
                ready = poller.poll(min(left, 0.25) * 1000)
            except OSError:
                return False
            if ready and not self._drain():
                return False
        return self.running()

    def _drain(self) -> bool:
        """Discard what the client sent; False when it closed."""
        try:
            return bool(self.conn.recv(65536))
        except TimeoutError:
            return True
        except OSError:
            return False

    def head(self, status: int, headers: Iterable[tuple[str, str]] = ()) -> bytes:
        lines = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            f"Date: {email.utils.formatdate(usegmt=True)}",
            "Server: hostile-test",
            "Connection: close",
            *(f"{name}: {value}" for name, value in headers),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def respond(self, status: int, body: bytes = b"", content_type: str | None = HTML,
                headers: Iterable[tuple[str, str]] = ()) -> None:
        fields = [("Content-Type", content_type)] if content_type else []
        fields += [("Content-Length", str(len(body))), *headers]
        self.send(self.head(status, fields) + (b"" if self.head_only else body))

    def redirect(self, location: str | None, status: int = 302) -> None:
        headers = [("Location", location)] if location is not None else []
        self.respond(status, _html("Moved", "<p>Moved.</p>").encode(), headers=headers)

    def stream_head(self, status: int, headers: Iterable[tuple[str, str]]) -> bool:
        """Send a head for a streamed body; False when no body should follow."""
        return self.send(self.head(status, headers)) and not self.head_only


Handler = Callable[[_Exchange], None]
_ROUTES: dict[str, Handler] = {}
_PREFIX_ROUTES: list[tuple[str, Handler]] = []


def _route(path: str, prefix: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if prefix:
            _PREFIX_ROUTES.append((path, handler))
        else:
            _ROUTES[path] = handler
        return handler

    return register


def _not_found(ex: _Exchange) -> None:
    ex.respond(404, _html("Not found", "<h1>Not found</h1>").encode())


def _not_allowed(ex: _Exchange) -> None:
    ex.respond(405, b"", headers=[("Allow", "GET, HEAD")])


def _ssrf_canary(ex: _Exchange) -> None:
    body = f"<h1>SSRF CANARY</h1><p>host {html.escape(ex.request.host)} must never be requested</p>"
    ex.respond(200, _html("SSRF canary", body).encode())


@_route("/")
def _index(ex: _Exchange) -> None:
    ex.respond(200, _index_page(ex.site.port))


# -- redirects


@_route("/loop/a")
def _loop_a(ex: _Exchange) -> None:
    ex.redirect("/loop/b")


@_route("/loop/b")
def _loop_b(ex: _Exchange) -> None:
    ex.redirect("/loop/a")


@_route("/loop/self")
def _loop_self(ex: _Exchange) -> None:
    ex.redirect("/loop/self", status=301)


@_route("/chain/final")
def _chain_final(ex: _Exchange) -> None:
    ex.respond(200, _html("Chain end", "<h1>End of the redirect chain</h1>").encode())


@_route("/chain/", prefix=True)
def _chain(ex: _Exchange) -> None:
    step = ex.request.route.removeprefix("/chain/")
    if not re.fullmatch(r"[0-9]{1,3}", step) or not 1 <= int(step) <= CHAIN_LENGTH:
        _not_found(ex)
        return
    n = int(step)
    target = "/chain/final" if n == CHAIN_LENGTH else f"/chain/{n + 1}"
    if n % 2 == 0:
        target = f"http://{ex.request.authority}{target}"
    ex.redirect(target, status=(301, 302, 303, 307, 308)[n % 5])


@_route("/redirect/", prefix=True)
def _redirect(ex: _Exchange) -> None:
    name = ex.request.route.removeprefix("/redirect/")
    if name not in REDIRECTS:
        _not_found(ex)
        return
    template = REDIRECTS[name]
    ex.redirect(None if template is None else template.format(port=ex.site.port, authority=ex.request.authority))


@_route("/meta-refresh")
def _meta_refresh(ex: _Exchange) -> None:
    head = '<meta http-equiv="refresh" content="0; url=http://169.254.169.254/latest/meta-data/">'
    ex.respond(200, _html("Redirecting", "<p>Redirecting...</p>", head=head).encode())


@_route("/private-links")
def _private_links(ex: _Exchange) -> None:
    ex.respond(200, _html("Private links", _foreign_section(ex.site.port)).encode())


@_route("/ssrf-canary")
def _loopback_canary(ex: _Exchange) -> None:
    body = f"<h1>Internal admin</h1><p>reached through loopback host {html.escape(ex.request.host)}</p>"
    ex.respond(200, _html("Internal admin", body).encode())


# -- sizes and time


@_route("/huge")
def _huge(ex: _Exchange) -> None:
    if not ex.stream_head(200, [("Content-Type", HTML), ("Content-Length", str(HUGE_BODY_BYTES))]):
        return
    for piece in _huge_pieces():
        if not ex.send(piece):
            return


@_route(HUGE_TAIL_PATH)
def _huge_tail(ex: _Exchange) -> None:
    ex.respond(200, _html("Tail", "<p>You read a 50 MB page to the end.</p>").encode())


@_route("/endless")
def _endless(ex: _Exchange) -> None:
    if not ex.stream_head(200, [("Content-Type", HTML), ("Transfer-Encoding", "chunked")]):
        return
    block = _filler()
    chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
    ex.send(b"6\r\n<html>\r\n")
    while ex.send(chunk) and ex.pause(len(block) / ENDLESS_RATE):
        pass


@_route("/gzip-bomb")
def _gzip_bomb(ex: _Exchange) -> None:
    ex.respond(200, gzip_bomb(), headers=[("Content-Encoding", "gzip")])


@_route("/deflate-bomb")
def _deflate_bomb(ex: _Exchange) -> None:
    ex.respond(200, deflate_bomb(), headers=[("Content-Encoding", "deflate")])


@_route("/drip")
def _drip(ex: _Exchange) -> None:
    body = (b"<html><body>" + b"drip " * 200)[:1000]
    if not ex.stream_head(200, [("Content-Type", HTML), ("Content-Length", str(len(body)))]):
        return
    for byte in body:
        if not ex.send(bytes([byte])) or not ex.pause(ex.site.drip_interval):
            return


@_route("/slow-headers")
def _slow_headers(ex: _Exchange) -> None:
    if not ex.send(b"HTTP/1.1 200 OK\r\n"):
        return
    line = 0
    while ex.pause(ex.site.drip_interval):
        line += 1
        if not ex.send(f"X-Slow-{line}: {'.' * 16}\r\n".encode()):
            return


@_route("/no-response")
def _no_response(ex: _Exchange) -> None:
    while ex.pause(1.0):
        pass


@_route("/reset")
def _reset(ex: _Exchange) -> None:
    ex.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ex.hard_close = True


@_route("/truncated")
def _truncated(ex: _Exchange) -> None:
    if ex.stream_head(200, [("Content-Type", HTML), ("Content-Length", "100000")]):
        ex.send((b"<html><body>" + b"cut " * 300)[:1000])


@_route("/not-http")
def _not_http(ex: _Exchange) -> None:
    ex.send(b"SSH-2.0-OpenSSH_8.9\r\n" + bytes(random.Random(7).randrange(256) for _ in range(512)))


@_route("/conflicting-length")
def _conflicting_length(ex: _Exchange) -> None:
    ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\nContent-Length: 2000\r\n\r\n"
            + b"<html><body>smuggled?</body></html>")


@_route("/empty-reply")
def _empty_reply(ex: _Exchange) -> None:
    pass  # the exchange closes the connection: not one byte was sent


@_route("/bad-gzip")
def _bad_gzip(ex: _Exchange) -> None:
    body = _harmless_page()
    if ex.stream_head(200, [("Content-Type", HTML), ("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))]):
        ex.send(body)


# -- encodings


@_route("/gbk")
def _gbk(ex: _Exchange) -> None:
    body = f"<html><head><title>兼职刷单返利</title></head><body><h1>刷单返利</h1><p>{GBK_TEXT}</p></body></html>"
    ex.respond(200, body.encode("gbk"), content_type="text/html; charset=utf-8")


@_route("/gb18030")
def _gb18030(ex: _Exchange) -> None:
    body = _html("刷单返利", f"<h1>刷单返利</h1><p>{GB18030_TEXT}</p>", charset="gb18030")
    ex.respond(200, body.encode("gb18030"), content_type="text/html")


@_route("/big5")
def _big5(ex: _Exchange) -> None:
    body = _html("詐騙防範", f"<h1>詐騙</h1><p>{BIG5_TEXT}</p>", charset="gb2312")
    ex.respond(200, body.encode("big5"), content_type="text/html")


@_route("/bad-utf8")
def _bad_utf8(ex: _Exchange) -> None:
    broken = b"\xc0\xaf \x80 \xed\xa0\x80 \xff\xfe \xe4\xb8"
    body = b"<html><body><p>" + "联系客服".encode() + b" " + broken + b" " + "日赚".encode() + b"</p></body></html>"
    ex.respond(200, body)


# -- traps


@_route("/maze/", prefix=True)
def _maze(ex: _Exchange) -> None:
    step = ex.request.route.removeprefix("/maze/")
    if not re.fullmatch(r"[0-9]{1,30}", step):
        _not_found(ex)
        return
    n = int(step)
    elsewhere = random.Random(n).randrange(10**12)
    links = _link_list([(f"/maze/{n + 1}", "next room"), (f"/maze/{elsewhere}", "another room")])
    ex.respond(200, _html(f"Room {n}", f"<h1>Room {n}</h1>\n<ul>\n{links}\n</ul>").encode())


@_route("/calendar")
def _calendar(ex: _Exchange) -> None:
    try:
        day = dt.date.fromisoformat(ex.request.query.get("date", [""])[0])
    except ValueError:
        day = CALENDAR_START
    neighbours = []
    for delta, text in ((1, "next day"), (-1, "previous day")):
        try:
            neighbours.append((f"/calendar?date={(day + dt.timedelta(days=delta)).isoformat()}", text))
        except OverflowError:
            continue
    body = f"<h1>Events on {day.isoformat()}</h1>\n<p>No events.</p>\n<ul>\n{_link_list(neighbours)}\n</ul>"
    ex.respond(200, _html(f"Calendar {day.isoformat()}", body).encode())


@_route("/link-target/", prefix=True)
def _link_target(ex: _Exchange) -> None:
    ex.respond(200, _html("Target", "<p>one of many</p>").encode())


@_route("/many-links")
def _many_links(ex: _Exchange) -> None:
    ex.respond(200, _many_links_page())


@_route("/long-links")
def _long_links(ex: _Exchange) -> None:
    ex.respond(200, _html("Long links", f"<ul>\n{_long_section()}\n</ul>").encode())


@_route("/long/", prefix=True)
def _long_target(ex: _Exchange) -> None:
    ex.respond(200, _html("Long", f"<p>a {len(ex.request.path)}-character path</p>").encode())


@_route("/search")
def _search_target(ex: _Exchange) -> None:
    ex.respond(200, _html("Search", f"<p>a {len(ex.request.path)}-character query</p>").encode())


# -- content-type lies and iOS lures


@_route("/fake-image.jpg")
def _fake_image(ex: _Exchange) -> None:
    ex.respond(200, fixture_apk(), content_type="image/jpeg")


@_route("/download")
def _download(ex: _Exchange) -> None:
    ex.respond(200, fixture_apk(), content_type="application/octet-stream")


@_route("/app.apk")
def _app_apk(ex: _Exchange) -> None:
    ex.respond(200, fixture_apk(), content_type="text/html")


@_route("/broken.apk")
def _broken_apk(ex: _Exchange) -> None:
    ex.respond(200, fixture_apk()[:1000], content_type="application/vnd.android.package-archive")


@_route("/page.png")
def _page_png(ex: _Exchange) -> None:
    ex.respond(200, _fraud_page(), content_type="image/png")


@_route("/profile.mobileconfig")
def _profile(ex: _Exchange) -> None:
    ex.respond(200, _mobileconfig(ex.request.authority), content_type="application/x-apple-aspen-config")


@_route("/manifest.plist")
def _manifest(ex: _Exchange) -> None:
    ex.respond(200, _install_manifest(), content_type="application/xml")


# -- cloaking


@_route("/cloak")
def _cloak(ex: _Exchange) -> None:
    ex.respond(200, _fraud_page() if ex.mobile else _harmless_page(), headers=[("Vary", "User-Agent")])


@_route("/cloak-redirect")
def _cloak_redirect(ex: _Exchange) -> None:
    if ex.mobile:
        ex.redirect("/cloak-landing")
    else:
        ex.respond(200, _harmless_page(), headers=[("Vary", "User-Agent")])


@_route("/cloak-landing")
def _cloak_landing(ex: _Exchange) -> None:
    ex.respond(200, _fraud_page("日赚千元 刷单返利"))


@_route("/mobile-only")
def _mobile_only(ex: _Exchange) -> None:
    if ex.mobile:
        ex.respond(200, _fraud_page(), headers=[("Vary", "User-Agent")])
    else:
        ex.respond(403, _html("Access denied", "<h1>Access denied</h1>").encode(), headers=[("Vary", "User-Agent")])


@_route("/cloak-host")
def _cloak_host(ex: _Exchange) -> None:
    host = ex.request.host
    by_name = bool(host) and not _is_ip_literal(host) and host != "localhost"
    ex.respond(200, _fraud_page() if by_name else _harmless_page())


@_route("/spa")
def _spa(ex: _Exchange) -> None:
    ex.respond(200, _spa_page())


# ---------------------------------------------------------------------------------------------
# The server


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]] | None:
    """(method, target, headers) of a request head, or None when it is not HTTP."""
    lines = head.decode("latin-1").lstrip("\r\n").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return parts[0].upper(), parts[1], headers


def _make_request(method: str, target: str, headers: dict[str, str]) -> Request:
    if re.match(r"(?i)https?://", target):  # absolute form: the site acts as a forward proxy
        split = urlsplit(target)
        authority = split.netloc.rpartition("@")[2]
        path = (split.path or "/") + (f"?{split.query}" if split.query else "")
    else:
        authority = headers.get("host", "")
        path = target
    return Request(method, _hostname(authority), path, authority, headers, time.monotonic())


class HostileSite:
    """The hostile site on 127.0.0.1, a free port; a context manager."""

    def __init__(self, endless_seconds: float = ENDLESS_SECONDS, drip_interval: float = DRIP_INTERVAL) -> None:
        self.endless_seconds = endless_seconds
        self.drip_interval = drip_interval
        self._lock = threading.Lock()
        self._records: list[Request] = []
        self._errors: list[str] = []
        self._conns: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name="hostile-accept", daemon=True)

    # -- addresses

    def url(self, path: str = "/", host: str = DEFAULT_HOST) -> str:
        """``http://host:port/path`` for this site."""
        return f"http://{host}:{self.port}{path}"

    def loopback_links(self) -> dict[str, str]:
        """LOOPBACK_LINKS with this site's port filled in."""
        return _loopback_links(self.port)

    # -- what was requested

    @property
    def records(self) -> list[Request]:
        """A snapshot of every request received, in order."""
        with self._lock:
            return list(self._records)

    @property
    def requests(self) -> list[tuple[str, str]]:
        """A snapshot of (host, path-and-query) for every request received, in order."""
        return [(r.host, r.path) for r in self.records]

    def requested(self, path_prefix: str = "/", host: str | None = None) -> int:
        """How many requests had a path starting with ``path_prefix`` (and, if given, this host)."""
        return sum(1 for r in self.records if r.path.startswith(path_prefix) and host in (None, r.host))

    def paths(self, host: str | None = None) -> Counter[str]:
        """Requests per path (with query)."""
        return Counter(r.path for r in self.records if host in (None, r.host))

    def hosts(self) -> Counter[str]:
        """Requests per host."""
        return Counter(r.host for r in self.records)

    def user_agents(self, path_prefix: str = "/") -> list[str]:
        """The User-Agent of each request under ``path_prefix``."""
        return [r.user_agent for r in self.records if r.path.startswith(path_prefix)]

    def private_requests(self) -> list[Request]:
        """Requests addressed to a private non-loopback IP (only seen when the site is used as a proxy)."""
        return [r for r in self.records if is_private_host(r.host)]

    def wait_for(self, path_prefix: str, count: int = 1, timeout: float = 5.0) -> bool:
        """Wait until ``count`` requests under ``path_prefix`` arrived; False on timeout."""
        end = time.monotonic() + timeout
        while self.requested(path_prefix) < count:
            if time.monotonic() > end:
                return False
            time.sleep(0.02)
        return True

    @property
    def errors(self) -> list[str]:
        """Tracebacks of handler failures (bugs in this module, not in the client)."""
        with self._lock:
            return list(self._errors)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- life cycle

    def start(self) -> HostileSite:
        self._acceptor.start()
        return self

    def stop(self, wait: float = 3.0) -> None:
        """Close the listener and every open connection; wait up to ``wait`` s for the threads."""
        self._stop.set()
        if self._acceptor.is_alive():
            self._acceptor.join(1.0)
        self._listener.close()
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        end = time.monotonic() + wait
        for thread in threads:
            thread.join(max(0.0, end - time.monotonic()))

    def __enter__(self) -> HostileSite:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- serving

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.5)
            thread = threading.Thread(target=self._serve, args=(conn,), name="hostile-conn", daemon=True)
            with self._lock:
                if self._stop.is_set():
                    conn.close()
                    return
                self._conns.add(conn)
                self._threads.add(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        hard = False
        try:
            hard = self._exchange(conn)
        except Exception:
            with self._lock:
                self._errors.append(traceback.format_exc())
        finally:
            if not hard:
                self._linger(conn)
            conn.close()
            with self._lock:
                self._conns.discard(conn)
                self._threads.discard(threading.current_thread())

    def _exchange(self, conn: socket.socket) -> bool:
        """Read one request and answer it; True when the socket must be closed hard (RST)."""
        head = self._read_head(conn)
        if head is None:
            return False
        parsed = _parse_head(head) if b"\r\n\r\n" in head else None
        if parsed is None:
            status = 431 if len(head) > MAX_REQUEST_HEAD else 400
            try:
                conn.sendall(f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nConnection: close\r\n"
                             "Content-Length: 0\r\n\r\n".encode())
            except OSError:
                pass
            return False
        request = _make_request(*parsed)
        with self._lock:
            self._records.append(request)
        exchange = _Exchange(self, conn, request)
        self._dispatch(exchange)
        return exchange.hard_close

    def _read_head(self, conn: socket.socket) -> bytes | None:
        """The request head (up to the blank line, or what came before the size cap); None if none came."""
        data = bytearray()
        end = time.monotonic() + REQUEST_TIMEOUT
        while b"\r\n\r\n" not in data and len(data) <= MAX_REQUEST_HEAD:
            if self._stop.is_set() or time.monotonic() > end:
                return None
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return bytes(data)

    def _dispatch(self, exchange: _Exchange) -> None:
        request = exchange.request
        handler = _ROUTES.get(request.route)
        if handler is None:
            handler = next((h for prefix, h in _PREFIX_ROUTES if request.route.startswith(prefix)), _not_found)
        if is_private_host(request.host):
            handler = _ssrf_canary
        elif request.method not in ("GET", "HEAD"):
            handler = _not_allowed
        handler(exchange)

    def _linger(self, conn: socket.socket) -> None:
        """Half-close and let the client read everything before the socket goes (no RST on unread input)."""
        try:
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            return
        end = time.monotonic() + LINGER_SECONDS
        while time.monotonic() < end and not self._stop.is_set():
            try:
                if not conn.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return
