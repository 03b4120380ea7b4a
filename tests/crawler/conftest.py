"""Fixtures for the crawler tests: DNS servers on loopback for the prober (see ``dns_servers``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.crawler.dns_servers import Handler, Responder, Unbound, Zones, planted_zones, start_unbound


@pytest.fixture(scope="module")
def planted_unbound(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Unbound]:
    """One Unbound serving :func:`planted_zones` for a test module; nobody pauses it."""
    server = start_unbound(planted_zones(), tmp_path_factory.mktemp("planted"))
    yield server
    server.stop()


@pytest.fixture
def unbound_factory(tmp_path: Path) -> Iterator[Callable[[Zones], Unbound]]:
    """Starts Unbounds of the test's own (``start(zones)``), free to pause; all stop at teardown."""
    started: list[Unbound] = []

    def start(zones: Zones) -> Unbound:
        server = start_unbound(zones, tmp_path)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def responders() -> Iterator[Callable[..., Responder]]:
    """Starts scripted :class:`Responder` s (``start(handler, host="127.0.0.1")``); all stop at teardown."""
    started: list[Responder] = []

    def start(handler: Handler, host: str = "127.0.0.1") -> Responder:
        responder = Responder(handler, host)
        started.append(responder)
        return responder

    yield start
    for responder in started:
        responder.stop()
