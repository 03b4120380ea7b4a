"""A real ``redis-server`` on a free loopback port, for the distributed crawl's tests.

It binds 127.0.0.1 only, persists nothing (``--save ''``, ``--appendonly no``,
its working folder a temporary one), and is stopped (SIGTERM, then SIGKILL)
when the ``with`` block ends. Starting waits for a PING at most
:data:`START_SECONDS`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType

import redis

#: Longest wait for the server to answer after it was started.
START_SECONDS = 10.0


def free_port() -> int:
    """A TCP port nobody listens on at this moment, on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_server_binary() -> str:
    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin:/usr/bin")
    assert binary, "redis-server missing: `make test` installs it (Debian package redis-server)"
    return binary


class RedisServer:
    """``redis-server`` on 127.0.0.1 and a free port; ``url`` and ``client()`` to reach it."""

    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="fraudwall-redis-")
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)

    def __enter__(self) -> RedisServer:
        binary = redis_server_binary()
        for _ in range(3):  # a port found free may be taken before the server binds it: try another
            self.port = free_port()
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", self.folder.name, "--daemonize", "no", "--loglevel", "warning"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
            if self._wait_ready():
                return self
            self._stop()
        self.folder.cleanup()
        raise RuntimeError("redis-server did not start on a free loopback port")

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + START_SECONDS
        client = self.client()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if client.ping():
                    return True
            except redis.ConnectionError:
                time.sleep(0.05)
        return False

    def _stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.folder.cleanup()
