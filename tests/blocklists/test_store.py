"""The SQLite store: schema migrations, atomic writes, every kind of observation recorded and read back."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlite_utils import Database

from fraudwall import hookimpl
from fraudwall.blocklists.guards import PublishGuard
from fraudwall.blocklists.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from fraudwall.blocklists.scoring import score_findings
from fraudwall.blocklists.selection import select_entries
from fraudwall.blocklists.store import Store
from fraudwall.exceptions import SchemaError, StoreError
from fraudwall.judging import judge
from fraudwall.models import (
    ApkCertificate, ApkComponent, ApkObservation, DnsObservation, DnsRecord, Finding, IntentFilter, Judgement,
    PageObservation, SubjectKind, Target, VerdictStatus,
)
from fraudwall.names import parse_url
from fraudwall.pages import parse_page
from fraudwall.plugin_host import PluginHost
from fraudwall.settings import Settings

BODY = '<html><head><meta charset="gbk"><title>解冻费</title></head><body>无抵押 秒到账</body></html>'.encode("gbk")


def _finding(subject: str, version: str = "1", score: float = 0.9, category: str = "loan") -> Finding:
    return Finding(subject, "lexicon", version, category, score, "loan script", ("无抵押 秒到账",), (("qq", "123456"),))


def _judged(page: PageObservation, findings: list[Finding], observation_id: int | None = None,
            plugins: tuple[tuple[str, str], ...] = (("lexicon", "1"),)) -> Judgement:
    """A page judged by hand: its findings and the verdict they add up to."""
    verdict = score_findings(page.final_url, findings, Settings())
    return Judgement(page, tuple(findings), verdict, parse_url(page.final_url).host, plugins, observation_id)


class _Detector:
    """A plugin with a finding per hook, at a version the test chooses."""

    name = "detector"

    def __init__(self, version: str = "1") -> None:
        self.version = version

    @hookimpl
    def analyze_url(self, url):  # type: ignore[no-untyped-def]
        return [Finding(url.host, self.name, self.version, "suspicious_url", 0.4, "name")]

    @hookimpl
    def analyze_page(self, page):  # type: ignore[no-untyped-def]
        return [Finding(page.final_url, self.name, self.version, "loan", 0.9, "page")]

    @hookimpl
    def analyze_dns(self, dns):  # type: ignore[no-untyped-def]
        return [Finding(dns.name, self.name, self.version, "suspicious_url", 0.95, "fast flux")]

    @hookimpl
    def analyze_apk(self, apk):  # type: ignore[no-untyped-def]
        return [Finding(apk.sha256, self.name, self.version, "fake_app", 0.97, "apk", subject_kind=SubjectKind.APK),
                Finding("TXyz1111", self.name, self.version, "diversion", 0.9, "wallet", subject_kind=SubjectKind.WALLET)]


def _host(*plugins: object) -> PluginHost:
    host = PluginHost(Settings())
    for plugin in plugins:
        host.register(plugin, origin="test")
    return host


def test_new_database_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    """Opening creates every table at the current schema version, journaled with WAL, foreign keys enforced."""
    with Store.open(tmp_path / "db" / "f.db") as store:
        assert store.schema_version == SCHEMA_VERSION == 5
        assert {"targets", "observations", "bodies", "findings", "verdicts", "analysis_runs", "names",
                "verdict_categories"} <= set(store.db.table_names())
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database written by a newer fraudwall is refused rather than damaged."""
    path = tmp_path / "f.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaError, match="understands up to"):
        Store.open(path)


def test_page_round_trip_and_finding_keys(tmp_path: Path) -> None:
    """A recorded page comes back with its text; findings are keyed by detector version; bodies are stored once."""
    page = parse_page("http://loan.xyz/", BODY)
    with Store.open(tmp_path / "f.db") as store:
        store.record_targets([Target("http://loan.xyz/")])
        [observation_id] = store.record([_judged(page, [_finding(page.final_url)])])
        # Same detector, new version: stored beside the old result; same version: replaced.
        again = _judged(page, [_finding(page.final_url, "2"), _finding(page.final_url, "1", 0.8)], observation_id)
        assert store.record([again]) == [observation_id]
        rows = list(store.db.query("SELECT detector_version, score, subject_kind FROM findings ORDER BY 1"))
        assert rows == [{"detector_version": "1", "score": 0.8, "subject_kind": "url"},
                        {"detector_version": "2", "score": 0.9, "subject_kind": "url"}]
        [stored] = store.pending({}, rerun={"lexicon"})
        assert stored.observation_id == observation_id and stored.plugins == {"lexicon"}
        assert isinstance(stored.observation, PageObservation)
        assert stored.observation.title == "解冻费" and "秒到账" in stored.observation.text
        assert stored.observation.content_hash == page.content_hash
        assert next(store.verdicts(["malicious"]))["host"] == "loan.xyz"
        # A batch of new and stored observations: each keeps its place; identical bodies are stored once.
        other = parse_page("http://loan.xyz/b", BODY)
        assert store.record([_judged(other, []), _judged(page, [], observation_id)]) == [
            observation_id + 1, observation_id]
        assert store.counts()["bodies"] == 1 and store.counts()["observations"] == 2


def test_every_kind_of_observation_is_recorded_and_read_back(tmp_path: Path) -> None:
    """A URL, a DNS answer and an APK are stored as their JSON payload with their kind, and come back equal;
    findings and verdicts keep the kind of their subject (an APK's hash, a wallet); their categories are listed."""
    when = datetime(2026, 11, 3, 8, 30, tzinfo=timezone.utc)
    apk = ApkObservation(
        "ab" * 32, 123_456, package="com.fake.bank", labels=(("", "国家反诈中心"),), version_code=7,
        permissions=(("android.permission.READ_SMS", "dangerous"),),
        components=(ApkComponent("receiver", ".Sms", True, intent_filters=(
            IntentFilter(("android.provider.Telephony.SMS_RECEIVED",), data=("sms:",), priority=999),)),),
        certificates=(ApkCertificate("cd" * 32, subject="CN=Android Debug", not_before=when, debug=True,
                                     schemes=(("v1", True), ("v2", False))),),
        wallets=(("trc20", "TXyz1111"),), download_url="https://app-xiazai.top/a.apk", observed_at=when)
    observations = [parse_url("https://Kefu-Refund.top/pay?x=1"),
                    DnsObservation("flux.top", "NOERROR", (DnsRecord("A", "203.0.113.9", 30),), True, "unbound", when),
                    apk]
    host = _host(_Detector())
    with Store.open(tmp_path / "f.db") as store:
        ids = store.record([judge(host, observation) for observation in observations])
        kinds = [row[0] for row in store.db.execute("SELECT kind FROM observations ORDER BY id")]
        assert kinds == ["url", "dns", "apk"]
        stored = list(store.pending({"detector": "2"}))
        assert [s.observation_id for s in stored] == ids and [s.observation for s in stored] == observations
        assert all(s.plugins == {"detector"} for s in stored)
        verdicts = {row["subject"]: row["subject_kind"] for row in store.verdicts()}
        # The wallet the APK carries is judged on its own finding, as a verdict beside the APK's.
        assert verdicts == {"kefu-refund.top": "host", "flux.top": "host", "ab" * 32: "apk", "TXyz1111": "wallet"}
        contexts = {row["subject"]: json.loads(row["context"]) for row in store.verdicts()}
        assert contexts["ab" * 32] == [["package", "com.fake.bank"], ["label", "国家反诈中心"], ["certificate", "cd" * 32],
                                       ["download_url", "https://app-xiazai.top/a.apk"],
                                       ["download_host", "app-xiazai.top"]]
        assert contexts["TXyz1111"] == [["seen_in", "ab" * 32]] and contexts["flux.top"] == []
        found = {(f.subject, f.subject_kind) for f in store.current_findings(["ab" * 32, "TXyz1111", "flux.top"])}
        assert found == {("ab" * 32, SubjectKind.APK), ("TXyz1111", SubjectKind.WALLET), ("flux.top", SubjectKind.HOST)}
        assert store.observation_count(since=when) == 3 and store.observation_count(since=when + timedelta(1)) == 1
        assert store.finding_categories() == {"suspicious_url", "fake_app", "diversion"}


def test_verdict_categories_follow_the_verdict(tmp_path: Path) -> None:
    """The categories table holds what each verdict names now: a re-judged verdict's old categories go."""
    page = parse_page("http://loan.xyz/", BODY)
    with Store.open(tmp_path / "f.db") as store:
        [observation_id] = store.record([_judged(page, [_finding(page.final_url), _finding(
            page.final_url, category="investment", score=0.6)])])
        categories = "SELECT category FROM verdict_categories ORDER BY category"
        assert [row[0] for row in store.db.execute(categories)] == ["investment", "loan"]
        # Judged twice in one batch: the later verdict stands, as if recorded one after the other.
        store.record([_judged(page, [_finding(page.final_url, category="fake_app")], observation_id),
                      _judged(page, [_finding(page.final_url, category="task_rebate")], observation_id)])
        assert [row[0] for row in store.db.execute(categories)] == ["task_rebate"]
        assert json.loads(next(store.verdicts())["categories"]) == ["task_rebate"]


def test_findings_and_runs_must_name_a_stored_observation(tmp_path: Path) -> None:
    """Foreign keys hold: a judgement naming an observation that is not stored is refused whole."""
    page = parse_page("http://loan.xyz/", BODY)
    with Store.open(tmp_path / "f.db") as store:
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            store.record([_judged(page, [_finding(page.final_url)]), _judged(page, [_finding(page.final_url)], 99)])
        assert store.counts()["observations"] == store.counts()["findings"] == 0
        keys = {table: {(fk.column, fk.other_table) for fk in store.db[table].foreign_keys}
                for table in ("findings", "analysis_runs", "observations", "verdict_categories")}
        assert keys == {"findings": {("observation_id", "observations")},
                        "analysis_runs": {("observation_id", "observations")},
                        "observations": {("content_hash", "bodies")},
                        "verdict_categories": {("subject", "verdicts")}}


def test_pending_compares_versions_and_reruns(tmp_path: Path) -> None:
    """Pending: the observations a plugin never ran on, or ran on at an older version (0.9 before 0.10, as
    versions) or at the same release with other rules (1.0+digest); a newer stored release is not pending;
    --rerun takes every observation for those plugins only; since keeps the recent ones."""
    old = datetime.now(timezone.utc) - timedelta(days=30)
    pages = [parse_page(f"http://p{n}.top/", b"<p>x</p>", fetched_at=old if n == 0 else None) for n in range(3)]
    with Store.open(tmp_path / "f.db") as store:
        ids = store.record([
            _judged(pages[0], [], plugins=(("lexicon", "0.9"), ("brand", "2.0"))),
            _judged(pages[1], [], plugins=(("lexicon", "0.10"), ("brand", "2.0"))),
            _judged(pages[2], [], plugins=(("lexicon", "0.11"),)),
        ])
        pending = lambda *args, **kwargs: [(s.observation_id, set(s.plugins))  # noqa: E731
                                           for s in store.pending(*args, **kwargs)]
        assert pending({"lexicon": "0.10", "brand": "2.0"}) == [(ids[0], {"lexicon"}), (ids[2], {"brand"})]
        assert pending({"lexicon": "0.10", "brand": "2.0.0"}) == [(ids[0], {"lexicon"}), (ids[2], {"brand"})]
        assert pending({"lexicon": "0.9", "brand": "2.0"}) == [(ids[2], {"brand"})]
        assert pending({"lexicon": "0.11"}) == [(ids[0], {"lexicon"}), (ids[1], {"lexicon"})]
        assert pending({"lexicon": "rules-2024-10"}) == [(i, {"lexicon"}) for i in ids]  # not PEP 440: any other
        # The same release with other rules (the digest after "+") re-runs; so does the first digest.
        assert pending({"lexicon": "0.10+3f2a", "brand": "2.0"}) == [
            (ids[0], {"lexicon"}), (ids[1], {"lexicon"}), (ids[2], {"brand"})]
        assert pending({"lexicon": "0.9"}, rerun={"brand"}) == [(i, {"brand"}) for i in ids]
        assert pending({"lexicon": "0.10", "brand": "2.0"}, since=old + timedelta(days=1)) == [(ids[2], {"brand"})]
        assert pending({"lexicon": "0.9", "brand": "2.0", "new": "1"}) == [
            (ids[0], {"new"}), (ids[1], {"new"}), (ids[2], {"brand", "new"})]


def test_reanalysis_may_record_while_pending_streams(tmp_path: Path) -> None:
    """The pending set is found before the first observation comes, so recording each judgement as it is made
    (the plugin's runs change under the query) neither skips nor repeats an observation."""
    host = _host(_Detector("1"))
    with Store.open(tmp_path / "f.db") as store:
        store.record([judge(host, parse_page(f"http://p{n}.top/", b"<p>x</p>")) for n in range(50)])
        upgraded = _host(_Detector("2"))
        seen = []
        for stored in store.pending(upgraded.versions()):
            seen.append(stored.observation_id)
            store.record([judge(upgraded, stored.observation, only=set(stored.plugins),
                                observation_id=stored.observation_id)])
        assert seen == list(range(1, 51))
        assert list(store.pending(upgraded.versions())) == []


def test_killed_writer_leaves_database_consistent(tmp_path: Path) -> None:
    """A process killed in the middle of writing leaves only whole transactions behind."""
    path = tmp_path / "f.db"
    script = f"""
import os
from fraudwall.blocklists.store import Store
from fraudwall.blocklists.scoring import score_findings
from fraudwall.models import Finding, Judgement
from fraudwall.pages import parse_page
from fraudwall.settings import Settings
store = Store.open({str(path)!r})
for i in range(200):
    page = parse_page(f"http://s{{i}}.top/", f"<p>page {{i}}</p>".encode())
    f = Finding(page.final_url, "d", "1", "loan", 0.9, "r")
    store.record([Judgement(page, (f,), score_findings(page.final_url, [f], Settings()), f"s{{i}}.top", (("d", "1"),))])
    if i == 120:
        with store.db.atomic():  # die while a transaction is open
            store.db.execute("INSERT INTO targets (url) VALUES ('half-written')")
            os._exit(9)
"""
    result = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert result.returncode == 9
    with Store.open(path) as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = store.counts()
        assert counts["observations"] == counts["verdicts"] == counts["findings"] == 121
        assert store.db["targets"].count == 0  # the open transaction was rolled back


def _old_database(path: Path, version: int) -> None:
    """A database at schema ``version`` (1, 2 or 3) made by the released migrations, holding the rows the
    fraudwall of that version wrote: a page and its body, findings on its URL, its host and an address
    (one naming an observation that is gone), a verdict, a target, and at v2 plugin runs."""
    db = Database(str(path))
    for migration in MIGRATIONS[:version]:
        migration(db)
    db.execute(f"PRAGMA user_version = {version}")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    import zlib
    html = "<title>解冻费</title><p>无抵押 秒到账</p>"
    db["bodies"].insert({"content_hash": "h1", "encoding": "gbk", "size": len(html.encode()),
                         "compressed": zlib.compress(html.encode())})
    db["observations"].insert({
        "id": 1, "kind": "page", "url": "http://loan.xyz/", "final_url": "http://loan.xyz/", "host": "loan.xyz",
        "status": 200, "title": "解冻费", "headers": "[]", "redirect_chain": "[]", "content_hash": "h1",
        "fetched_as": "default", "ip": "203.0.113.5", "fetched_at": "2026-10-01T00:00:00+00:00"})
    finding = {"detector": "lexicon", "detector_version": "1", "category": "loan", "score": 0.9, "reason": "r",
               "evidence": '["秒到账"]', "indicators": "[]", "first_seen": "2026-10-01T00:00:00+00:00",
               "last_seen": "2026-10-01T00:00:00+00:00"}
    db["findings"].insert_all([{**finding, "subject": "http://loan.xyz/", "observation_id": 1},
                               {**finding, "subject": "loan.xyz", "observation_id": 1},
                               {**finding, "subject": "203.0.113.5", "observation_id": 7}])
    verdict = {
        "subject": "http://loan.xyz/", "host": "loan.xyz", "score": 0.9, "status": "malicious",
        "categories": '["loan"]', "top_findings": json.dumps([{"detector": "lexicon", "score": 0.9}]),
        "first_seen": "2026-10-01T00:00:00+00:00", "updated_at": "2026-10-02T00:00:00+00:00"}
    if version >= 3:  # the v3 migration fills these from the rows; a v3 fraudwall wrote them itself
        verdict.update(subject_kind="url", host_key="xyz loan", detectors='["lexicon"]', addresses="203.0.113.5")
    db["verdicts"].insert(verdict)
    if version >= 3:
        db["verdict_categories"].insert({"subject": "http://loan.xyz/", "category": "loan"})
        db["findings"].update(("203.0.113.5", "lexicon", "1", "loan"), {"subject_kind": "ip", "observation_id": None})
        db["findings"].update(("http://loan.xyz/", "lexicon", "1", "loan"), {"subject_kind": "url"})
    db["targets"].insert({"url": "http://loan.xyz/", "source": "seed", "depth": 0})
    if version >= 2:
        db["analysis_runs"].insert_all([
            {"observation_id": 1, "detector": "lexicon", "detector_version": "1", "ran_at": "2026-10-01"},
            # A run of an observation that is gone, which v3's foreign keys no longer let in.
            *([{"observation_id": 8, "detector": "lexicon", "detector_version": "1", "ran_at": "2026-10-01"}]
              if version == 2 else [])])
    db.conn.commit()
    db.close()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_older_database_is_migrated_with_its_data(tmp_path: Path, version: int) -> None:
    """A v1, v2 or v3 database with real rows migrates to the current schema in place: every row kept, subject
    kinds read from the subjects, the categories table and host keys filled, foreign keys added, verdicts given an
    empty context; it then selects and re-analyses."""
    path = tmp_path / "old.db"
    _old_database(path, version)
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []
        kinds = {row["subject"]: (row["subject_kind"], row["observation_id"]) for row in store.db["findings"].rows}
        assert kinds == {"http://loan.xyz/": ("url", 1), "loan.xyz": ("host", 1), "203.0.113.5": ("ip", None)}
        [verdict] = store.verdicts()
        assert (verdict["subject_kind"], verdict["host_key"], json.loads(verdict["detectors"])) == (
            "url", "xyz loan", ["lexicon"])
        assert verdict["first_seen"] == "2026-10-01T00:00:00+00:00" and verdict["score"] == 0.9
        assert verdict["context"] == "[]"
        assert [tuple(row) for row in store.db.execute("SELECT * FROM verdict_categories")] == [
            ("http://loan.xyz/", "loan")]
        assert store.db["targets"].count == 1 and store.db["bodies"].count == 1
        runs = [(row["observation_id"], row["detector_version"]) for row in store.db["analysis_runs"].rows]
        assert runs == ([(1, "1")] if version >= 2 else [])  # the run of a missing observation is gone
        [entry] = select_entries(store, PublishGuard.from_files()).entries
        assert (entry.name, entry.addresses, entry.categories, entry.sources) == (
            "loan.xyz", ("203.0.113.5",), ("loan",), ("detector:lexicon",))
        [stored] = store.pending({"lexicon": "2"})
        assert isinstance(stored.observation, PageObservation) and "秒到账" in stored.observation.text


def test_new_database_is_marked_as_fraudwall(tmp_path: Path) -> None:
    """A new store carries SQLite's application_id 'FRWL' and its schema version, for any tool to read."""
    Store.open(tmp_path / "f.db").close()
    connection = sqlite3.connect(tmp_path / "f.db")
    assert connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID == 0x4652574C
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_someone_elses_database_is_refused_untouched(tmp_path: Path) -> None:
    """An unrelated SQLite file, or one another application marked, is refused; not a byte of it changes."""
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE people (name TEXT)")
    connection.commit()
    connection.close()
    marked = tmp_path / "marked.db"
    connection = sqlite3.connect(marked)
    connection.execute("PRAGMA application_id = 1234")
    connection.commit()
    connection.close()
    for path, message in ((other, "holds other tables \\(people\\)"), (marked, "belongs to another application")):
        before = path.read_bytes()
        with pytest.raises(StoreError, match=message):
            Store.open(path)
        assert path.read_bytes() == before
        assert not Path(f"{path}-wal").exists()


@pytest.mark.parametrize("content", [b"\x7fELF\x02\x01\x01" + bytes(4000), b"hello, this is a text file\n" * 200])
def test_file_that_is_not_sqlite_is_refused(tmp_path: Path, content: bytes) -> None:
    """A binary or text file given as the database is a StoreError, left as it was."""
    path = tmp_path / "f.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        Store.open(path)
    assert path.read_bytes() == content


def test_folder_given_as_database_is_refused(tmp_path: Path) -> None:
    """A folder where the database file should be is a StoreError, not an OSError from deep in SQLite."""
    with pytest.raises(StoreError, match="not a database file"):
        Store.open(tmp_path)


def test_database_from_before_marking_is_adopted(tmp_path: Path) -> None:
    """A fraudwall database written before databases were marked (schema 1, no application_id) opens and is marked."""
    path = tmp_path / "old.db"
    db = Database(str(path))
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.conn.commit()
    db.close()
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_verdict_status_values_are_stored_as_text(tmp_path: Path) -> None:
    """Verdict rows stream one at a time (no list of the table) and hold statuses as their plain values."""
    page = parse_page("http://loan.xyz/", BODY)
    with Store.open(tmp_path / "f.db") as store:
        store.record([_judged(page, [_finding(page.final_url)])])
        rows = store.verdicts([VerdictStatus.MALICIOUS.value])
        assert not isinstance(rows, list) and [row["status"] for row in rows] == ["malicious"]


def test_an_apk_is_stored_once_by_its_sha256(tmp_path: Path) -> None:
    """The same APK judged twice in one batch, and again later from another download, keeps one observation row."""
    first = ApkObservation("ef" * 32, 1000, package="com.fake.loan", download_url="https://a.top/x.apk")
    again = replace(first, download_url="https://b.top/y.apk")
    other = ApkObservation("01" * 32, 2000, package="com.other")
    host = _host(_Detector())
    with Store.open(tmp_path / "f.db") as store:
        ids = store.record([judge(host, first), judge(host, other), judge(host, again)])
        assert ids[0] == ids[2] != ids[1]
        assert store.record([judge(host, again)]) == [ids[0]]
        assert store.counts()["observations"] == 2
        assert store.apk_observation_id("ef" * 32) == ids[0] and store.apk_observation_id("ab" * 32) is None


class _Carrier:
    """An APK plugin naming a host the app talks to, with a weak score of its own."""

    name = "carrier"
    version = "1"

    @hookimpl
    def analyze_apk(self, apk):  # type: ignore[no-untyped-def]
        return [Finding("c2.loan-fast.top", self.name, self.version, "loan", 0.45, "an app talks to it",
                        subject_kind=SubjectKind.HOST)]


class _Lookalike:
    """A URL plugin finding the same host malicious on its own."""

    name = "lookalike_test"
    version = "1"

    @hookimpl
    def analyze_url(self, url):  # type: ignore[no-untyped-def]
        return [Finding(url.host, self.name, self.version, "loan", 0.8, "looks like a lender's name")]


def test_a_related_verdict_adds_to_what_the_store_knows(tmp_path: Path) -> None:
    """A host found malicious by a URL judgement stays malicious when an app later names it with a weak finding:
    the related verdict is scored from both findings, not from the app's alone."""
    with Store.open(tmp_path / "f.db") as store:
        store.record([judge(_host(_Lookalike()), parse_url("http://c2.loan-fast.top/"))])
        assert store.verdict_status("c2.loan-fast.top") is VerdictStatus.MALICIOUS
        store.record([judge(_host(_Carrier()), ApkObservation("aa" * 32, 10))], Settings())
        [row] = [row for row in store.verdicts() if row["subject"] == "c2.loan-fast.top"]
        assert row["status"] == "malicious" and row["score"] == pytest.approx(1 - 0.2 * 0.55)
        assert json.loads(row["context"]) == [["seen_in", "aa" * 32]]
