"""Every output format by name, as ``fraudwall export --format NAME`` knows them.

Adding a format is one new module with an :class:`~fraudwall.exporters.base.Exporter`
subclass (overriding ``verify`` to run its consumer's checker, if it has one)
and one line here; the contract test then runs over it automatically. The registry lives apart
from ``base`` so that the format modules can import ``base`` without a cycle.
"""

from __future__ import annotations

from typing import Any

from fraudwall.exceptions import ExportError
from fraudwall.exporters.adblock import AdblockExporter
from fraudwall.exporters.base import Exporter
from fraudwall.exporters.csv_format import CsvExporter
from fraudwall.exporters.dnsmasq import DnsmasqExporter
from fraudwall.exporters.domains import DomainsExporter
from fraudwall.exporters.hosts import HostsExporter
from fraudwall.exporters.ipset import IpsetExporter
from fraudwall.exporters.json_format import JsonExporter
from fraudwall.exporters.misp import MispExporter
from fraudwall.exporters.nftables import NftablesExporter
from fraudwall.exporters.rpz import RpzExporter
from fraudwall.exporters.unbound import UnboundExporter, UnboundRpzExporter
from fraudwall.exporters.squid import SquidExporter, SquidUrlExporter
from fraudwall.exporters.stix import StixExporter
from fraudwall.exporters.suricata import SuricataExporter

EXPORTERS: dict[str, type[Exporter[Any]]] = {
    HostsExporter.name: HostsExporter,
    DomainsExporter.name: DomainsExporter,
    RpzExporter.name: RpzExporter,
    DnsmasqExporter.name: DnsmasqExporter,
    UnboundExporter.name: UnboundExporter,
    UnboundRpzExporter.name: UnboundRpzExporter,
    AdblockExporter.name: AdblockExporter,
    SquidExporter.name: SquidExporter,
    SquidUrlExporter.name: SquidUrlExporter,
    SuricataExporter.name: SuricataExporter,
    IpsetExporter.name: IpsetExporter,
    NftablesExporter.name: NftablesExporter,
    CsvExporter.name: CsvExporter,
    JsonExporter.name: JsonExporter,
    StixExporter.name: StixExporter,
    MispExporter.name: MispExporter,
}


def get_exporter(name: str) -> Exporter[Any]:
    """A new exporter for the format called ``name``, or :class:`ExportError` naming the known ones."""
    try:
        return EXPORTERS[name]()
    except KeyError:
        known = ", ".join(sorted(EXPORTERS))
        raise ExportError(f"unknown export format {name!r}; known formats: {known}") from None
