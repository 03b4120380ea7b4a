"""DNS servers for the prober's tests, on free loopback ports: a real Unbound with planted zones, and a tiny
scripted responder for what Unbound will not do on demand (rotate addresses, delay, spoof, fall silent).

Unbound is configured so it can never ask anything beyond itself:
``do-not-query-address`` covers all of IPv4 and IPv6, ``do-not-query-localhost``
stays on, it sends from 127.0.0.1 only, and it has no forwarder. A name outside
the planted zones therefore fails at once with SERVFAIL, as does a zone
forwarded to loopback (which is how :data:`SERVFAIL_ZONE` is made). Planted data
comes two ways: ``local-zone``/``local-data`` (served as is; Unbound does not
follow a local-data CNAME) and ``auth-zone`` zone files with ``for-upstream``,
which the iterator resolves as if it had fetched them from an authority:
wildcards are expanded and CNAME chains followed across zones, as a
recursive resolver on the Internet would. The benchmark uses the same starter.
"""

from __future__ import annotations

import heapq
import os
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

UNBOUND_STARTUP_TIMEOUT = 20.0

#: Guards first: whatever the planted data, this Unbound sends no query anywhere.
UNBOUND_BASE_CONFIG = """server:
    interface: {host}
    port: {port}
    do-ip4: yes
    do-ip6: {ip6}
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "{directory}"
    pidfile: "{directory}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 0
    num-threads: 1
    module-config: "iterator"
    outgoing-interface: 127.0.0.1
    do-not-query-localhost: yes
    do-not-query-address: 0.0.0.0/0
    do-not-query-address: ::/0
    minimal-responses: yes
"""


def free_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` free for both UDP and TCP right now (Unbound binds both)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            with socket.socket(family, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
                return int(port)
    raise RuntimeError("no free loopback port")


@dataclass
class Zones:
    """What an Unbound serves: local zones with their data, auth zones as zone file text, forwards, and raw
    ``server:`` lines."""

    local_zones: list[tuple[str, str]] = field(default_factory=list)  # (zone, type)
    local_data: list[str] = field(default_factory=list)  # "name ttl IN type data"
    auth_zones: dict[str, str] = field(default_factory=dict)  # zone -> zone file text
    forwards: dict[str, str] = field(default_factory=dict)  # zone -> forward-addr ("127.0.0.1@9")
    server_lines: list[str] = field(default_factory=list)

    def config(self, folder: Path) -> str:
        """The clauses after the base ``server:`` block; auth zone files are written into ``folder``."""
        lines = [f"    {line}" for line in self.server_lines]
        lines += [f'    local-zone: "{zone}." {kind}' for zone, kind in self.local_zones]
        lines += [f"    local-data: '{data}'" for data in self.local_data]
        for zone, text in self.auth_zones.items():
            path = folder / f"{zone}.zone"
            path.write_text(text)
            lines += ["auth-zone:", f'    name: "{zone}."', f'    zonefile: "{path}"',
                      "    for-downstream: no", "    for-upstream: yes", "    fallback-enabled: no"]
        for zone, address in self.forwards.items():
            lines += ["forward-zone:", f'    name: "{zone}."', f"    forward-addr: {address}"]
        return "\n".join(lines) + "\n"


class Unbound:
    """One Unbound process on a free loopback port; :meth:`stop` ends it (also when paused)."""

    def __init__(self, zones: Zones, folder: Path, host: str = "127.0.0.1") -> None:
        binary = shutil.which("unbound") or "/usr/sbin/unbound"
        assert os.path.exists(binary), "unbound missing: `make test` installs it (Debian package unbound)"
        self.host = host
        self.port = free_port(host)
        self.folder = folder / f"unbound-{self.port}"
        self.folder.mkdir(parents=True)
        config = self.folder / "unbound.conf"
        config.write_text(UNBOUND_BASE_CONFIG.format(host=host, port=self.port, directory=self.folder,
                                                     ip6="yes" if ":" in host else "no")
                          + zones.config(self.folder))
        self.log = self.folder / "log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([binary, "-d", "-c", str(config)], stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        self.paused = False

    def wait_until_answering(self, timeout: float = UNBOUND_STARTUP_TIMEOUT) -> None:
        """Ask it until it answers (a query sent while it starts is lost); raise with its log if it will not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"unbound exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                dns.query.udp(dns.message.make_query("probe.invalid", "A"), self.host, port=self.port, timeout=0.2)
                return
            except (dns.exception.Timeout, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"unbound did not answer within {timeout}s:\n{self.log.read_text()}")

    def pause(self) -> None:
        """Stop it answering without closing its port (SIGSTOP): a resolver that went silent."""
        self.process.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)
        self.paused = False

    def stop(self) -> None:
        """End the process: politely, then by force."""
        if self.process.poll() is not None:
            return
        if self.paused:
            self.resume()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_unbound(zones: Zones, folder: Path, host: str = "127.0.0.1",
                  timeout: float = UNBOUND_STARTUP_TIMEOUT) -> Unbound:
    """An :class:`Unbound` serving ``zones``, answering when this returns."""
    server = Unbound(zones, folder, host)
    server.wait_until_answering(timeout)
    return server


# -- the planted zones of the prober tests -----------------------------------------------------------------------

#: Forwarded to loopback, which ``do-not-query-localhost`` forbids: every name under it is a fast SERVFAIL.
SERVFAIL_ZONE = "servfail-kefu.top"
REFUSED_ZONE = "blocked-kefu.cn"
FLUX_ADDRESSES = tuple(f"198.18.0.{n}" for n in range(1, 9))
BIG_TXT = tuple(f"kefu-token-{n:02d}-" + "x" * 90 for n in range(20))  # about 2 kB: more than a UDP reply holds

_LOOKALIKE = "{zone}. 3600 IN {record}"


def _lookalike(zone: str, addresses: Sequence[str], address6: str) -> list[str]:
    records = [f"A {address}" for address in addresses] + [
        f"AAAA {address6}", f"MX 10 mail.{zone}.", 'TXT "v=spf1 -all"', "NS ns1.bulletproof-dns.net.",
        "NS ns2.bulletproof-dns.net.", "SOA ns1.bulletproof-dns.net. admin.bulletproof-dns.net. 2024112501 "
        "3600 600 86400 300",
    ]
    return [_LOOKALIKE.format(zone=zone, record=record) for record in records]


def planted_zones() -> Zones:
    """Lookalike domains, NODATA names, a big TXT set, fast-flux and CDN-like names, REFUSED and SERVFAIL
    zones (local data), and auth zones with wildcards (one nested below another) and CNAME chains across
    zones, one ending nowhere."""
    zones = Zones()
    zones.local_zones = [("icbc-kefu.com", "static"), ("lcbc.com.cn", "static"), ("kefu-pay.top", "static"),
                         (REFUSED_ZONE, "refuse"), ("redirect-pay.top", "redirect")]
    zones.local_data = [
        *_lookalike("icbc-kefu.com", ["203.0.113.10", "203.0.113.11"], "2001:db8::10"),
        "mail.icbc-kefu.com. 3600 IN A 203.0.113.12",
        'txt-only.icbc-kefu.com. 600 IN TXT "kefu hotline 400-000-0000"',
        *(f'big.icbc-kefu.com. 600 IN TXT "{text}"' for text in BIG_TXT),
        *_lookalike("lcbc.com.cn", ["203.0.113.20"], "2001:db8::20"),
        "mx-only.lcbc.com.cn. 3600 IN MX 10 mail.lcbc.com.cn.",
        *(f"flux.kefu-pay.top. 60 IN A {address}" for address in FLUX_ADDRESSES),
        "cdn.kefu-pay.top. 60 IN A 198.51.100.30",
        "cdn.kefu-pay.top. 60 IN A 198.51.100.31",
        *(f"stable.kefu-pay.top. 3600 IN A 198.51.100.{40 + n}" for n in range(6)),
        "redirect-pay.top. 600 IN A 192.0.2.60",
    ]
    soa = "@ 600 IN SOA ns1.{zone}. admin.{zone}. 1 3600 600 86400 300\n@ 600 IN NS ns1.{zone}.\n"
    zones.auth_zones = {
        "wildpay.top": soa.format(zone="wildpay.top") + (
            "* 600 IN A 192.0.2.50\n"
            "* 600 IN AAAA 2001:db8::50\n"
            "*.sub 600 IN A 192.0.2.70\n"
            "real 600 IN A 192.0.2.99\n"
            "www 300 IN CNAME cdn\n"
            "cdn 300 IN CNAME edge.chain.top.\n"
            "dangling 300 IN CNAME gone.chain.top.\n"
        ),
        "cnamewild.top": soa.format(zone="cnamewild.top") + "* 600 IN CNAME edge.chain.top.\n",
        "chain.top": soa.format(zone="chain.top") + "edge 60 IN A 198.51.100.7\nedge 60 IN AAAA 2001:db8::7\n",
    }
    zones.forwards = {SERVFAIL_ZONE: "127.0.0.1@9"}
    return zones


# -- a scripted responder ----------------------------------------------------------------------------------------

#: What a handler returns: datagrams to send back, each after its delay in seconds.
Replies = list[tuple[float, bytes]]
Handler = Callable[[dns.message.Message, int], Replies]


def answer(query: dns.message.Message, rcode: int = dns.rcode.NOERROR,
           records: Sequence[tuple[str, int, str, str]] = ()) -> bytes:
    """A reply to ``query`` with ``rcode`` and answer ``records`` (name, ttl, type, data)."""
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    for name, ttl, rdtype, data in records:
        response.answer.append(dns.rrset.from_text(name, ttl, "IN", rdtype, data))
    return response.to_wire()


def nxdomain(query: dns.message.Message, count: int) -> Replies:
    """A handler: NXDOMAIN for everything, at once."""
    return [(0.0, answer(query, dns.rcode.NXDOMAIN))]


def silent(query: dns.message.Message, count: int) -> Replies:
    """A handler: never answer (the socket reads and drops: a black hole)."""
    return []


class Responder:
    """A DNS responder on a free loopback UDP port, run by a thread, replying as ``handler`` says.

    It keeps the arrival time and question of every query, and the most
    queries it held unanswered at once (``max_held``: the prober's in-flight
    count, when the handler delays its replies).
    """

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        self.handler = handler
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        self.socket.bind((host, 0))
        self.socket.setblocking(False)
        self.host = host
        self.port = int(self.socket.getsockname()[1])
        self.arrivals: list[tuple[float, str, str]] = []  # (monotonic time, name, type)
        self.max_held = 0
        self._lock = threading.Lock()
        self._scheduled: list[tuple[float, int, bytes, object]] = []
        self._held: dict[int, int] = {}  # query number -> replies still to send
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"responder-{self.port}", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def questions(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(name, rdtype) for _, name, rdtype in self.arrivals]

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.socket, selectors.EVENT_READ)
        number = 0
        while not self._stop.is_set():
            now = time.monotonic()
            wait = min(0.05, max(0.0, self._scheduled[0][0] - now)) if self._scheduled else 0.05
            for _ in selector.select(wait):
                while True:
                    try:
                        data, peer = self.socket.recvfrom(65535)
                    except BlockingIOError:
                        break
                    number += 1
                    self._receive(number, data, peer)
            self._send_due()
        selector.close()

    def _receive(self, number: int, data: bytes, peer: object) -> None:
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return
        question = query.question[0]
        with self._lock:
            self.arrivals.append((time.monotonic(), question.name.to_text(omit_final_dot=True),
                                  dns.rdatatype.to_text(question.rdtype)))
        replies = self.handler(query, number)
        if replies:
            self._held[number] = len(replies)
            self.max_held = max(self.max_held, len(self._held))
        now = time.monotonic()
        for delay, reply in replies:
            heapq.heappush(self._scheduled, (now + delay, number, reply, peer))

    def _send_due(self) -> None:
        now = time.monotonic()
        while self._scheduled and self._scheduled[0][0] <= now:
            _, number, reply, peer = heapq.heappop(self._scheduled)
            try:
                self.socket.sendto(reply, peer)  # type: ignore[arg-type]
            except OSError:
                pass
            self._held[number] -= 1
            if not self._held[number]:
                del self._held[number]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()
