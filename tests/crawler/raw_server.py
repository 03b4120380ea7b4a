"""A TCP server on loopback for tests that need a server to misbehave byte by byte (tar pits, endless heads).

``RawServer(handle)`` listens on 127.0.0.1 (a free port) and hands each accepted
connection to ``handle(connection, number)`` in a daemon thread of its own;
``accepted`` counts connections. Leaving the ``with`` block stops accepting and
closes every connection, so a handler that never answers ends with the test.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable


class RawServer:
    """A TCP server on 127.0.0.1 that hands each accepted connection to ``handle`` in a thread of its own."""

    def __init__(self, handle: Callable[[socket.socket, int], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.stopped = False
        self.accepted = 0
        self.handle = handle
        self.open: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stopped:
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue  # a look at ``stopped``: closing the socket does not wake an accept
            except OSError:
                return
            connection.settimeout(None)
            self.accepted += 1
            self.open.append(connection)
            threading.Thread(target=self.handle, args=(connection, self.accepted), daemon=True).start()

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped = True
        self.thread.join(timeout=5)
        self.listener.close()
        for connection in self.open:
            connection.close()


def read_request_head(connection: socket.socket) -> tuple[str, str]:
    """The request's path and ``Host`` header, read up to the end of its head (("", "") when the client hung up)."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = connection.recv(4096)
        except OSError:
            return "", ""
        if not chunk:
            return "", ""
        data += chunk
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    host = next((line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("host:")), "")
    return lines[0].split(" ", 2)[1], host


def read_request(connection: socket.socket) -> str:
    """The request's path, read up to the end of its head ("" when the client hung up)."""
    return read_request_head(connection)[0]
