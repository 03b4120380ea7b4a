"""nftables script (``nftables``): interval sets of the blocked names' addresses and the IP indicators.

Loaded with ``nft -f PATH``. The address selection, checks and exact merging
are the ``ipset`` format's (:func:`~fraudwall.exporters.ipset.plan_addresses`;
see that module for what is refused and why). The script declares a table
``inet TABLE`` holding two sets, ``blocked_v4`` and ``blocked_v6`` (``flags
interval`` so prefixes can be elements; ``auto-merge`` so elements a user adds
by hand merge instead of failing as overlaps), flushes them and adds the
elements. ``nft -f`` applies a file as one transaction, so the sets switch from
the old list to the new atomically, and reloading replaces rather than adds.
The declarations create the table and sets on first use and leave them (and
any chains the user keeps in the table) alone afterwards. nftables sets are
table-scoped, so the rules that use them live in the same table, e.g. in a
file of the user's own loaded after this one::

    table inet fraudwall {
        chain forward {
            type filter hook forward priority filter - 5; policy accept;
            ip daddr @blocked_v4 drop
            ip6 daddr @blocked_v6 drop
        }
    }

One element per line, so versions diff cleanly. Verification runs ``nft -c -f``
(check mode: the kernel validates the whole transaction and commits nothing)
inside a throwaway network namespace, so neither the host's ruleset nor its
privileges play any part.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fraudwall.exceptions import ExportError
from fraudwall.exporters.base import ExportMeta
from fraudwall.exporters.ipset import AddressSetExporter, network_text, run_in_private_netns
from fraudwall.exporters.validation import PreparedEntries

_TABLE = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True, slots=True)
class NftablesOptions:
    """nftables options: the name of the ``inet`` table that holds the sets."""

    table: str = "fraudwall"

    def __post_init__(self) -> None:
        if not (isinstance(self.table, str) and _TABLE.fullmatch(self.table)):
            raise ExportError(f"nftables table must be 1-32 of a-z 0-9 _ starting with a letter, got {self.table!r}")


class NftablesExporter(AddressSetExporter[NftablesOptions]):
    """An ``nft -f`` script that atomically refills two interval sets."""

    name = "nftables"
    description = "nftables script; interval sets blocked_v4 and blocked_v6 in table inet TABLE"
    comment_prefix = "#"
    options_type = NftablesOptions
    data_line = re.compile(
        r"table inet [a-z][a-z0-9_]{0,31} \{"
        r"|\tset blocked_v[46] \{"
        r"|\t\ttype ipv[46]_addr"
        r"|\t\tflags interval"
        r"|\t\tauto-merge"
        r"|\t?\}"
        r"|flush set inet [a-z][a-z0-9_]{0,31} blocked_v[46]"
        r"|add element inet [a-z][a-z0-9_]{0,31} blocked_v[46] \{"
        r"|\t[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:/[0-9]{1,2})?,"
        r"|\t[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:/[0-9]{1,3})?,"
    )

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        """Declare the table and sets, flush them, add the elements."""
        table = self.options(meta).table
        plan = self.address_plan(prepared)
        families = (("blocked_v4", "ipv4_addr", plan.v4), ("blocked_v6", "ipv6_addr", plan.v6))
        yield f"table inet {table} {{"
        for name, kind, _ in families:
            yield from (f"\tset {name} {{", f"\t\ttype {kind}", "\t\tflags interval", "\t\tauto-merge", "\t}")
        yield "}"
        for name, _, _ in families:
            yield f"flush set inet {table} {name}"
        for name, _, networks in families:
            if networks:  # nft refuses an empty element list
                yield f"add element inet {table} {name} {{"
                yield from (f"\t{network_text(network)}," for network in networks)
                yield "}"

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The strict re-read, then ``nft -c -f`` in a throwaway network namespace."""
        super().verify(path, meta)
        run_in_private_netns("nft", "nftables", ["-c", "-f", str(path)], path)
