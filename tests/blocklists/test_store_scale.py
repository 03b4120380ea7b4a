"""The store benchmark's synthetic store, small: selection and re-analysis return what the store holds.

``benchmarks/store.py`` measures these at two million names; here the same
generator builds 20,000, and the answers, not their times, are checked.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import pytest

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.blocklists.selection import SelectionFilter, select_entries
from fraudwall.blocklists.store import Store
from fraudwall.entries import CompiledEntries, sort_key
from fraudwall.models import Scope
from tests.conftest import REPO

NAMES = 20_000


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """``benchmarks/store.py`` as a module (the benchmarks folder is scripts, not a package)."""
    sys.path.insert(0, str(REPO / "benchmarks"))  # it imports its sibling synthetic.py
    spec = importlib.util.spec_from_file_location("store_benchmark", REPO / "benchmarks" / "store.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """A 20,000-name synthetic store and what the generator says it holds."""
    path = tmp_path_factory.mktemp("scale") / "store.db"
    return path, bench.build_store(path, NAMES)


def test_selection_returns_every_malicious_host_once(built: tuple[Path, object]) -> None:
    """Every malicious host becomes one name entry in export order (registered domains as subtrees) with its
    addresses; addresses and the allowlisted bank come as URLs, each refused once as a name; benign and
    suspicious hosts and APK verdicts never come."""
    path, expected = built
    with Store.open(path, create=False) as store:
        selection = select_entries(store, PublishGuard.from_files())
    entries = selection.entries
    assert isinstance(entries, CompiledEntries)
    blocks = entries.blocks
    assert len(blocks) == expected.names and blocks.subtree_count() == expected.subtrees  # type: ignore[attr-defined]
    assert blocks.names == sorted(set(blocks.names), key=sort_key)
    assert len(entries.others) == expected.urls and all(entry.url for entry in entries.others)  # type: ignore[attr-defined]
    assert selection.refused.counts == expected.refused  # type: ignore[attr-defined]
    assert all(entry.addresses and entry.categories and entry.sources for entry in blocks)
    assert all(len(name) != 64 for name in blocks.names)  # no APK hash became a name


def test_filters_narrow_the_synthetic_store(built: tuple[Path, object]) -> None:
    """Suspicious verdicts join when asked for; a score floor and a category keep a part of the names."""
    path, expected = built
    guard = PublishGuard.from_files()
    with Store.open(path, create=False) as store:
        both = select_entries(store, guard, SelectionFilter(statuses=("malicious", "suspicious")))
        high = select_entries(store, guard, SelectionFilter(min_score=0.95))
        loans = select_entries(store, guard, SelectionFilter(categories=("loan",)))
    assert len(both.entries.blocks) > expected.names  # type: ignore[attr-defined]
    assert 0 < len(high.entries.blocks) < expected.names / 3  # type: ignore[attr-defined]
    assert all("loan" in entry.categories for entry in loans.entries)
    assert all(entry.confidence >= 0.95 for entry in high.entries)
    assert {entry.scope for entry in loans.entries.blocks} == {Scope.EXACT, Scope.SUBTREE}  # type: ignore[attr-defined]


def test_pending_finds_the_pages_an_upgrade_left_behind(bench: ModuleType, built: tuple[Path, object]) -> None:
    """After url_shape's upgrade (0.9 -> 0.10, newer as a version though not as text), exactly the pages that
    ran 0.9 are pending, for url_shape alone; a new plugin makes every observation pending, in order, with
    url_shape where it is owed too (the first few read back: each page is parsed again as it comes)."""
    path, expected = built
    with Store.open(path, create=False) as store:
        pending = list(store.pending(bench.PLUGINS))
        assert len(pending) == expected.stale_observations  # type: ignore[attr-defined]
        assert {stored.plugins for stored in pending} == {frozenset({"url_shape"})}
        added = list(itertools.islice(store.pending({**bench.PLUGINS, "new_plugin": "1.0"}), 500))
        assert [stored.observation_id for stored in added] == list(range(1, 501))
        assert {stored.observation_id: stored.plugins for stored in added} == {
            number: frozenset({"new_plugin", "url_shape"} if number % bench.STALE_EVERY == 0 else {"new_plugin"})
            for number in range(1, 501)}
