"""YARA rules: per-file compile errors, page-body scans, archive scans with zip-bomb caps, the community set."""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

import pytest
import yara

from fraudwall.plugins import yara_rules
from fraudwall.plugins.yara_rules import YaraRuleSet, compile_dirs, scan_archive
from fraudwall.testing import PluginRunError, assert_finding, assert_no_finding, run_plugin
from tests.conftest import REPO, SHARED_DATA

COMMUNITY_RULES = SHARED_DATA / "yara"

GOOD = """
rule fake_bank_login
{
    meta:
        description = "Login form of the fake Zhujiang bank kit"
        category = "credential_phishing"
        score = "0.8"
    strings:
        $form = "zj-ebank-login" ascii
        $post = "/gate.php" ascii
    condition:
        all of them
}
"""
# The same rule name in another file is fine: each file is its own namespace.
SAME_NAME = GOOD.replace('"zj-ebank-login"', '"other-kit-marker"')
PLAIN = """
rule kit_marker
{
    strings:
        $a = "KIT-MARKER-7731"
    condition:
        $a
}
"""
BROKEN = {
    "syntax.yar": "rule broken { strings: $a = \"x\" condition: $a and }",
    "undefined_string.yar": "rule undefined { strings: $a = \"x\" condition: $b }",
    "unknown_module.yara": "rule needs_pe { condition: pe.is_dll() }",
    "missing_include.yar": 'include "nowhere.yar"\nrule inc { condition: true }',
}


def _write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return directory


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return buffer.getvalue()


@pytest.fixture
def rule_dir(tmp_path: Path) -> Path:
    """Good and broken YARA files side by side, some in a subdirectory."""
    good = {"good.yar": GOOD, "kits/same_name.yar": SAME_NAME, "kits/plain.yara": PLAIN}
    return _write(tmp_path / "yara", {**good, **BROKEN})


# -- compiling ------------------------------------------------------------------------------


def test_each_broken_file_is_reported_and_the_rest_compile(rule_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Every file that fails is named with YARA's reason and line; the good files are compiled and scanned."""
    with caplog.at_level(logging.ERROR, logger="fraudwall.plugins.yara_rules"):
        ruleset = compile_dirs([rule_dir])
    assert sorted(Path(path).name for path in ruleset.files) == ["good.yar", "plain.yara", "same_name.yar"]
    reasons = {Path(error.path).name: error.reason for error in ruleset.errors}
    assert set(reasons) == set(BROKEN)
    assert reasons["undefined_string.yar"] == 'line 1: undefined string "$b"'
    assert 'undefined identifier "pe"' in reasons["unknown_module.yara"]
    assert "nowhere.yar" in reasons["missing_include.yar"]
    assert "syntax error" in reasons["syntax.yar"]
    for name in BROKEN:
        assert name in caplog.text
    assert [hit.rule for hit in ruleset.scan(b"... KIT-MARKER-7731 ...")] == ["kit_marker"]


def test_error_inside_an_included_file_blames_the_including_file(tmp_path: Path) -> None:
    """An error YARA locates in an included file (not itself a rule file) still rejects only its includer."""
    directory = _write(tmp_path, {
        "main.yar": 'include "common.inc"\nrule main_rule { condition: common_rule }',
        "common.inc": "rule common_rule { condition: $nope }",
        "other.yar": PLAIN,
    })
    ruleset = compile_dirs([directory])
    assert [Path(path).name for path in ruleset.files] == ["other.yar"]
    (error,) = ruleset.errors
    assert Path(error.path).name == "main.yar" and "common.inc" in error.reason


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    """A YARA_DIRS entry that is not a directory is an error entry, not an exception."""
    ruleset = compile_dirs([tmp_path / "absent"])
    assert ruleset.rules is None and ruleset.files == ()
    assert [error.reason for error in ruleset.errors] == ["not a directory"]


# -- scanning pages -----------------------------------------------------------------------------


PAGE = "<body><form id='zj-ebank-login' action='/gate.php'><input name=u></form><p>KIT-MARKER-7731</p></body>"


def test_page_body_match_becomes_findings(rule_dir: Path) -> None:
    """Rules matching the page body give one finding per category, with meta category/score and string offsets."""
    findings = run_plugin(yara_rules, page=PAGE, settings={"YARA_DIRS": [str(rule_dir)]})
    phishing = assert_finding(findings, detector="yara_rules", category="credential_phishing", min_score=0.8,
                              evidence_contains="fake_bank_login (good.yar): $form@")
    assert "Login form of the fake Zhujiang bank kit" in phishing.reason
    kit = assert_finding(findings, category=yara_rules.DEFAULT_CATEGORY, evidence_contains="$a@")
    assert kit.score == yara_rules.DEFAULT_SCORE
    assert len(findings) == 2  # the two same-named rules' files: only good.yar's strings are on this page


def test_no_yara_dirs_no_findings() -> None:
    """Without YARA_DIRS the plugin is registered but finds nothing."""
    assert_no_finding(run_plugin(yara_rules, page=PAGE))


def test_bad_meta_score_falls_back_to_default(tmp_path: Path) -> None:
    """A meta score that is not a number within [0, 1] is ignored (and logged), not fatal."""
    directory = _write(tmp_path, {"r.yar": PLAIN.replace("strings:", 'meta:\n        score = "high"\n    strings:')})
    (hit,) = compile_dirs([directory]).scan(b"KIT-MARKER-7731")
    assert hit.score == yara_rules.DEFAULT_SCORE


SLOW = "rule slow { condition: for any i in (0..filesize) : ( for any j in (0..filesize) : ( uint8(j) == 0xFF ) ) }"


def test_scan_timeout_is_enforced(tmp_path: Path) -> None:
    """A pathological rule stops at YARA's own timeout; the plugin host counts it as the plugin's error."""
    ruleset = compile_dirs([_write(tmp_path, {"slow.yar": SLOW})])
    with pytest.raises(yara.TimeoutError):
        ruleset.scan(b"a" * 200_000, timeout=1)
    with pytest.raises(PluginRunError, match="yara_rules") as raised:
        run_plugin(yara_rules, page="<p>" + "a" * 200_000 + "</p>", settings={"YARA_DIRS": [str(tmp_path)]})
    assert isinstance(raised.value.__cause__, yara.TimeoutError)


# -- scanning archives ------------------------------------------------------------------------------


@pytest.fixture
def kit_rules(rule_dir: Path) -> YaraRuleSet:
    """The compiled good rules of the fixture directory."""
    return compile_dirs([rule_dir])


def test_archive_scan_matches_members(kit_rules: YaraRuleSet) -> None:
    """Each zip member is scanned on its own; hits name the member."""
    data = _zip({"kit/index.html": PAGE.encode(), "kit/readme.txt": b"nothing here", "kit/": b""})
    result = scan_archive(data, kit_rules)
    assert result.members_scanned == 2
    assert {(hit.rule, hit.member) for hit in result.hits} == {
        ("fake_bank_login", "kit/index.html"), ("kit_marker", "kit/index.html"),
    }
    assert result.skipped == ()
    findings = yara_rules.findings("http://kits.example-test.top/kit.zip", result.hits, what="archive")
    assert_finding(findings, category="credential_phishing", evidence_contains="in kit/index.html")


def test_archive_scan_scans_the_archive_bytes_too(kit_rules: YaraRuleSet) -> None:
    """A stored (uncompressed) member's text is visible in the archive itself, which is scanned whole first."""
    result = scan_archive(_zip({"a.txt": b"KIT-MARKER-7731"}, zipfile.ZIP_STORED), kit_rules)
    assert {hit.member for hit in result.hits} == {"", "a.txt"}


def test_archive_member_over_the_size_cap_is_skipped(kit_rules: YaraRuleSet) -> None:
    """A member that inflates past the per-member cap is skipped after reading at most cap + 1 bytes."""
    bomb = b"\0" * (4 * 1024 * 1024) + b"KIT-MARKER-7731"  # ~4 KB compressed
    data = _zip({"bomb.bin": bomb, "small.txt": b"KIT-MARKER-7731"})
    assert len(data) < 20_000
    result = scan_archive(data, kit_rules, max_member_bytes=1024 * 1024)
    assert [member for member, _ in result.skipped] == ["bomb.bin"]
    assert "per-member limit" in result.skipped[0][1]
    assert [hit.member for hit in result.hits] == ["small.txt"]
    assert result.bytes_scanned < 1024 * 1024 + 100


def test_archive_total_and_count_caps(kit_rules: YaraRuleSet) -> None:
    """Decompressed bytes in all, and the number of members, are capped; what is left out is listed."""
    members = {f"part{index}.bin": b"\0" * 600_000 for index in range(5)}
    result = scan_archive(_zip(members), kit_rules, max_member_bytes=1_000_000, max_total_bytes=1_500_000)
    assert result.members_scanned == 2
    assert result.bytes_scanned <= 1_500_000 + 1
    assert len(result.skipped) == 3
    many = _zip({f"f{index}.txt": b"x" for index in range(50)})
    counted = scan_archive(many, kit_rules, max_members=10)
    assert counted.members_scanned == 10
    assert len(counted.skipped) == 40 and "over the limit of 10 members" in counted.skipped[0][1]


def test_archive_that_is_not_a_zip_or_is_encrypted(kit_rules: YaraRuleSet) -> None:
    """Bytes that are not a zip are still scanned whole; encrypted members are skipped with the reason."""
    result = scan_archive(b"KIT-MARKER-7731 but no zip", kit_rules)
    assert [hit.rule for hit in result.hits] == ["kit_marker"]
    assert "not a zip archive" in result.skipped[0][1]
    # zipfile cannot write encrypted members: set the "encrypted" flag bit in the local and central headers.
    data = bytearray(_zip({"secret.txt": b"KIT-MARKER-7731"}, zipfile.ZIP_STORED))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + flag_offset] |= 0x1
    encrypted = scan_archive(bytes(data), kit_rules)
    assert encrypted.skipped == (("secret.txt", "encrypted"),)
    assert encrypted.members_scanned == 0


def test_external_variables_describe_archive_members(tmp_path: Path) -> None:
    """Rules written for LOKI/THOR-style externals compile, and see each member's file name and extension."""
    rule = 'rule php_mailer { condition: extension == ".php" and filename matches /mail/ }'
    directory = _write(tmp_path, {"ext.yar": rule})
    ruleset = compile_dirs([directory])
    assert ruleset.errors == ()
    result = scan_archive(_zip({"kit/send_mail.php": b"<?php", "kit/index.html": b"<html>"}), ruleset)
    assert [(hit.rule, hit.member) for hit in result.hits] == [("php_mailer", "kit/send_mail.php")]
    assert ruleset.scan(b"<?php mail();") == []  # a page body has no file name


def test_archive_scan_timeout_skips_the_member(tmp_path: Path) -> None:
    """A member whose scan runs past the timeout is listed as skipped; the archive scan does not raise."""
    ruleset = compile_dirs([_write(tmp_path, {"slow.yar": SLOW})])
    result = scan_archive(_zip({"big.txt": b"a" * 200_000}), ruleset, timeout=1)
    assert ("big.txt", "YARA scan ran past 1s") in result.skipped


# -- the community phishing-kit rules ------------------------------------------------------------------


def _corpus_pages() -> list[Path]:
    return sorted((REPO / "tests/data/pages").rglob("*.htm*")) + sorted((REPO / "fraudwall/demo/site").rglob("*.htm*"))


@pytest.fixture(scope="module")
def community() -> YaraRuleSet:
    """The 890 community phishing-kit rules of ../shared/data/yara, compiled once for the module."""
    if not COMMUNITY_RULES.is_dir():
        pytest.skip(f"the community YARA rules are not at {COMMUNITY_RULES} (shared data absent)")
    return compile_dirs([COMMUNITY_RULES])


@pytest.mark.corpus
def test_every_community_rule_file_compiles_or_is_reported(community: YaraRuleSet) -> None:
    """Each .yar file of the shared set is compiled or named with its reason; today all of them compile."""
    on_disk = {str(path) for path in yara_rules.yara_files(COMMUNITY_RULES)}
    assert len(on_disk) >= 890
    assert set(community.files) | {error.path for error in community.errors} == on_disk
    assert community.errors == (), "\n".join(f"{error.path}: {error.reason}" for error in community.errors)


@pytest.mark.corpus
def test_community_rules_scan_every_corpus_page(community: YaraRuleSet) -> None:
    """All pages of tests/data/pages and the demo site go through the plugin with the full set, without error."""
    pages = _corpus_pages()
    assert len(pages) >= 60
    for path in pages:
        # Kit rules look for zip archives, so pages are expected to pass clean; what matters is that they run.
        run_plugin(yara_rules, page=path.read_bytes(), settings={"YARA_DIRS": [str(COMMUNITY_RULES)]})


@pytest.mark.corpus
def test_community_rule_fires_on_a_kit_shaped_archive(community: YaraRuleSet) -> None:
    """A zip laid out like the IONOS kit the rule PK_1and1_Ionos describes is recognised from its own bytes."""
    rule_file = COMMUNITY_RULES / "phishingkit" / "PK_1and1_Ionos.yar"
    if not rule_file.is_file():
        pytest.skip(f"{rule_file} is not in the shared data")
    kit = _zip({
        "1&1 IONOS E-Mail login_files/ionos.min.css": b"body{}",
        "1&1 IONOS E-Mail login.html": b"<form action='1and1.php'>",
        "1and1.php": b"<?php mail($to, $subject, $body); ?>",
    })
    result = scan_archive(kit, community)
    assert "PK_1and1_Ionos" in {hit.rule for hit in result.hits if hit.member == ""}
    assert_finding(yara_rules.findings("http://kit.example-test.top/ionos.zip", result.hits, what="archive"),
                   category="phishing_kit", evidence_contains="PK_1and1_Ionos (PK_1and1_Ionos.yar)")
