"""The store's schema, as an ordered list of migrations.

``PRAGMA user_version`` holds the number of migrations applied, and
``PRAGMA application_id`` marks the file as fraudwall's (:data:`APPLICATION_ID`). Each migration
runs in the same transaction as the version bump, so a process killed halfway
leaves the previous schema intact. Never edit a released migration: append one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

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


#: Migration ``i`` brings the schema from version ``i`` to ``i + 1``.
MIGRATIONS: list[Callable[[Database], None]] = [_v1_initial, _v2_analysis_runs]

SCHEMA_VERSION = len(MIGRATIONS)
