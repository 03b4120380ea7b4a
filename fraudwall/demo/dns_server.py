"""A small DNS server on loopback that plays the Internet's DNS for the demo's discovery step.

It answers from zone files (``fraudwall/demo/zones/*.zone``, standard master
format, one zone per file named after its origin) on 127.0.0.1, UDP, on a free
port, in a daemon thread: answers with their TTLs, CNAMEs followed inside the
zone, NODATA with the SOA, NXDOMAIN with the SOA, and a ``*`` wildcard for
names that do not exist. A name outside its zones gets NXDOMAIN too, as a
resolver answers for a name nobody registered: in the demo's world only these
zones exist. It never recurses, so the demo sends no query past loopback.
"""

from __future__ import annotations

import socketserver
import threading
from importlib import resources
from pathlib import Path
from types import TracebackType

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

#: CNAME hops followed inside the zones before the answer stops (a loop must end).
MAX_CNAME_HOPS = 8


def bundled_zones() -> Path:
    """The demo's zone files, shipped inside the package."""
    return Path(str(resources.files("fraudwall.demo") / "zones"))


def zone_origins(folder: Path | None = None) -> list[str]:
    """The names the zone files are for (no final dot): the demo's registered lookalikes."""
    return sorted(path.name.removesuffix(".zone") for path in (folder or bundled_zones()).glob("*.zone"))


def load_zones(folder: Path) -> list[dns.zone.Zone]:
    """Every ``*.zone`` file of ``folder``, each with the origin its file name gives."""
    return [dns.zone.from_file(str(path), origin=path.name.removesuffix(".zone"), relativize=False)
            for path in sorted(folder.glob("*.zone"))]


class ZoneAnswers:
    """What the zones say to one question."""

    def __init__(self, zones: list[dns.zone.Zone]) -> None:
        # Longest origin first, so a delegated child zone wins over its parent.
        self.zones = sorted(zones, key=lambda zone: -len(zone.origin))  # type: ignore[arg-type]

    def respond(self, query: dns.message.Message) -> dns.message.Message:
        """The response to ``query``: answers, or NODATA, or NXDOMAIN (REFUSED for a class other than IN)."""
        response = dns.message.make_response(query)
        response.flags &= ~dns.flags.RA
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        zone = next((zone for zone in self.zones if question.name.is_subdomain(zone.origin)), None)
        if zone is None:
            response.set_rcode(dns.rcode.NXDOMAIN)  # unregistered, in the demo's world
            return response
        response.flags |= dns.flags.AA
        name = question.name
        for _ in range(MAX_CNAME_HOPS):
            node = zone.get_node(name) or self._wildcard(zone, name)
            if node is None:
                if name == question.name:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                self._add_soa(zone, response)
                return response
            wanted = node.get_rdataset(dns.rdataclass.IN, question.rdtype)
            if wanted is not None:
                response.answer.append(dns.rrset.from_rdata_list(name, wanted.ttl, list(wanted)))
                return response
            alias = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if alias is None:
                self._add_soa(zone, response)  # the name exists, without data of this type
                return response
            response.answer.append(dns.rrset.from_rdata_list(name, alias.ttl, list(alias)))
            name = alias[0].target  # type: ignore[attr-defined]
            if not name.is_subdomain(zone.origin):
                return response  # the resolver follows a chain out of the zone, not this server
        return response

    @staticmethod
    def _wildcard(zone: dns.zone.Zone, name: dns.name.Name) -> dns.node.Node | None:
        """The node of the closest ``*`` above ``name`` when ``name`` itself does not exist."""
        parent = name.parent()
        while parent.is_subdomain(zone.origin):
            node = zone.get_node(dns.name.Name(("*",)).concatenate(parent))
            if node is not None:
                return node
            if parent == zone.origin:
                return None
            parent = parent.parent()
        return None

    @staticmethod
    def _add_soa(zone: dns.zone.Zone, response: dns.message.Message) -> None:
        soa = zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
        if soa is not None:
            response.authority.append(dns.rrset.from_rdata_list(zone.origin, soa.ttl, list(soa)))


class _Handler(socketserver.BaseRequestHandler):
    answers: ZoneAnswers

    def handle(self) -> None:
        data, sock = self.request
        try:
            query = dns.message.from_wire(data)
        except Exception:  # a packet that is no DNS query gets no answer, as from any server
            return
        sock.sendto(self.answers.respond(query).to_wire(), self.client_address)


class ZoneServer:
    """Serve zone files on 127.0.0.1 over UDP, one query at a time (answers take microseconds); use as a
    context manager."""

    def __init__(self, folder: Path | None = None) -> None:
        answers = ZoneAnswers(load_zones(folder or bundled_zones()))
        handler = type("ZoneHandler", (_Handler,), {"answers": answers})
        self.server = socketserver.UDPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="demo-dns", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def __enter__(self) -> ZoneServer:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
