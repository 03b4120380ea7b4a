"""The memory and the decision: the SQLite store, scoring, guards and selection.

Findings come in, verdicts and block entries go out. Exporters never see this
package's database; they get the :class:`~fraudwall.models.BlockEntry` values
that :func:`~fraudwall.blocklists.selection.select_entries` chooses.
"""
