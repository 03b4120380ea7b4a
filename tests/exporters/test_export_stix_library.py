"""STIX verification through the stix2 library in worker processes.

A bundle large enough to be checked in batches on several workers is verified
like a small one: every object parsed, the first object stix2 rejects named,
and no worker left behind whether the bundle passes or fails.
"""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters import ExportMeta, export, get_exporter
from fraudwall.exporters.stix_library import BATCH, LibraryCheck
from fraudwall.models import BlockEntry

WHEN = datetime(2026, 11, 1, tzinfo=UTC)
MANY = BATCH * 3 + 17  # several batches and a partial one, so workers really run


@pytest.fixture(scope="module")
def big_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle of MANY indicators, exported and verified once."""
    path = tmp_path_factory.mktemp("stix") / "big.stix.json"
    entries = [BlockEntry(f"n{index}.fraud.example.com") for index in range(MANY)]
    assert export(entries, "stix", path, title="big", verify=True, generated_at=WHEN).verified
    return path


def _tampered(source: Path, target: Path, index: int) -> str:
    """``source`` with indicator ``index`` made invalid for stix2 only (valid_until before valid_from)."""
    lines = source.read_text(encoding="utf-8").split("\n")
    line = lines[index + 2]  # after the opening and the identity
    comma = line.endswith(",")
    item = json.loads(line.removesuffix(","))
    item["valid_until"] = "2000-01-01T00:00:00Z"
    lines[index + 2] = json.dumps(item, separators=(",", ":")) + ("," if comma else "")
    target.write_text("\n".join(lines), encoding="utf-8")
    return item["id"]


def test_large_bundle_passes_on_workers(big_bundle: Path) -> None:
    """The exported bundle passes re-verification by every worker; the workers are gone afterwards."""
    get_exporter("stix").verify(big_bundle, ExportMeta("big", WHEN))
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("index", [5, BATCH + 3, MANY - 1])
def test_rejected_object_is_named_wherever_it_is(big_bundle: Path, tmp_path: Path, index: int) -> None:
    """An indicator that only stix2 can fault is found in the first, a middle or the last batch."""
    bad_id = _tampered(big_bundle, tmp_path / "bad.stix.json", index)
    with pytest.raises(VerificationError, match=f"stix2 rejected {bad_id}"):
        get_exporter("stix").verify(tmp_path / "bad.stix.json", ExportMeta("big", WHEN))
    assert multiprocessing.active_children() == []


def test_inline_and_pooled_checks_agree(big_bundle: Path) -> None:
    """One worker (checked in this process) and two workers reject the same object."""
    lines = big_bundle.read_text(encoding="utf-8").split("\n")[2:-2]
    objects = [line.removesuffix(",") for line in lines]
    item = json.loads(objects[BATCH + 1])
    item["valid_until"] = "2000-01-01T00:00:00Z"
    objects[BATCH + 1] = json.dumps(item)
    for workers in (1, 2):
        check = LibraryCheck(workers)
        with pytest.raises(ExportError, match=item["id"]):
            for text in objects:
                check.add(text)
            check.finish()
        assert multiprocessing.active_children() == []
