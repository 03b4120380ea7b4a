"""RPZ specifics: BIND's own checker, the serial across exports, zone-name limits, options, explicit wildcards.

A real Unbound loading this format is tested in test_export_unbound, beside its fixtures.
"""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters import ExportMeta, export, get_exporter, policy_tree, rpz
from fraudwall.exporters.policy_tree import PolicySpan
from fraudwall.exporters.rpz import next_serial, read_serial, serial_is_greater
from fraudwall.exporters.validation import PreparedEntries
from fraudwall.exporters.verify import verify_rpz
from fraudwall.models import Action, BlockEntry, Scope
from tests.exporters.test_export_contract import CONSUMERS

# Nested owners below a blocked subtree, where Unbound's one-wildcard lookup parts
# from BIND's closest wildcard unless the zone spells every wildcard out.
NESTED_ENTRIES = [
    BlockEntry("x.tree", scope=Scope.SUBTREE),
    BlockEntry("ok.x.tree", action=Action.ALLOW),  # exact exception: the names below it stay blocked
    BlockEntry("c.a.b.x.tree"),  # exact block two unlisted names below the subtree...
    BlockEntry("ok.c.a.b.x.tree", action=Action.ALLOW),  # ...with an exception below it
    BlockEntry("d.e.x.tree"),  # exact block the subtree covers: no record of its own
    BlockEntry("free.x.tree", scope=Scope.SUBTREE, action=Action.ALLOW),  # allowed subtree
    BlockEntry("bad.free.x.tree"),  # exact block inside the allowed subtree
]
# What "the closest listed name wins" means for each probe: True is blocked.
NESTED_INTENDED = {
    "x.tree": True,
    "b.x.tree": True,
    "a.b.x.tree": True,
    "y.a.b.x.tree": True,
    "c.a.b.x.tree": True,
    "y.c.a.b.x.tree": True,
    "ok.c.a.b.x.tree": False,
    "y.ok.c.a.b.x.tree": True,
    "e.x.tree": True,
    "d.e.x.tree": True,
    "y.d.e.x.tree": True,
    "ok.x.tree": False,
    "y.ok.x.tree": True,
    "a.y.ok.x.tree": True,
    "z.x.tree": True,
    "free.x.tree": False,
    "a.free.x.tree": False,
    "a.b.free.x.tree": False,
    "bad.free.x.tree": True,
    "y.bad.free.x.tree": False,
    "z.free.x.tree": False,
}


def _serial(path: Path) -> int:
    """The SOA serial written in ``path``."""
    match = re.search(r"^@ IN SOA \S+ \S+ (\d+) ", path.read_text(), re.MULTILINE)
    assert match is not None
    return int(match.group(1))


def test_named_checkzone_is_installed() -> None:
    """The real checker must be there: ``make test`` installs bind9-utils, so a miss is a failure."""
    assert shutil.which("named-checkzone"), "named-checkzone missing: apt install bind9-utils"


@pytest.mark.parametrize("zone", ["fraudwall.rpz", "rpz.isp.example.net"])
def test_named_checkzone_accepts_the_zone(
    zone: str, tmp_path: Path, meta: ExportMeta, sample_entries: list[BlockEntry]
) -> None:
    """BIND loads the rendered zone (subtrees, passthru, underscores, IDN) under any zone name."""
    path = tmp_path / "fraud.rpz"
    path.write_text(get_exporter("rpz").render(sample_entries, meta), encoding="utf-8")
    verify_rpz(path, zone)


def test_named_checkzone_failure_carries_its_output(tmp_path: Path) -> None:
    """A zone BIND refuses raises VerificationError with BIND's reason in the message."""
    path = tmp_path / "broken.rpz"
    path.write_text(
        "$TTL 300\n@ IN SOA localhost. hostmaster.localhost. 1 3600 600 2419200 300\n"
        "@ IN NS localhost.\nbad.example.com CNAME .\nbad.example.com A 192.0.2.1\n"
    )
    with pytest.raises(VerificationError, match="CNAME and other data"):
        verify_rpz(path, "fraudwall.rpz")


def test_missing_checker_is_an_export_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without named-checkzone the export fails as not installed, not as a bad zone."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExportError, match="named-checkzone not installed") as info:
        verify_rpz(tmp_path / "any.rpz", "fraudwall.rpz")
    assert type(info.value) is ExportError


def test_serial_increases_on_every_export_to_the_same_path(tmp_path: Path, generated_at: datetime) -> None:
    """Two exports in the same second still get increasing serials; a later one uses its time."""
    path = tmp_path / "fraud.rpz"
    entries = [BlockEntry("a.example.com")]
    export(entries, "rpz", path, title="t", verify=True, generated_at=generated_at)
    first = _serial(path)
    export(entries, "rpz", path, title="t", verify=True, generated_at=generated_at)
    assert first == int(generated_at.timestamp())
    assert _serial(path) == first + 1
    later = generated_at + timedelta(hours=1)
    export(entries, "rpz", path, title="t", verify=True, generated_at=later)
    assert _serial(path) == int(later.timestamp())


def test_serial_continues_a_larger_previous_serial(tmp_path: Path, generated_at: datetime) -> None:
    """A zone once numbered YYYYMMDDnn keeps counting up instead of jumping back to a timestamp."""
    path = tmp_path / "fraud.rpz"
    export([], "rpz", path, title="t", verify=True, generated_at=generated_at, serial=2024112501)
    export([], "rpz", path, title="t", verify=True, generated_at=generated_at)
    assert _serial(path) == 2024112502


def test_serial_follows_rfc_1982_arithmetic(generated_at: datetime) -> None:
    """Serials compare modulo 2**32: past 2**32 - 1 comes 0, and a timestamp may count as greater."""
    assert serial_is_greater(0, 2**32 - 1) and not serial_is_greater(5, 5)
    assert not serial_is_greater(2**31 + 5, 5)  # half the circle away is not "after"
    near_end = datetime.fromtimestamp(2**32 - 10, tz=UTC)
    assert next_serial(2**32 - 1, near_end) == 0
    # 2024's timestamp is "after" 4294967295 in serial arithmetic, so it is used as is.
    assert next_serial(2**32 - 1, generated_at) == int(generated_at.timestamp())
    assert next_serial(None, generated_at) == int(generated_at.timestamp())


def test_foreign_file_at_the_path_is_not_overwritten(tmp_path: Path, generated_at: datetime) -> None:
    """A file without fraudwall's SOA has an unknown serial; guessing could send it backwards."""
    path = tmp_path / "fraud.rpz"
    path.write_text("hello\n")
    with pytest.raises(ExportError, match="no fraudwall SOA"):
        export([], "rpz", path, title="t", verify=True, generated_at=generated_at)
    assert path.read_text() == "hello\n"
    assert read_serial(tmp_path / "absent.rpz") is None


def test_names_too_long_for_the_zone_are_rejected(tmp_path: Path, meta: ExportMeta) -> None:
    """Owner plus ``*.`` plus ``.zone`` must fit 253 characters, or BIND refuses the whole zone."""
    limit = 253 - len("fraudwall.rpz") - 3
    prefix = ".".join(["a" * 63] * 3)
    longest = f"{prefix}.{'b' * (limit - len(prefix) - 5)}.com"
    too_long = f"{prefix}.{'b' * (limit - len(prefix) - 4)}.com"
    assert (len(longest), len(too_long)) == (limit, limit + 1)
    exporter = get_exporter("rpz")
    entries = [BlockEntry(longest, scope=Scope.SUBTREE), BlockEntry(too_long)]
    prepared = exporter.prepare(entries, meta)
    assert prepared.rejections == {"too-long-for-format": 1}
    path = tmp_path / "long.rpz"
    path.write_text(exporter.render_prepared(prepared, meta))
    verify_rpz(path, "fraudwall.rpz")


@pytest.mark.parametrize(
    "options",
    [{"zone": "not a zone"}, {"zone": "rpz"}, {"ttl": -1}, {"ttl": True}, {"ttl": "300"}, {"serial": 2**32}],
)
def test_bad_options_are_export_errors(options: dict[str, object], generated_at: datetime) -> None:
    """Options reach a zone file, so each one is checked before rendering."""
    with pytest.raises(ExportError):
        get_exporter("rpz").render([], ExportMeta("t", generated_at, options))


@pytest.mark.parametrize("zone", ["fraudwall.rpz", "rpz.isp.example.net"])
def test_named_checkzone_accepts_the_nested_wildcards(zone: str, tmp_path: Path, meta: ExportMeta) -> None:
    """The extra ``*.name`` and ``*.between`` records load in BIND: no owner twice, none with other data."""
    path = tmp_path / "nested.rpz"
    path.write_text(get_exporter("rpz").render(NESTED_ENTRIES, meta), encoding="utf-8")
    verify_rpz(path, zone)


def test_bind_and_unbound_lookups_read_the_same_policy(meta: ExportMeta) -> None:
    """Under BIND's closest-wildcard lookup and Unbound's one-wildcard lookup (the contract's models,
    each checked against the real server), every probe gets the intended answer from one zone."""
    text = get_exporter("rpz").render(NESTED_ENTRIES, meta)
    bind_model, unbound_model = CONSUMERS["rpz"](text), CONSUMERS["unbound-rpz"](text)
    for name, blocked in NESTED_INTENDED.items():
        assert bind_model(name) is blocked and unbound_model(name) is blocked, name


def test_every_wildcard_the_policy_needs_is_written_and_counted(meta: ExportMeta) -> None:
    """The wildcards are the subtree's own, the exact exceptions' and the unlisted names' between the subtree
    and an exception; the header counts exactly the ``*.`` records written, and the covered names left out."""
    text = get_exporter("rpz").render(NESTED_ENTRIES, meta)
    wildcards = [line for line in text.splitlines() if line.startswith("*.")]
    assert wildcards == [
        "*.x.tree CNAME .",
        "*.b.x.tree CNAME .",
        "*.a.b.x.tree CNAME .",
        "*.c.a.b.x.tree CNAME .",
        "*.ok.c.a.b.x.tree CNAME .",
        "*.free.x.tree CNAME rpz-passthru.",
        "*.ok.x.tree CNAME .",
    ]
    assert f"below it: {len(wildcards)}" in text
    # A block the subtree covers, with no exception below it, is left to the subtree's wildcard.
    assert not [line for line in text.splitlines() if line.split(" ")[0] in ("e.x.tree", "*.e.x.tree", "d.e.x.tree")]
    assert "written no record: 1" in text
    # An exact block with nothing blocked above it keeps the names below it resolving: no wildcard.
    assert "*.bad.free.x.tree" not in text


def test_deep_names_below_a_blocked_subtree_cost_no_records(meta: ExportMeta) -> None:
    """A hostile list of deep names below a blocked subtree does not multiply the zone: the subtree's
    two records answer them all (each used to spell out every name in between, a hundred lines a name)."""
    deep = [BlockEntry(f"n{n}." + "a." * 100 + "evil.top") for n in range(200)]
    text = get_exporter("rpz").render([BlockEntry("evil.top", scope=Scope.SUBTREE), *deep], meta)
    assert "entries: 201 (201 block, 0 allow)" in text
    records = [line for line in text.splitlines() if " CNAME " in line and not line.startswith(";")]
    assert records == ["evil.top CNAME .", "*.evil.top CNAME ."]
    bind_model, unbound_model = CONSUMERS["rpz"](text), CONSUMERS["unbound-rpz"](text)
    assert all(bind_model(entry.name) and unbound_model(entry.name) for entry in deep[:5])


@pytest.mark.parametrize("format_name", ["rpz", "unbound-rpz"])
def test_exceptions_deep_below_a_blocked_subtree_are_rejected(format_name: str, meta: ExportMeta) -> None:
    """An exception more than eight labels below the blocked subtree it excepts from would cost two records per
    label: it is rejected and counted. Shallower ones, and deep ones below an allowed subtree, stay."""
    deep = "ok." + "a." * 8 + "x.tree"
    entries = [
        BlockEntry("x.tree", scope=Scope.SUBTREE),
        BlockEntry(deep, action=Action.ALLOW),
        BlockEntry("ok." + "a." * 7 + "x.tree", action=Action.ALLOW),
        BlockEntry("free.x.tree", scope=Scope.SUBTREE, action=Action.ALLOW),
        BlockEntry("ok." + "b." * 12 + "free.x.tree", action=Action.ALLOW),
    ]
    exporter = get_exporter(format_name)
    prepared = exporter.prepare(entries, meta)
    assert dict(prepared.rejections) == {"exception-too-deep-for-rpz": 1}
    assert prepared.samples == ((deep, "exception-too-deep-for-rpz"),)
    assert len(prepared.allowed) == 3
    text = exporter.render_prepared(prepared, meta)
    bind_model, unbound_model = CONSUMERS["rpz"](text), CONSUMERS["unbound-rpz"](text)
    assert bind_model(deep) and unbound_model(deep)  # the rejected exception's name stays blocked
    assert not bind_model("ok." + "a." * 7 + "x.tree") and not unbound_model("ok." + "a." * 7 + "x.tree")


def _closest_listed_name_wins(entries: list[BlockEntry]) -> Callable[[str], bool]:
    """The intended policy of ``entries`` straight from its definition, for any probe name."""
    # Entries for one name and action merge into a subtree entry if any of them is one.
    blocks: dict[str, Scope] = {}
    allows: dict[str, Scope] = {}
    for entry in entries:
        listed = blocks if entry.action is Action.BLOCK else allows
        if listed.get(entry.name) is not Scope.SUBTREE:
            listed[entry.name] = entry.scope

    def closest_listed_ancestor(name: str) -> str | None:
        labels = name.split(".")
        return next((".".join(labels[cut:]) for cut in range(1, len(labels))
                     if ".".join(labels[cut:]) in blocks.keys() | allows.keys()), None)

    def gives_below(name: str | None) -> bool:
        if name is None or allows.get(name) is Scope.SUBTREE:
            return False
        return blocks.get(name) is Scope.SUBTREE or gives_below(closest_listed_ancestor(name))

    def blocked(name: str) -> bool:
        if name in blocks or name in allows:
            return name not in allows
        return gives_below(closest_listed_ancestor(name))

    return blocked


def _render_unsplit(prepared: PreparedEntries, meta: ExportMeta, monkeypatch: pytest.MonkeyPatch) -> str:
    """The zone with the whole list walked as one tree (no plain blocks set apart)."""
    with monkeypatch.context() as patch:
        patch.setattr(rpz, "policy_spans", lambda whole: iter([PolicySpan((), whole)]))
        return get_exporter("rpz").render_prepared(prepared, meta)


def _render_split(prepared: PreparedEntries, meta: ExportMeta, monkeypatch: pytest.MonkeyPatch) -> str:
    """The zone with the plain blocks set apart however few they are."""
    with monkeypatch.context() as patch:
        patch.setattr(policy_tree, "SPLIT_RATIO", 0)
        return get_exporter("rpz").render_prepared(prepared, meta)


def test_random_lists_mean_the_same_to_bind_and_unbound(meta: ExportMeta, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random nests of subtree and exact blocks and exceptions: under both lookups every probe gets what
    "the closest listed name wins" says, and setting plain blocks apart (or not) writes the same zone."""
    labels = ["a", "b", "c"]
    below = ["", *labels, *(f"{x}.{y}" for x in labels for y in labels),
             *(f"{x}.{y}.{z}" for x in labels for y in labels for z in labels)]
    universe = [f"{prefix}.tree.example.com" if prefix else "tree.example.com" for prefix in below]
    probes = universe + [f"d.{name}" for name in universe]
    rng = random.Random(1982)
    for _ in range(300):
        entries = [BlockEntry(rng.choice(universe), scope=rng.choice([Scope.EXACT, Scope.SUBTREE]),
                              action=rng.choice([Action.BLOCK, Action.BLOCK, Action.ALLOW]))
                   for _ in range(rng.randint(1, 10))]
        prepared = get_exporter("rpz").prepare(entries, meta)
        text = get_exporter("rpz").render_prepared(prepared, meta)
        assert text == _render_unsplit(prepared, meta, monkeypatch) == _render_split(prepared, meta, monkeypatch)
        intended = _closest_listed_name_wins(entries)
        bind_model, unbound_model = CONSUMERS["rpz"](text), CONSUMERS["unbound-rpz"](text)
        for name in probes:
            assert bind_model(name) is intended(name) and unbound_model(name) is intended(name), (entries, name)


@pytest.mark.parametrize(
    ("extra", "plain"),
    [
        ([], 2000),
        ([BlockEntry("ok.x.tree", action=Action.ALLOW)], 2000),
        ([BlockEntry("n7.x.tree", scope=Scope.SUBTREE)], 1999),
        ([BlockEntry("x.tree", scope=Scope.SUBTREE)], 0),  # every name is below it
        # An exception right where a subtree's span ends, before plain blocks: it belongs to that span.
        ([BlockEntry("a.x.tree", scope=Scope.SUBTREE), BlockEntry("b.x.tree", action=Action.ALLOW)], 2000),
    ],
    ids=["plain", "allow", "subtree", "all-below", "touching"],
)
def test_plain_blocks_of_a_big_list_are_written_from_the_name_column(
    extra: list[BlockEntry], plain: int, meta: ExportMeta, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of exact blocks with a few subtree entries or exceptions among them: the plain blocks
    come as runs of names, the rest as small trees, and the zone is the one a walk of every name writes."""
    entries = [BlockEntry(f"n{number}.x.tree") for number in range(2000)] + extra
    prepared = get_exporter("rpz").prepare(entries, meta)
    assert sum(len(span.plain) for span in policy_tree.policy_spans(prepared)) == plain
    assert get_exporter("rpz").render_prepared(prepared, meta) == _render_unsplit(prepared, meta, monkeypatch)
