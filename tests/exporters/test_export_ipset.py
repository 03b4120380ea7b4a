"""ipset and nftables specifics: exact merging, refused addresses, and the real kernel.

The files are loaded for real (``ipset restore``, ``nft -f``) inside throwaway
network namespaces (``unshare --net --map-root-user``), so the kernel parses
them and the tests read back what a firewall would match, without touching the
host's sets or rules.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters import ExportMeta, export, get_exporter
from fraudwall.exporters.ipset import plan_addresses, run_in_private_netns
from fraudwall.models import Action, BlockEntry, Scope
from tests.exporters.test_export_contract import CONSUMERS

FORMATS = ("ipset", "nftables")
ENTRIES = [
    BlockEntry("a.example.com", addresses=("198.51.100.8", "198.51.100.9", "198.51.100.10", "198.51.100.11",
                                           "198.51.100.13", "2001:db8::1", "2001:db8::0")),
    BlockEntry("b.example.com", scope=Scope.SUBTREE,
               addresses=("192.0.2.1", "::ffff:192.0.2.2", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1",
                          "127.0.0.1", "::1", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "169.254.169.254",
                          "fe80::1", "fc00::1", "240.0.0.1", "255.255.255.255", "192.0.2.0/24", "not an ip",
                          "2001:db8::9%eth0")),
    BlockEntry("shared.github.io", url="https://shared.github.io/x", addresses=("185.199.108.153",)),
    BlockEntry("c.example.com", addresses=("192.0.2.50",)),
    BlockEntry("ok.example.com", action=Action.ALLOW, addresses=("192.0.2.50",)),
    BlockEntry("both.example.com", addresses=("192.0.2.60",)),
    BlockEntry("both.example.com", action=Action.ALLOW),
]


def _in_netns(script: str) -> str:
    """Run ``script`` with sh in a new user and network namespace; its stdout."""
    result = subprocess.run(
        ["unshare", "--net", "--map-root-user", "sh", "-c", script],
        capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("tool", ["ipset", "nft", "unshare"])
def test_tools_are_installed(tool: str) -> None:
    """The real checkers must be there: ``make test`` installs ipset and nftables, so a miss is a failure."""
    assert shutil.which(tool), f"{tool} missing: `make test` installs it (apt install ipset nftables util-linux)"


def test_adjacent_addresses_merge_exactly_and_nothing_else_is_covered(meta: ExportMeta) -> None:
    """Neighbours merge only into prefixes they fill: 8-11 is a /30, 13 stays alone, 12 is never covered."""
    plan = plan_addresses(get_exporter("ipset").prepare(ENTRIES, meta))
    assert [str(net) for net in plan.v4] == ["192.0.2.1/32", "192.0.2.2/32", "198.51.100.8/30", "198.51.100.13/32"]
    assert [str(net) for net in plan.v6] == ["2001:db8::/127"]
    for name in FORMATS:
        blocked = CONSUMERS[name](get_exporter(name).render(ENTRIES, meta))
        assert all(blocked(f"198.51.100.{n}") for n in (8, 9, 10, 11, 13))
        assert not any(blocked(f"198.51.100.{n}") for n in (7, 12, 14))
        assert blocked("2001:db8::1") and not blocked("2001:db8::2")


def test_non_global_addresses_are_refused_and_counted(meta: ExportMeta) -> None:
    """Private, loopback, multicast, link-local, reserved and malformed addresses never reach a set."""
    plan = plan_addresses(get_exporter("ipset").prepare(ENTRIES, meta))
    assert dict(plan.refused) == {
        "not-global": 7, "loopback": 2, "unspecified": 2, "multicast": 2, "link-local": 2, "not-one-address": 3,
    }
    for name in FORMATS:
        text = get_exporter(name).render(ENTRIES, meta)
        assert "# addresses refused: 18 (link-local 2, loopback 2, multicast 2, not-global 7, not-one-address 3," \
               " unspecified 2)" in text
        blocked = CONSUMERS[name](text)
        for address in ("10.1.2.3", "127.0.0.1", "::1", "0.0.0.0", "224.0.0.1", "169.254.169.254", "100.64.0.1",
                        "fc00::1", "240.0.0.1", "255.255.255.255", "192.0.2.3"):
            assert not blocked(address), address


def test_allowed_and_shared_hosts_addresses_are_never_blocked(meta: ExportMeta) -> None:
    """An address an allowed name uses, a name both blocked and allowed, and URL-level hosts stay reachable."""
    for name in FORMATS:
        text = get_exporter(name).render(ENTRIES, meta)
        blocked = CONSUMERS[name](text)
        assert not blocked("192.0.2.50") and not blocked("192.0.2.60") and not blocked("185.199.108.153")
        assert "skipped: 1; addresses an allowed name uses, left out: 1" in text
        assert "addresses of URL-level entries (shared hosts) never used: 1" in text


def test_ipset_restore_loads_and_replaces_the_sets(tmp_path: Path, meta: ExportMeta) -> None:
    """The kernel loads the file; restoring the next version swaps the contents instead of adding to them."""
    first, second = tmp_path / "v1.ipset", tmp_path / "v2.ipset"
    export(ENTRIES, "ipset", first, title="t", verify=True, generated_at=meta.generated_at)
    export([BlockEntry("d.example.com", addresses=("203.0.113.5",))], "ipset", second, title="t", verify=True,
           generated_at=meta.generated_at)
    listed = _in_netns(
        f"ipset restore -file {shlex.quote(str(first))} && ipset list fraudwall-v4 && "
        f"ipset restore -file {shlex.quote(str(second))} && echo SECOND && ipset list fraudwall-v4 && "
        "ipset list -n"
    )
    before, after = listed.split("SECOND")
    assert {"198.51.100.8/30", "198.51.100.13", "192.0.2.1", "192.0.2.2"} <= set(before.split())
    assert "203.0.113.5" in after.split() and "198.51.100.13" not in after.split()
    assert "fraudwall-v4-next" not in after  # the staging sets are gone


def test_nft_loads_and_replaces_the_sets(tmp_path: Path, meta: ExportMeta) -> None:
    """nft accepts the script twice in a row; the second load replaces the elements of the first."""
    first, second = tmp_path / "v1.nft", tmp_path / "v2.nft"
    export(ENTRIES, "nftables", first, title="t", verify=True, generated_at=meta.generated_at)
    export([BlockEntry("d.example.com", addresses=("203.0.113.5",))], "nftables", second, title="t",
           verify=True, generated_at=meta.generated_at)
    listed = _in_netns(
        f"nft -f {shlex.quote(str(first))} && nft -f {shlex.quote(str(first))} && nft list set inet fraudwall"
        f" blocked_v4 && nft -f {shlex.quote(str(second))} && echo SECOND && nft list table inet fraudwall"
    )
    before, after = listed.split("SECOND")
    assert "198.51.100.8/30" in before and "198.51.100.13" in before
    assert "203.0.113.5" in after and "198.51.100" not in after


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("ipset", "create x hash:net family inet -exist\nadd x 10.0.0.0/33\n"),
        ("nftables", "table inet t {\n\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}\n}\n"
                     "add element inet t s {\n\t203.0.113.0/24,\n\t203.0.113.5,\n}\n"),
    ],
)
def test_the_kernel_check_is_real(name: str, bad: str, tmp_path: Path, meta: ExportMeta) -> None:
    """A hand-made file the kernel refuses (a /33, overlapping intervals) fails verification with its reason."""
    path = tmp_path / "bad.txt"
    path.write_text(bad)
    tool, args = ("ipset", ["restore", "-file", str(path)]) if name == "ipset" else ("nft", ["-c", "-f", str(path)])
    with pytest.raises(VerificationError, match="out of range|conflicting intervals"):
        run_in_private_netns(tool, name, args, path)


def test_empty_sets_are_still_declared(tmp_path: Path, meta: ExportMeta) -> None:
    """No address is a normal day: both sets exist (and are emptied) so firewall rules keep loading."""
    path = tmp_path / "empty.nft"
    export([BlockEntry("a.example.com")], "nftables", path, title="t", verify=True, generated_at=meta.generated_at)
    text = path.read_text()
    assert "flush set inet fraudwall blocked_v4" in text and "add element" not in text
    listed = _in_netns(f"nft -f {shlex.quote(str(path))} && nft list table inet fraudwall")
    assert "set blocked_v4" in listed and "set blocked_v6" in listed


@pytest.mark.parametrize(
    ("name", "options"),
    [("ipset", {"set_name": "a b"}), ("ipset", {"set_name": "x" * 22}), ("ipset", {"set_name": "-x"}),
     ("ipset", {"maxelem": 0}), ("ipset", {"maxelem": True}), ("nftables", {"table": "Fraud wall"}),
     ("nftables", {"table": "t;flush ruleset"})],
)
def test_bad_options_are_export_errors(name: str, options: dict[str, object], meta: ExportMeta) -> None:
    """Options reach the file, so each is checked before rendering."""
    with pytest.raises(ExportError):
        get_exporter(name).render([], ExportMeta("t", meta.generated_at, options))


def test_more_networks_than_maxelem_is_an_error(meta: ExportMeta) -> None:
    """A set that would overflow in the kernel fails the export instead."""
    entries = [BlockEntry("a.example.com", addresses=("192.0.2.1", "192.0.2.3"))]  # not adjacent: two networks
    with pytest.raises(ExportError, match="exceed maxelem 1"):
        get_exporter("ipset").render(entries, ExportMeta("t", meta.generated_at, {"maxelem": 1}))
