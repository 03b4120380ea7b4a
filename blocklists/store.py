"""The SQLite store, through sqlite-utils: observations, findings, verdicts.

Written in WAL mode, each logical write in one transaction, so a killed
crawler never leaves a half-written page or a corrupt database behind. The
schema is versioned and migrated on open (see :mod:`fraudwall.blocklists.schema`).

One write path: :meth:`Store.record` takes a batch of
:class:`~fraudwall.models.Judgement` values, observations of every kind with
their findings and verdicts, in one transaction (the crawl, ``analyze`` and
``reanalyze`` all record this way). Reading is by query and streams, built
for stores of millions: :meth:`Store.selected_verdicts` (what selection
publishes, in export order, from one covering index),
:meth:`Store.url_verdicts`, :meth:`Store.pending` (what a re-analysis owes),
:meth:`Store.current_findings`, :meth:`Store.verdicts`. No method loads a
whole table.

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
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from packaging.version import InvalidVersion, Version
from sqlite_utils import Database

from fraudwall.blocklists import payloads
from fraudwall.blocklists.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, TABLES
from fraudwall.blocklists.scoring import score_findings
from fraudwall.entries import sort_key
from fraudwall.exceptions import InputError, SchemaError, StoreError
from fraudwall.models import (
    ApkObservation, DnsObservation, Finding, Judgement, Observation, PageObservation, SubjectKind, Target, UrlParts,
    Verdict, VerdictStatus,
)
from fraudwall.names import parse_url
from fraudwall.pages import parse_page
from fraudwall.settings import Settings


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _iso(value: datetime | None) -> str:
    return (value or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")


#: zlib level for page bodies. On pages of tens of kilobytes level 1 takes about 60% of level 6's
#: time for output some 6% larger (the corpus pages, measured), and a crawl stores thousands a second.
BODY_COMPRESSION = 1

#: A ``since`` filter is found through the update-time index when it keeps fewer than one verdict
#: in this many. Through that index each verdict costs a table row read at a random place and a
#: share of a sort (about 5 µs at two million verdicts), against about 1 µs an entry for passing
#: the whole selection index: it pays for a small part only, and 20 leaves a margin.
NARROW_SINCE = 20

#: The subject kinds a blocklist can carry (hosts, URLs, IP addresses), as stored.
BLOCKLISTABLE_KINDS = tuple(kind.value for kind in SubjectKind if kind.blocklistable)
#: The subject kinds published as indicators: addresses for IP sets and intelligence formats, the rest
#: (hashes, certificates, wallets, handles) for the intelligence formats only.
INDICATOR_KINDS = tuple(kind.value for kind in SubjectKind if kind not in (SubjectKind.HOST, SubjectKind.URL))


class IndicatorRow(NamedTuple):
    """One selected verdict on an indicator subject, as stored."""

    subject: str
    kind: str
    first_seen: str
    updated_at: str
    score: float
    categories: str  # JSON list
    detectors: str  # JSON list
    context: str  # JSON list of [key, value]


@dataclass(frozen=True, slots=True)
class StoredObservation:
    """An observation read back from the store for re-analysis: its row id, and the plugins to run on it."""

    observation_id: int
    observation: Observation
    plugins: frozenset[str]


@dataclass(frozen=True, slots=True)
class SelectionFilter:
    """Which verdicts to publish."""

    statuses: tuple[str, ...] = (VerdictStatus.MALICIOUS.value,)
    min_score: float = 0.0
    categories: tuple[str, ...] = ()  # any of these; empty means all
    since: datetime | None = None  # verdicts updated at or after this time


#: One selected verdict as selection reads it: host, first seen, last update (ISO times), score,
#: its categories and its detectors (JSON lists), its addresses (space-separated). A plain tuple,
#: as SQLite gives it: one is read per verdict of millions.
VerdictRow = tuple[str, str, str, float, str, str, str]


class UrlVerdict(NamedTuple):
    """One selected verdict about a URL, as stored."""

    host: str
    url: str
    first_seen: str
    updated_at: str
    score: float
    categories: str  # JSON list
    detectors: str  # JSON list


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
            # What the store's upsert merges addresses with: deterministic, like a built-in function.
            db.conn.create_function("fraudwall_address_union", 2, _address_union, deterministic=True)
            with db.ensure_autocommit_on():
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # with WAL: never corrupt, only the last commit at risk on power loss
                db.execute("PRAGMA busy_timeout=10000")
                # Checkpoint every 40 MB of WAL, not SQLite's 4 MB: a crawl commits a small batch many
                # times a second, and each checkpoint then copies the index pages it rewrote once, not
                # once per few commits (about a fifth faster recording at the crawl's batch size).
                db.execute("PRAGMA wal_autocheckpoint=10000")
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
            self.db.conn.executemany(
                "INSERT INTO targets (url, source, parent, depth, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(url) DO UPDATE SET last_seen = excluded.last_seen",
                [(target.url, target.source, target.parent, target.depth, now, now) for target in targets],
            )

    def record(self, judgements: Iterable[Judgement], settings: Settings | None = None) -> list[int]:
        """Store judged observations in one transaction; the row id of each observation, in order.

        The one write path of the crawl, ``analyze`` and ``reanalyze``. A new
        observation (``observation_id`` is ``None``) is stored first: a page
        with its body (each distinct body once, compressed), any other kind as
        its JSON payload. Then, for every judgement, which plugins ran at which
        version, its findings (keyed by detector version: a new version's stand
        beside the old ones) and its verdict with its categories. A subject
        judged twice in one batch keeps the later verdict, as if recorded one
        after the other. An APK is stored once by its sha256: judged again,
        new or from elsewhere, it keeps its first observation's row.

        A related verdict (a host, wallet or handle the observation named) is
        about a subject other evidence may have named too: it is scored again
        (under ``settings``' thresholds) from its new findings and the stored
        ones from other observations and from plugins that did not run now, so
        an app's weak word about a host never overwrites what a crawl found. Rows go in with one prepared statement per table
        (``executemany``), which is most of the speed of a batch.
        """
        batch = list(judgements)
        now = _now()
        ids: list[int] = []
        runs: list[tuple[Any, ...]] = []
        findings: list[tuple[Any, ...]] = []
        verdicts: dict[str, tuple[Verdict, str, str, str]] = {}
        with self.db.atomic():
            apks: dict[str, int | None] = {}  # an APK is stored once: sha256 -> its row, once known
            new = []
            for judgement in batch:
                observation = judgement.observation
                if judgement.observation_id is not None:
                    continue
                if isinstance(observation, ApkObservation):
                    if observation.sha256 in apks:
                        continue
                    apks[observation.sha256] = self.apk_observation_id(observation.sha256)
                    if apks[observation.sha256] is not None:
                        continue
                new.append(judgement)
            self._insert_bodies([j.observation for j in new if isinstance(j.observation, PageObservation)])
            new_ids = dict(zip(map(id, new), self._insert_observations(new, now)))
            for judgement in new:
                if isinstance(judgement.observation, ApkObservation):
                    apks[judgement.observation.sha256] = new_ids[id(judgement)]
            for judgement in batch:
                observation_id = judgement.observation_id
                if observation_id is None:
                    observation = judgement.observation
                    observation_id = (apks[observation.sha256] if isinstance(observation, ApkObservation)
                                      else new_ids[id(judgement)])
                ids.append(observation_id)
                runs.extend((observation_id, name, version, now) for name, version in judgement.plugins)
                findings.extend(_finding_row(finding, observation_id, now) for finding in judgement.findings)
                subject = judgement.verdict.subject
                seen = _addresses_of(judgement.observation)
                if subject in verdicts:  # judged again in this batch: the later verdict, every address
                    seen = _address_union(verdicts[subject][2], seen)
                verdicts[subject] = (judgement.verdict, judgement.host, seen, _json(_context_of(judgement.observation)))
                named_in = _json([["seen_in", subject]])
                for related in judgement.related:
                    merged = self._with_stored_findings(related, observation_id, judgement.plugins, settings)
                    verdicts[related.subject] = (merged, _host_of(related), "", named_in)
            conn = self.db.conn
            conn.executemany(
                "INSERT INTO analysis_runs (observation_id, detector, detector_version, ran_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(observation_id, detector) DO UPDATE SET detector_version = excluded.detector_version, "
                "ran_at = excluded.ran_at", runs)
            conn.executemany(
                "INSERT INTO findings (subject, subject_kind, detector, detector_version, category, score, reason, "
                "evidence, indicators, observation_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(subject, detector, detector_version, category) DO UPDATE SET "
                "subject_kind = excluded.subject_kind, score = excluded.score, reason = excluded.reason, "
                "evidence = excluded.evidence, indicators = excluded.indicators, "
                "observation_id = excluded.observation_id, last_seen = excluded.last_seen", findings)
            conn.executemany(
                "INSERT INTO verdicts (subject, subject_kind, host, host_key, score, status, categories, detectors, "
                "addresses, top_findings, first_seen, updated_at, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(subject) DO UPDATE SET subject_kind = excluded.subject_kind, host = excluded.host, "
                "host_key = excluded.host_key, score = excluded.score, status = excluded.status, "
                "categories = excluded.categories, detectors = excluded.detectors, "
                "addresses = fraudwall_address_union(verdicts.addresses, excluded.addresses), "
                "top_findings = excluded.top_findings, updated_at = excluded.updated_at, context = excluded.context",
                [(*_verdict_row(verdict, host, seen, now), context)
                 for verdict, host, seen, context in verdicts.values()])
            # The categories table follows each verdict: what it named before goes, what it names now comes.
            conn.executemany("DELETE FROM verdict_categories WHERE subject = ?", [(subject,) for subject in verdicts])
            conn.executemany(
                "INSERT INTO verdict_categories (subject, category) VALUES (?, ?)",
                [(subject, category) for subject, (verdict, *_) in verdicts.items() for category in verdict.categories])
        return ids

    def _with_stored_findings(
        self, verdict: Verdict, observation_id: int, plugins: Sequence[tuple[str, str]], settings: Settings | None,
    ) -> Verdict:
        """``verdict`` scored again with the stored findings on its subject that this judgement does not replace:
        the latest per (detector, category), leaving out this observation's own by the plugins that just ran."""
        ran = {name for name, _ in plugins}
        latest: dict[tuple[str, str], Finding] = {}
        rows = self.db.conn.execute(
            "SELECT detector, detector_version, category, score, reason, evidence, indicators, subject_kind, "
            "observation_id FROM findings WHERE subject = ? ORDER BY last_seen, detector_version", [verdict.subject])
        for detector, version, category, score, reason, evidence, indicators, kind, source in rows:
            if source == observation_id and detector in ran:
                continue
            latest[(detector, category)] = Finding(
                verdict.subject, detector, version, category, score, reason, tuple(json.loads(evidence)),
                tuple(tuple(pair) for pair in json.loads(indicators)), SubjectKind(kind))
        if not latest:
            return verdict
        for finding in verdict.findings:
            latest[(finding.detector, str(finding.category))] = finding
        return score_findings(verdict.subject, list(latest.values()), settings or Settings(), kind=verdict.subject_kind)

    def _insert_bodies(self, pages: Sequence[PageObservation]) -> None:
        """Store the bodies of ``pages`` not stored yet; a body already stored is not compressed again."""
        if not pages:
            return
        wanted = {page.content_hash: page for page in pages}
        stored = {row[0] for row in self.db.conn.execute(
            "SELECT content_hash FROM bodies WHERE content_hash IN (SELECT value FROM json_each(?))",
            [json.dumps(list(wanted))])}
        rows = []
        for content_hash, page in wanted.items():
            if content_hash not in stored:
                encoded = page.html.encode("utf-8", errors="replace")
                rows.append((content_hash, page.encoding, len(encoded), zlib.compress(encoded, BODY_COMPRESSION)))
        self.db.conn.executemany(
            "INSERT INTO bodies (content_hash, encoding, size, compressed) VALUES (?, ?, ?, ?)", rows)

    def _insert_observations(self, judgements: Sequence[Judgement], now: str) -> range:
        """Store the observations of ``judgements`` (bodies are stored already); their row ids, in order.

        One statement for the batch: SQLite gives a new row the largest id so
        far plus one, and no other connection writes while this transaction
        does, so the rows of one ``executemany`` have consecutive ids ending
        at ``last_insert_rowid()``.
        """
        if not judgements:
            return range(0)
        conn = self.db.conn
        conn.executemany(
            "INSERT INTO observations (kind, url, final_url, host, status, title, headers, redirect_chain, "
            "content_hash, fetched_as, ip, fetched_at, payload, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_observation_row(j.observation, j.host, now) for j in judgements])
        last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
        return range(last - len(judgements) + 1, last + 1)

    # -- reading --------------------------------------------------------------
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
                SubjectKind(row["subject_kind"]),
            )
        return list(latest.values())

    def apk_observation_id(self, sha256: str) -> int | None:
        """The row of the stored observation of the APK with this sha256: each APK is stored once."""
        row = self.db.conn.execute("SELECT id FROM observations WHERE sha256 = ?", [sha256]).fetchone()
        return None if row is None else row[0]

    def subjects_named(self, observation_id: int) -> list[str]:
        """Every subject the stored findings of one observation are about (an APK's hosts and wallets too)."""
        return [row[0] for row in self.db.conn.execute(
            "SELECT DISTINCT subject FROM findings WHERE observation_id = ?", [observation_id])]

    def verdict_status(self, subject: str) -> VerdictStatus | None:
        """The stored verdict's status on ``subject``, ``None`` when there is none."""
        row = self.db.conn.execute("SELECT status FROM verdicts WHERE subject = ?", [subject]).fetchone()
        return None if row is None else VerdictStatus(row[0])

    def pending(
        self, versions: Mapping[str, str], rerun: Collection[str] = (), since: datetime | None = None,
    ) -> Iterator[StoredObservation]:
        """The stored observations a re-analysis must judge, oldest first, each with the plugins to run on it.

        ``versions`` are the installed plugins (name -> version). Without
        ``rerun``, an observation is pending for each installed plugin that has
        not analysed it at its installed version or a newer one: never, or
        only at an older version (compared as versions: ``0.10`` is newer than
        ``0.9``, ``1.0`` is ``1.0.0``; a plugin rolled back to an older version
        does not re-run, ``rerun`` does). With ``rerun``, every observation is
        pending for those plugins and no others. ``since`` keeps observations
        fetched (or observed) at or after it.

        Found by queries, not by reading every run: the distinct (plugin,
        version) pairs (a few, found by index) decide which are stale, and
        a count of each installed plugin's runs whether it ran on none, some
        or all observations. A plugin that ran on none (a new one) is owed
        everywhere; the other runs owed (at a stale version, and where a
        plugin that ran on some did not) are found by index and joined to the
        observations as they are read in order. The runs owed are found whole
        before the first observation is yielded, so the caller may record
        judgements while iterating.
        """
        if rerun:
            everywhere, branches, params = frozenset(rerun), [], []
        else:
            everywhere, branches, params = self._todo(versions)
        if not everywhere and not branches:
            return
        since_clause, since_params = ("AND o.fetched_at >= ?", [_iso(since)]) if since else ("", [])
        todo = " UNION ALL ".join(branches) or "SELECT NULL, NULL WHERE 0"
        owed = ("(SELECT observation_id, group_concat(detector, char(31)) AS detectors FROM todo "
                "GROUP BY observation_id) AS t")
        # The observations are read in their order (no sort of rows that carry bodies), each joined to
        # the runs it is owed, found first and indexed by SQLite: every observation when a plugin is owed
        # everywhere (LEFT JOIN), else those owed a run (CROSS JOIN: an inner join that keeps this order).
        join = "LEFT JOIN" if everywhere else "CROSS JOIN"
        cursor = self.db.conn.execute(
            f"WITH todo (observation_id, detector) AS ({todo}) SELECT {_OBSERVATION_COLUMNS}, t.detectors "
            f"FROM observations o {join} {owed} ON t.observation_id = o.id "
            f"LEFT JOIN bodies b ON b.content_hash = o.content_hash WHERE 1 {since_clause} ORDER BY o.id",
            [*params, *since_params])
        for row in cursor:
            plugins = everywhere | frozenset(row[-1].split("\x1f")) if row[-1] else everywhere
            yield StoredObservation(row[0], _observation(row), plugins)

    def _todo(self, versions: Mapping[str, str]) -> tuple[frozenset[str], list[str], list[Any]]:
        """The plugins owed a run on every observation, and SQL branches giving (observation id, plugin) for
        each other run owed, with their parameters."""
        conn = self.db.conn
        stale: dict[str, list[str]] = {}
        for detector, version in _distinct(conn, "analysis_runs", ("detector", "detector_version")):
            if detector in versions and _stale(version, versions[detector]):
                stale.setdefault(detector, []).append(version)
        everywhere: set[str] = set()
        branches: list[str] = []
        params: list[Any] = []
        for detector, old in stale.items():  # a plugin and its versions: ranges of the runs' index
            branches.append("SELECT observation_id, detector FROM analysis_runs WHERE detector = ? "
                            f"AND detector_version IN ({', '.join('?' for _ in old)})")
            params.extend((detector, *old))
        observations = conn.execute("SELECT count(*) FROM observations").fetchone()[0]
        for plugin in sorted(versions):
            # One run per observation and plugin at most (the key): as many runs as observations
            # means none was left out, and no runs at all that all were; only in between is each
            # observation looked at.
            ran = conn.execute("SELECT count(*) FROM analysis_runs WHERE detector = ?", [plugin]).fetchone()[0]
            if ran == 0:
                everywhere.add(plugin)
            elif ran < observations:
                branches.append("SELECT o.id, ? FROM observations o WHERE NOT EXISTS "
                                "(SELECT 1 FROM analysis_runs r WHERE r.observation_id = o.id AND r.detector = ?)")
                params.extend((plugin, plugin))
        return frozenset(everywhere), branches, params

    def observation_count(self, since: datetime | None = None) -> int:
        """How many observations are stored, or fetched (observed) at or after ``since``."""
        return int(self.db.conn.execute("SELECT count(*) FROM observations WHERE fetched_at >= ?",
                                        [_iso(since) if since else ""]).fetchone()[0])

    def verdicts(self, statuses: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        """Verdict rows by subject, optionally only those with the given statuses, one at a time."""
        if statuses:
            marks = ", ".join("?" for _ in statuses)
            yield from self.db.query(f"SELECT * FROM verdicts WHERE status IN ({marks}) ORDER BY subject",
                                     list(statuses))
        else:
            yield from self.db.query("SELECT * FROM verdicts ORDER BY subject")

    def selected_verdicts(self, wanted: SelectionFilter) -> Iterator[VerdictRow]:
        """The verdicts that pass ``wanted`` and are of a kind blocklists carry, by host in export order.

        The filters run in SQL and rows stream, never the whole table. The
        default selection (statuses, no narrow filter) is read from
        ``idx_verdicts_selection`` alone, already in export order: no sort,
        no table row. (Folding a host's verdicts into one is left to the
        caller: SQLite's aggregates cost more than the rows themselves.)
        """
        return self.db.conn.execute(*_selected_query(wanted, by_update=self._narrow_since(wanted.since)))

    def _narrow_since(self, since: datetime | None) -> bool:
        """True when fewer than 1 verdict in :data:`NARROW_SINCE` was updated since ``since``: then its
        index finds them faster than the selection index's pass over every verdict of the status.

        SQLite's planner cannot tell (a time range is a guess to it, statistics or not); two counts
        over indexes, each as long as what it counts, can.
        """
        if since is None:
            return False
        conn = self.db.conn
        recent = conn.execute("SELECT count(*) FROM verdicts WHERE updated_at >= ?", [_iso(since)]).fetchone()[0]
        return recent * NARROW_SINCE < conn.execute("SELECT count(*) FROM verdicts").fetchone()[0]

    def url_verdicts(self, hosts: Collection[str], wanted: SelectionFilter) -> Iterator[UrlVerdict]:
        """The URL verdicts on ``hosts`` that pass ``wanted``, by host (in export order) and URL."""
        where, params = _where(wanted, kinds=(SubjectKind.URL.value,))
        cursor = self.db.conn.execute(
            "SELECT v.host, v.subject, v.first_seen, v.updated_at, v.score, v.categories, v.detectors "
            # From the few hosts to their verdicts, a seek into the selection index (status, host key)
            # each: CROSS JOIN keeps that order, where SQLite would pass the index once per host.
            "FROM json_each(?) AS wanted CROSS JOIN verdicts v INDEXED BY idx_verdicts_selection "
            "ON v.host_key = wanted.value "
            f"WHERE {where} ORDER BY v.host_key, v.subject", [json.dumps(sorted(map(sort_key, hosts))), *params])
        for row in cursor:
            yield UrlVerdict(*row)

    def selected_indicators(self, wanted: SelectionFilter) -> Iterator[IndicatorRow]:
        """The verdicts on addresses, APK hashes, certificates, wallets and handles that pass ``wanted``,
        by kind and subject, through ``idx_verdicts_indicators``."""
        where, params = _where(wanted, kinds=INDICATOR_KINDS)
        cursor = self.db.conn.execute(
            "SELECT v.subject, v.subject_kind, v.first_seen, v.updated_at, v.score, v.categories, v.detectors, "
            f"v.context FROM verdicts v INDEXED BY idx_verdicts_indicators WHERE {where} "
            "ORDER BY v.subject_kind, v.subject", params)
        for row in cursor:
            yield IndicatorRow(*row)

    def counts(self) -> dict[str, int]:
        """Row counts per table, for summaries."""
        return {name: self.db[name].count for name in ("targets", "observations", "bodies", "findings", "verdicts")}

    def finding_categories(self) -> set[str]:
        """Every category stored findings use, found by index in a few seeks however many findings there are."""
        return {row[0] for row in _distinct(self.db.conn, "findings", ("category",))}

    def finding_counts_by_category(self) -> dict[str, int]:
        """Findings per category, most first (counted in the category index, not the table)."""
        rows = self.db.query("SELECT category, COUNT(*) AS n FROM findings GROUP BY category ORDER BY n DESC, category")
        return {row["category"]: row["n"] for row in rows}


# -- rows and queries ---------------------------------------------------------------


def _where(wanted: SelectionFilter, kinds: Sequence[str] = BLOCKLISTABLE_KINDS) -> tuple[str, list[Any]]:
    """The SQL condition on verdicts ``v`` that ``wanted`` asks for, of ``kinds``, and its parameters."""
    statuses = wanted.statuses or tuple(status.value for status in VerdictStatus)
    clauses = [f"v.status IN ({', '.join('?' for _ in statuses)})",
               f"v.subject_kind IN ({', '.join('?' for _ in kinds)})"]
    params: list[Any] = [*statuses, *kinds]
    if wanted.min_score > 0:
        clauses.append("v.score >= ?")
        params.append(wanted.min_score)
    if wanted.since is not None:
        clauses.append("v.updated_at >= ?")
        params.append(_iso(wanted.since))
    if wanted.categories:
        marks = ", ".join("?" for _ in wanted.categories)
        clauses.append(f"v.subject IN (SELECT subject FROM verdict_categories WHERE category IN ({marks}))")
        params.extend(wanted.categories)
    return " AND ".join(clauses), params


def _selected_query(wanted: SelectionFilter, *, by_update: bool = False) -> tuple[str, list[Any]]:
    """The SQL of :meth:`Store.selected_verdicts` and its parameters; ``by_update``: found by update time."""
    where, params = _where(wanted)
    index = "INDEXED BY idx_verdicts_updated_at" if by_update else ""
    return ("SELECT v.host, v.first_seen, v.updated_at, v.score, v.categories, v.detectors, v.addresses "
            f"FROM verdicts v {index} WHERE {where} ORDER BY v.host_key", params)


def _json(value: Any) -> str:
    """``value`` as JSON text, non-ASCII kept as it is; an empty list without a call to the encoder."""
    return _ENCODE(value) if value else "[]"


#: One encoder for every row: ``json.dumps`` with options builds a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def _finding_row(finding: Finding, observation_id: int, now: str) -> tuple[Any, ...]:
    return (
        finding.subject, str(finding.subject_kind), finding.detector, finding.detector_version, str(finding.category),
        finding.score, finding.reason, _json(finding.evidence), _json(finding.indicators), observation_id, now, now,
    )


def _verdict_row(verdict: Verdict, host: str, addresses: str, now: str) -> tuple[Any, ...]:
    top = [
        {"detector": f.detector, "version": f.detector_version, "category": str(f.category), "score": f.score,
         "reason": f.reason, "evidence": list(f.evidence[:3])}
        for f in sorted(verdict.findings, key=lambda f: -f.score)[:5]
    ]
    return (
        verdict.subject, str(verdict.subject_kind), host, sort_key(host), verdict.score, str(verdict.status),
        _json(verdict.categories), _json(sorted({f.detector for f in verdict.findings})), addresses, _json(top),
        now, now,
    )


def _addresses_of(observation: Observation) -> str:
    """Where an observation saw its subject: the address a page was fetched from, the A and AAAA
    answers of a DNS question; sorted, space-separated, as ``verdicts.addresses`` holds them."""
    if isinstance(observation, PageObservation):
        return observation.ip or ""
    if isinstance(observation, DnsObservation):
        return " ".join(sorted({record.value for record in observation.records if record.type in ("A", "AAAA")}))
    return ""


def _context_of(observation: Observation) -> list[list[str]]:
    """What goes with an observation's verdict in the intelligence formats (``verdicts.context``)."""
    if not isinstance(observation, ApkObservation):
        return []
    pairs = [["package", observation.package]] if observation.package else []
    pairs += [["label", label] for label in dict.fromkeys(label for _, label in observation.labels) if label]
    pairs += [["certificate", certificate.sha256] for certificate in observation.certificates]
    if observation.download_url:
        pairs += [["download_url", observation.download_url],
                  ["download_host", _host_of_url(observation.download_url)]]
    return [pair for pair in pairs if pair[1]]


def _host_of(verdict: Verdict) -> str:
    """The name a blocklist would carry for a related verdict: a host's own, a URL's host, else none."""
    if verdict.subject_kind is SubjectKind.HOST:
        return verdict.subject
    if verdict.subject_kind is SubjectKind.URL:
        return _host_of_url(verdict.subject)
    return ""


def _host_of_url(url: str) -> str:
    try:
        return parse_url(url).host
    except InputError:
        return ""


def _address_union(stored: str | None, new: str | None) -> str:
    """Two ``verdicts.addresses`` values as one: every address once, sorted (SQL: ``fraudwall_address_union``)."""
    if not new or new == stored:
        return stored or ""
    if not stored:
        return new
    return " ".join(sorted(set(stored.split()) | set(new.split())))


def _observation_row(observation: Observation, host: str, now: str) -> tuple[Any, ...]:
    """An observation's row: a page by its columns (its body is in ``bodies``), any other kind as its payload."""
    if isinstance(observation, PageObservation):
        return (
            "page", observation.url, observation.final_url, host, observation.status, observation.title,
            _json(observation.headers), _json(observation.redirect_chain), observation.content_hash,
            observation.fetched_as, observation.ip, _iso(observation.fetched_at), payloads.page_extras(observation),
            None,
        )
    url = _observed_url(observation)
    observed_at = getattr(observation, "observed_at", None)  # a URL on its own has no time: now
    sha256 = observation.sha256 if isinstance(observation, ApkObservation) else None
    return (payloads.kind_of(observation), url, url, host, None, None, None, None, None, None, None,
            _iso(observed_at) if observed_at else now, payloads.dumps(observation), sha256)


def _observed_url(observation: Observation) -> str:
    """The URL an observation other than a page was made at, if it has one."""
    if isinstance(observation, UrlParts):
        return observation.url
    if isinstance(observation, ApkObservation):
        return observation.download_url
    return ""


#: The columns :func:`_observation` reads, in its order (``o``: observations, ``b``: bodies).
_OBSERVATION_COLUMNS = ("o.id, o.kind, o.url, o.final_url, o.status, o.headers, o.redirect_chain, o.content_hash, "
                        "o.fetched_as, o.ip, o.fetched_at, o.payload, b.compressed")


def _observation(row: Sequence[Any]) -> Observation:
    """The observation a row of :data:`_OBSERVATION_COLUMNS` holds: a page rebuilt from its body, or a payload."""
    _, kind, url, final_url, status, headers, redirect_chain, content_hash, fetched_as, ip, fetched_at, payload, \
        compressed = row[:13]
    if kind != "page":
        return payloads.loads(kind, payload)
    html = zlib.decompress(compressed).decode("utf-8")
    page = parse_page(
        url, html.encode("utf-8"), final_url=final_url, status=status,
        headers=[tuple(h) for h in json.loads(headers)], redirect_chain=json.loads(redirect_chain),
        fetched_as=fetched_as, ip=ip, fetched_at=datetime.fromisoformat(fetched_at), text=html, encoding="utf-8",
    )
    # The hash names the raw bytes as fetched, not this copy.
    return payloads.with_page_extras(replace(page, content_hash=content_hash), payload)


def _distinct(conn: sqlite3.Connection, table: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """The distinct values of ``columns`` in ``table``, in order, one seek each into the index that starts
    with them (a loose index scan): a few seeks where ``SELECT DISTINCT`` would pass millions of rows."""
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    row = conn.execute(f"SELECT {names} FROM {table} ORDER BY {names} LIMIT 1").fetchone()
    while row is not None:
        yield row
        row = conn.execute(f"SELECT {names} FROM {table} WHERE ({names}) > ({marks}) ORDER BY {names} LIMIT 1",
                           row).fetchone()


def _stale(stored: str, installed: str) -> bool:
    """True when a run at version ``stored`` is owed a new run by the ``installed`` version.

    As versions (PEP 440): an older release is stale (``0.9`` before ``0.10``), a newer one is not
    (a plugin rolled back does not re-run what a later release judged), and the same release is
    stale when what follows its ``+`` differs (``yaml_rules 1.0+<digest>``: the rules changed).
    A version that is no PEP 440 version is stale whenever it is another string.
    """
    try:
        run, now = Version(stored), Version(installed)
    except InvalidVersion:
        return stored != installed
    if run.public != now.public:
        return Version(run.public) < Version(now.public)
    return run.local != now.local
