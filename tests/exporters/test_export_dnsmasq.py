"""dnsmasq specifics: the real ``dnsmasq --test``, and a real dnsmasq answering on loopback.

Two dnsmasq processes run on free 127.0.0.1 ports: the "usual servers" one
answers every A query with 192.0.2.1 (``address=/#/``) and forwards nothing; the
one under test loads the exported file and forwards only to it. A name the list
leaves alone comes back as 192.0.2.1, a blocked one as NXDOMAIN (or 0.0.0.0 in
``address`` style), so every decision is observable and nothing leaves the machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters import ExportMeta, export, get_exporter
from fraudwall.exporters.dnsmasq import verify_dnsmasq
from fraudwall.models import Action, BlockEntry, Scope
from tests.exporters.test_export_contract import CONSUMERS

UPSTREAM_ANSWER = "192.0.2.1"
STARTUP_TIMEOUT = 10.0

# Nested scopes and exceptions, each case named by what the list means for it.
ENTRIES = [
    BlockEntry("exact.example.com"),
    BlockEntry("_task.example.com"),
    BlockEntry("tree.example.com", scope=Scope.SUBTREE),
    BlockEntry("x.tree.example.com"),  # exact, below a blocked subtree
    BlockEntry("ok.tree.example.com", action=Action.ALLOW),  # exact exception below a blocked subtree
    BlockEntry("free.tree.example.com", scope=Scope.SUBTREE, action=Action.ALLOW),
    BlockEntry("bad.free.tree.example.com"),  # exact block below an allowed subtree
    BlockEntry("both.example.com", scope=Scope.SUBTREE),
    BlockEntry("both.example.com", action=Action.ALLOW),  # the exception wins for the name only
]
# What "the closest listed name wins" means for each probe: True is blocked.
INTENDED = {
    "exact.example.com": True,
    "www.exact.example.com": False,
    "_task.example.com": True,
    "x._task.example.com": False,
    "tree.example.com": True,
    "a.b.tree.example.com": True,
    "x.tree.example.com": True,
    "y.x.tree.example.com": True,
    "ok.tree.example.com": False,
    "x.ok.tree.example.com": True,
    "free.tree.example.com": False,
    "x.free.tree.example.com": False,
    "bad.free.tree.example.com": True,
    "x.bad.free.tree.example.com": False,
    "both.example.com": False,
    "x.both.example.com": True,
    "unlisted.example.com": False,
}
# Without '*.' lines, what changes (the header counts each of these).
WITHOUT_WILDCARDS = {
    "skip": {
        "exact.example.com": False, "_task.example.com": False, "bad.free.tree.example.com": False,
        "x.ok.tree.example.com": False, "x.both.example.com": False,
    },
    "widen": {
        "www.exact.example.com": True, "x._task.example.com": True, "x.bad.free.tree.example.com": True,
        "x.ok.tree.example.com": False, "x.both.example.com": False,
    },
}


def _free_port() -> int:
    """A port on 127.0.0.1 free for both UDP and TCP right now (dnsmasq binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free loopback port")


def _query(port: int, name: str, rdtype: str = "A", timeout: float = 2) -> dns.message.Message:
    """One UDP query to 127.0.0.1:``port``, bounded in time."""
    return dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=port, timeout=timeout)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop the servers a fixture started: politely, then by force."""
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_answering(
    process: subprocess.Popen[bytes], port: int, log: Path, what: str, timeout: float = STARTUP_TIMEOUT,
) -> None:
    """Query the DNS server just started on ``port`` until it answers; fail with its log if it exits or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        try:
            _query(port, "probe.invalid", timeout=0.2)  # a query sent while it starts is lost
            return
        except (dns.exception.Timeout, dns.query.BadResponse, OSError):
            # A server still loading its zones may answer without the question (Unbound while it reads an RPZ
            # file): not ready yet, like silence.
            time.sleep(0.1)
    pytest.fail(f"{what} did not answer within {timeout}s:\n{log.read_text()}")


def _addresses(response: dns.message.Message) -> list[str]:
    """The addresses in the answer section."""
    return [rdata.to_text() for rrset in response.answer for rdata in rrset]


@pytest.fixture
def dnsmasq(tmp_path: Path) -> Iterator[Callable[..., int]]:
    """Starts dnsmasq on loopback (``start(*args)`` returns its port); all stop at teardown."""
    binary = shutil.which("dnsmasq")
    assert binary, "dnsmasq missing: `make test` installs it (Debian package dnsmasq-base)"
    processes: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> int:
        port = _free_port()
        log = tmp_path / f"dnsmasq-{port}.log"
        command = [
            binary, "--keep-in-foreground", "--log-facility=-", "--log-queries",
            f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
            "--no-resolv", "--no-hosts", "--pid-file=", "--conf-file=/dev/null", *args,
        ]
        if os.geteuid() == 0:
            command.append("--user=nobody")  # dnsmasq drops root; say to whom
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        processes.append(process)
        _wait_until_answering(process, port, log, "dnsmasq")
        return port

    yield start
    _stop(processes)


@pytest.fixture
def resolver(dnsmasq: Callable[..., int], tmp_path: Path) -> Callable[[Path], int]:
    """Starts the usual-servers dnsmasq, then returns a starter for one that loads a list and forwards to it."""
    upstream = dnsmasq(f"--address=/#/{UPSTREAM_ANSWER}")
    return lambda path: dnsmasq(f"--conf-file={path}", f"--server=127.0.0.1#{upstream}")


def test_dnsmasq_is_installed() -> None:
    """The real checker must be there: ``make test`` installs dnsmasq-base, so a miss is a failure."""
    assert shutil.which("dnsmasq"), "dnsmasq missing: `make test` installs it (Debian package dnsmasq-base)"


@pytest.mark.parametrize("exact", ["precise", "skip", "widen"])
@pytest.mark.parametrize("style", ["local", "server", "address"])
def test_dnsmasq_test_accepts_each_style(
    style: str, exact: str, tmp_path: Path, meta: ExportMeta, sample_entries: list[BlockEntry]
) -> None:
    """``dnsmasq --test`` loads every style and exact mode of the sample (underscores, IDN, exceptions)."""
    path = tmp_path / "fraud.conf"
    result = export(sample_entries + ENTRIES, "dnsmasq", path, title="t", verify=True,
                    generated_at=meta.generated_at, style=style, exact=exact)
    assert result.verified
    verify_dnsmasq(path)


def test_dnsmasq_test_failure_carries_its_output(tmp_path: Path) -> None:
    """A line dnsmasq refuses raises VerificationError with dnsmasq's own reason."""
    path = tmp_path / "broken.conf"
    path.write_text("local=/fine.example.com/\nlocal-zone=/x/\n")
    with pytest.raises(VerificationError, match="bad option at line 2"):
        verify_dnsmasq(path)


def test_servers_file_style_writes_only_server_lines(meta: ExportMeta) -> None:
    """A servers-file ignores anything but server= lines, so style server writes nothing else."""
    text = get_exporter("dnsmasq").render(ENTRIES, ExportMeta("t", meta.generated_at, {"style": "server"}))
    data = [line for line in text.splitlines() if not line.startswith("#")]
    assert data and all(line.startswith("server=/") for line in data)


@pytest.mark.parametrize("options", [{"style": "nxdomain"}, {"exact": "exact"}, {"style": ""}])
def test_bad_options_are_export_errors(options: dict[str, str], meta: ExportMeta) -> None:
    """Only the documented styles and exact modes are accepted."""
    with pytest.raises(ExportError, match="dnsmasq"):
        get_exporter("dnsmasq").render([], ExportMeta("t", meta.generated_at, options))


@pytest.mark.parametrize(
    ("style", "exact"),
    [("local", "precise"), ("server", "precise"), ("address", "precise"), ("local", "skip"), ("local", "widen")],
)
def test_real_dnsmasq_answers_as_the_list_means(
    style: str, exact: str, resolver: Callable[[Path], int], tmp_path: Path, meta: ExportMeta
) -> None:
    """A running dnsmasq blocks and forwards each probe as intended (less what the header says
    ``skip``/``widen`` change), and the contract test's model of dnsmasq agrees with it."""
    path = tmp_path / "fraud.conf"
    export(ENTRIES, "dnsmasq", path, title="t", verify=True, generated_at=meta.generated_at, style=style, exact=exact)
    port = resolver(path)
    model = CONSUMERS["dnsmasq"](path.read_text())
    expected = {**INTENDED, **WITHOUT_WILDCARDS.get(exact, {})}
    for name, blocked in expected.items():
        response = _query(port, name)
        if not blocked:
            assert (dns.rcode.to_text(response.rcode()), _addresses(response)) == ("NOERROR", [UPSTREAM_ANSWER]), name
        elif style == "address":
            assert (dns.rcode.to_text(response.rcode()), _addresses(response)) == ("NOERROR", ["0.0.0.0"]), name
        else:
            assert dns.rcode.to_text(response.rcode()) == "NXDOMAIN", name
        assert model(name) is blocked, name


def test_address_style_keeps_other_query_types_local(resolver: Callable[[Path], int], tmp_path: Path,
                                                     meta: ExportMeta) -> None:
    """Since 2.86 dnsmasq forwards non-address queries for an address= name; the paired local= line
    answers them with no data instead (the upstream here would say REFUSED)."""
    path = tmp_path / "fraud.conf"
    export(ENTRIES, "dnsmasq", path, title="t", verify=True, generated_at=meta.generated_at, style="address")
    port = resolver(path)
    for rdtype in ("MX", "TXT", "HTTPS"):
        response = _query(port, "tree.example.com", rdtype)
        assert (dns.rcode.to_text(response.rcode()), response.answer) == ("NOERROR", []), rdtype
        assert dns.rcode.to_text(_query(port, "unlisted.example.com", rdtype).rcode()) == "REFUSED", rdtype
    aaaa = _query(port, "tree.example.com", "AAAA")
    assert _addresses(aaaa) == ["::"]
