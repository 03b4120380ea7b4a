"""``fraudwall probe``, ``permute`` and ``recheck`` as a user runs them, against a real Unbound on loopback.

The Unbound holds its own small world: registered lookalikes of ICBC with
every record type, a catch-all (redirect) zone, a REFUSED zone, and every
other name under .com, .cn and .top does not exist (NXDOMAIN), so permuting a
brand probes thousands of names in seconds and finds exactly those planted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fraudwall.blocklists.store import Store
from tests.crawler.dns_servers import Responder, Unbound, Zones, silent

LOOKALIKES = {"icbc-kefu.com": "198.51.100.10", "lcbc.com.cn": "198.51.100.20"}


def _world() -> Zones:
    zones = Zones()
    zones.local_zones = [("com", "static"), ("cn", "static"), ("top", "static"), ("icbc-kefu.com", "static"),
                         ("lcbc.com.cn", "static"), ("wild-kefu.top", "redirect"), ("refused-kefu.top", "refuse")]
    for name, address in LOOKALIKES.items():
        zones.local_data += [
            f"{name}. 3600 IN A {address}", f"{name}. 3600 IN AAAA 2001:db8::{address.rsplit('.', 1)[-1]}",
            f"{name}. 3600 IN MX 10 mail.{name}.", f'{name}. 3600 IN TXT "v=spf1 -all"',
            f"{name}. 3600 IN NS ns1.bulletproof-dns.net.",
            f"{name}. 3600 IN SOA ns1.bulletproof-dns.net. admin.{name}. 1 3600 600 86400 300",
        ]
    zones.local_data.append("wild-kefu.top. 600 IN A 198.51.100.50")  # a redirect zone: every name below answers
    return zones


@pytest.fixture
def world(unbound_factory: Callable[[Zones], Unbound]) -> Unbound:
    """The Unbound of this module's world, on a free loopback port."""
    return unbound_factory(_world())


def _fraudwall(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fraudwall.cli", *args], capture_output=True, text=True,
                          timeout=240, env={**os.environ, **(env or {})})


def _lines(result: subprocess.CompletedProcess[str]) -> tuple[list[dict[str, object]], dict[str, object]]:
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return lines[:-1], lines[-1]["summary"]  # type: ignore[return-value]


def test_probe_prints_every_record_type_and_judges_what_exists(world: Unbound, tmp_path: Path) -> None:
    """Each name gets an outcome per record type and its records with TTLs; a wildcard answer is marked; a name
    that is no name is a counted rejection; the lookalike is judged, the missing name is not."""
    names = tmp_path / "names.txt"
    names.write_text("icbc-kefu.com\nno-such-kefu.top\nrandom123.wild-kefu.top\nrefused-kefu.top\nbad..name\n")
    result = _fraudwall("probe", str(names), "--nameserver", f"127.0.0.1:{world.port}", "--json")
    assert result.returncode == 0, result.stderr
    records, summary = _lines(result)
    by_name = {record["name"]: record for record in records}
    icbc = by_name["icbc-kefu.com"]
    assert icbc["rcode"] == "NOERROR" and icbc["outcomes"] == {
        "A": "NOERROR", "AAAA": "NOERROR", "CNAME": "NODATA", "NS": "NOERROR", "MX": "NOERROR", "TXT": "NOERROR",
        "SOA": "NOERROR"}
    assert {"type": "A", "value": "198.51.100.10", "ttl": 3600} in icbc["records"]
    assert icbc["verdict"] in ("malicious", "suspicious"), icbc
    assert by_name["no-such-kefu.top"]["rcode"] == "NXDOMAIN" and by_name["no-such-kefu.top"]["verdict"] is None
    assert by_name["refused-kefu.top"]["rcode"] == "REFUSED"
    wild = by_name["random123.wild-kefu.top"]
    assert wild["wildcard"] is True and "wildcard" in wild["signs"] and wild["wildcard_zone"] == "wild-kefu.top"
    assert summary["rejected"] == 1 and "rejected (" in result.stderr


def test_permute_registered_finds_the_planted_lookalikes_and_hands_them_to_the_crawler(
    world: Unbound, tmp_path: Path
) -> None:
    """Thousands of candidates are probed; only the registered ones are printed, recorded with their verdicts,
    added as crawl targets and written as a seed file; the names' lifecycle starts."""
    db, seeds = tmp_path / "f.db", tmp_path / "registered.txt"
    result = _fraudwall("permute", "icbc.com.cn", "--fuzzer", "homoglyph", "--fuzzer", "replacement",
                        "--fuzzer", "fraud-word", "--registered", "--nameserver", f"127.0.0.1:{world.port}",
                        "--db", str(db), "--out", str(seeds), "--json")
    assert result.returncode == 0, result.stderr
    records, summary = _lines(result)
    assert sorted(record["name"] for record in records) == sorted(LOOKALIKES)
    assert summary["registered"] == 2 and summary["candidates"] > 1000
    assert sorted(seeds.read_text().split()) == sorted(LOOKALIKES)
    with Store.open(db) as store:
        targets = {row["url"]: row["source"] for row in store.db.query("SELECT url, source FROM targets")}
        assert targets == {f"http://{name}/": "permute:icbc.com.cn" for name in LOOKALIKES}
        states = {row["name"]: row for row in store.db.query("SELECT * FROM names")}
        assert set(states) == set(LOOKALIKES), "only registered candidates are followed"
        assert states["lcbc.com.cn"]["first_live"] and states["lcbc.com.cn"]["addresses"] == "198.51.100.20 2001:db8::20"
        assert store.db.execute("SELECT status FROM verdicts WHERE subject = 'icbc-kefu.com'").fetchone()


def test_recheck_probes_due_names_and_records_gone(unbound_factory: Callable[[Zones], Unbound],
                                                   tmp_path: Path) -> None:
    """recheck probes the stored names that are due: a name live before and NXDOMAIN now is recorded gone."""
    db = tmp_path / "f.db"
    first = unbound_factory(_world())
    due_at_once = {"FRAUDWALL_RECHECK_HOURS": "0"}  # each probe makes its name due again at once
    assert _fraudwall("probe", "icbc-kefu.com", "lcbc.com.cn", "--db", str(db),
                      "--nameserver", f"127.0.0.1:{first.port}", "--json", env=due_at_once).returncode == 0
    later = _world()
    later.local_zones.remove(("lcbc.com.cn", "static"))
    later.local_data = [line for line in later.local_data if not line.startswith("lcbc.com.cn.")]
    second = unbound_factory(later)  # the next day: lcbc.com.cn has been taken down
    result = _fraudwall("recheck", "--db", str(db), "--nameserver", f"127.0.0.1:{second.port}", "--json",
                        env=due_at_once)
    assert result.returncode == 0, result.stderr
    _, summary = _lines(result)
    assert summary["due"] == 2 and summary["gone"] == 1 and summary["live"] == 1
    with Store.open(db) as store:
        gone = store.db.execute("SELECT gone, first_live FROM names WHERE name = 'lcbc.com.cn'").fetchone()
        assert gone[0] and gone[1]


def test_a_silent_resolver_ends_in_timeouts_not_a_hang(responders: Callable[..., Responder]) -> None:
    """A resolver that never answers gives TIMEOUT outcomes within the retry budget."""
    black_hole = responders(silent)
    result = _fraudwall("probe", "icbc-kefu.com", "lcbc.com.cn", "--nameserver", black_hole.address, "--json",
                        env={"FRAUDWALL_DNS_TIMEOUT": "0.3", "FRAUDWALL_DNS_RETRIES": "1"})
    assert result.returncode == 0, result.stderr
    records, summary = _lines(result)
    assert {record["rcode"] for record in records} == {"TIMEOUT"} and summary["TIMEOUT"] == 2
