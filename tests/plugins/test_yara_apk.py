"""YARA rules over APKs: the archive and its members scanned through analyze_apk, within the archive's limits."""

from __future__ import annotations

from pathlib import Path

from fraudwall.apk_analysis import observe_apk
from fraudwall.models import SubjectKind
from fraudwall.plugins import yara_rules
from fraudwall.testing import run_plugin

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "apks" / "fake_bank_security.apk"
RULE = """
rule fake_icbc_c2 {
    meta:
        category = "fake_app"
        score = "0.8"
    strings:
        $c2 = "icbc-anquan.top"
    condition:
        $c2
}
"""


def test_a_rule_matching_inside_the_dex_names_the_apk(tmp_path: Path) -> None:
    """A string only the compressed classes.dex holds is found, and the finding is about the APK's sha256."""
    (tmp_path / "c2.yar").write_text(RULE)
    data = FIXTURE.read_bytes()
    apk = observe_apk(data)[0]
    [finding] = run_plugin(yara_rules, apk=apk, archive=data, settings={"YARA_DIRS": [str(tmp_path)]})
    assert (finding.subject, finding.subject_kind, finding.score) == (apk.sha256, SubjectKind.APK, 0.8)
    assert "fake_icbc_c2" in finding.reason


def test_without_the_archive_or_rules_nothing_is_scanned(tmp_path: Path) -> None:
    """Judged again from the store (no bytes), or with no rules, the YARA plugin reports nothing."""
    (tmp_path / "c2.yar").write_text(RULE)
    apk = observe_apk(FIXTURE.read_bytes())[0]
    assert run_plugin(yara_rules, apk=apk, settings={"YARA_DIRS": [str(tmp_path)]}) == []
    assert run_plugin(yara_rules, apk=apk, archive=FIXTURE.read_bytes()) == []
