"""The demo end to end, as a new user runs it: serve, crawl, analyse, store, export."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fraudwall.demo.server import bundled_site


def _site_labels() -> dict[str, str]:
    """Host -> fraud/benign, from the demo site's own manifest."""
    labels: dict[str, str] = {}
    with open(bundled_site() / "manifest.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            labels[urlsplit(row["url"]).hostname] = row["label"]
    return labels


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One `fraudwall demo --out DIR` run shared by the tests of this module."""
    out = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "fraudwall.cli", "demo", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    return out, result


def _names(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.split()[-1] for line in lines if line and not line.startswith("#")}


def test_demo_succeeds_and_prints_summary(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """The demo exits 0 and reports pages, findings by category and names blocked."""
    out, result = demo_run
    assert result.returncode == 0, result.stderr
    for text in ("pages analysed", "findings: ", "names blocked", "blocked names"):
        assert text in result.stdout
    assert (out / "fraudwall.db").is_file()


def test_fraud_hosts_blocked_and_benign_hosts_not(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """Every fraud site of the demo is in the hosts file and the domain list; no benign site is."""
    out, result = demo_run
    assert result.returncode == 0, result.stderr
    labels = _site_labels()
    fraud = {host for host, label in labels.items() if label == "fraud"}
    benign = {host for host, label in labels.items() if label == "benign"}
    assert fraud and benign
    for file in ("blocklist.hosts", "domains.txt"):
        names = _names(out / file)
        assert fraud <= names, f"{file} misses {sorted(fraud - names)}"
        assert not benign & names, f"{file} blocks benign {sorted(benign & names)}"


def test_rpz_passes_named_checkzone(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """BIND's own checker accepts the demo RPZ, which blocks each fraud domain and its subtree."""
    out, _ = demo_run
    rpz = out / "fraud.rpz"
    check = subprocess.run(["named-checkzone", "rpz.fraudwall", str(rpz)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    text = rpz.read_text(encoding="utf-8")
    assert "shuadan-fanli.top CNAME ." in " ".join(text.split())
    assert "*.shuadan-fanli.top CNAME ." in " ".join(text.split())


def test_report_counts_beside_outputs(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """Each published list has a JSON report with its entry count."""
    out, _ = demo_run
    report = json.loads((out / "domains.txt.report.json").read_text(encoding="utf-8"))
    assert report["blocked"] == len(_names(out / "domains.txt"))
