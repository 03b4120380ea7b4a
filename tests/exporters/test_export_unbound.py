"""Unbound specifics: the real ``unbound-checkconf``, and a real Unbound answering on loopback.

Two unbound processes run on free 127.0.0.1 ports. The "upstream" one answers
every A query with 192.0.2.1 from a ``redirect`` local zone for ``.`` and
recurses nowhere; the one under test loads the exported file (``include:`` or
an ``rpz:`` clause) and forwards only to it, sending from 127.0.0.1 with IPv6
off, so nothing leaves the machine. A name the list leaves alone comes back as
192.0.2.1, a blocked one as NXDOMAIN (or 0.0.0.0 where the format says so).
Both RPZ formats are loaded: the generic ``rpz`` zone and ``unbound-rpz``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import dns.exception
import dns.rcode
import pytest

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters import ExportMeta, export, get_exporter
from fraudwall.exporters.rpz import verify_rpz
from fraudwall.exporters.unbound import BLOCKING_TYPES, verify_unbound
from fraudwall.models import Action, BlockEntry, Scope
from tests.exporters.test_export_contract import CONSUMERS
from tests.exporters.test_export_dnsmasq import ENTRIES, INTENDED, UPSTREAM_ANSWER, _addresses, _query
from tests.exporters.test_export_rpz import NESTED_ENTRIES, NESTED_INTENDED

RPZ_FORMATS = ["rpz", "unbound-rpz"]

# Where Unbound's RPZ lookup parts from BIND's: a trigger below a blocked subtree
# used to open a hole for its siblings and children.
DEEP_ENTRIES = [
    BlockEntry("deep.example.com", scope=Scope.SUBTREE),
    BlockEntry("a.b.deep.example.com", action=Action.ALLOW),
]
DEEP_INTENDED = {
    "deep.example.com": True,
    "b.deep.example.com": True,
    "c.b.deep.example.com": True,
    "a.b.deep.example.com": False,
    "x.a.b.deep.example.com": True,
}
# The local-zone format's documented limits: an exact exception's transparent
# zone covers its subtree, and exact blocks are answered 0.0.0.0 / ::.
LOCAL_ZONE_WIDENED_ALLOWS = {
    "x.ok.tree.example.com": False, "x.both.example.com": False, "x.a.b.deep.example.com": False,
}
NULL_ANSWERED = {"exact.example.com", "_task.example.com", "bad.free.tree.example.com"}

@pytest.fixture
def resolver(unbound: Callable[[str], int], upstream: int) -> Callable[[str, str], int]:
    """A starter for an Unbound with that module-config and clauses, forwarding to the upstream."""

    def start(modules: str, clauses: str) -> int:
        return unbound(
            f'    module-config: "{modules}"\n'
            "    do-not-query-localhost: no\n"
            f'forward-zone:\n    name: "."\n    forward-addr: 127.0.0.1@{upstream}\n'
            + clauses
        )

    return start


def _outcome(port: int, name: str) -> tuple[str, list[str]]:
    """The rcode and A addresses Unbound on ``port`` answers for ``name``."""
    response = _query(port, name)
    return dns.rcode.to_text(response.rcode()), _addresses(response)


@pytest.mark.parametrize("command", ["unbound", "unbound-checkconf"])
def test_unbound_is_installed(command: str) -> None:
    """The real server and checker must be there: ``make test`` installs them, so a miss is a failure."""
    assert shutil.which(command), f"{command} missing: `make test` installs it (Debian package unbound)"


@pytest.mark.parametrize("exact", ["precise", "skip", "widen"])
@pytest.mark.parametrize("zone_type", BLOCKING_TYPES)
def test_checkconf_accepts_every_type_and_exact_mode(
    zone_type: str, exact: str, tmp_path: Path, meta: ExportMeta, sample_entries: list[BlockEntry]
) -> None:
    """``unbound-checkconf`` accepts the include for each allowed zone type and exact mode."""
    path = tmp_path / "fraud.conf"
    result = export(sample_entries + ENTRIES, "unbound", path, title="t", verify=True,
                    generated_at=meta.generated_at, type=zone_type, exact=exact)
    assert result.verified


@pytest.mark.parametrize("zone", ["fraudwall.rpz", "rpz.isp.example.net"])
def test_checkconf_and_bind_accept_the_rpz(
    zone: str, tmp_path: Path, meta: ExportMeta, sample_entries: list[BlockEntry]
) -> None:
    """``unbound-checkconf`` loads the zone through an ``rpz:`` clause; BIND loads it too."""
    path = tmp_path / "fraud.rpz"
    result = export(sample_entries + ENTRIES + DEEP_ENTRIES, "unbound-rpz", path, title="t", verify=True,
                    generated_at=meta.generated_at, zone=zone)
    assert result.verified
    verify_rpz(path, zone)


def test_checkconf_failure_carries_its_output(tmp_path: Path) -> None:
    """A file Unbound refuses raises VerificationError with unbound-checkconf's reason."""
    path = tmp_path / "broken.conf"
    path.write_text('server:\nlocal-zone: "x.example.com." blocked\n')
    with pytest.raises(VerificationError, match="local-zone type"):
        verify_unbound(path, lambda included: f'include: "{included}"\n')


def test_checkconf_warning_is_a_failure(tmp_path: Path) -> None:
    """unbound-checkconf only warns about a duplicate local-zone and exits 0; the check still fails."""
    path = tmp_path / "duplicate.conf"
    path.write_text('server:\nlocal-zone: "x.example.com." always_nxdomain\nlocal-zone: "x.example.com." transparent\n')
    with pytest.raises(VerificationError, match="duplicate local-zone"):
        verify_unbound(path, lambda included: f'include: "{included}"\n')


def test_bad_options_are_export_errors(meta: ExportMeta) -> None:
    """Zone types that would not block (transparent, redirect ...) and unknown exact modes are refused."""
    for options in ({"type": "transparent"}, {"type": "redirect"}, {"type": "inform"}, {"exact": "null"}):
        with pytest.raises(ExportError, match="unbound"):
            get_exporter("unbound").render([], ExportMeta("t", meta.generated_at, options))


@pytest.mark.parametrize("format_name", RPZ_FORMATS)
def test_rpz_means_the_same_to_bind_and_unbound(format_name: str, meta: ExportMeta) -> None:
    """Read by BIND's closest-wildcard model and by Unbound's one-wildcard model, the zone gives
    every probe the intended policy."""
    text = get_exporter(format_name).render(ENTRIES + DEEP_ENTRIES + NESTED_ENTRIES, meta)
    unbound_model, bind_model = CONSUMERS["unbound-rpz"](text), CONSUMERS["rpz"](text)
    for name, blocked in {**INTENDED, **DEEP_INTENDED, **NESTED_INTENDED}.items():
        assert unbound_model(name) is blocked and bind_model(name) is blocked, name


def test_unbound_rpz_is_the_rpz_zone(meta: ExportMeta, sample_entries: list[BlockEntry]) -> None:
    """``unbound-rpz`` writes the ``rpz`` zone record for record: only the header's format line differs."""
    entries = sample_entries + ENTRIES + DEEP_ENTRIES + NESTED_ENTRIES
    generic = get_exporter("rpz").render(entries, meta).splitlines()
    unbound = get_exporter("unbound-rpz").render(entries, meta).splitlines()
    assert len(generic) == len(unbound)
    differing = [(mine, theirs) for mine, theirs in zip(generic, unbound) if mine != theirs]
    assert len(differing) == 1
    assert differing[0][0].startswith("; format: rpz - ") and differing[0][1].startswith("; format: unbound-rpz - ")


@pytest.mark.parametrize("zone_type", ["always_nxdomain", "always_null"])
def test_real_unbound_loads_the_include(
    zone_type: str, resolver: Callable[[str, str], int], tmp_path: Path, meta: ExportMeta
) -> None:
    """Included after another clause, the file blocks, passes and nulls each probe as its header says,
    and the contract test's model of Unbound local zones agrees with the running server."""
    path = tmp_path / "fraud.conf"
    export(ENTRIES + DEEP_ENTRIES, "unbound", path, title="t", verify=True, generated_at=meta.generated_at,
           type=zone_type)
    port = resolver("iterator", f'include: "{path}"\n')
    model = CONSUMERS["unbound"](path.read_text())
    expected = {**INTENDED, **DEEP_INTENDED, **LOCAL_ZONE_WIDENED_ALLOWS}
    for name, blocked in expected.items():
        outcome = _outcome(port, name)
        if not blocked:
            assert outcome == ("NOERROR", [UPSTREAM_ANSWER]), name
        elif name in NULL_ANSWERED or zone_type == "always_null":
            assert outcome == ("NOERROR", ["0.0.0.0"]), name
        else:
            assert outcome == ("NXDOMAIN", []), name
        assert model(name) is blocked, name


@pytest.mark.parametrize("format_name", RPZ_FORMATS)
def test_real_unbound_loads_the_rpz(
    format_name: str, resolver: Callable[[str, str], int], tmp_path: Path, meta: ExportMeta
) -> None:
    """Through an ``rpz:`` clause every probe gets exactly the intended policy (NXDOMAIN or the upstream's
    answer), including the cases Unbound's own lookup used to get wrong, and the model agrees."""
    path = tmp_path / "fraud.rpz"
    export(ENTRIES + DEEP_ENTRIES, format_name, path, title="t", verify=True, generated_at=meta.generated_at)
    port = resolver("respip iterator", f'rpz:\n    name: "fraudwall.rpz."\n    zonefile: "{path}"\n')
    model = CONSUMERS["unbound-rpz"](path.read_text())
    for name, blocked in {**INTENDED, **DEEP_INTENDED}.items():
        assert _outcome(port, name) == (("NXDOMAIN", []) if blocked else ("NOERROR", [UPSTREAM_ANSWER])), name
        assert model(name) is blocked, name


def test_real_unbound_answers_nested_names_from_the_generic_rpz(
    resolver: Callable[[str, str], int], tmp_path: Path, meta: ExportMeta
) -> None:
    """The generic ``rpz`` zone, checked by named-checkzone and loaded as is by a real Unbound, blocks
    every name below the blocked subtree ``x.tree`` (``a.b.x.tree``, ``y.ok.x.tree`` below the exact
    exception), passes ``ok.x.tree`` itself and the allowed subtree ``free.x.tree``, and still blocks
    the exact ``bad.free.x.tree`` inside it without blocking the names below that."""
    path = tmp_path / "fraud.rpz"
    result = export(NESTED_ENTRIES, "rpz", path, title="t", verify=True, generated_at=meta.generated_at)
    assert result.verified  # named-checkzone accepted it
    port = resolver("respip iterator", f'rpz:\n    name: "fraudwall.rpz."\n    zonefile: "{path}"\n')
    for name, blocked in NESTED_INTENDED.items():
        assert _outcome(port, name) == (("NXDOMAIN", []) if blocked else ("NOERROR", [UPSTREAM_ANSWER])), name
