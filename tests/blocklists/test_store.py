"""The SQLite store: schema migrations, atomic writes, round trips of observations."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fraudwall.blocklists.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from fraudwall.blocklists.scoring import score_findings
from fraudwall.blocklists.store import Store
from fraudwall.exceptions import SchemaError, StoreError
from fraudwall.models import Finding, Target
from fraudwall.pages import parse_page
from fraudwall.settings import Settings

BODY = '<html><head><meta charset="gbk"><title>解冻费</title></head><body>无抵押 秒到账</body></html>'.encode("gbk")


def _finding(subject: str, version: str = "1", score: float = 0.9) -> Finding:
    return Finding(subject, "lexicon", version, "loan", score, "loan script", ("无抵押 秒到账",), (("qq", "123456"),))


def test_new_database_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    """Opening creates every table at the current schema version, journaled with WAL."""
    with Store.open(tmp_path / "db" / "f.db") as store:
        assert store.schema_version == SCHEMA_VERSION
        assert {"targets", "observations", "bodies", "findings", "verdicts"} <= set(store.db.table_names())
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database written by a newer fraudwall is refused rather than damaged."""
    path = tmp_path / "f.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaError, match="understands up to"):
        Store.open(path)


def test_page_round_trip_and_finding_keys(tmp_path: Path) -> None:
    """A stored page comes back with its text, and findings are keyed by detector version."""
    page = parse_page("http://loan.xyz/", BODY)
    with Store.open(tmp_path / "f.db") as store:
        store.record_targets([Target("http://loan.xyz/")])
        verdict = score_findings(page.final_url, [_finding(page.final_url)], Settings())
        observation_id = store.save_page(page, "loan.xyz", [_finding(page.final_url)], verdict)
        # Same detector, new version: stored beside the old result; same version: replaced.
        store.save_analysis(observation_id, "loan.xyz", [_finding(page.final_url, "2"), _finding(page.final_url, "1", 0.8)], verdict)
        rows = list(store.db.query("SELECT detector_version, score FROM findings ORDER BY detector_version"))
        assert rows == [{"detector_version": "1", "score": 0.8}, {"detector_version": "2", "score": 0.9}]
        stored = list(store.iter_pages())
        assert len(stored) == 1
        assert stored[0].page.title == "解冻费" and "秒到账" in stored[0].page.text
        assert stored[0].page.content_hash == page.content_hash
        assert store.verdicts(["malicious"])[0]["host"] == "loan.xyz"
        # identical bodies are stored once
        store.save_page(page, "loan.xyz", [], verdict)
        assert store.counts()["bodies"] == 1 and store.counts()["observations"] == 2


def test_killed_writer_leaves_database_consistent(tmp_path: Path) -> None:
    """A process killed in the middle of writing leaves only whole transactions behind."""
    path = tmp_path / "f.db"
    script = f"""
import os
from fraudwall.blocklists.store import Store
from fraudwall.blocklists.scoring import score_findings
from fraudwall.models import Finding
from fraudwall.pages import parse_page
from fraudwall.settings import Settings
store = Store.open({str(path)!r})
for i in range(200):
    page = parse_page(f"http://s{{i}}.top/", f"<p>page {{i}}</p>".encode())
    f = Finding(page.final_url, "d", "1", "loan", 0.9, "r")
    store.save_page(page, f"s{{i}}.top", [f], score_findings(page.final_url, [f], Settings()))
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


def test_older_database_is_migrated_in_place(tmp_path: Path) -> None:
    """A database at schema 1 gains the analysis_runs table and keeps its rows when opened."""
    from sqlite_utils import Database

    from fraudwall.blocklists.schema import MIGRATIONS

    path = tmp_path / "old.db"
    db = Database(str(path))
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db["targets"].insert({"url": "http://kept.top/", "source": "seed"})
    db.close()
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 2
        assert "analysis_runs" in store.db.table_names()
        assert store.db["targets"].count == 1


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
    from sqlite_utils import Database

    path = tmp_path / "old.db"
    db = Database(str(path))
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.conn.commit()
    db.close()
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
