"""Every output format by name, as ``fraudwall export --format NAME`` knows them.

Adding a format is one new module with an :class:`~fraudwall.exporters.base.Exporter`
subclass (overriding ``verify`` to run its consumer's checker, if it has one)
and one line here; the contract test then runs over it automatically. The registry lives apart
from ``base`` so that the format modules can import ``base`` without a cycle.
"""

from __future__ import annotations

from typing import Any

from fraudwall.exceptions import ExportError
from fraudwall.exporters.base import Exporter
from fraudwall.exporters.domains import DomainsExporter
from fraudwall.exporters.hosts import HostsExporter
from fraudwall.exporters.rpz import RpzExporter

EXPORTERS: dict[str, type[Exporter[Any]]] = {
    HostsExporter.name: HostsExporter,
    DomainsExporter.name: DomainsExporter,
    RpzExporter.name: RpzExporter,
}


def get_exporter(name: str) -> Exporter[Any]:
    """A new exporter for the format called ``name``, or :class:`ExportError` naming the known ones."""
    try:
        return EXPORTERS[name]()
    except KeyError:
        known = ", ".join(sorted(EXPORTERS))
        raise ExportError(f"unknown export format {name!r}; known formats: {known}") from None
