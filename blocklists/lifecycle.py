"""The life of a name in DNS: first seen, first live, last live, gone, and when to look again.

A name enters the ``names`` table when something names it: a probe, a
registered permutation, or a stored verdict on a host (``fraudwall recheck``
takes those in first). Each probe then moves its dates:

* *live*: the name exists with an answer of its own (NOERROR, and not only
  through a wildcard of a parent zone): ``first_live`` once, ``last_live``
  each time; a name that comes back after it was gone is live again;
* *gone*: NXDOMAIN for a name that was live: ``gone`` is set (once, until it
  is live again);
* SERVFAIL, TIMEOUT and REFUSED say nothing about the name: only
  ``last_probed`` and ``last_outcome`` move, and it is due again sooner.

A name is due for its next probe ``RECHECK_HOURS`` after the last one while it
is live or unknown, ``RECHECK_GONE_HOURS`` after once it is gone or never was
live (scammers re-register, but rarely the next day), and
``RECHECK_RETRY_HOURS`` after a failed probe.

:func:`dns_pivots` gives the DNS detectors the addresses and name servers of
names already judged malicious (:class:`~fraudwall.models.DnsPivots`).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from fraudwall.blocklists.store import Store
from fraudwall.models import DnsObservation, DnsPivots
from fraudwall.settings import Settings

#: Blocked names kept per pivot: enough to show the link, not the whole campaign.
NAMES_PER_PIVOT = 3

#: Outcomes that say nothing about the name, only about the way to it.
FAILURES = frozenset({"SERVFAIL", "TIMEOUT", "REFUSED"})


@dataclass(frozen=True, slots=True)
class NameState:
    """One row of ``names``: a name's dates (ISO 8601, ``""`` when not yet) and last outcome."""

    name: str
    source: str
    first_seen: str
    first_live: str
    last_live: str
    gone: str
    last_probed: str
    last_outcome: str
    addresses: str
    nameservers: str
    next_probe: str


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def is_live(observation: DnsObservation) -> bool:
    """True when the probe found the name with an answer of its own (a wildcard's answer proves nothing)."""
    return observation.rcode == "NOERROR" and not observation.wildcard


class Lifecycle:
    """The ``names`` table of a store: track names, find those due, record what probes found."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.db = store.db
        self.live_interval = timedelta(hours=settings.getfloat("RECHECK_HOURS"))
        self.quiet_interval = timedelta(hours=settings.getfloat("RECHECK_GONE_HOURS"))
        self.retry_interval = timedelta(hours=settings.getfloat("RECHECK_RETRY_HOURS"))

    def track(self, names: Iterable[str], source: str, now: datetime | None = None) -> int:
        """Start following ``names`` (due at once); names already followed keep their dates. New ones counted."""
        moment = _iso(now or datetime.now(timezone.utc))
        before = self.db["names"].count
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO names (name, source, first_seen, next_probe) VALUES (?, ?, ?, ?)",
                [(name, source, moment, moment) for name in names],
            )
        return self.db["names"].count - before

    def track_verdicts(self, now: datetime | None = None) -> int:
        """Follow every host a stored verdict judged malicious or suspicious; the number newly followed."""
        moment = _iso(now or datetime.now(timezone.utc))
        before = self.db["names"].count
        with self.db.atomic():
            self.db.execute(
                "INSERT OR IGNORE INTO names (name, source, first_seen, next_probe) "
                "SELECT subject, 'verdict', first_seen, ? FROM verdicts "
                "WHERE subject_kind = 'host' AND status IN ('malicious', 'suspicious')",
                [moment],
            )
        return self.db["names"].count - before

    def due(self, now: datetime | None = None, limit: int | None = None) -> list[str]:
        """The names whose next probe is due, longest overdue first."""
        moment = _iso(now or datetime.now(timezone.utc))
        query = "SELECT name FROM names WHERE next_probe <= ? ORDER BY next_probe, name"
        params: list[object] = [moment]
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        return [row[0] for row in self.db.execute(query, params)]

    def record(self, observations: Sequence[DnsObservation], now: datetime | None = None,
               source: str = "probe") -> Counter[str]:
        """Move each probed name's dates (following names not yet followed, from ``source``); the transitions,
        counted.

        Transitions: ``first live``, ``live`` (again), ``back`` (live after it
        was gone), ``gone``, ``still gone``, ``never live``, ``wildcard only``,
        ``failed`` (no answer that says anything).
        """
        moment_dt = now or datetime.now(timezone.utc)
        moment = _iso(moment_dt)
        transitions: Counter[str] = Counter()
        self.track((observation.name for observation in observations), source, moment_dt)
        with self.db.atomic():
            for observation in observations:
                state = self.state(observation.name)
                assert state is not None  # tracked just above
                transition, fields = self._next(state, observation, moment, moment_dt)
                transitions[transition] += 1
                assignments = ", ".join(f"{column} = ?" for column in fields)
                self.db.execute(f"UPDATE names SET {assignments} WHERE name = ?", [*fields.values(), observation.name])
        return transitions

    def _next(self, state: NameState, observation: DnsObservation, moment: str,
              moment_dt: datetime) -> tuple[str, dict[str, str]]:
        fields = {"last_probed": moment, "last_outcome": observation.rcode}
        if observation.rcode in FAILURES:
            fields["next_probe"] = _iso(moment_dt + self.retry_interval)
            return "failed", fields
        if is_live(observation):
            transition = "back" if state.gone else "live" if state.first_live else "first live"
            fields.update(last_live=moment, gone="", next_probe=_iso(moment_dt + self.live_interval),
                          addresses=" ".join(sorted({*observation.values("A"), *observation.values("AAAA")})),
                          nameservers=" ".join(sorted(observation.values("NS"))))
            if not state.first_live:
                fields["first_live"] = moment
            return transition, fields
        fields["next_probe"] = _iso(moment_dt + self.quiet_interval)
        if observation.rcode == "NOERROR":  # answered only through a parent's wildcard
            return "wildcard only", fields
        if state.first_live and not state.gone:
            fields["gone"] = moment
            return "gone", fields
        return "never live" if not state.first_live else "still gone", fields

    def state(self, name: str) -> NameState | None:
        """The row of ``name``, or None when it is not followed."""
        row = self.db.execute(f"SELECT {', '.join(NameState.__slots__)} FROM names WHERE name = ?", [name]).fetchone()
        return NameState(*(value or "" for value in row)) if row else None


def dns_pivots(store: Store) -> DnsPivots:
    """The public addresses and the name servers of names judged malicious, each to a few of those names.

    Addresses come from verdicts (where pages and probes saw the names), name
    servers from the names probed. Loopback, private and other non-global
    addresses are left out: they link nothing on the Internet.
    """
    addresses: dict[str, list[str]] = {}
    for subject, stored in store.db.execute(
        "SELECT subject, addresses FROM verdicts WHERE status = 'malicious' AND addresses != '' ORDER BY subject"
    ):
        for address in stored.split():
            names = addresses.setdefault(address, [])
            if len(names) < NAMES_PER_PIVOT and _is_global(address):
                names.append(subject)
    nameservers: dict[str, list[str]] = {}
    for name, stored in store.db.execute(
        "SELECT n.name, n.nameservers FROM names n JOIN verdicts v ON v.subject = n.name "
        "WHERE v.status = 'malicious' AND n.nameservers != '' ORDER BY n.name"
    ):
        for server in stored.split():
            names = nameservers.setdefault(server, [])
            if len(names) < NAMES_PER_PIVOT:
                names.append(name)
    return DnsPivots({key: tuple(value) for key, value in addresses.items() if value},
                     {key: tuple(value) for key, value in nameservers.items()})


def _is_global(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_global
    except ValueError:
        return False
