"""The hostile test site does what its CASES table says, checked with plain sockets.

These tests exercise the server only (no crawler): each talks raw HTTP/1.1 to it with
socket timeouts, so a misbehaving endpoint fails a test instead of hanging it.
"""

from __future__ import annotations

import codecs
import plistlib
import re
import socket
import struct
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import urlsplit

import pytest

from tests.crawler.hostile_site import (
    BOMB_INFLATED_BYTES,
    CASES,
    CHAIN_LENGTH,
    DEFAULT_HOST,
    EXPECT,
    FOREIGN_LINKS,
    HUGE_BODY_BYTES,
    HUGE_QUERY_PATH,
    HUGE_TAIL_PATH,
    LONG_URL_PATH,
    MANY_LINKS,
    REDIRECTS,
    HostileSite,
    fixture_apk,
    is_private_host,
)

pytestmark = pytest.mark.timeout(30)

DESKTOP_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
CRAWLER_UA = "fraudwall-test/1.0 (+https://example.invalid/bot)"
IPHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/17.4 Mobile/15E148 Safari/604.1")
ANDROID_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36"
WECHAT_DESKTOP_UA = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) MicroMessenger/3.9.10 WindowsWechat"
TIMEOUT = 5.0


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


@pytest.fixture(scope="module")
def site() -> Iterator[HostileSite]:
    """One hostile site for the module; it must log no handler errors."""
    with HostileSite() as server:
        yield server
    assert server.errors == []


def _request(site: HostileSite, path: str, host: str, user_agent: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: {host}:{site.port}\r\nUser-Agent: {user_agent}\r\n"
            "Accept-Encoding: identity\r\nConnection: close\r\n\r\n").encode()


def _connect(site: HostileSite, path: str, host: str = DEFAULT_HOST, user_agent: str = DESKTOP_UA) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", site.port), timeout=TIMEOUT)
    sock.sendall(_request(site, path, host, user_agent))
    return sock


def _read(sock: socket.socket, limit: int) -> bytes:
    data = bytearray()
    while len(data) < limit:
        chunk = sock.recv(min(1 << 16, limit - len(data)))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _read_for(sock: socket.socket, seconds: float) -> bytes:
    """Everything that arrives within ``seconds`` (the connection stays open)."""
    data = bytearray()
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        sock.settimeout(min(left, 0.2))
        try:
            chunk = sock.recv(1 << 16)
        except TimeoutError:
            continue
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _parse(raw: bytes) -> Reply:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in lines[1:])
    return Reply(int(lines[0].split(" ")[1]), {k.strip().lower(): v.strip() for k, _, v in fields}, body)


def _get(site: HostileSite, path: str, host: str = DEFAULT_HOST, user_agent: str = DESKTOP_UA,
         limit: int = 8 << 20) -> Reply:
    with _connect(site, path, host, user_agent) as sock:
        return _parse(_read(sock, limit))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value for name, value in attrs if tag == "a" and name == "href" and value is not None]


def _hrefs(body: bytes) -> list[str]:
    parser = _Links()
    parser.feed(body.decode("utf-8"))
    return parser.hrefs


def test_index_links_every_case_and_every_foreign_link(site: HostileSite) -> None:
    """The index reaches every case, every never-request link, loopback spelling and long link."""
    hrefs = set(_hrefs(_get(site, "/").body))
    assert set(CASES) <= hrefs
    assert set(FOREIGN_LINKS) <= hrefs
    assert set(site.loopback_links()) <= hrefs
    assert {LONG_URL_PATH, HUGE_QUERY_PATH} <= hrefs
    assert HUGE_TAIL_PATH not in hrefs
    assert set(EXPECT) == set(CASES) and all(EXPECT.values())


def test_foreign_http_links_are_all_private_and_loopback_ones_are_not() -> None:
    """Every http(s) never-request link names a private address, in whatever spelling; loopback is not private."""
    hosts = [urlsplit(href).hostname or "" for href in FOREIGN_LINKS if href.startswith("http")]
    assert hosts and all(is_private_host(host) for host in hosts)
    assert not any(is_private_host(h) for h in ("127.0.0.1", "::1", "2130706433", "127.1", "0.0.0.0", DEFAULT_HOST))


def test_redirect_loop_bounces_between_two_pages(site: HostileSite) -> None:
    """/loop/a and /loop/b redirect to each other and /loop/self to itself."""
    assert (_get(site, "/loop/a").status, _get(site, "/loop/a").headers["location"]) == (302, "/loop/b")
    assert _get(site, "/loop/b").headers["location"] == "/loop/a"
    assert _get(site, "/loop/self").headers["location"] == "/loop/self"


def test_chain_takes_thirty_redirects_to_the_final_page(site: HostileSite) -> None:
    """Following /chain/1 by hand takes CHAIN_LENGTH redirects and ends at a 200 /chain/final."""
    path, hops = "/chain/1", 0
    reply = _get(site, path)
    while reply.status in (301, 302, 303, 307, 308):
        hops += 1
        path = urlsplit(reply.headers["location"]).path
        reply = _get(site, path)
    assert (hops, path, reply.status) == (CHAIN_LENGTH, "/chain/final", 200)


def test_redirects_point_at_foreign_targets(site: HostileSite) -> None:
    """Each /redirect/<name> is a 302 to its REDIRECTS target, with the site's port filled in."""
    for name, template in REDIRECTS.items():
        reply = _get(site, f"/redirect/{name}")
        assert reply.status == 302
        expected = None if template is None else template.format(port=site.port)
        assert reply.headers.get("location") == expected, name
    assert _get(site, "/redirect/file").headers["location"] == "file:///etc/passwd"


def test_gbk_page_decodes_as_gbk_not_as_its_claimed_utf8(site: HostileSite) -> None:
    """/gbk says charset=utf-8 but its bytes only make sense as GBK."""
    reply = _get(site, "/gbk")
    assert "charset=utf-8" in reply.headers["content-type"]
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")
    text = reply.body.decode("gbk")
    assert "刷单返利" in text and "客服" in text


def test_gb18030_and_big5_pages_need_their_own_codecs(site: HostileSite) -> None:
    """/gb18030 is only named by its meta tag and needs gb18030; /big5 lies in its meta tag."""
    gb = _get(site, "/gb18030")
    assert "charset" not in gb.headers["content-type"] and b'<meta charset="gb18030">' in gb.body
    with pytest.raises(UnicodeDecodeError):
        gb.body.decode("gbk")
    assert "客服" in gb.body.decode("gb18030")
    big5 = _get(site, "/big5")
    assert b'<meta charset="gb2312">' in big5.body
    with pytest.raises(UnicodeDecodeError):
        big5.body.decode("utf-8")
    assert "詐騙" in big5.body.decode("big5") and "客服" in big5.body.decode("big5")


def test_bad_utf8_is_invalid_but_readable_with_replacement(site: HostileSite) -> None:
    """/bad-utf8 fails strict decoding and still holds its text when decoded with replacement."""
    body = _get(site, "/bad-utf8").body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "客服" in body.decode("utf-8", "replace")


def test_cloak_shows_fraud_only_to_mobile_and_wechat(site: HostileSite) -> None:
    """/cloak is harmless for desktops and crawlers, a rebate scam for iPhone, Android and WeChat."""
    for agent in (DESKTOP_UA, CRAWLER_UA):
        text = _get(site, "/cloak", user_agent=agent).body.decode()
        assert "Welcome, nothing here" in text and "刷单" not in text
    for agent in (IPHONE_UA, ANDROID_UA, WECHAT_DESKTOP_UA):
        text = _get(site, "/cloak", user_agent=agent).body.decode()
        assert all(word in text for word in ("刷单返利", "日赚", "佣金", "客服QQ")), agent


def test_cloak_redirect_mobile_only_and_cloak_by_host(site: HostileSite) -> None:
    """Mobiles are redirected, desktops are blocked from /mobile-only, IP visitors see nothing."""
    assert _get(site, "/cloak-redirect", user_agent=IPHONE_UA).headers["location"] == "/cloak-landing"
    assert _get(site, "/cloak-redirect").status == 200
    blocked = _get(site, "/mobile-only", user_agent=CRAWLER_UA)
    assert blocked.status == 403 and b"Access denied" in blocked.body
    assert _get(site, "/mobile-only", user_agent=ANDROID_UA).status == 200
    assert "刷单返利" in _get(site, "/cloak-host").body.decode()
    assert "刷单" not in _get(site, "/cloak-host", host="127.0.0.1").body.decode()


def test_gzip_bomb_is_small_on_the_wire_and_inflates_to_a_gigabyte(site: HostileSite) -> None:
    """/gzip-bomb is about 1 MB of gzip whose first megabytes inflate to zeros and whose trailer says 1 GiB."""
    reply = _get(site, "/gzip-bomb")
    assert reply.headers["content-encoding"] == "gzip"
    assert len(reply.body) == int(reply.headers["content-length"]) < 3 << 20
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    first = inflater.decompress(reply.body, 4 << 20)
    assert first == bytes(4 << 20) and inflater.unconsumed_tail
    assert struct.unpack("<I", reply.body[-4:])[0] == BOMB_INFLATED_BYTES % (1 << 32)


def test_deflate_bomb_is_a_small_zlib_stream_of_zeros(site: HostileSite) -> None:
    """/deflate-bomb is zlib-wrapped deflate, about 1 MB, inflating to zeros."""
    reply = _get(site, "/deflate-bomb")
    assert reply.headers["content-encoding"] == "deflate" and len(reply.body) < 3 << 20
    inflater = zlib.decompressobj()
    assert inflater.decompress(reply.body, 4 << 20) == bytes(4 << 20) and inflater.unconsumed_tail


def test_content_type_lies_serve_a_real_apk(site: HostileSite) -> None:
    """The .jpg, the extension-less download and the text/html .apk are all the same real APK."""
    for path, kind in (("/fake-image.jpg", "image/jpeg"), ("/download?id=1", "application/octet-stream"),
                       ("/app.apk", "text/html")):
        reply = _get(site, path)
        assert reply.headers["content-type"] == kind and reply.body == fixture_apk()
        assert reply.body.startswith(b"PK") and "content-disposition" not in reply.headers
    assert "AndroidManifest.xml" in zipfile.ZipFile(BytesIO(fixture_apk())).namelist()
    png = _get(site, "/page.png")
    assert png.headers["content-type"] == "image/png" and png.body.startswith(b"<!doctype html>")


def test_ios_lures_are_valid_property_lists(site: HostileSite) -> None:
    """The configuration profile and the install manifest parse as plists of the right kind."""
    profile = _get(site, "/profile.mobileconfig")
    assert profile.headers["content-type"] == "application/x-apple-aspen-config"
    assert plistlib.loads(profile.body)["PayloadType"] == "Configuration"
    manifest = plistlib.loads(_get(site, "/manifest.plist").body)
    assert manifest["items"][0]["assets"][0]["kind"] == "software-package"
    assert any(href.startswith("itms-services://") for href in FOREIGN_LINKS)


def test_slow_headers_never_finish(site: HostileSite) -> None:
    """After 3 s /slow-headers has sent a status line and header lines but no blank line."""
    with _connect(site, "/slow-headers") as sock:
        data = _read_for(sock, 3.0)
    assert data.startswith(b"HTTP/1.1 200 OK\r\nX-Slow-1:") and b"\r\n\r\n" not in data


def test_drip_sends_one_body_byte_at_a_time(site: HostileSite) -> None:
    """/drip announces 1000 bytes and sends one; nothing more arrives within the next second."""
    with _connect(site, "/drip") as sock:
        reply = _parse(_read_for(sock, 1.2))
    assert reply.headers["content-length"] == "1000" and len(reply.body) == 1


def test_no_response_and_reset_send_nothing(site: HostileSite) -> None:
    """/no-response stays silent; /reset drops the connection without a byte."""
    with _connect(site, "/no-response") as sock:
        assert _read_for(sock, 1.0) == b""
    with _connect(site, "/reset") as sock:
        try:
            assert sock.recv(1024) == b""
        except ConnectionResetError:
            pass


def test_framing_and_coding_lies(site: HostileSite) -> None:
    """/conflicting-length names two lengths, /empty-reply hangs up without a byte, /bad-gzip calls plain
    HTML gzip."""
    with _connect(site, "/conflicting-length") as sock:
        head = _read(sock, 1 << 16).partition(b"\r\n\r\n")[0]
    assert head.count(b"Content-Length:") == 2 and b"Content-Length: 20\r\n" in head
    with _connect(site, "/empty-reply") as sock:
        assert _read(sock, 1024) == b""
    reply = _get(site, "/bad-gzip")
    assert reply.headers["content-encoding"] == "gzip" and reply.body.startswith(b"<")


def test_huge_page_is_exactly_fifty_megabytes_and_ends_with_a_tail_link(site: HostileSite) -> None:
    """/huge sends its full announced length; the only link to HUGE_TAIL_PATH is in its last bytes."""
    with _connect(site, "/huge") as sock:
        head = _parse(sock.recv(1 << 16))
        received, first, last = len(head.body), head.body[:64], head.body[-256:]
        while chunk := sock.recv(1 << 20):
            # The first read may end with the headers: the body's opening comes in a later one.
            first = (first + chunk)[:64] if len(first) < 64 else first
            received, last = received + len(chunk), (last + chunk)[-256:]
    assert int(head.headers["content-length"]) == HUGE_BODY_BYTES == received
    assert first.startswith(b"<!doctype html>") and f'href="{HUGE_TAIL_PATH}"'.encode() in last


def test_endless_body_is_chunked_and_keeps_coming(site: HostileSite) -> None:
    """/endless is chunked and still sending after 2 MB; the server copes with the client leaving."""
    with _connect(site, "/endless") as sock:
        reply = _parse(_read(sock, 2 << 20))
    assert reply.headers["transfer-encoding"] == "chunked" and len(reply.body) > (1 << 20)
    assert not reply.body.endswith(b"0\r\n\r\n")


def test_maze_and_calendar_never_end(site: HostileSite) -> None:
    """Maze rooms link onwards deterministically; the calendar links to the next day across years."""
    room = _hrefs(_get(site, "/maze/7").body)
    assert room[0] == "/maze/8" and re.fullmatch(r"/maze/\d+", room[1])
    assert room == _hrefs(_get(site, "/maze/7").body)
    assert "/calendar?date=2025-01-01" in _hrefs(_get(site, "/calendar?date=2024-12-31").body)
    assert "/calendar?date=2024-01-02" in _hrefs(_get(site, "/calendar").body)


def test_many_links_and_long_links(site: HostileSite) -> None:
    """/many-links has 50,000 distinct links; the long URL and the huge query are served."""
    links = _hrefs(_get(site, "/many-links").body)
    assert len(links) == len(set(links)) == MANY_LINKS
    assert len(LONG_URL_PATH) > 8000 and len(HUGE_QUERY_PATH) > 65536
    assert set(_hrefs(_get(site, "/long-links").body)) == {LONG_URL_PATH, HUGE_QUERY_PATH}
    assert _get(site, LONG_URL_PATH).status == 200 and _get(site, HUGE_QUERY_PATH).status == 200


def test_spa_hides_its_text_from_static_html(site: HostileSite) -> None:
    """/spa has an empty app div; its scam text only exists inside a \\u-escaped script string."""
    body = _get(site, "/spa").body.decode()
    assert '<div id="app"></div>' in body and "USDT" not in body and "日收益" not in body
    script = re.search(r"var text = '([^']*)'", body)
    assert script is not None
    text = codecs.decode(script.group(1), "unicode_escape")
    assert all(word in text for word in ("USDT", "理财", "日收益"))


def test_request_log_records_host_path_and_user_agent() -> None:
    """The log keeps (host, path) per request, counts by prefix, and spots proxy requests to private hosts."""
    with HostileSite() as fresh:
        _get(fresh, "/loop/a", host="a.test", user_agent=IPHONE_UA)
        _get(fresh, "/cloak?x=1")
        with socket.create_connection(("127.0.0.1", fresh.port), timeout=TIMEOUT) as sock:
            sock.sendall(b"GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n")
            canary = _parse(_read(sock, 1 << 20))
    assert fresh.requests == [("a.test", "/loop/a"), (DEFAULT_HOST, "/cloak?x=1"),
                              ("169.254.169.254", "/latest/meta-data/")]
    assert fresh.requested("/loop/") == 1 and fresh.requested("/cloak", host="a.test") == 0
    assert fresh.user_agents("/loop/") == [IPHONE_UA]
    assert b"SSRF CANARY" in canary.body and [r.host for r in fresh.private_requests()] == ["169.254.169.254"]
    assert fresh.errors == []


def test_stop_is_prompt_even_with_hanging_clients() -> None:
    """Leaving the context returns within seconds while endless responses are mid-flight, and the port closes."""
    fresh = HostileSite().start()
    clients = [_connect(fresh, path) for path in ("/no-response", "/slow-headers", "/endless", "/drip", "/huge")]
    try:
        assert fresh.wait_for("/", count=len(clients))
        started = time.monotonic()
        fresh.stop()
        assert time.monotonic() - started < 3.0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", fresh.port), timeout=1.0).close()
    finally:
        for client in clients:
            client.close()
    assert fresh.errors == []


def test_endless_responses_end_at_the_time_limit() -> None:
    """With a 1 s limit the server itself closes /no-response, /slow-headers, /drip and /endless."""
    with HostileSite(endless_seconds=1.0) as short:
        clients = [_connect(short, path) for path in ("/no-response", "/slow-headers", "/drip", "/endless")]
        started = time.monotonic()
        for client in clients:
            with client:
                _read(client, 1 << 30)  # returns at end of stream; a socket timeout would fail the test
        assert time.monotonic() - started < 4.0
        assert short.errors == []
