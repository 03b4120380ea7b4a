"""ipset restore file (``ipset``), and the address selection both IP-set formats share.

Which addresses, for ``ipset`` and ``nftables`` alike (:func:`plan_addresses`):

- the ``addresses`` of blocked name-level entries: the IPs those names were
  seen resolving to. An IP can host many sites, so a gateway that drops it cuts
  them all off; publish these formats for infrastructure known to be dedicated;
- the IP indicators (``prepared.indicators`` of kind ``ip``): addresses
  fraudwall judged themselves (say, a server an app calls), under the same
  rules. Other indicators (hashes, wallets, handles) are never addresses: the
  notes count them as not carried;
- never those of URL-level entries: they sit on shared hosts (a phishing page
  on github.io resolves to GitHub's addresses), which is why they are URLs;
- a blocked name equal to an allowed one contributes nothing, and an address
  any allowed name uses is left out: blocking it would block the allowed name;
- only single addresses, each global unicast
  (:func:`~fraudwall.exporters.validation.publishable_address`): unspecified,
  loopback, multicast, link-local, private, shared (100.64/10), reserved and
  other non-global addresses are refused, as is anything that is not one
  address (a CIDR, a scoped address), each counted by reason (a resolved
  address here, in the notes; an IP indicator when the entries are prepared,
  in the report's rejections, as every format refuses it). The documentation ranges
  (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) are let through:
  they route nowhere, so listing them cuts no one off, and they are what
  examples and tests use. An IPv4-mapped IPv6 address counts as the IPv4 one.

Addresses are then merged with ``ipaddress.collapse_addresses``: neighbours
that exactly fill a larger prefix become that prefix (203.0.113.8 and .9 are
203.0.113.8/31) and nothing else, so no address that was not listed is ever
covered; a set matches exactly the listed addresses.

The ipset file is for ``ipset restore -file PATH``. It fills a ``-next`` set
and swaps it with the live one, so the firewall switches from the old list to
the new in one step, and a restore of the next version replaces (never adds
to) this one; the live sets (``NAME-v4``, ``NAME-v6``, ``hash:net``) are created
on first use. iptables refers to them by name::

    iptables -I FORWARD -m set --match-set fraudwall-v4 dst -j DROP
    ip6tables -I FORWARD -m set --match-set fraudwall-v6 dst -j DROP

``maxelem`` is part of a set's identity for ``create -exist``, so it is an
option with a fixed default rather than sized to the list; a list with more
networks than ``maxelem`` is an error.

ipset has no check mode and ``ipset restore`` changes the kernel's sets, so
verification restores the file inside a throwaway network namespace
(``unshare --net --map-root-user``): the real kernel parses and loads every
line, and the host's own sets are never touched.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fraudwall.exceptions import ExportError
from fraudwall.exporters.base import Exporter, ExportMeta, OptionsT
from fraudwall.exporters.record_order import allowed_rows, uniform_runs
from fraudwall.exporters.validation import Address, PreparedEntries, publishable_address
from fraudwall.exporters.verify import run_checker
from fraudwall.models import SubjectKind

IPv4Net = ipaddress.IPv4Network
IPv6Net = ipaddress.IPv6Network
_SET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,20}")  # ipset names hold 31 characters; '-v4-next' is 8
_IPV4 = r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV6 = r"[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}"


@dataclass(frozen=True, slots=True)
class AddressPlan:
    """The merged networks to publish, and what was kept out and why."""

    v4: tuple[IPv4Net, ...]
    v6: tuple[IPv6Net, ...]
    accepted: int
    refused: Counter[str]
    allowed_overlap: int
    url_level: int
    allowed_names: int
    indicators: int  # IP indicators among the accepted addresses

    def notes(self) -> list[str]:
        """Header lines with every count, shared by the IP-set formats."""
        refused = ", ".join(f"{reason} {count}" for reason, count in sorted(self.refused.items()))
        return [
            f"addresses: {self.accepted} from blocked names and IP indicators ({self.indicators} IP indicators;"
            f" {len(self.v4)} IPv4, {len(self.v6)} IPv6 networks; neighbours merged only where they fill a prefix"
            " exactly)",
            f"addresses refused: {sum(self.refused.values())}" + (f" ({refused})" if refused else ""),
            f"allow: blocked names equal to an allowed one, skipped: {self.allowed_names};"
            f" addresses an allowed name uses, left out: {self.allowed_overlap}",
            f"urls: addresses of URL-level entries (shared hosts) never used: {self.url_level}",
        ]


def _parsed(raws: Iterable[str]) -> Iterator[Address]:
    """The addresses among ``raws`` that parse at all (for subtracting allowed ones)."""
    for raw in raws:
        try:
            address = ipaddress.ip_address(raw)
        except (ValueError, TypeError):
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        yield address


def plan_addresses(prepared: PreparedEntries) -> AddressPlan:
    """Select, check and merge the addresses to publish (see the module docstring).

    Addresses live in the rows' details, which the rows of one list share, so
    the table is read run by run: a list of millions of names without
    addresses costs one look per run, not one per name. The IP indicators
    were checked when the entries were prepared; an allowed name using one
    keeps it out all the same.
    """
    table = prepared.blocked
    allowed = allowed_rows(prepared).equal
    allowed_addresses = set(_parsed(a for entry in prepared.allowed for a in entry.addresses))
    refused: Counter[str] = Counter()
    accepted: set[Address] = set()
    overlap: set[Address] = set()
    for run in uniform_runs(table, range(len(table))):
        addresses = table.details[run.start].addresses
        if not addresses:
            continue
        uses = len(run) - sum(row in allowed for row in run) if allowed else len(run)
        for raw in addresses:
            reason, address = publishable_address(raw)
            if address is None:
                refused[reason] += uses  # once per name that gave it, as each is a refused input
            elif not uses:
                continue
            elif address in allowed_addresses:
                overlap.add(address)
            else:
                accepted.add(address)
    indicated = set(_parsed(item.value for item in prepared.indicators if item.kind is SubjectKind.IP))
    overlap |= indicated & allowed_addresses
    accepted |= indicated - allowed_addresses
    url_level = {raw for entry in prepared.urls for raw in entry.addresses}
    v4 = [ipaddress.ip_network(a) for a in accepted if a.version == 4]
    v6 = [ipaddress.ip_network(a) for a in accepted if a.version == 6]
    return AddressPlan(
        v4=tuple(ipaddress.collapse_addresses(v4)),  # type: ignore[arg-type]
        v6=tuple(ipaddress.collapse_addresses(v6)),  # type: ignore[arg-type]
        accepted=len(accepted),
        refused=refused,
        allowed_overlap=len(overlap),
        url_level=len(url_level),
        allowed_names=len(allowed),
        indicators=len(indicated - allowed_addresses),
    )


class AddressSetExporter(Exporter[OptionsT]):
    """A format that publishes the addresses of the blocked names and the IP indicators (``ipset``, ``nftables``).

    The addresses are planned once per preparation (:meth:`address_plan`):
    counting, the header and the body all read the plan, and planning the
    addresses of millions of names takes seconds.
    """

    subtree_capable = False
    # Names are never written, only their addresses: an underscore in one changes nothing.
    allow_underscore = True
    indicator_kinds = frozenset({SubjectKind.IP})
    _planned: tuple[PreparedEntries, AddressPlan] | None = None

    def address_plan(self, prepared: PreparedEntries) -> AddressPlan:
        """:func:`plan_addresses` of ``prepared``, worked out on first use."""
        if self._planned is None or self._planned[0] is not prepared:
            self._planned = (prepared, plan_addresses(prepared))
        return self._planned[1]

    def entry_count(self, prepared: PreparedEntries) -> int:
        """The addresses published."""
        return self.address_plan(prepared).accepted

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """The address counts."""
        return self.address_plan(prepared).notes()


def network_text(network: IPv4Net | IPv6Net) -> str:
    """``network`` as ipset and nft write it: a lone address without its /32 or /128."""
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def run_in_private_netns(tool: str, package: str, args: list[str], subject: Path) -> str:
    """Run ``tool args...`` in a new, empty network namespace; :func:`run_checker` semantics.

    The namespace is owned by a new user namespace, so this needs no root and
    cannot touch the host's firewall, whatever the file says.
    """
    if shutil.which(tool) is None:
        raise ExportError(f"{tool} not installed (Debian package {package})")
    return run_checker("unshare", "util-linux", ["--net", "--map-root-user", tool, *args], subject)


@dataclass(frozen=True, slots=True)
class IpsetOptions:
    """ipset options: the set name prefix and the sets' ``maxelem``."""

    set_name: str = "fraudwall"
    maxelem: int = 1_048_576

    def __post_init__(self) -> None:
        if not (isinstance(self.set_name, str) and _SET_NAME.fullmatch(self.set_name)):
            raise ExportError(
                f"ipset set_name must be 1-21 of A-Z a-z 0-9 _ - (not starting with -), got {self.set_name!r}"
            )
        valid = isinstance(self.maxelem, int) and not isinstance(self.maxelem, bool)
        if not (valid and 1 <= self.maxelem <= 2**31 - 1):
            raise ExportError(f"ipset maxelem must be an integer in [1, 2**31 - 1], got {self.maxelem!r}")


class IpsetExporter(AddressSetExporter[IpsetOptions]):
    """``ipset restore`` commands that atomically replace a v4 and a v6 ``hash:net`` set."""

    name = "ipset"
    description = "ipset restore file; hash:net sets NAME-v4 and NAME-v6, swapped in atomically"
    comment_prefix = "#"
    options_type = IpsetOptions
    data_line = re.compile(
        r"create [A-Za-z0-9_][A-Za-z0-9_-]{0,20}-v[46](?:-next)? hash:net family inet6?"
        r" maxelem [1-9][0-9]* -exist"
        r"|flush [A-Za-z0-9_][A-Za-z0-9_-]{0,20}-v[46]-next"
        rf"|add [A-Za-z0-9_][A-Za-z0-9_-]{{0,20}}-v4-next {_IPV4}(?:/(?:3[0-2]|[12]?[0-9]))?"
        rf"|add [A-Za-z0-9_][A-Za-z0-9_-]{{0,20}}-v6-next {_IPV6}(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?"
        r"|swap [A-Za-z0-9_][A-Za-z0-9_-]{0,20}-v[46]-next [A-Za-z0-9_][A-Za-z0-9_-]{0,20}-v[46]"
        r"|destroy [A-Za-z0-9_][A-Za-z0-9_-]{0,20}-v[46]-next"
    )

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        """Per family: create both sets, fill the next one, swap it in, drop the old contents."""
        options = self.options(meta)
        plan = self.address_plan(prepared)
        for family, suffix, networks in (("inet", "v4", plan.v4), ("inet6", "v6", plan.v6)):
            if len(networks) > options.maxelem:
                raise ExportError(f"ipset: {len(networks)} {suffix} networks exceed maxelem {options.maxelem}")
            live, staged = f"{options.set_name}-{suffix}", f"{options.set_name}-{suffix}-next"
            for name in (live, staged):
                yield f"create {name} hash:net family {family} maxelem {options.maxelem} -exist"
            yield f"flush {staged}"
            for network in networks:
                yield f"add {staged} {network_text(network)}"
            yield f"swap {staged} {live}"
            yield f"destroy {staged}"

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The strict re-read, then ``ipset restore`` of the file in a throwaway network namespace."""
        super().verify(path, meta)
        run_in_private_netns("ipset", "ipset", ["restore", "-file", str(path)], path)
