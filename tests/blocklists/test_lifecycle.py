"""Name lifecycle: first seen, first live, last live, gone; when names are due; pivots of blocked names."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fraudwall.blocklists.lifecycle import Lifecycle, dns_pivots
from fraudwall.blocklists.store import Store
from fraudwall.models import DnsObservation, DnsRecord, Finding, Judgement, SubjectKind, Verdict, VerdictStatus
from fraudwall.names import parse_url
from fraudwall.settings import Settings

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def _live(name: str, *addresses: str, ns: tuple[str, ...] = ()) -> DnsObservation:
    records = tuple(DnsRecord("A", address, 300) for address in addresses) + tuple(DnsRecord("NS", n, 3600) for n in ns)
    return DnsObservation(name, "NOERROR", records, outcomes=(("A", "NOERROR"),))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "f.db") as opened:
        yield opened


def test_dates_move_with_each_probe(store: Store) -> None:
    """Live sets first and last live; NXDOMAIN after live is gone; a failure moves no date; coming back clears gone."""
    life = Lifecycle(store, Settings())
    assert life.record([_live("kefu.top", "203.0.113.5")], T0) == {"first live": 1}
    assert life.record([DnsObservation("kefu.top", "SERVFAIL")], T0 + timedelta(hours=1)) == {"failed": 1}
    state = life.state("kefu.top")
    assert state is not None and state.first_live == state.last_live == "2026-12-01T08:00:00+00:00"
    assert state.last_outcome == "SERVFAIL" and state.next_probe == "2026-12-01T10:00:00+00:00"
    assert life.record([DnsObservation("kefu.top", "NXDOMAIN")], T0 + timedelta(days=1)) == {"gone": 1}
    assert life.state("kefu.top").gone == "2026-12-02T08:00:00+00:00"  # type: ignore[union-attr]
    assert life.record([DnsObservation("kefu.top", "NXDOMAIN")], T0 + timedelta(days=2)) == {"still gone": 1}
    assert life.record([_live("kefu.top", "203.0.113.6")], T0 + timedelta(days=9)) == {"back": 1}
    state = life.state("kefu.top")
    assert state is not None and state.gone == "" and state.first_live.startswith("2026-12-01")
    assert state.addresses == "203.0.113.6"


def test_wildcard_answers_and_unknown_names_are_not_live(store: Store) -> None:
    """A name answered only by a parent's wildcard, or never found, never gets a live date."""
    life = Lifecycle(store, Settings())
    wild = DnsObservation("x.wild.top", "NOERROR", (DnsRecord("A", "203.0.113.9", 60),), wildcard=True)
    assert life.record([wild, DnsObservation("never.top", "NXDOMAIN")], T0) == {"wildcard only": 1, "never live": 1}
    assert life.state("x.wild.top").first_live == ""  # type: ignore[union-attr]
    assert life.state("never.top").gone == ""  # type: ignore[union-attr]


def test_due_names_follow_the_intervals(store: Store) -> None:
    """Tracked names are due at once; after a probe, live names come back after RECHECK_HOURS, gone after longer."""
    life = Lifecycle(store, Settings({"RECHECK_HOURS": 24, "RECHECK_GONE_HOURS": 168}))
    assert life.track(["a.top", "b.top", "a.top"], "test", T0) == 2
    assert life.due(T0) == ["a.top", "b.top"]
    life.record([_live("a.top", "203.0.113.1"), DnsObservation("b.top", "NXDOMAIN")], T0)
    assert life.due(T0 + timedelta(hours=23)) == []
    assert life.due(T0 + timedelta(hours=24)) == ["a.top"]
    assert life.due(T0 + timedelta(days=7), limit=1) == ["a.top"]
    assert life.due(T0 + timedelta(days=7)) == ["a.top", "b.top"]


def test_verdicts_on_hosts_are_tracked(store: Store) -> None:
    """recheck follows every host judged malicious or suspicious, not the benign ones."""
    bad = Verdict("icbc-kefu.top", 0.9, VerdictStatus.MALICIOUS, ("brand_impersonation",), (), SubjectKind.HOST)
    fine = Verdict("example.org", 0.0, VerdictStatus.BENIGN, (), (), SubjectKind.HOST)
    store.record([Judgement(parse_url("http://icbc-kefu.top/"), (), bad, "icbc-kefu.top", ()),
                  Judgement(parse_url("http://example.org/"), (), fine, "example.org", ())])
    life = Lifecycle(store, Settings())
    assert life.track_verdicts(T0) == 1
    assert life.due(T0) == ["icbc-kefu.top"]


def test_pivots_are_public_addresses_and_name_servers_of_malicious_names(store: Store) -> None:
    """Pivots map a blocked name's public addresses and name servers to it; loopback links nothing."""
    finding = Finding("icbc-kefu.top", "test", "1", "brand_impersonation", 0.95, "test")
    observation = _live("icbc-kefu.top", "45.76.12.34", "127.0.0.1", ns=("ns1.bad-dns.top",))
    verdict = Verdict("icbc-kefu.top", 0.95, VerdictStatus.MALICIOUS, ("brand_impersonation",), (finding,),
                      SubjectKind.HOST)
    store.record([Judgement(observation, (finding,), verdict, "icbc-kefu.top", ())])
    Lifecycle(store, Settings()).record([observation], T0)
    pivots = dns_pivots(store)
    assert pivots.addresses == {"45.76.12.34": ("icbc-kefu.top",)}
    assert pivots.nameservers == {"ns1.bad-dns.top": ("icbc-kefu.top",)}

