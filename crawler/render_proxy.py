"""A forward proxy on loopback through which the rendering browser makes every connection.

Chromium resolves names and opens sockets itself, out of reach of the crawler's
:class:`~fraudwall.crawler.resolver.GuardedResolver`. A Playwright route
predicate (:mod:`fraudwall.crawler.render_handler`) can look at each request
first, but it does not see everything: redirect hops after the first request,
WebSockets and service-worker fetches go past it, and a name it checked may
resolve to another address when Chromium looks it up again a moment later
(DNS rebinding). So the browser is launched with this proxy as its only way
out (``--proxy-server``; Playwright routes loopback through it too), and the
proxy is where the SSRF guard is enforced:

- each request names its host (``CONNECT host:port`` for HTTPS and WebSockets,
  an absolute URL for plain HTTP); the proxy asks ``resolve`` for the addresses
  the network policy allows, which raises :class:`ProxyRefusal` when there are
  none, and connects to one of *those* addresses, never to a name, so the check
  and the connection cannot disagree;
- only ``http`` targets and ``CONNECT`` are served, nothing else;
- bytes from the server are counted per connection and the connection is cut at
  ``max_response_bytes`` (the crawl's ``DOWNLOAD_MAXSIZE``), and every read and
  write waits at most ``idle_timeout`` seconds, so a drip-feeding or endless
  server cannot hold the render.

Plain-HTTP requests are forwarded with ``Connection: close``: one request per
upstream connection keeps the proxy from having to parse responses.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from contextlib import suppress
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

#: Most bytes of a request line and headers; Chromium's are a few KiB.
HEAD_LIMIT = 64 * 1024
#: Headers meant for the proxy, or for one hop, that are not passed on.
_HOP_HEADERS = frozenset({b"proxy-connection", b"proxy-authorization", b"connection", b"keep-alive"})
_READ_CHUNK = 64 * 1024


class ProxyRefusal(Exception):
    """A connection the proxy will not make; ``reason`` is a stat token, ``detail`` a sentence."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


#: ``resolve(host, port)``: the addresses the proxy may connect to, or :class:`ProxyRefusal`.
Resolve = Callable[[str, int], Awaitable[list[str]]]
#: ``on_refusal(reason, target, detail)``: told of every connection refused or cut.
OnRefusal = Callable[[str, str, str], None]


def _split_authority(authority: str, default_port: int) -> tuple[str, int]:
    """``host:port`` (IPv6 in brackets) as (host, port); ValueError when it is not one."""
    parts = urlsplit(f"//{authority}")
    if not parts.hostname:
        raise ValueError(f"no host in {authority!r}")
    return parts.hostname, parts.port or default_port


async def _reply(writer: asyncio.StreamWriter, status: int, reason: str, detail: str = "") -> None:
    body = detail.encode("utf-8")
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1") + body
    )
    with suppress(ConnectionError, asyncio.TimeoutError):
        await asyncio.wait_for(writer.drain(), 5)


class GuardedProxy:
    """An HTTP forward proxy (plain HTTP and ``CONNECT``) that connects only to addresses ``resolve`` allows."""

    def __init__(
        self,
        resolve: Resolve,
        *,
        max_response_bytes: int,
        idle_timeout: float,
        on_refusal: OnRefusal | None = None,
    ) -> None:
        self.resolve = resolve
        self.max_response_bytes = max_response_bytes
        self.idle_timeout = idle_timeout
        self.on_refusal = on_refusal or (lambda reason, target, detail: None)
        self._socket: socket.socket | None = None
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[None]] = set()
        #: Connections made to servers on the browser's behalf.
        self.connections = 0
        # The address last connected to for each (host, port): the page's server address, which the
        # browser cannot report (it only sees the proxy). Bounded: cleared when it grows large.
        self._addresses: dict[tuple[str, int], str] = {}

    def bind(self) -> int:
        """Listen on a free port of 127.0.0.1 now and return it; serving starts with :meth:`start`.

        The port is known before any event loop runs, so it can go into the
        browser's launch options; connections made before :meth:`start` wait
        in the listen backlog.
        """
        if self._socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sock.listen(128)
            sock.setblocking(False)
            self._socket = sock
        return int(self._socket.getsockname()[1])

    def address_of(self, host: str, port: int) -> str | None:
        """The address the proxy last connected to for ``host:port``, if it did."""
        return self._addresses.get((host.lower().strip("[]"), port))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.bind()}"

    async def start(self) -> None:
        """Serve on the bound socket (idempotent)."""
        if self._server is None:
            self.bind()
            self._server = await asyncio.start_server(self._track, sock=self._socket, limit=HEAD_LIMIT)

    async def close(self) -> None:
        """Stop listening and cut every open connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        elif self._socket is not None:
            self._socket.close()
        self._socket = None
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)

    def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Kept so that close() can cut connections still open; removed when done.
        task = asyncio.ensure_future(self._serve(reader, writer))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve_one(reader, writer)
        except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the browser or the server went away, or stalled: nothing to tell anyone
        except Exception:  # a proxy bug must not take the crawl down; it is logged, the connection dropped
            log.exception("render proxy: connection failed")
        finally:
            writer.close()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.idle_timeout)
        request_line, _, header_block = head.partition(b"\r\n")
        try:
            method, target, version = request_line.decode("latin-1").split(" ", 2)
        except ValueError:
            await _reply(writer, 400, "Bad Request", "not an HTTP request")
            return
        forward: bytes | None = None  # the request to pass on; None for a tunnel
        try:
            if method.upper() == "CONNECT":
                host, port = _split_authority(target, 443)
                shown = f"{host}:{port}"
            else:
                parts = urlsplit(target)
                if parts.scheme.lower() != "http" or not parts.hostname:
                    self.on_refusal("scheme", target, f"{target}: only http:// and CONNECT pass the render proxy")
                    await _reply(writer, 403, "Forbidden", "fraudwall: scheme refused")
                    return
                host, port = parts.hostname, parts.port or 80
                shown = target
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                forward = _origin_form(method, path, version, header_block)
        except ValueError:
            await _reply(writer, 400, "Bad Request", "bad request target")
            return

        try:
            addresses = await self.resolve(host, port)
        except ProxyRefusal as refusal:
            self.on_refusal(refusal.reason, shown, refusal.detail)
            await _reply(writer, 403, "Forbidden", f"fraudwall: {refusal.detail}")
            return
        upstream = await self._connect(addresses, port)
        if upstream is None:
            await _reply(writer, 502, "Bad Gateway", f"cannot connect to {host}:{port}")
            return
        up_reader, up_writer, address = upstream
        self.connections += 1
        if len(self._addresses) >= 4096:
            self._addresses.clear()
        self._addresses[(host.lower(), port)] = address
        try:
            if forward is None:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await asyncio.wait_for(writer.drain(), self.idle_timeout)
            else:
                up_writer.write(forward)
            await self._relay(reader, writer, up_reader, up_writer, shown)
        finally:
            up_writer.close()

    async def _connect(
        self, addresses: list[str], port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str] | None:
        # Connect to the checked addresses themselves, never to the name: a second lookup could answer otherwise.
        for address in addresses:
            with suppress(OSError, asyncio.TimeoutError):
                reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), self.idle_timeout)
                return reader, writer, address
        return None

    async def _relay(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
        target: str,
    ) -> None:
        """Copy both ways until the server is done; the server's bytes are capped, every wait bounded."""
        uploads = asyncio.ensure_future(self._copy(reader, up_writer, None, target))
        try:
            await self._copy(up_reader, writer, self.max_response_bytes, target)
        finally:
            uploads.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await uploads

    async def _copy(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, cap: int | None, target: str
    ) -> None:
        total = 0
        while True:
            chunk = await asyncio.wait_for(source.read(_READ_CHUNK), self.idle_timeout)
            if not chunk:
                if cap is None and sink.can_write_eof():
                    sink.write_eof()  # the browser finished sending; the server may still answer
                return
            if cap is not None and total + len(chunk) > cap:
                # What fits is passed on, then the connection is cut: the browser sees a truncated response.
                sink.write(chunk[: cap - total])
                with suppress(ConnectionError, asyncio.TimeoutError):
                    await asyncio.wait_for(sink.drain(), self.idle_timeout)
                self.on_refusal("response-bytes", target, f"{target}: more than {cap} bytes from the server, cut")
                return
            total += len(chunk)
            sink.write(chunk)
            await asyncio.wait_for(sink.drain(), self.idle_timeout)


def _origin_form(method: str, path: str, version: str, header_block: bytes) -> bytes:
    """The request as the origin server expects it: path only, no proxy headers, one request per connection."""
    lines = [f"{method} {path} {version}".encode("latin-1")]
    for line in header_block.split(b"\r\n"):
        name = line.split(b":", 1)[0].strip().lower()
        if line and name not in _HOP_HEADERS:
            lines.append(line)
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"
