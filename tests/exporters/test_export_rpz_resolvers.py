"""The generic ``rpz`` zone in a real BIND, PowerDNS Recursor and Knot Resolver on loopback.

The zone claims to answer the same on BIND, Knot, PowerDNS and Unbound
(Unbound is tested live in ``test_export_unbound``). Here the other three load
the very file that ``named-checkzone`` accepted and answer every probe of the
nested-scope lists: NXDOMAIN where the list blocks, the upstream's answer where
it does not.

Each resolver listens on a free 127.0.0.1 port, sends only from 127.0.0.1 and
forwards every query to the test's own Unbound (which answers every A query
with 192.0.2.1 and recurses nowhere), with DNSSEC off and no root priming, so
nothing leaves the machine.
"""

from __future__ import annotations

import functools
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import dns.rcode
import pytest

from fraudwall.exporters import ExportMeta, export
from fraudwall.models import Action, BlockEntry, Scope
from tests.exporters.conftest import DnsServers
from tests.exporters.test_export_dnsmasq import ENTRIES, INTENDED, UPSTREAM_ANSWER, _addresses, _query
from tests.exporters.test_export_rpz import NESTED_ENTRIES, NESTED_INTENDED, _closest_listed_name_wins
from tests.exporters.test_export_unbound import DEEP_ENTRIES, DEEP_INTENDED

STARTUP_TIMEOUT = 20.0

CASES = {
    "nested scopes and exceptions": (ENTRIES + DEEP_ENTRIES, {**INTENDED, **DEEP_INTENDED}),
    "names below a blocked subtree": (NESTED_ENTRIES, NESTED_INTENDED),
}

# Knot Resolver forwards through a policy rule, and an RPZ passthru (policy.PASS) ends policy
# evaluation: a forwarding rule after policy.rpz would be skipped for every allowed name, which
# would then be resolved from the root. So the stub is set by a chain rule (it returns nothing)
# before the RPZ, as a forwarding Knot Resolver with RPZ needs in production too.
KRESD_CONFIG = """-- Loopback only: listen and send on 127.0.0.1, no IPv6, no priming, no trust-anchor traffic,
-- and root hints on loopback should anything still iterate.
net.ipv6 = false
net.listen('127.0.0.1', {port}, {{ kind = 'dns' }})
net.outgoing_v4('127.0.0.1')
for _, name in ipairs({{ 'priming', 'detect_time_skew', 'detect_time_jump', 'ta_signal_query', 'ta_sentinel' }}) do
    pcall(modules.unload, name)
end
trust_anchors.remove('.')
modules.load('hints > iterate')
hints.root({{ ['localhost.'] = '127.0.0.1' }})
cache.size = 10 * MB
local stub = policy.STUB('127.0.0.1@{upstream}')
policy.add(policy.all(function(state, req) stub(state, req) end))
policy.add(policy.rpz(policy.DENY, '{zone}', false))
"""


def _installed(command: str, package: str) -> str:
    """The path of a resolver's binary (in /usr/sbin, which a user's PATH may lack); a miss is a failure."""
    binary = shutil.which(command) or shutil.which(command, path="/usr/sbin")
    assert binary, f"{command} missing: `make test` installs it (Debian package {package})"
    return binary


# BIND forwards only, to the upstream, from 127.0.0.1; its root hints name 127.0.0.1 too.
NAMED_CONFIG = """options {{
    directory "{folder}";
    pid-file "{folder}/named.pid";
    session-keyfile "{folder}/session.key";
    managed-keys-directory "{folder}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    query-source address 127.0.0.1;
    notify-source 127.0.0.1;
    transfer-source 127.0.0.1;
    forwarders {{ 127.0.0.1 port {upstream}; }};
    forward only;
    recursion yes;
    allow-query {{ 127.0.0.1; }};
    dnssec-validation no;
    notify no;
    response-policy {{ zone "fraudwall.rpz"; }};
}};
controls {{ }};
zone "." {{ type hint; file "{folder}/root.hints"; }};
zone "fraudwall.rpz" {{ type primary; file "{zone}"; allow-query {{ none; }}; }};
"""
ROOT_HINTS = ". 3600000 NS loopback.root.\nloopback.root. 3600000 A 127.0.0.1\n"


@pytest.fixture
def named(dns_servers: DnsServers, upstream: int) -> Callable[[Path], int]:
    """Starts BIND's named with the RPZ file as its response-policy zone (``start(zone)`` returns its port)."""
    binary = _installed("named", "bind9")

    def command(zone: Path, port: int, folder: Path) -> list[str]:
        config = folder / "named.conf"
        config.write_text(NAMED_CONFIG.format(folder=folder, port=port, upstream=upstream, zone=zone))
        (folder / "root.hints").write_text(ROOT_HINTS)
        return [binary, "-g", "-4", "-n", "1", "-c", str(config)]

    return lambda zone: dns_servers.start("named", functools.partial(command, zone), STARTUP_TIMEOUT)


@pytest.fixture
def unbound_rpz(unbound: Callable[[str], int], upstream: int) -> Callable[[Path], int]:
    """Starts Unbound with the RPZ file in an ``rpz:`` clause (``start(zone)`` returns its port)."""
    return lambda zone: unbound(
        '    module-config: "respip iterator"\n'
        "    do-not-query-localhost: no\n"
        f'forward-zone:\n    name: "."\n    forward-addr: 127.0.0.1@{upstream}\n'
        f'rpz:\n    name: "fraudwall.rpz."\n    zonefile: "{zone}"\n'
    )


@pytest.fixture
def pdns_recursor(dns_servers: DnsServers, upstream: int) -> Callable[[Path], int]:
    """Starts PowerDNS Recursor with an RPZ file (``start(zone)`` returns its port)."""
    binary = _installed("pdns_recursor", "pdns-recursor")

    def command(zone: Path, port: int, folder: Path) -> list[str]:
        (folder / "recursor.conf").write_text("")
        (folder / "rpz.lua").write_text(f'rpzFile("{zone}", {{policyName="fraudwall"}})\n')
        return [
            binary, f"--config-dir={folder}", f"--socket-dir={folder}", "--daemon=no", "--write-pid=no",
            "--disable-syslog", "--threads=1", f"--local-address=127.0.0.1:{port}",
            "--query-local-address=127.0.0.1", f"--forward-zones-recurse=.=127.0.0.1:{upstream}",
            "--dnssec=off", f"--lua-config-file={folder / 'rpz.lua'}",
        ]

    return lambda zone: dns_servers.start("pdns_recursor", functools.partial(command, zone), STARTUP_TIMEOUT)


@pytest.fixture
def kresd(dns_servers: DnsServers, upstream: int) -> Callable[[Path], int]:
    """Starts Knot Resolver with an RPZ file (``start(zone)`` returns its port)."""
    binary = _installed("kresd", "knot-resolver")

    def command(zone: Path, port: int, folder: Path) -> list[str]:
        config = folder / "kresd.conf"
        config.write_text(KRESD_CONFIG.format(port=port, zone=zone, upstream=upstream))
        return [binary, "-n", "-c", str(config), str(folder)]

    return lambda zone: dns_servers.start("kresd", functools.partial(command, zone), STARTUP_TIMEOUT)


def _outcome(port: int, name: str) -> tuple[str, list[str]]:
    """The rcode and A addresses the resolver on ``port`` answers for ``name``."""
    response = _query(port, name)
    return dns.rcode.to_text(response.rcode()), _addresses(response)


def _export_zone(entries: list[BlockEntry], tmp_path: Path, meta: ExportMeta) -> Path:
    path = tmp_path / "fraud.rpz"
    result = export(entries, "rpz", path, title="t", verify=True, generated_at=meta.generated_at)
    assert result.verified  # named-checkzone accepted the very file the resolver loads
    return path


def _differences(port: int, intended: dict[str, bool]) -> dict[str, tuple[str, list[str]]]:
    """Every probe whose answer is not what the list means for it."""
    wanted = {True: ("NXDOMAIN", []), False: ("NOERROR", [UPSTREAM_ANSWER])}
    answers = {name: _outcome(port, name) for name in intended}
    return {name: answer for name, answer in answers.items() if answer != wanted[intended[name]]}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("resolver", ["named", "pdns_recursor", "kresd"])
def test_real_resolver_answers_as_the_list_means(
    resolver: str, case: str, request: pytest.FixtureRequest, tmp_path: Path, meta: ExportMeta,
) -> None:
    """BIND (``response-policy``), PowerDNS Recursor (``rpzFile``) and Knot Resolver (``policy.rpz``) block,
    pass and let exceptions through exactly as the list means, from the zone named-checkzone accepted."""
    entries, intended = CASES[case]
    start: Callable[[Path], int] = request.getfixturevalue(resolver)
    port = start(_export_zone(entries, tmp_path, meta))
    assert _differences(port, intended) == {}


def _random_lists(count: int, seed: int) -> tuple[list[BlockEntry], dict[str, bool]]:
    """``count`` random nests of subtree and exact blocks and exceptions, each under its own domain,
    as one list, and what "the closest listed name wins" means for every probe of every nest."""
    labels = ["a", "b", "c"]
    below = ["", *labels, *(f"{x}.{y}" for x in labels for y in labels),
             *(f"{x}.{y}.{z}" for x in labels for y in labels for z in labels)]
    rng = random.Random(seed)
    entries: list[BlockEntry] = []
    intended: dict[str, bool] = {}
    for nest in range(count):
        universe = [f"{prefix}.n{nest}.example.com" if prefix else f"n{nest}.example.com" for prefix in below]
        listed = [BlockEntry(rng.choice(universe), scope=rng.choice([Scope.EXACT, Scope.SUBTREE]),
                             action=rng.choice([Action.BLOCK, Action.BLOCK, Action.ALLOW]))
                  for _ in range(rng.randint(1, 10))]
        means = _closest_listed_name_wins(listed)
        entries += listed
        intended.update({name: means(name) for name in universe + [f"d.{name}" for name in universe]})
    return entries, intended


@pytest.mark.parametrize("resolver", ["named", "pdns_recursor", "kresd", "unbound_rpz"])
def test_random_lists_answer_as_intended_on_every_resolver(
    resolver: str, request: pytest.FixtureRequest, tmp_path: Path, meta: ExportMeta,
) -> None:
    """Forty random nests of blocks and exceptions in one zone: every one of 3,200 probes gets from each
    real resolver exactly what the list means, so the one zone answers the same on all four."""
    entries, intended = _random_lists(40, seed=4592)
    start: Callable[[Path], int] = request.getfixturevalue(resolver)
    port = start(_export_zone(entries, tmp_path, meta))
    assert _differences(port, intended) == {}
