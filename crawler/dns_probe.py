"""Async DNS prober: every record type of many names at once, each failure a value.

:class:`Prober` asks the configured nameservers (recursive resolvers) about
many names concurrently and yields one :class:`~fraudwall.models.DnsObservation`
per name, in completion order. :func:`probe` is the same for synchronous callers.
Nothing is asked of anyone but the nameservers given.

How a name is probed
--------------------
1. ``A`` is asked first (the first of ``types`` when ``A`` is not among them).
   If it gives NXDOMAIN with no CNAME in the answer, the name does not exist,
   and by RFC 8020 nothing exists at or below it: every other type is recorded
   NXDOMAIN without being asked (counted in ``stats["nxdomain_inferred"]``).
   Many of the names a crawl probes are gone or never existed, so this saves
   most of their queries. A dangling CNAME (NXDOMAIN with the CNAME in the
   answer, RFC 6604) means the name itself exists, so its other types are asked.
2. Otherwise, including when ``A`` failed (SERVFAIL, REFUSED, TIMEOUT), the
   other types are asked, all at once.
3. A name that exists and has addresses of low TTL (every A/AAAA TTL at most
   ``flux_max_ttl``) is asked A and AAAA again, ``flux_rounds - 1`` more times,
   ``flux_delay`` apart, each time through the next nameserver when there are
   several (a recursive resolver hands back its cached set until the TTL runs
   out, so another resolver is the better witness). Each round's sorted
   address set is kept in ``address_rounds`` (a name with addresses has at
   least the first). ``records`` stay the first answers: the DNS detectors
   compare single answers with the rounds, and read later rounds' addresses
   (pivots too) from ``address_rounds``.
   **Fast-flux rule:** the sign ``fast-flux`` is given when every address TTL
   of the first answers is at most ``flux_max_ttl`` (300 s) and the distinct
   addresses over all rounds number at least ``flux_min_addresses`` (5): many
   addresses in one answer, or a pool rotating between rounds. It is a sign,
   not a verdict: a CDN can look the same, and the DNS detectors weigh it with
   the rest. (A TTL read from a resolver's cache is the time left, so a long
   TTL can look low; that is why the sign also asks for many addresses.)
4. A name that exists is checked against wildcards (``wildcard``): random
   12-character labels (``wildcard_labels`` of them) are asked A and AAAA under
   the name's immediate parent and its registrable domain (for a registrable
   domain itself, its public suffix), once per zone per run (an LRU cache of
   ``wildcard_cache`` zones; the first label's NXDOMAIN settles a zone in one
   query). A zone where every random label exists has a wildcard. The closest
   such zone decides: the name is a wildcard answer when its CNAME chain equals
   the wildcard's and, for A and AAAA, its addresses are among the wildcard's
   (none where the wildcard has none), with at least one address or chain to
   compare. Then ``wildcard`` is set, ``wildcard_zone`` names the zone (the
   highest of the zones giving that same answer), and the sign ``wildcard`` is
   added. A name whose own answers differ exists in its own right, wildcard
   sibling or not.

Outcomes per type: NOERROR (records of the type in the answer, at the name or
at the end of its CNAME chain), NODATA (NOERROR without them), NXDOMAIN,
SERVFAIL (also any other error code, a malformed reply, or a FORMERR without
EDNS), REFUSED, TIMEOUT (no reply to any try). The name's overall ``rcode``
follows :class:`~fraudwall.models.DnsObservation`. Records are kept for every
type asked, in ``types`` order, each (type, value, owner) once; CNAME records
and those at the chain's end carry their ``owner``; ``cname_chain`` lists the
chain and adds the sign ``cname-chain``. ``resolver`` is the nameserver that
answered the name's first question (the name's own when none did);
``observed_at`` the moment its answers were all in, before any later round.

How the queries go out
----------------------
Each nameserver gets a few long-lived connected UDP sockets (``sockets``), each
with its own table of pending queries keyed by a random 16-bit ID. A reply
settles a query only when its ID is pending on that socket and it echoes the
exact question (:func:`~fraudwall.crawler.dns_wire.matches`); the connected
socket already drops datagrams from any other address. Anything else is
counted in ``stats["mismatched_replies"]`` and ignored. A truncated reply is
asked again over TCP. Queries are built from bytes; a reply is read from its
header alone unless it carries answer records, which a small reader of the
seven types turns into records (:mod:`fraudwall.crawler.dns_wire` says why
not ``dns.message.from_wire``, which remains the fallback). A name's questions
are sent together and awaited as plain futures: no task per question.

Names are given to the nameservers in turn. Per nameserver, ``concurrency``
bounds the queries in flight and ``rate`` paces them (evenly spaced, no
bursts). A try unanswered after ``timeout`` is retried after ``backoff``
seconds, doubled each time, up to ``retries`` times, each retry going to the
next nameserver when there are several. A nameserver that has left
``down_after`` tries in a row unanswered, and been silent for a whole
``timeout``, is marked down: its waiting queries go elsewhere, or end as
TIMEOUT at once when every nameserver is down, and one query per ``timeout``
still goes to it to notice its return. So a resolver that stops answering costs
a few timeouts, not a timeout per query, and no probe hangs: a name's time is
bounded by its tries (``(1 + retries) x timeout`` plus backoff, for A, then for
the rest, then for each flux round after ``flux_delay``, and for a wildcard
probe).

Names are taken from the iterable lazily, ``names_in_flight`` at a time, so a
list of millions streams through in bounded memory. Names must already be
normalised (lowercase A-labels, no trailing dot); one that cannot be encoded is
skipped and counted in ``stats["rejected_names"]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import queue
import socket
import string
import threading
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import dns.resolver

from fraudwall.crawler import dns_wire as wire
from fraudwall.models import DnsObservation, DnsRecord
from fraudwall.names import registrable_domain

log = logging.getLogger(__name__)

RECORD_TYPES = ("A", "AAAA", "CNAME", "NS", "MX", "TXT", "SOA")
ADDRESS_TYPES = ("A", "AAAA")
#: Which failure a name that never said NOERROR/NODATA is filed under, first match wins.
FAILURE_ORDER = ("NXDOMAIN", "SERVFAIL", "REFUSED", "TIMEOUT")
_EXISTS = frozenset({"NOERROR", "NODATA"})
_SIGN_ORDER = ("wildcard", "fast-flux", "cname-chain")
_LABEL_CHARACTERS = string.ascii_lowercase + string.digits


# -- nameservers -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Nameserver:
    """A resolver to ask: an IP address literal and a port (never a name: that would need a resolver)."""

    host: str
    port: int = 53

    def __post_init__(self) -> None:
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            raise ValueError(f"nameserver host {self.host!r} is not an IP address") from None
        if not 0 < self.port < 65536:
            raise ValueError(f"nameserver port {self.port} is not between 1 and 65535")
        object.__setattr__(self, "host", str(address))  # one spelling per address

    @property
    def ipv6(self) -> bool:
        return ":" in self.host

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if self.ipv6 else f"{self.host}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT`` (a bare IPv6 literal too) as a :class:`Nameserver`.

    :class:`ValueError` for anything else, names included: they are not resolved.
    """
    raw = text.strip()
    usage = f"nameserver {text!r}: expected an IP address, IPV4:PORT or [IPV6]:PORT (names are not resolved)"
    host, port = raw, "53"
    if raw.startswith("["):
        host, bracket, rest = raw[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(usage)
        port = rest[1:] if rest else "53"
    elif raw.count(":") == 1:
        host, _, port = raw.partition(":")
    if not port.isdigit():
        raise ValueError(usage)
    try:
        return Nameserver(host, int(port))
    except ValueError as error:
        raise ValueError(f"{usage}; {error}") from None


def system_nameservers(path: str = "/etc/resolv.conf") -> list[Nameserver]:
    """The nameservers ``path`` lists (read as dnspython reads it; nothing is asked); empty when there are none."""
    resolver = dns.resolver.Resolver(configure=False)
    try:
        resolver.read_resolv_conf(path)
    except (dns.resolver.NoResolverConfiguration, OSError):
        return []
    found = []
    for entry in resolver.nameservers:
        try:
            found.append(Nameserver(str(entry), resolver.port))
        except ValueError:
            continue  # a DoH/DoT URL or similar: not a plain DNS server this prober can use
    return found


# -- options -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    """How :class:`Prober` probes; per-nameserver limits apply to every nameserver separately."""

    types: tuple[str, ...] = RECORD_TYPES
    timeout: float = 2.0  #: seconds per try
    retries: int = 2  #: extra tries after the first, with backoff
    backoff: float = 0.2  #: seconds before the first retry, doubled each retry
    concurrency: int = 500  #: queries in flight per nameserver
    rate: float = 0.0  #: max queries/s per nameserver, 0 = unlimited
    wildcard: bool = True  #: detect wildcards per parent zone
    flux_rounds: int = 2  #: A/AAAA probes of a live name with low TTL (>1 means re-ask after flux_delay)
    flux_delay: float = 1.0  #: seconds between address rounds
    flux_max_ttl: int = 300  #: address TTLs at most this are "low"
    flux_min_addresses: int = 5  #: distinct addresses over the rounds that make fast flux
    wildcard_labels: int = 2  #: random labels asked per zone
    wildcard_cache: int = 16_384  #: zones whose wildcard answer is remembered in a run (LRU)
    sockets: int = 4  #: UDP sockets per nameserver (each has its own 16-bit ID space and source port)
    edns_payload: int = 1232  #: UDP payload size announced with EDNS0 (0: no EDNS)
    down_after: int = 20  #: unanswered tries in a row that mark a silent nameserver down
    names_in_flight: int = 0  #: names probed at once; 0 = twice concurrency x nameservers

    def __post_init__(self) -> None:
        types = tuple(dict.fromkeys(t.upper() for t in self.types))
        unknown = [t for t in types if t not in wire.TYPE_CODES]
        if not types or unknown:
            raise ValueError(f"record types must be among {', '.join(RECORD_TYPES)}; got {', '.join(self.types)}")
        object.__setattr__(self, "types", types)
        checks = {
            "timeout": self.timeout > 0, "retries": self.retries >= 0, "backoff": self.backoff >= 0,
            "concurrency": self.concurrency >= 1, "rate": self.rate >= 0, "flux_rounds": self.flux_rounds >= 1,
            "flux_delay": self.flux_delay >= 0, "wildcard_labels": self.wildcard_labels >= 1,
            "wildcard_cache": self.wildcard_cache >= 1, "sockets": self.sockets >= 1,
            "edns_payload": self.edns_payload == 0 or 512 <= self.edns_payload <= 65535,
            "down_after": self.down_after >= 1, "names_in_flight": self.names_in_flight >= 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"probe options out of range: {', '.join(bad)}")


# -- one nameserver: sockets, limits, health ---------------------------------------------------------------------


class _QueryIds:
    """Unpredictable 16-bit query IDs (an off-path spoofer must not guess them), drawn from the OS 8 KiB at a
    time: one system call per 4096 IDs."""

    def __init__(self) -> None:
        self._ids: list[int] = []

    def next(self) -> int:
        if not self._ids:
            self._ids = list(memoryview(os.urandom(8192)).cast("H"))
        return self._ids.pop()


_query_ids = _QueryIds()
_Pending = tuple["asyncio.Future[bytes | None]", bytes, asyncio.TimerHandle]


class _Socket(asyncio.DatagramProtocol):
    """One connected UDP socket to a nameserver, with the queries pending on it by ID."""

    def __init__(self, stats: Counter[str]) -> None:
        self.stats = stats
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, _Pending] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, question: bytes, timeout: float, edns_payload: int) -> asyncio.Future[bytes | None]:
        """Send one query with ``question``: a future of its reply, ``None`` after ``timeout``."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        pending = self.pending
        query_id = _query_ids.next()
        while query_id in pending:
            query_id = _query_ids.next()
        future: asyncio.Future[bytes | None] = loop.create_future()
        pending[query_id] = (future, question, loop.call_later(timeout, self._expire, query_id))
        self.transport.sendto(wire.query(query_id, question, edns_payload))
        self.stats["queries"] += 1
        return future

    def datagram_received(self, data: bytes, addr: object) -> None:
        query_id = wire.query_id(data) if len(data) >= 12 else -1
        entry = self.pending.get(query_id)
        if entry is None or not wire.matches(data, entry[1]):
            self.stats["mismatched_replies"] += 1
            return
        del self.pending[query_id]
        future, _, timer = entry
        timer.cancel()
        if not future.done():
            future.set_result(data)

    def _expire(self, query_id: int) -> None:
        entry = self.pending.pop(query_id, None)
        if entry is not None and not entry[0].done():
            entry[0].set_result(None)

    def error_received(self, exc: Exception) -> None:
        # An ICMP error (port unreachable...) cannot be tied to one query: the queries time out instead.
        self.stats["socket_errors"] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        for future, _, timer in self.pending.values():
            timer.cancel()
            if not future.done():
                future.set_result(None)
        self.pending.clear()


class _Server:
    """A nameserver as the prober uses it: its sockets, its concurrency and rate limits, and its health."""

    def __init__(self, nameserver: Nameserver, index: int, options: ProbeOptions, stats: Counter[str]) -> None:
        self.nameserver = nameserver
        self.index = index  # its place in the prober's list
        self.label = str(nameserver)
        self.options = options
        self.stats = stats
        self.sockets: list[_Socket] = []
        self._turn = 0
        # Slots for queries in flight: a counter and a queue of waiters, as asyncio.Semaphore, but a query
        # gives its slot back from a callback when it settles, and the common case costs no coroutine.
        self._free = options.concurrency
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._interval = 1.0 / options.rate if options.rate else 0.0
        self._next_send = 0.0  # loop time at which the next query may go, under `rate`
        self._pace_waiting: deque[asyncio.Future[None]] = deque()
        self._pace_timer: asyncio.TimerHandle | None = None
        self.down = False
        self._probe_at = 0.0
        self._last_reply = 0.0
        self._silent_tries = 0

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if self.nameserver.ipv6 else socket.AF_INET
        for _ in range(self.options.sockets):
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: _Socket(self.stats), remote_addr=(self.nameserver.host, self.nameserver.port), family=family)
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):  # a larger buffer absorbs bursts of replies; not vital
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self.sockets.append(protocol)
        self._last_reply = loop.time()

    def close(self) -> None:
        for sock in self.sockets:
            if sock.transport is not None:
                sock.transport.close()
        self.sockets.clear()

    def usable(self, now: float) -> bool:
        """Whether a query may be sent here now: the server is up, or down but due a probe."""
        return not self.down or now >= self._probe_at

    async def exchange(self, questions: Sequence[bytes]) -> list[bytes | None]:
        """One try of each of ``questions``, sent together: the replies (over TCP where the UDP one was
        truncated), ``None`` for each left unanswered."""
        futures: list[asyncio.Future[bytes | None] | None] = []
        edns_payload = self.options.edns_payload
        for question in questions:
            if self._free and not self._waiting and not self._interval and not self.down:
                self._free -= 1  # the common case: sent at once, no coroutine
                futures.append(self._dispatch(question, edns_payload))
            else:
                futures.append(await self._send(question, edns_payload))
        sent = [future for future in futures if future is not None]
        if len(sent) == 1:
            await sent[0]
        elif sent:
            await asyncio.gather(*sent)
        now = asyncio.get_running_loop().time()
        replies: list[bytes | None] = []
        for question, future in zip(questions, futures, strict=True):
            data = future.result() if future is not None else None  # None: not sent, as this server is down
            if future is not None:
                if data is None:
                    self._silent(now)
                else:
                    self._heard(now)
            if data is not None:
                header = wire.read_header(data)
                if header.truncated or header.rcode == wire.FORMERR:
                    data = await self._follow_up(question, data, header)
            replies.append(data)
        return replies

    def _dispatch(self, question: bytes, edns_payload: int) -> asyncio.Future[bytes | None]:
        """Send ``question`` through the next socket, on a slot already taken; the slot comes back when the
        query settles, whoever awaits it (so a name asking more questions than there are slots cannot lock
        itself out)."""
        sock = self.sockets[self._turn]
        self._turn = (self._turn + 1) % len(self.sockets)
        future = sock.send(question, self.options.timeout, edns_payload)
        future.add_done_callback(self._release)
        return future

    async def _send(self, question: bytes, edns_payload: int) -> asyncio.Future[bytes | None] | None:
        """:meth:`_dispatch` once a slot is free and its turn under the rate has come; ``None`` when this
        server is down (unless this query is its probe)."""
        await self._take_slot()
        now = asyncio.get_running_loop().time()
        if self.down:
            if now < self._probe_at:
                self._release(None)
                self.stats["skipped_down"] += 1
                return None
            self._probe_at = now + self.options.timeout  # this query is the probe; the next one waits
        if self._interval:
            await self._pace()
        return self._dispatch(question, edns_payload)

    async def _take_slot(self) -> None:
        """Wait for a free slot and take it (first come, first served)."""
        if self._free and not self._waiting:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter  # _release hands its slot straight to this waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(None)  # handed a slot, but cancelled before it could use it
            raise

    def _release(self, _: object) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    async def _follow_up(self, question: bytes, data: bytes, header: wire.Header) -> bytes | None:
        """What a reply may still need: asked again without EDNS after a FORMERR (an old server that chokes
        on it; a FORMERR then stands), or over TCP when truncated."""
        if header.rcode == wire.FORMERR and self.options.edns_payload:
            future = await self._send(question, 0)
            data = (await future if future is not None else None) or data
            header = wire.read_header(data)
        if header.truncated:
            self.stats["truncated"] += 1
            return await self._ask_tcp(question)
        return data

    async def _pace(self) -> None:
        """Wait for this query's turn under ``rate``; the caller sends as soon as this returns.

        Turns are taken first come, first served, and each is given ``1/rate``
        after the previous send actually happened (not after when it was due),
        so a loop that fell behind never sends a burst to catch up.
        """
        loop = asyncio.get_running_loop()
        if self._pace_waiting or loop.time() < self._next_send:
            waiter: asyncio.Future[None] = loop.create_future()
            self._pace_waiting.append(waiter)
            self._schedule_turn()
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._next_send = loop.time()  # given the turn but gone: pass it on
                    self._schedule_turn()
                raise
        self._next_send = loop.time() + self._interval
        self._schedule_turn()

    def _schedule_turn(self) -> None:
        """Make sure the first waiter is woken when the next send is due."""
        if self._pace_waiting and self._pace_timer is None:
            self._pace_timer = asyncio.get_running_loop().call_at(self._next_send, self._give_turn)

    def _give_turn(self) -> None:
        self._pace_timer = None
        while self._pace_waiting:
            waiter = self._pace_waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)  # it schedules the next turn once it has sent
                return

    async def _ask_tcp(self, question: bytes) -> bytes | None:
        """``question`` over a TCP connection of its own (truncation is rare), bounded by ``timeout``."""
        await self._take_slot()
        try:
            if self._interval:
                await self._pace()
            query_id = _query_ids.next()
            message = wire.query(query_id, question, 0)
            self.stats["tcp_queries"] += 1
            writer = None
            try:
                async with asyncio.timeout(self.options.timeout):
                    reader, writer = await asyncio.open_connection(self.nameserver.host, self.nameserver.port)
                    writer.write(wire.tcp_frame(message))
                    size = int.from_bytes(await reader.readexactly(2), "big")
                    data = await reader.readexactly(size)
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                self.stats["tcp_failures"] += 1
                return None
            finally:
                if writer is not None:
                    writer.close()
        finally:
            self._release(None)
        if len(data) < 12 or wire.query_id(data) != query_id or not wire.matches(data, question):
            self.stats["mismatched_replies"] += 1
            return None
        return data

    def _silent(self, now: float) -> None:
        self.stats["timeouts"] += 1
        self._silent_tries += 1
        if (not self.down and self._silent_tries >= self.options.down_after
                and now - self._last_reply >= self.options.timeout):
            self.down = True
            self._probe_at = now + self.options.timeout
            self.stats["nameserver_down"] += 1
            log.warning("nameserver %s stopped answering (%d tries unanswered): marked down",
                        self.label, self._silent_tries)

    def _heard(self, now: float) -> None:
        self._silent_tries = 0
        self._last_reply = now
        if self.down:
            self.down = False
            self.stats["nameserver_up"] += 1
            log.warning("nameserver %s answers again", self.label)


# -- replies and observations ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reply:
    """The outcome of one question, all tries included, and who gave it (``None``: nobody did)."""

    outcome: str
    answer: wire.Answer = wire.EMPTY_ANSWER
    server: _Server | None = None


_NXDOMAIN_INFERRED = _Reply("NXDOMAIN")


@dataclass(frozen=True, slots=True)
class _Wildcard:
    """What random labels under a zone were answered: addresses per type and the CNAME chain."""

    addresses: tuple[tuple[str, frozenset[str]], ...]
    chain: tuple[str, ...]


def overall_rcode(outcomes: Iterable[str]) -> str:
    """A name's rcode from its types' outcomes: NOERROR when any says the name exists (NOERROR or NODATA),
    else its first failure in :data:`FAILURE_ORDER`."""
    seen = set(outcomes)
    if seen & _EXISTS:
        return "NOERROR"
    return next((failure for failure in FAILURE_ORDER if failure in seen), "TIMEOUT")


def _merge(groups: Iterable[Iterable[DnsRecord]]) -> tuple[DnsRecord, ...]:
    """The records of ``groups`` in order, each (type, value, owner) once, with its first TTL."""
    merged: dict[tuple[str, str, str], DnsRecord] = {}
    for group in groups:
        for record in group:
            merged.setdefault((record.type, record.value, record.owner), record)
    return tuple(merged.values())


def _addresses(records: Iterable[DnsRecord]) -> tuple[str, ...]:
    return tuple(sorted({record.value for record in records if record.type in ADDRESS_TYPES}))


def _wildcard_zones(name: str) -> list[str]:
    """The zones whose wildcard could have made ``name``'s answers: its parent and registrable domain, closest
    first (for a registrable domain itself, its public suffix)."""
    _, dot, parent = name.partition(".")
    if not dot or not parent:
        return []
    zones = [parent]
    registrable = registrable_domain(name)
    if registrable and registrable != parent and name.endswith("." + registrable):
        zones.append(registrable)
    return zones


def _random_label() -> str:
    # 36 does not divide 256, so a few characters come up slightly more often: no matter for a label nobody
    # can guess anyway (about 62 bits).
    return "".join(_LABEL_CHARACTERS[byte % 36] for byte in os.urandom(12))


def _is_wildcard_answer(wildcard: _Wildcard, replies: dict[str, _Reply], chain: tuple[str, ...]) -> bool:
    """Whether ``replies`` are what ``wildcard`` gives any name: same chain, addresses among its addresses,
    none where it has none, and something (an address or the chain) actually compared."""
    if chain != wildcard.chain:
        return False
    compared = bool(chain)
    for record_type, expected in wildcard.addresses:
        reply = replies.get(record_type)
        if reply is None or reply.outcome not in _EXISTS:
            continue  # not asked, or no answer: no evidence either way
        values = {record.value for record in reply.answer.records if record.type == record_type}
        if not expected:
            if values:
                return False
        elif not values or not values <= expected:
            return False
        else:
            compared = True
    return compared


# -- the prober --------------------------------------------------------------------------------------------------


class Prober:
    """Probes names through ``nameservers``, spreading names across them (see the module documentation).

    ``stats`` counts, over the prober's life: ``names`` observed, ``rejected_names``,
    ``queries`` (UDP) and ``tcp_queries`` sent, ``retries``, ``timeouts`` (tries
    unanswered), ``truncated``, ``mismatched_replies``, ``malformed_replies``,
    ``socket_errors``, ``skipped_down``, ``nameserver_down``/``nameserver_up``,
    ``nxdomain_inferred`` (types recorded NXDOMAIN by RFC 8020 without asking),
    ``outcome:X`` per question asked, ``rcode:X`` per name, ``flux_rounds``,
    ``wildcard_zones`` probed, and ``sign:X`` per sign given.
    """

    def __init__(self, nameservers: Sequence[Nameserver], options: ProbeOptions = ProbeOptions()) -> None:
        if not nameservers:
            raise ValueError("no nameserver to ask")
        self.nameservers = tuple(nameservers)
        self.options = options
        self.stats: Counter[str] = Counter()
        self._servers: list[_Server] = []
        self._home = 0
        self._wildcards: OrderedDict[str, asyncio.Future[_Wildcard | None]] = OrderedDict()
        self._zone_probes: set[asyncio.Future[_Wildcard | None]] = set()  # cached or not, cancelled at the end

    # -- the run

    async def probe_many(self, names: Iterable[str]) -> AsyncIterator[DnsObservation]:
        """One observation per name, in completion order; ``names`` are read lazily."""
        await self._open()
        results: asyncio.Queue[DnsObservation | BaseException | None] = asyncio.Queue()
        running: set[asyncio.Task[None]] = set()
        window = self.options.names_in_flight or 2 * self.options.concurrency * len(self._servers)
        pending_names = iter(names)
        exhausted = False
        outstanding = 0  # results not yet taken: counted, not read off `running`, whose tasks leave it late
        try:
            while True:
                while not exhausted and outstanding < window:
                    name = next(pending_names, None)
                    if name is None:
                        exhausted = True
                        break
                    task = asyncio.ensure_future(self._probe_into(name, results))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    outstanding += 1
                if not outstanding:
                    return
                result = await results.get()
                outstanding -= 1
                if isinstance(result, BaseException):
                    raise result
                if result is not None:
                    yield result
        finally:
            for task in running:
                task.cancel()
            zone_probes = list(self._zone_probes)
            for zone_probe in zone_probes:
                zone_probe.cancel()
            await asyncio.gather(*running, *zone_probes, return_exceptions=True)
            self._close()

    async def _open(self) -> None:
        self._close()
        self._wildcards.clear()  # wildcards are remembered per run
        self._servers = [_Server(nameserver, index, self.options, self.stats)
                         for index, nameserver in enumerate(self.nameservers)]
        try:
            for server in self._servers:
                await server.open()
        except BaseException:
            self._close()
            raise

    def _close(self) -> None:
        for server in self._servers:
            server.close()
        self._servers = []

    async def _probe_into(self, name: str, results: asyncio.Queue[DnsObservation | BaseException | None]) -> None:
        try:
            results.put_nowait(await self._probe_name(name))
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # a bug: surface it in the caller rather than losing the name silently
            results.put_nowait(error)

    # -- one name

    async def _probe_name(self, name: str) -> DnsObservation | None:
        try:
            name_wire = wire.encode_name(name)
        except ValueError as error:
            self.stats["rejected_names"] += 1
            log.debug("not probed: %s", error)
            return None
        home = self._home
        self._home = (home + 1) % len(self._servers)
        replies, home = await self._ask_types(name, name_wire, home)
        observed_at = datetime.now(UTC)
        types = self.options.types
        records = [replies[record_type].answer.records for record_type in types]
        chain = next((replies[t].answer.chain for t in types if replies[t].answer.chain), ())
        outcomes = tuple((record_type, replies[record_type].outcome) for record_type in types)
        rcode = overall_rcode(outcome for _, outcome in outcomes)
        rounds: tuple[tuple[str, ...], ...] = ()
        zone = ""
        if rcode == "NOERROR":
            found, again = self._first_addresses(replies)
            # The later rounds wait flux_delay: meanwhile the wildcard is looked into.
            later = asyncio.ensure_future(self._later_rounds(name, name_wire, home)) if again else None
            try:
                zone = await self._wildcard_zone(name, replies, chain, home)
                later_rounds = await later if later is not None else []
            finally:
                if later is not None:
                    later.cancel()  # nothing when done; when this name is cancelled, its rounds go too
            rounds = tuple(_addresses(round_records) for round_records in (found, *later_rounds)) if found else ()
        signs = {
            "wildcard": bool(zone),
            "fast-flux": self._is_fast_flux(replies, rounds),
            "cname-chain": bool(chain),
        }
        observation = DnsObservation(
            name=name, rcode=rcode, records=_merge(records), wildcard=bool(zone),
            resolver=self._servers[home].label, observed_at=observed_at, outcomes=outcomes,
            cname_chain=chain, wildcard_zone=zone, address_rounds=rounds,
            signs=tuple(sign for sign in _SIGN_ORDER if signs[sign]),
        )
        self._count(observation)
        return observation

    async def _ask_types(self, name: str, name_wire: bytes, home: int) -> tuple[dict[str, _Reply], int]:
        """Every asked type's reply: A first, the rest only when A does not prove the name absent (RFC 8020).
        Also the name's home from now on: the nameserver that answered A (after a failover, the live one)."""
        types = self.options.types
        first_type = self._first_type()
        replies = await self._ask(name, name_wire, (first_type,), home)
        first = replies[first_type]
        if first.server is not None:
            home = first.server.index
        rest = [record_type for record_type in types if record_type != first_type]
        if first.outcome == "NXDOMAIN" and not first.answer.records:
            replies.update(dict.fromkeys(rest, _NXDOMAIN_INFERRED))
            self.stats["nxdomain_inferred"] += len(rest)
        elif rest:
            replies.update(await self._ask(name, name_wire, rest, home))
        return replies, home

    def _first_type(self) -> str:
        return "A" if "A" in self.options.types else self.options.types[0]

    async def _ask(self, name: str, name_wire: bytes, types: Sequence[str], home: int) -> dict[str, _Reply]:
        """The questions of ``name`` for ``types``, sent together, with their retries: each retry (of the
        questions still unanswered) goes through the next usable nameserver."""
        questions = {record_type: wire.question(name_wire, wire.TYPE_CODES[record_type]) for record_type in types}
        replies: dict[str, _Reply] = {}
        unanswered = list(types)
        options = self.options
        for attempt in range(1 + options.retries):
            server = self._server_for(home, attempt)
            if server is None:
                break  # every nameserver is down: no point waiting
            if attempt:
                self.stats["retries"] += len(unanswered)
                await asyncio.sleep(options.backoff * 2 ** (attempt - 1))
            answers = await server.exchange([questions[record_type] for record_type in unanswered])
            still = []
            for record_type, data in zip(unanswered, answers, strict=True):
                if data is None:
                    still.append(record_type)
                else:
                    reply = self._classify(data, name, wire.TYPE_CODES[record_type], server)
                    self.stats["outcome:" + reply.outcome] += 1
                    replies[record_type] = reply
            unanswered = still
            if not unanswered:
                break
        for record_type in unanswered:
            self.stats["outcome:TIMEOUT"] += 1
            replies[record_type] = _Reply("TIMEOUT")
        return replies

    def _server_for(self, home: int, attempt: int) -> _Server | None:
        """The nameserver for try ``attempt`` of a name at ``home``: the next one per try, skipping those down."""
        servers = self._servers
        now = asyncio.get_running_loop().time()
        for step in range(len(servers)):
            server = servers[(home + attempt + step) % len(servers)]
            if server.usable(now):
                return server
        return None

    def _classify(self, data: bytes, name: str, type_code: int, server: _Server) -> _Reply:
        header = wire.read_header(data)
        if header.rcode == wire.REFUSED:
            return _Reply("REFUSED", server=server)
        if header.rcode not in (wire.NOERROR, wire.NXDOMAIN):
            return _Reply("SERVFAIL", server=server)
        answer = wire.EMPTY_ANSWER
        if header.answers:  # only now is the message parsed
            try:
                answer = wire.read_answer(data, name, type_code)
            except ValueError:
                self.stats["malformed_replies"] += 1
                return _Reply("SERVFAIL", server=server)
        if header.rcode == wire.NXDOMAIN:
            return _Reply("NXDOMAIN", answer, server)
        return _Reply("NOERROR" if answer.has_type else "NODATA", answer, server)

    # -- fast flux

    def _first_addresses(self, replies: dict[str, _Reply]) -> tuple[list[DnsRecord], bool]:
        """The A and AAAA records of the first answers, and whether their TTLs call for more rounds."""
        found = [record for t in ADDRESS_TYPES if t in replies
                 for record in replies[t].answer.records if record.type in ADDRESS_TYPES]
        again = (bool(found) and self.options.flux_rounds > 1
                 and max(record.ttl for record in found) <= self.options.flux_max_ttl)
        return found, again

    async def _later_rounds(self, name: str, name_wire: bytes, home: int) -> list[list[DnsRecord]]:
        """The A and AAAA records of each further round that got an answer, ``flux_delay`` apart, each round
        through the next nameserver."""
        options = self.options
        asked = [record_type for record_type in ADDRESS_TYPES if record_type in options.types]
        rounds = []
        for number in range(1, options.flux_rounds):
            await asyncio.sleep(options.flux_delay)
            again = (await self._ask(name, name_wire, asked, home + number)).values()
            if not any(reply.outcome in _EXISTS for reply in again):
                continue  # the round got no answer: it says nothing about the addresses
            self.stats["flux_rounds"] += 1
            rounds.append([record for reply in again for record in reply.answer.records])
        return rounds

    def _is_fast_flux(self, replies: dict[str, _Reply], rounds: tuple[tuple[str, ...], ...]) -> bool:
        """The fast-flux rule of the module documentation: low TTLs and many addresses over the rounds."""
        if not rounds:
            return False
        ttls = [record.ttl for t in ADDRESS_TYPES if t in replies
                for record in replies[t].answer.records if record.type in ADDRESS_TYPES]
        distinct = {address for addresses in rounds for address in addresses}
        return max(ttls) <= self.options.flux_max_ttl and len(distinct) >= self.options.flux_min_addresses

    # -- wildcards

    async def _wildcard_zone(self, name: str, replies: dict[str, _Reply], chain: tuple[str, ...], home: int) -> str:
        """The zone whose wildcard ``name``'s answers are, or ``""``.

        The closest zone with a wildcard decides. When the zones above it give
        the same answer too, the highest of them is named: ``*.example.com``
        answers under every subdomain that does not exist, so a wildcard seen
        under ``a.example.com`` and ``example.com`` alike sits at the latter.
        """
        if not self.options.wildcard:
            return ""
        zones = _wildcard_zones(name)
        probes = [self._zone_wildcard(zone, home) for zone in zones]  # all started at once, read closest first
        found = ""
        for zone, probe in zip(zones, probes, strict=True):
            wildcard = await asyncio.shield(probe)  # shared by every name under the zone: never cancel it for one
            if wildcard is None:
                if found:
                    break
                continue
            if not _is_wildcard_answer(wildcard, replies, chain):
                break
            found = zone
        return found

    def _zone_wildcard(self, zone: str, home: int) -> asyncio.Future[_Wildcard | None]:
        """The (cached) wildcard probe of ``zone``."""
        cache = self._wildcards
        probe = cache.get(zone)
        if probe is not None:
            cache.move_to_end(zone)
            return probe
        probe = asyncio.ensure_future(self._probe_zone(zone, home))
        self._zone_probes.add(probe)
        probe.add_done_callback(self._zone_probes.discard)
        cache[zone] = probe
        if len(cache) > self.options.wildcard_cache:
            cache.popitem(last=False)
        return probe

    async def _probe_zone(self, zone: str, home: int) -> _Wildcard | None:
        """What random labels under ``zone`` get, when they all exist; ``None`` when there is no wildcard (or
        no answer to tell)."""
        self.stats["wildcard_zones"] += 1
        asked = [t for t in ADDRESS_TYPES if t in self.options.types] or ["A"]
        labels = []
        for _ in range(self.options.wildcard_labels):
            probe_name = f"{_random_label()}.{zone}"
            try:
                labels.append((probe_name, wire.encode_name(probe_name)))
            except ValueError:
                return None  # no room for a label under the zone: no name there can be a wildcard's
        (first_name, first_wire), others = labels[0], labels[1:]
        first = await self._ask(first_name, first_wire, asked[:1], home)
        if first[asked[0]].outcome not in _EXISTS:
            return None  # the usual case, settled in one query
        more = [self._ask(first_name, first_wire, asked[1:], home)] if asked[1:] else []
        answered = await asyncio.gather(*more, *(self._ask(n, w, asked, home) for n, w in others))
        if more:
            first.update(answered[0])
            answered = answered[1:]
        per_label = [first, *answered]
        if any(replies[asked[0]].outcome not in _EXISTS for replies in per_label):
            return None  # one random label did not exist: no wildcard (or a flaky one) there
        addresses = tuple(
            (t, frozenset(record.value for replies in per_label
                          for record in replies[t].answer.records if record.type == t))
            for t in asked
        )
        return _Wildcard(addresses, first[asked[0]].answer.chain)

    # -- bookkeeping

    def _count(self, observation: DnsObservation) -> None:
        stats = self.stats
        stats["names"] += 1
        stats["rcode:" + observation.rcode] += 1
        for sign in observation.signs:
            stats["sign:" + sign] += 1


# -- synchronous use ---------------------------------------------------------------------------------------------

_BUFFERED = 1024  # observations waiting for a slow synchronous consumer before the prober stops taking names
_END = object()


def probe(names: Iterable[str], nameservers: Sequence[Nameserver], options: ProbeOptions = ProbeOptions(), *,
          stats: Counter[str] | None = None) -> Iterator[DnsObservation]:
    """:meth:`Prober.probe_many` for synchronous callers: yields observations as they complete.

    The event loop runs in a background thread; ``names`` are read there,
    lazily, and at most :data:`_BUFFERED` observations wait for the caller
    (while they do, no new names are taken, though probes under way finish).
    Closing the iterator early stops the probes and the thread. ``stats``, when
    given, is updated with the prober's counts at the end. Bad nameservers or
    options raise here, at the call.
    """
    return _run_in_thread(Prober(nameservers, options), names, stats)


def _run_in_thread(prober: Prober, names: Iterable[str], stats: Counter[str] | None) -> Iterator[DnsObservation]:
    out: queue.Queue[object] = queue.Queue(maxsize=_BUFFERED)
    stop = threading.Event()
    loop = asyncio.new_event_loop()
    main: asyncio.Task[None] | None = None

    async def pump() -> None:
        async for observation in prober.probe_many(names):
            if stop.is_set():
                return  # the caller is gone
            while True:
                try:
                    out.put_nowait(observation)
                    break
                except queue.Full:
                    await asyncio.sleep(0.005)  # never block the loop: the queries in flight need it

    def run() -> None:
        nonlocal main
        outcome: object = _END
        try:
            main = loop.create_task(pump())
            loop.run_until_complete(main)
        except asyncio.CancelledError:
            pass  # stopped by the caller
        except BaseException as error:  # handed to the caller's thread, raised there
            outcome = error
        finally:
            with contextlib.suppress(BaseException):
                loop.run_until_complete(loop.shutdown_asyncgens())  # a generator left at a yield cleans up
            loop.close()
            if stats is not None:
                stats.update(prober.stats)
            while not stop.is_set():
                try:
                    out.put(outcome, timeout=0.1)
                    break
                except queue.Full:
                    continue

    def cancel() -> None:
        if main is not None:
            main.cancel()

    thread = threading.Thread(target=run, name="fraudwall-dns-probe", daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        if thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nothing left to stop
                loop.call_soon_threadsafe(cancel)
        thread.join()
