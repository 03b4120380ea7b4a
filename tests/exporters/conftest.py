"""Shared fixtures for the exporter tests: a fixed clock, a sample of entries, and Unbound on loopback."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fraudwall.exporters import ExportMeta
from fraudwall.models import Action, BlockEntry, Scope
from tests.exporters.test_export_dnsmasq import UPSTREAM_ANSWER, _free_port, _stop, _wait_until_answering

UNBOUND_STARTUP_TIMEOUT = 20.0
UNBOUND_BASE_CONFIG = """server:
    interface: 127.0.0.1
    port: {port}
    do-ip6: no
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "{directory}"
    pidfile: "{directory}/unbound-{port}.pid"
    use-syslog: no
    logfile: ""
    num-threads: 1
    outgoing-interface: 127.0.0.1
"""


@pytest.fixture
def generated_at() -> datetime:
    """A fixed generation time, so outputs (and the RPZ serial) are reproducible."""
    return datetime(2024, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def meta(generated_at: datetime) -> ExportMeta:
    """Export metadata with default format options."""
    return ExportMeta(title="fraudwall test list", generated_at=generated_at)


@pytest.fixture
def sample_entries() -> list[BlockEntry]:
    """One of everything a format must render: scopes, allows, IDN, duplicates, junk."""
    return [
        BlockEntry("kefu-refund.example.com", categories=("customer_service",), addresses=("203.0.113.7",)),
        BlockEntry("KEFU-REFUND.example.com.", sources=("feed",)),  # duplicate after normalising
        BlockEntry("usdt-invest.example.net", scope=Scope.SUBTREE, categories=("investment",),
                   addresses=("203.0.113.8", "203.0.113.9", "2001:db8::5")),
        # URL-level: a phishing page on a shared platform; only URL-matching formats publish it.
        BlockEntry("icbc-verify.github.io", url="https://icbc-verify.github.io/login.html?step=2",
                   categories=("brand_impersonation",)),
        BlockEntry("help.usdt-invest.example.net", action=Action.ALLOW),  # exception under a subtree
        BlockEntry("loan-unfreeze.example.org", scope=Scope.SUBTREE),
        BlockEntry("loan-unfreeze.example.org", action=Action.ALLOW),  # blocked and allowed: allow wins
        BlockEntry("工商银行-kefu.top", categories=("brand_impersonation",)),
        BlockEntry("_task.rebate.example.com"),  # underscore: RPZ only
        BlockEntry("com.cn"),  # public suffix: rejected
        BlockEntry("1.2.3.4"),  # IP literal: rejected
    ]


class DnsServers:
    """DNS servers started for one test on free 127.0.0.1 ports, each in its own folder with its log."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, what: str, command: Callable[[int, Path], list[str]], timeout: float) -> int:
        """Run ``command(port, folder)`` and wait until it answers DNS on the port; the port."""
        port = _free_port()
        # Named by the port alone: a UNIX socket path inside it (PowerDNS's control socket) must stay
        # under 108 bytes.
        folder = self.tmp_path / str(port)
        folder.mkdir()
        log = folder / "log"
        with log.open("wb") as out:
            process = subprocess.Popen(command(port, folder), stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        self.processes.append(process)
        _wait_until_answering(process, port, log, what, timeout)
        return port

    def stop(self) -> None:
        """Stop every server started: politely, then by force."""
        _stop(self.processes)


@pytest.fixture
def dns_servers(tmp_path: Path) -> Iterator[DnsServers]:
    """A :class:`DnsServers` whose servers all stop at teardown."""
    servers = DnsServers(tmp_path)
    yield servers
    servers.stop()


@pytest.fixture
def unbound(dns_servers: DnsServers) -> Callable[[str], int]:
    """Starts unbound on loopback with UNBOUND_BASE_CONFIG plus ``extra`` (``start(extra)`` returns the port)."""
    binary = shutil.which("unbound")
    assert binary, "unbound missing: `make test` installs it (Debian package unbound)"

    def command(extra: str, port: int, folder: Path) -> list[str]:
        config = folder / "unbound.conf"
        config.write_text(UNBOUND_BASE_CONFIG.format(port=port, directory=folder) + extra)
        return [binary, "-d", "-c", str(config)]

    return lambda extra: dns_servers.start("unbound", functools.partial(command, extra), UNBOUND_STARTUP_TIMEOUT)


@pytest.fixture
def upstream(unbound: Callable[[str], int]) -> int:
    """An Unbound that answers every A query with UPSTREAM_ANSWER and recurses nowhere; its port.

    Resolvers under test forward to it, so no query leaves the machine.
    """
    return unbound(
        '    module-config: "iterator"\n'
        '    local-zone: "." redirect\n'
        f'    local-data: ". 60 IN A {UPSTREAM_ANSWER}"\n'
    )
