"""Adblock-style list specifics: priorities for nested exceptions, metadata, the owner check.

No AdGuard engine runs here (none is packaged for Debian or PyPI); decisions are
checked with the contract test's model of AdGuard's DNS rule priorities, which
follows AdGuard's published DNS filtering syntax.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudwall.exceptions import VerificationError
from fraudwall.exporters import ExportMeta, export, get_exporter
from fraudwall.models import Action, BlockEntry, Scope
from tests.exporters.test_export_contract import CONSUMERS
from tests.exporters.test_export_dnsmasq import ENTRIES, INTENDED

# Five alternating subtrees: each one must beat the one above it.
NESTED = [
    BlockEntry("n.example.com", scope=Scope.SUBTREE),
    BlockEntry("a.n.example.com", scope=Scope.SUBTREE, action=Action.ALLOW),
    BlockEntry("b.a.n.example.com", scope=Scope.SUBTREE),
    BlockEntry("c.b.a.n.example.com", scope=Scope.SUBTREE, action=Action.ALLOW),
    BlockEntry("d.c.b.a.n.example.com", scope=Scope.SUBTREE),
]


def test_intended_policy_holds_with_one_important_rule(meta: ExportMeta) -> None:
    """Every probe gets the intended policy; only the block below an allowed subtree needs $important."""
    text = get_exporter("adblock").render(ENTRIES, meta)
    assert [line for line in text.splitlines() if line.endswith("$important")] == [
        "|bad.free.tree.example.com^$important"
    ]
    blocked = CONSUMERS["adblock"](text)
    for name, expected in INTENDED.items():
        assert blocked(name) is expected, name


def test_nested_exceptions_are_ranked_with_important(meta: ExportMeta) -> None:
    """A block below an exception gets $important, an exception below that @@...$important; the
    fifth level cannot outrank an important exception, so it is left out and counted."""
    text = get_exporter("adblock").render(NESTED, meta)
    rules = [line for line in text.splitlines() if not line.startswith("!")]
    assert rules == [
        "||n.example.com^",
        "@@||a.n.example.com^",
        "||b.a.n.example.com^$important",
        "@@||c.b.a.n.example.com^$important",
    ]
    assert "left out: 1" in text
    blocked = CONSUMERS["adblock"](text)
    assert blocked("x.n.example.com") and not blocked("x.a.n.example.com")
    assert blocked("x.b.a.n.example.com") and not blocked("x.c.b.a.n.example.com")
    assert not blocked("d.c.b.a.n.example.com")  # the one rule that could not be written


def test_exact_exception_beside_a_subtree_block(meta: ExportMeta) -> None:
    """Blocked subtree, allowed apex: both rules are written, for the same name, and both count."""
    entries = [BlockEntry("both.example.com", scope=Scope.SUBTREE), BlockEntry("both.example.com", action=Action.ALLOW)]
    text = get_exporter("adblock").render(entries, meta)
    assert text.splitlines()[-2:] == ["||both.example.com^", "@@|both.example.com^"]


def test_title_and_last_modified_lead_the_file(meta: ExportMeta) -> None:
    """AdGuard Home takes a list's name from the first "! Title: " line; it is the first line."""
    lines = get_exporter("adblock").render([], meta).splitlines()
    assert lines[:2] == ["! Title: fraudwall test list", "! Last modified: 2024-11-25T08:00:00Z"]
    assert sum(line.startswith("! Title: ") for line in lines) == 1


def test_verify_refuses_a_rule_written_twice(tmp_path: Path, meta: ExportMeta) -> None:
    """An exact and a subtree rule may share a name; the same rule twice may not."""
    path = tmp_path / "list.txt"
    export([BlockEntry("fine.example.com")], "adblock", path, title="t", verify=True, generated_at=meta.generated_at)
    path.write_text(path.read_text() + "||fine.example.com^\n")
    get_exporter("adblock").verify(path, meta)
    path.write_text(path.read_text() + "||fine.example.com^$important\n")
    with pytest.raises(VerificationError, match="duplicate owner"):
        get_exporter("adblock").verify(path, meta)
