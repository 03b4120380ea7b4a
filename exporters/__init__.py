"""Exporters: turn block entries into the files resolvers and gateways load.

One module per format (``hosts``, ``domains``, ``rpz``), each rendering the
entries faithfully to its own matching rules (exact name or subtree) and saying
in its header what it could not express. Around them: ``validation`` re-checks
and merges entries, ``verify`` runs the consumer's own checker, ``publish``
replaces the old file atomically and keeps it as ``.prev``, ``collapse``
refuses a list that would collapse, and :func:`export` does all of it in one call.

Exporters see only the entries they are given: they import the core
(``fraudwall.models``, ``fraudwall.names``, ``fraudwall.exceptions``) and
nothing from the store, the crawler or the plugins.
"""

from fraudwall.exporters.base import Exporter, ExportMeta
from fraudwall.exporters.collapse import CollapseGuard
from fraudwall.exporters.publish import PublishResult, publish
from fraudwall.exporters.registry import EXPORTERS, get_exporter
from fraudwall.exporters.run import ExportResult, export
from fraudwall.exporters.validation import PreparedEntries, prepare

__all__ = [
    "EXPORTERS",
    "CollapseGuard",
    "ExportMeta",
    "ExportResult",
    "Exporter",
    "PreparedEntries",
    "PublishResult",
    "export",
    "get_exporter",
    "prepare",
    "publish",
]
