"""``fraudwall analyze apk`` as a user runs it: the fixture apps judged, hostile files rejected, results stored.

The fixture APKs (``tests/data/apks``, built by ``tools/build_test_apks.py``)
were written from descriptions of the scams, not from the detectors; their
``MANIFEST.toml`` says what each should come out as.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from fraudwall.blocklists.store import Store

APKS = Path(__file__).resolve().parent / "data" / "apks"
MANIFEST = {row["file"]: row for row in tomllib.loads((APKS / "MANIFEST.toml").read_text(encoding="utf-8"))["apk"]}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fraudwall.cli", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ})


@pytest.fixture(scope="module")
def analysed() -> tuple[subprocess.CompletedProcess[str], dict[str, dict], list[dict]]:
    """Every fixture analysed in one call over the folder: the process, the APK lines by file, the inner APKs."""
    run = _run("analyze", "apk", str(APKS), "--json")
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    by_file = {Path(line["file"]).name: line for line in lines[:-1] if "inside" not in line}
    inner = [line for line in lines[:-1] if "inside" in line]
    return run, by_file, inner


def test_every_fixture_comes_out_as_its_manifest_says(analysed) -> None:  # type: ignore[no-untyped-def]
    """Fraud apps are malicious, the benign SMS app at most suspicious, the weather app benign, broken files
    rejected with a reason; one line per file and a summary that adds up."""
    run, by_file, _ = analysed
    assert run.returncode == 0, run.stderr
    assert set(by_file) == set(MANIFEST)
    wrong = {}
    for file, row in MANIFEST.items():
        line, expected = by_file[file], row["expected"]
        got = "rejected" if "rejected" in line else line["verdict"]
        if {"malicious": got == "malicious", "suspicious-at-most": got in ("suspicious", "benign"),
                "benign": got == "benign", "rejected": got == "rejected"}[expected] is False:
            wrong[file] = (expected, got, line.get("score"))
    assert wrong == {}
    summary = json.loads(run.stdout.splitlines()[-1])["summary"]
    assert summary["rejected"] == sum(row["expected"] == "rejected" for row in MANIFEST.values())
    assert summary["files"] + summary["rejected"] == len(MANIFEST)


def test_records_name_the_app_and_explain_the_verdict(analysed) -> None:  # type: ignore[no-untyped-def]
    """A line carries the file's sha256, package and label, and findings with detector, reason and subject."""
    _, by_file, _ = analysed
    line = by_file["fake_bank_security.apk"]
    row = MANIFEST["fake_bank_security.apk"]
    assert (line["sha256"], line["package"], line["label"]) == (row["sha256"], row["package"], row["label"])
    assert line["findings"] and all(f["reason"] and f["detector"] and f["subject"] for f in line["findings"])
    assert "brand_impersonation" in line["categories"] or "fake_app" in line["categories"]


def test_rejections_say_why(analysed) -> None:  # type: ignore[no-untyped-def]
    """Empty, truncated and non-zip files are rejected with a reason naming what is wrong."""
    _, by_file, _ = analysed
    assert by_file["empty.apk"]["rejected"] == "empty file"
    assert "not a zip" in by_file["not_an_apk.apk"]["rejected"]
    assert "truncated" in by_file["truncated.apk"]["rejected"] or "zip" in by_file["truncated.apk"]["rejected"]


def test_an_apk_inside_an_apk_is_judged_too(analysed) -> None:  # type: ignore[no-untyped-def]
    """The dropper's payload (the fake bank app) is its own line, marked as inside the dropper at its member path,
    and malicious."""
    _, by_file, inner = analysed
    dropper = by_file["nested_dropper.apk"]
    payload = [line for line in inner if line["inside"] == dropper["sha256"]]
    assert [line["sha256"] for line in payload] == [MANIFEST["fake_bank_security.apk"]["sha256"]]
    assert payload[0]["verdict"] == "malicious"
    assert payload[0]["member"].endswith(".apk") and not payload[0]["member"].startswith("/")


def test_results_are_stored_once_and_published_by_sha256(tmp_path: Path) -> None:
    """With --db, each APK is stored once by sha256 (a second run adds no observation), its verdict carries the
    package and certificate as context, and the JSON export publishes the hash as an indicator, never a name."""
    db = tmp_path / "apk.db"
    apk = APKS / "anti_fraud_centre_fake.apk"
    first = _run("analyze", "apk", str(apk), "--db", str(db))
    assert first.returncode == 0, first.stderr
    again = _run("analyze", "apk", str(apk), str(APKS / "loan_app.apk"), "--db", str(db))
    assert again.returncode == 0, again.stderr
    sha256 = MANIFEST["anti_fraud_centre_fake.apk"]["sha256"]
    with Store.open(db, create=False) as store:
        assert store.db.execute("SELECT count(*) FROM observations WHERE kind = 'apk'").fetchone()[0] == 2
        [context] = store.db.execute("SELECT context FROM verdicts WHERE subject = ?", [sha256]).fetchone()
        pairs = {tuple(pair) for pair in json.loads(context)}
        assert ("package", "com.fanzha.center.app") in pairs and any(key == "certificate" for key, _ in pairs)
    out = tmp_path / "intel.json"
    exported = _run("export", "--db", str(db), "--format", "json", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    records = json.loads(out.read_text(encoding="utf-8"))["entries"]
    assert any(record["value"] == sha256 and record["type"] != "domain" for record in records)
    hosts = tmp_path / "hosts.txt"
    assert _run("export", "--db", str(db), "--format", "hosts", "--out", str(hosts)).returncode in (0, 5)
    assert not hosts.exists() or sha256 not in hosts.read_text(encoding="utf-8")


def test_source_url_makes_the_download_host_a_listed_subject(tmp_path: Path) -> None:
    """--source-url records where a fraud app was downloaded: the URL is in its JSON line and its context, the
    download host is judged with it and reaches the hosts list; it names one file's source, so two files are refused."""
    db = tmp_path / "apk.db"
    url = "https://icbc-anquan-kongjian.top/dl/ICBC_Secure_v3.apk"
    run = _run("analyze", "apk", str(APKS / "fake_bank_security.apk"), "--source-url", url, "--db", str(db), "--json")
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout.splitlines()[0])
    assert record["download_url"] == url and record["verdict"] == "malicious"
    assert "icbc-anquan-kongjian.top" in {related["subject"] for related in record["related"]}
    with Store.open(db, create=False) as store:
        [context] = store.db.execute("SELECT context FROM verdicts WHERE subject = ?", [record["sha256"]]).fetchone()
        assert ["download_host", "icbc-anquan-kongjian.top"] in json.loads(context)
    hosts = tmp_path / "hosts.txt"
    assert _run("export", "--db", str(db), "--format", "hosts", "--out", str(hosts)).returncode == 0
    assert "icbc-anquan-kongjian.top" in hosts.read_text(encoding="utf-8").split()
    two = _run("analyze", "apk", str(APKS / "loan_app.apk"), str(APKS / "fake_bank_security.apk"), "--source-url", url)
    assert two.returncode == 2 and "one file" in two.stderr
    bad = _run("analyze", "apk", str(APKS / "loan_app.apk"), "--source-url", "ftp://example.top/a.apk")
    assert bad.returncode == 2 and "--source-url" in bad.stderr


def test_nothing_to_analyse_is_a_data_error(tmp_path: Path) -> None:
    """A folder without APKs, or only files that are no APK, exits 3 with one error line; a missing path exits 2."""
    empty = tmp_path / "empty"
    empty.mkdir()
    run = _run("analyze", "apk", str(empty))
    assert run.returncode == 3 and run.stderr.count("error:") == 1 and "no *.apk" in run.stderr
    junk = tmp_path / "junk.apk"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    run = _run("analyze", "apk", str(junk), "--json")
    assert run.returncode == 3 and "could be analysed" in run.stderr
    assert json.loads(run.stdout.splitlines()[0])["rejected"].startswith("not a zip")
    assert _run("analyze", "apk", str(tmp_path / "missing.apk")).returncode == 2


def test_stored_apks_are_judged_again_by_reanalyze(tmp_path: Path) -> None:
    """An APK stored by `analyze apk --db` is re-judged from its stored observation by `reanalyze --rerun`."""
    db = tmp_path / "apk.db"
    assert _run("analyze", "apk", str(APKS / "loan_app.apk"), "--db", str(db)).returncode == 0
    again = _run("reanalyze", "--db", str(db), "--rerun", "apk_capabilities")
    assert again.returncode == 0, again.stderr
    assert "observations re-analysed: 1" in again.stdout
    with Store.open(db, create=False) as store:
        assert store.verdict_status(MANIFEST["loan_app.apk"]["sha256"]).value == "malicious"


@pytest.mark.corpus
def test_real_benign_samples_are_never_published(tmp_path: Path) -> None:
    """Over the real samples of ../shared/data/apks (benign apps and malformed archives from public test suites),
    one CLI call observes or rejects every file; none is malicious but the Janus proof of concept, and the FOSS
    SMS app that disguises itself as a battery widget stays at most suspicious."""
    from tests.conftest import SHARED_DATA

    samples = SHARED_DATA / "apks"
    if not samples.is_dir():
        pytest.skip(f"the shared APK samples are not at {samples}")
    run = _run("analyze", "apk", str(samples), "--json")
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()[:-1]]
    outer = {Path(line["file"]).name: line for line in lines if "inside" not in line}
    assert set(outer) == {path.name for path in samples.glob("*.apk")}
    malicious = {name for name, line in outer.items() if line.get("verdict") == "malicious"}
    assert malicious == {"fd_janus.apk"}
    assert outer["fd_souch.smsbypass_9.apk"]["verdict"] in ("benign", "suspicious")
    assert all(line["rejected"] for line in outer.values() if "verdict" not in line)
