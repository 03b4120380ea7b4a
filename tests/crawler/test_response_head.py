"""Response heads are capped: endless header lines and endless interim (1xx) answers end as head-over-cap.

A real crawl (``fraudwall crawl``) of a raw server on loopback that sends its
heads at full speed. Without the cap, Twisted's parser kept every header line
until the request timed out, hundreds of megabytes a second.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from fraudwall.blocklists.store import Store
from tests.crawler.raw_server import RawServer, read_request

HOST = "heads.top"
TIMEOUT = 15  # CRAWL_TIMEOUT: a head without end must stop long before
PAGE = "<html><head><title>{}</title></head><body><p>高额返利 日赚500元</p>{}</body></html>"


def _send_forever(connection: socket.socket, head: bytes, piece: bytes) -> None:
    """``head``, then ``piece`` again and again until the client leaves (or a minute has passed)."""
    deadline = time.monotonic() + 60
    try:
        connection.sendall(head)
        while time.monotonic() < deadline:
            connection.sendall(piece)
    except OSError:
        pass  # the client hung up: what a cap does


def _page(connection: socket.socket, head: bytes, title: str, links: str = "") -> None:
    body = PAGE.format(title, links).encode()
    connection.sendall(head + b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
                       + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    connection.close()


def _serve(connection: socket.socket, number: int) -> None:
    path = read_request(connection)
    port = connection.getsockname()[1]
    if path == "/":
        links = "".join(f'<a href="http://{HOST}:{port}/{name}">{name}</a>'
                        for name in ("endless-headers", "interim-flood", "interims-then-page", "big-head", "bad-status"))
        _page(connection, b"", "index", links)
    elif path == "/endless-headers":
        lines = b"".join(b"X-Filler-%04d: %s\r\n" % (i, b"v" * 60) for i in range(1000))
        _send_forever(connection, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", lines)
    elif path == "/interim-flood":
        _send_forever(connection, b"", b"HTTP/1.1 100 Continue\r\n\r\n" * 100)
    elif path == "/interims-then-page":
        _page(connection, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n",
              "interims")
    elif path == "/big-head":  # 150 KB of cookies and headers: large, under the 256 KB cap
        connection.sendall(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Big-%04d: %s\r\n" % (i, b"b" * 140) for i in range(1000)))
        _page(connection, b"", "big head")
    elif path == "/bad-status":  # a status no client knows: Twisted reads any number
        with contextlib.suppress(OSError):
            connection.sendall(b"HTTP/1.1 999999 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok")
        connection.close()
    else:
        connection.close()


def test_endless_heads_end_at_the_cap_and_large_heads_under_it_are_read(tmp_path: Path) -> None:
    """Endless header lines and endless 100 Continue heads each end as head-over-cap, in much less than the
    request timeout; a page after two interim heads, and one with a 150 KB head, are stored; a status of
    999999 is an invalid response."""
    db = tmp_path / "f.db"
    with RawServer(_serve) as server:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "fraudwall.cli", "crawl", "--db", str(db), "--allow-net", "127.0.0.0/8",
             "--resolve", f"{HOST}:127.0.0.1", "--depth", "1", f"http://{HOST}:{server.port}/"],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "FRAUDWALL_CRAWL_TIMEOUT": str(TIMEOUT), "FRAUDWALL_CRAWL_PROFILES": "android",
                 "FRAUDWALL_CRAWL_PROGRESS": "off"})
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert "failed: head-over-cap" in result.stdout and "timeout" not in result.stdout, result.stdout
    head_over_cap = next(line for line in result.stdout.splitlines() if "failed: head-over-cap" in line)
    assert head_over_cap.split("│")[2].strip() == "2", result.stdout
    assert "failed: invalid-response" in result.stdout and "http-999999" not in result.stdout, result.stdout
    assert elapsed < TIMEOUT, "a head without end ran until the timeout"
    with Store.open(db) as store:
        titles = sorted(row["title"] for row in store.db.query("SELECT title FROM observations"))
    assert "interims" in titles and "big head" in titles, titles
