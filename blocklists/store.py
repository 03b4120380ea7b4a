"""The SQLite store, through sqlite-utils: observations, findings, verdicts.

Written in WAL mode, each logical write in one transaction, so a killed
crawler never leaves a half-written page or a corrupt database behind. The
schema is versioned and migrated on open (see :mod:`fraudwall.blocklists.schema`).

A fraudwall database says so: SQLite's ``application_id`` holds
:data:`APPLICATION_ID` and ``user_version`` the schema version. Opening any
other file is refused before anything is written to it, so ``--db`` pointed at
someone else's SQLite file (or at a file that is not SQLite) never gains
fraudwall's tables.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from fraudwall.blocklists.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, TABLES
from fraudwall.exceptions import SchemaError, StoreError
from fraudwall.models import Finding, Judgement, PageObservation, Target, Verdict
from fraudwall.pages import parse_page


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _iso(value: datetime | None) -> str:
    return (value or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A page observation read back from the store, with its row id."""

    observation_id: int
    page: PageObservation


def _check_ours(db: Database, path: str) -> None:
    """Refuse, before any write, a SQLite file that another application owns.

    Ours: marked with :data:`APPLICATION_ID`; or unmarked and either empty (a
    new file) or holding fraudwall's tables (written before databases were
    marked). Reading the header also makes SQLite refuse a file that is not a
    database at all (``sqlite3.DatabaseError``).
    """
    application_id = db.execute("PRAGMA application_id").fetchone()[0]
    if application_id == APPLICATION_ID:
        return
    if application_id:
        raise StoreError(f"{path} is not a fraudwall database: it belongs to another application "
                         f"(SQLite application_id {application_id:#010x})")
    tables = set(db.table_names())
    if tables and not set(TABLES) <= tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreError(f"{path} is not a fraudwall database: it holds other tables ({shown})")


class Store:
    """fraudwall's database. Open it with :meth:`open`; it migrates itself."""

    def __init__(self, db: Database, path: str) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True) -> Store:
        """Open and migrate the database at ``path``, creating it unless ``create`` is false.

        Raises :class:`StoreError` for a path that cannot hold a database, a
        file that is not SQLite, or a SQLite database that is not fraudwall's;
        with ``create`` false, also for a missing or empty file (commands that
        read what a crawl stored must not start a new database by mistake).
        """
        target = Path(path)
        if target.exists() and not target.is_file():
            raise StoreError(f"{path} is not a database file")
        if not create and not target.exists():
            raise StoreError(f"no database at {path}")
        try:
            if create:
                target.parent.mkdir(parents=True, exist_ok=True)
            db = Database(str(path))
            try:
                _check_ours(db, str(path))
                if not create and not db.table_names():
                    raise StoreError(f"{path} is empty: no fraudwall database in it yet")
            except (StoreError, sqlite3.DatabaseError):
                db.close()
                raise
            with db.ensure_autocommit_on():
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # with WAL: never corrupt, only the last commit at risk on power loss
                db.execute("PRAGMA busy_timeout=10000")
                db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a usable SQLite database: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"cannot open database {path}: {exc.strerror or exc}") from exc
        store = cls(db, str(path))
        store.migrate()
        return store

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Apply every migration newer than the database's version, each atomically."""
        try:
            current = self.schema_version
            if current > SCHEMA_VERSION:
                raise SchemaError(
                    f"{self.path} has schema version {current}; this fraudwall understands up to {SCHEMA_VERSION}"
                )
            for version in range(current, SCHEMA_VERSION):
                with self.db.atomic():
                    MIGRATIONS[version](self.db)
                    self.db.execute(f"PRAGMA user_version = {version + 1}")
            if self.db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                # A new database, or one written before databases were marked.
                self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot migrate database {self.path}: {exc}") from exc

    # -- writing --------------------------------------------------------------
    def record_targets(self, targets: Iterable[Target]) -> None:
        now = _now()
        with self.db.atomic():
            for target in targets:
                self.db.execute(
                    "INSERT INTO targets (url, source, parent, depth, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(url) DO UPDATE SET last_seen = excluded.last_seen",
                    [target.url, target.source, target.parent, target.depth, now, now],
                )

    def record(self, judgements: Iterable[Judgement]) -> list[int]:
        """Store judged observations in one transaction; the row id of each observation, in order.

        A new observation (``observation_id`` is ``None``) is stored with its
        body; one judged again from the store keeps its row. Each records which
        plugins ran, its findings and its verdict: the one write path of the
        crawl, ``analyze`` and ``reanalyze``.
        """
        ids: list[int] = []
        with self.db.atomic():
            for judgement in judgements:
                observation_id = judgement.observation_id
                if observation_id is None:
                    if not isinstance(judgement.observation, PageObservation):
                        raise StoreError(f"cannot store a {type(judgement.observation).__name__} yet")
                    observation_id = self._insert_observation(judgement.observation, judgement.host)
                self._record_runs(observation_id, judgement.plugins)
                self._upsert_findings(judgement.findings, observation_id)
                self._upsert_verdict(judgement.verdict, judgement.host)
                ids.append(observation_id)
        return ids

    def save_page(
        self, page: PageObservation, host: str, findings: Sequence[Finding], verdict: Verdict,
        plugins: Sequence[tuple[str, str]] = (),
    ) -> int:
        """Store one analysed page, its findings, its verdict and which plugins ran, in one transaction."""
        with self.db.atomic():
            observation_id = self._insert_observation(page, host)
            self._record_runs(observation_id, plugins)
            self._upsert_findings(findings, observation_id)
            self._upsert_verdict(verdict, host)
        return observation_id

    def save_analysis(
        self, observation_id: int, host: str, findings: Sequence[Finding], verdict: Verdict,
        plugins: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Store the findings and verdict of a re-analysed stored observation."""
        with self.db.atomic():
            self._record_runs(observation_id, plugins)
            self._upsert_findings(findings, observation_id)
            self._upsert_verdict(verdict, host)

    def _record_runs(self, observation_id: int, plugins: Sequence[tuple[str, str]]) -> None:
        now = _now()
        for name, version in plugins:
            self.db.execute(
                "INSERT INTO analysis_runs (observation_id, detector, detector_version, ran_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(observation_id, detector) DO UPDATE SET detector_version = excluded.detector_version, "
                "ran_at = excluded.ran_at",
                [observation_id, name, version, now],
            )

    def analysis_runs(self) -> dict[int, dict[str, str]]:
        """Observation id -> {plugin name: version that last analysed it}."""
        runs: dict[int, dict[str, str]] = {}
        for row in self.db.query("SELECT observation_id, detector, detector_version FROM analysis_runs"):
            runs.setdefault(row["observation_id"], {})[row["detector"]] = row["detector_version"]
        return runs

    def current_findings(self, subjects: Sequence[str], exclude_detectors: Iterable[str] = ()) -> list[Finding]:
        """The latest stored finding per (subject, detector, category), leaving out ``exclude_detectors``.

        When a detector has findings under several versions, the most recently
        seen one stands: older versions are kept for comparison, not counted.
        """
        marks = ", ".join("?" for _ in subjects)
        rows = self.db.query(
            f"SELECT * FROM findings WHERE subject IN ({marks}) ORDER BY last_seen, detector_version", list(subjects)
        )
        excluded = set(exclude_detectors)
        latest: dict[tuple[str, str, str], Finding] = {}
        for row in rows:
            if row["detector"] in excluded:
                continue
            latest[(row["subject"], row["detector"], row["category"])] = Finding(
                row["subject"], row["detector"], row["detector_version"], row["category"], row["score"], row["reason"],
                tuple(json.loads(row["evidence"])), tuple(tuple(pair) for pair in json.loads(row["indicators"])),
            )
        return list(latest.values())

    def _insert_observation(self, page: PageObservation, host: str) -> int:
        encoded = page.html.encode("utf-8", errors="replace")
        self.db.execute(
            "INSERT OR IGNORE INTO bodies (content_hash, encoding, size, compressed) VALUES (?, ?, ?, ?)",
            [page.content_hash, page.encoding, len(encoded), zlib.compress(encoded, 6)],
        )
        cursor = self.db.execute(
            "INSERT INTO observations (kind, url, final_url, host, status, title, headers, redirect_chain, "
            "content_hash, fetched_as, ip, fetched_at) VALUES ('page', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                page.url, page.final_url, host, page.status, page.title, json.dumps(page.headers),
                json.dumps(page.redirect_chain), page.content_hash, page.fetched_as, page.ip, _iso(page.fetched_at),
            ],
        )
        return int(cursor.lastrowid or 0)

    def _upsert_findings(self, findings: Sequence[Finding], observation_id: int) -> None:
        now = _now()
        for finding in findings:
            self.db.execute(
                "INSERT INTO findings (subject, detector, detector_version, category, score, reason, evidence, "
                "indicators, observation_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(subject, detector, detector_version, category) DO UPDATE SET score = excluded.score, "
                "reason = excluded.reason, evidence = excluded.evidence, indicators = excluded.indicators, "
                "observation_id = excluded.observation_id, last_seen = excluded.last_seen",
                [
                    finding.subject, finding.detector, finding.detector_version, str(finding.category), finding.score,
                    finding.reason, json.dumps(finding.evidence, ensure_ascii=False),
                    json.dumps(finding.indicators, ensure_ascii=False), observation_id, now, now,
                ],
            )

    def _upsert_verdict(self, verdict: Verdict, host: str) -> None:
        now = _now()
        top = [
            {"detector": f.detector, "version": f.detector_version, "category": str(f.category), "score": f.score,
             "reason": f.reason, "evidence": list(f.evidence[:3])}
            for f in sorted(verdict.findings, key=lambda f: -f.score)[:5]
        ]
        self.db.execute(
            "INSERT INTO verdicts (subject, host, score, status, categories, top_findings, first_seen, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(subject) DO UPDATE SET host = excluded.host, "
            "score = excluded.score, status = excluded.status, categories = excluded.categories, "
            "top_findings = excluded.top_findings, updated_at = excluded.updated_at",
            [verdict.subject, host, verdict.score, str(verdict.status), json.dumps(verdict.categories),
             json.dumps(top, ensure_ascii=False), now, now],
        )

    # -- reading --------------------------------------------------------------
    def iter_pages(self, since: datetime | None = None) -> Iterator[StoredPage]:
        """Stored page observations, oldest first, rebuilt from their stored bodies."""
        sql = (
            "SELECT o.*, b.compressed FROM observations o JOIN bodies b USING (content_hash) "
            "WHERE o.kind = 'page' AND o.fetched_at >= ? ORDER BY o.id"
        )
        for row in self.db.query(sql, [_iso(since) if since else ""]):
            html = zlib.decompress(row["compressed"]).decode("utf-8")
            page = parse_page(
                row["url"], html.encode("utf-8"), final_url=row["final_url"], status=row["status"],
                headers=[tuple(h) for h in json.loads(row["headers"])], redirect_chain=json.loads(row["redirect_chain"]),
                fetched_as=row["fetched_as"], ip=row["ip"], fetched_at=datetime.fromisoformat(row["fetched_at"]),
                text=html, encoding="utf-8",
            )
            # the hash names the raw bytes as fetched, not the re-encoded copy
            yield StoredPage(int(row["id"]), replace(page, content_hash=row["content_hash"]))

    def verdicts(self, statuses: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Verdict rows, optionally only those with the given statuses."""
        if statuses:
            marks = ", ".join("?" for _ in statuses)
            return list(self.db.query(f"SELECT * FROM verdicts WHERE status IN ({marks}) ORDER BY subject", list(statuses)))
        return list(self.db.query("SELECT * FROM verdicts ORDER BY subject"))

    def addresses_by_host(self) -> dict[str, tuple[str, ...]]:
        """Every address each host was fetched from, sorted."""
        found: dict[str, set[str]] = {}
        for row in self.db.query("SELECT DISTINCT host, ip FROM observations WHERE ip IS NOT NULL AND ip != ''"):
            found.setdefault(row["host"], set()).add(row["ip"])
        return {host: tuple(sorted(ips)) for host, ips in found.items()}

    def counts(self) -> dict[str, int]:
        """Row counts per table, for summaries."""
        return {name: self.db[name].count for name in ("targets", "observations", "bodies", "findings", "verdicts")}

    def finding_counts_by_category(self) -> dict[str, int]:
        rows = self.db.query("SELECT category, COUNT(*) AS n FROM findings GROUP BY category ORDER BY n DESC, category")
        return {row["category"]: row["n"] for row in rows}

