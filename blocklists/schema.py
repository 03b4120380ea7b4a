"""The store's schema, as an ordered list of migrations.

``PRAGMA user_version`` holds the number of migrations applied, and
``PRAGMA application_id`` marks the file as fraudwall's (:data:`APPLICATION_ID`). Each migration
runs in the same transaction as the version bump, so a process killed halfway
leaves the previous schema intact. Never edit a released migration: append one.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable

from sqlite_utils import Database

from fraudwall.entries import sort_key

#: SQLite ``application_id`` of a fraudwall database: "FRWL" in ASCII, so ``file(1)`` and
#: ``sqlite3`` show whose file it is.
APPLICATION_ID = 0x4652574C

#: The tables every fraudwall database has had since the first schema version.
TABLES = ("targets", "bodies", "observations", "findings", "verdicts")


def _v1_initial(db: Database) -> None:
    """Targets, page observations with deduplicated bodies, findings, verdicts."""
    db["targets"].create(
        {"url": str, "source": str, "parent": str, "depth": int, "first_seen": str, "last_seen": str},
        pk="url",
    )
    db["bodies"].create(
        # The decoded page, zlib-compressed UTF-8; one row per distinct raw body.
        {"content_hash": str, "encoding": str, "size": int, "compressed": bytes},
        pk="content_hash",
    )
    db["observations"].create(
        {
            "id": int, "kind": str, "url": str, "final_url": str, "host": str, "status": int,
            "title": str, "headers": str, "redirect_chain": str, "content_hash": str,
            "fetched_as": str, "ip": str, "fetched_at": str,
        },
        pk="id",
        foreign_keys=[("content_hash", "bodies", "content_hash")],
    )
    db["observations"].create_index(["final_url"])
    db["observations"].create_index(["host"])
    db["observations"].create_index(["fetched_at"])
    db["findings"].create(
        {
            "subject": str, "detector": str, "detector_version": str, "category": str,
            "score": float, "reason": str, "evidence": str, "indicators": str,
            "observation_id": int, "first_seen": str, "last_seen": str,
        },
        pk=("subject", "detector", "detector_version", "category"),
    )
    db["findings"].create_index(["observation_id"])
    db["verdicts"].create(
        {
            "subject": str, "host": str, "score": float, "status": str, "categories": str,
            "top_findings": str, "first_seen": str, "updated_at": str,
        },
        pk="subject",
    )
    db["verdicts"].create_index(["host"])
    db["verdicts"].create_index(["status"])


def _v2_analysis_runs(db: Database) -> None:
    """Which plugin version analysed each observation, findings or not: the basis of re-analysis."""
    db["analysis_runs"].create(
        {"observation_id": int, "detector": str, "detector_version": str, "ran_at": str},
        pk=("observation_id", "detector"),
    )


def _v3_subject_kinds_payloads_and_keys(db: Database) -> None:
    """Subject kinds, observations of every kind, the indexes selection filters by, and foreign keys.

    * ``findings.subject_kind`` and ``verdicts.subject_kind``: what the subject
      is (url, host, ip, apk, certificate, wallet, handle). Rows written before
      kinds existed read as a URL when the subject has ``://``, an IP address
      when it is one, and a host otherwise: all they could be then.
    * ``observations.payload``: a URL or name, DNS answer or APK observation as
      JSON (:mod:`fraudwall.blocklists.payloads`), ``kind`` saying which
      (``page``, ``url``, ``dns``, ``apk``); a page keeps its body in ``bodies``.
    * ``verdicts.host_key``: the host's labels from the root down
      (:func:`fraudwall.entries.sort_key`), so SQL hands names over already in
      export order; ``verdicts.detectors``: the detectors behind a verdict, as a
      JSON list, so selection reads its sources without parsing ``top_findings``;
      ``verdicts.addresses``: where the subject was fetched from or what it
      resolved to, sorted, space-separated (older rows: their pages' addresses).
    * Indexes for selection: one over status and host key that covers every
      column selection reads and filters by (kind, score, update time,
      categories' subject): a national store's export reads each malicious
      verdict from the index alone, in export order, instead of a table row
      fetched per name; and one on update time, for a narrow ``--since``.
      The indexes it replaces, and those no query uses any more (observations
      by host and by URL), go: each costs every recorded page a write.
    * ``verdict_categories``: one row per verdict and category, so ``--category``
      filters in SQL through an index.
    * Foreign keys: findings and analysis runs name their observation; SQLite
      adds none with ALTER, so both tables are rebuilt (findings with
      sqlite-utils ``transform``, the runs by hand as a WITHOUT ROWID table).
      A row naming an observation that is not there (none should) loses the
      link (a finding) or goes (a run of nothing).
    """
    db.conn.create_function("fraudwall_v3_kind", 1, _v3_kind, deterministic=True)
    db.conn.create_function("fraudwall_v3_host_key", 1, _v3_host_key, deterministic=True)
    db.conn.create_function("fraudwall_v3_detectors", 1, _v3_detectors, deterministic=True)

    db["observations"].add_column("payload", str)

    db.execute("UPDATE findings SET observation_id = NULL "
               "WHERE observation_id IS NOT NULL AND observation_id NOT IN (SELECT id FROM observations)")
    db["findings"].add_column("subject_kind", str, not_null_default="host")
    db.execute("UPDATE findings SET subject_kind = fraudwall_v3_kind(subject)")
    db["findings"].transform(add_foreign_keys=[("observation_id", "observations", "id")])
    # The categories findings use, for checking --category: a few seeks, not a pass over every finding.
    db["findings"].create_index(["category"])

    # Rebuilt by hand rather than transformed: WITHOUT ROWID, the runs are stored in their key's
    # order, one B-tree where there were two, and a crawl writes five or so per page.
    db.execute("CREATE TABLE analysis_runs_v3 (observation_id INTEGER NOT NULL REFERENCES observations(id), "
               "detector TEXT NOT NULL, detector_version TEXT, ran_at TEXT, "
               "PRIMARY KEY (observation_id, detector)) WITHOUT ROWID")
    db.execute("INSERT INTO analysis_runs_v3 SELECT observation_id, detector, detector_version, ran_at "
               "FROM analysis_runs WHERE observation_id IN (SELECT id FROM observations)")
    db.execute("DROP TABLE analysis_runs")
    db.execute("ALTER TABLE analysis_runs_v3 RENAME TO analysis_runs")
    db["analysis_runs"].create_index(["detector", "detector_version"])  # the few (plugin, version) pairs, for re-analysis

    db["verdicts"].add_column("subject_kind", str, not_null_default="host")
    db["verdicts"].add_column("host_key", str, not_null_default="")
    db["verdicts"].add_column("detectors", str, not_null_default="[]")
    db["verdicts"].add_column("addresses", str, not_null_default="")
    db.execute(
        "UPDATE verdicts SET subject_kind = fraudwall_v3_kind(subject), host_key = fraudwall_v3_host_key(host), "
        "detectors = fraudwall_v3_detectors(top_findings), addresses = coalesce((SELECT group_concat(ip, ' ') FROM "
        "(SELECT DISTINCT ip FROM observations WHERE final_url = verdicts.subject AND ip > '' ORDER BY ip)), '')")
    # After the addresses above (read by URL), the indexes selection no longer needs go: each costs
    # every recorded page a write at a random place. Verdicts by status or host: the selection index;
    # observations by host (addresses, now on the verdicts) or by URL: no query.
    for index in ("idx_verdicts_status", "idx_verdicts_host", "idx_observations_host", "idx_observations_final_url"):
        db.execute(f"DROP INDEX IF EXISTS {index}")
    # Status first, then the export order: the default selection (one status) reads names in order
    # straight from the index and groups a host's verdicts without sorting; the other columns are
    # there so that no table row is read.
    db.execute("CREATE INDEX idx_verdicts_selection ON verdicts (status, host_key, subject_kind, score, updated_at, "
               "first_seen, host, categories, detectors, addresses, subject)")
    db["verdicts"].create_index(["updated_at"])  # a narrow --since: the few verdicts updated lately

    db.execute(
        "CREATE TABLE verdict_categories (subject TEXT NOT NULL REFERENCES verdicts(subject), "
        "category TEXT NOT NULL, PRIMARY KEY (subject, category)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX idx_verdict_categories_category ON verdict_categories (category, subject)")
    db.execute("INSERT OR IGNORE INTO verdict_categories (subject, category) "
               "SELECT verdicts.subject, each.value FROM verdicts, json_each(verdicts.categories) AS each")


def _v3_kind(subject: str) -> str:
    """A subject's kind as v3 reads it from the subject alone (frozen here: a migration never changes)."""
    if "://" in subject:
        return "url"
    try:
        ipaddress.ip_address(subject.strip("[]"))
    except ValueError:
        return "host"
    return "ip"


def _v3_host_key(host: str | None) -> str:
    """A host's key in export order (labels from the root down); none for a row without a host."""
    return sort_key(host or "")


def _v3_detectors(top_findings: str | None) -> str:
    """The detectors named in a verdict's ``top_findings``: all a v2 row says of its findings' sources."""
    try:
        findings = json.loads(top_findings or "[]")
    except ValueError:
        return "[]"
    return json.dumps(sorted({str(f.get("detector")) for f in findings if isinstance(f, dict) and f.get("detector")}))


#: Migration ``i`` brings the schema from version ``i`` to ``i + 1``.
def _v4_indicator_context(db: Database) -> None:
    """What goes with a verdict that only intelligence formats (and IP sets) publish, and an index to find them.

    * ``verdicts.context``: (key, value) pairs as a JSON list: an APK's
      package, labels, certificates, download URL and host; ``seen_in``, the
      subject of the observation that named a host, wallet or handle.
    * ``idx_verdicts_indicators``: verdicts by kind and status, so the few
      addresses, hashes, wallets and handles of a national store are found
      without passing its millions of names.
    * ``observations.sha256``: an APK observation's file hash, unique, so an
      app downloaded from many places is stored once.
    """
    db["verdicts"].add_column("context", str, not_null_default="[]")
    db.execute("CREATE INDEX idx_verdicts_indicators ON verdicts (subject_kind, status, subject)")
    db["observations"].add_column("sha256", str)
    db.execute("CREATE UNIQUE INDEX idx_observations_sha256 ON observations (sha256) WHERE sha256 IS NOT NULL")


def _v5_name_lifecycle(db: Database) -> None:
    """``names``: the life of each name probed in DNS (see :mod:`fraudwall.blocklists.lifecycle`).

    One row per name: when it was first seen (named by a probe, a permutation
    or a stored verdict), first and last found live, when it went away (an
    NXDOMAIN after it was live), its last outcome, addresses and name servers
    (pivots to other names), and when it is next due for a re-check.
    """
    db["names"].create(
        {
            "name": str, "source": str, "first_seen": str, "first_live": str, "last_live": str, "gone": str,
            "last_probed": str, "last_outcome": str, "addresses": str, "nameservers": str, "next_probe": str,
        },
        pk="name",
        not_null={"first_seen", "next_probe"},
        defaults={"source": "", "addresses": "", "nameservers": ""},
    )
    db["names"].create_index(["next_probe"])


MIGRATIONS: list[Callable[[Database], None]] = [
    _v1_initial, _v2_analysis_runs, _v3_subject_kinds_payloads_and_keys, _v4_indicator_context, _v5_name_lifecycle,
]

SCHEMA_VERSION = len(MIGRATIONS)
