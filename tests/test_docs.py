"""docs/plugins.md is tested: its files are written out, its commands run, its claims checked.

A fenced block whose info string has ``file=PATH`` is a file of the tutorial's
folder; a ``console`` block holds ``$ command`` lines, each of which one test
below runs (or, for the lead's commands not on the CLI yet, skips with the
reason). A block that is neither, or a command no test knows, fails
:func:`test_every_block_is_tested`, so the tutorial cannot drift from the code.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from fraudwall.cli import main as cli_main
from fraudwall.plugins.rules_engine import load_rules
from fraudwall.plugins.yara_rules import compile_dirs
from tests.conftest import REPO
from tests.test_example_plugin import pip_install_target, run_with_path

DOC = REPO / "docs" / "plugins.md"
FENCE = re.compile(r"^```(?P<lang>\w+)(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)

SCRATCH_RUN = "fraudwall --plugin my_detector.py analyze pages pages/manifest.csv --json"
RUN_TESTS = "python -m pytest test_my_detector.py"
INSTALL = "pip install ."
LIST_PLUGINS = "fraudwall plugins"
INSTALLED_RUN = "fraudwall analyze pages pages/manifest.csv --json"
REANALYZE = "fraudwall reanalyze --rerun my_detector"
RULES_RUN = "fraudwall --rules rules analyze pages pages/manifest.csv --json"
YARA_RUN = "fraudwall --yara yara analyze pages pages/manifest.csv --json"
CONFIG_RUN = "fraudwall --config fraudwall.toml analyze pages pages/manifest.csv --json"
EVIDENCE_TESTS = "python -m pytest test_evidence_detector.py"
TESTED_COMMANDS = {
    SCRATCH_RUN, RUN_TESTS, INSTALL, LIST_PLUGINS, INSTALLED_RUN, REANALYZE, RULES_RUN, YARA_RUN, CONFIG_RUN,
    EVIDENCE_TESTS,
}
PAGE_URL = "http://kuaiyi-dai.top/withdraw"


@dataclass(frozen=True)
class Block:
    """One fenced code block of the document."""

    lang: str
    file: str | None
    body: str
    line: int


def doc_blocks() -> list[Block]:
    """Every fenced block of docs/plugins.md, in order."""
    text = DOC.read_text(encoding="utf-8")
    blocks = []
    for found in FENCE.finditer(text):
        file = re.search(r"\bfile=(\S+)", found.group("info"))
        blocks.append(Block(found.group("lang"), file.group(1) if file else None, found.group("body"),
                            text.count("\n", 0, found.start()) + 1))
    return blocks


def doc_commands() -> list[str]:
    """The ``$ command`` lines of the console blocks."""
    return [line[2:].strip() for block in doc_blocks() if block.lang == "console"
            for line in block.body.splitlines() if line.startswith("$ ")]


def _command(text: str) -> list[str]:
    """A documented command line as an argv for this interpreter's environment."""
    assert text in doc_commands(), f"the tutorial no longer shows: {text}"
    words = shlex.split(text)
    if words[0] == "fraudwall":
        return [sys.executable, "-m", "fraudwall.cli", *words[1:]]
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    raise AssertionError(f"no way to run {text!r}")


def _run(text: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(_command(text), cwd=cwd, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"{text} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _page_findings(stdout: str) -> list[dict[str, Any]]:
    """The findings of the tutorial's one page in ``analyze pages --json`` output."""
    page = json.loads(stdout.splitlines()[0])
    assert page["url"] == PAGE_URL
    return list(page["findings"])


def _has_option(name: str, command: click.Command = cli_main) -> bool:
    return any(name in param.opts for param in command.params)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The tutorial's my-detector/ folder, written from the document's file blocks."""
    folder = tmp_path / "my-detector"
    for block in doc_blocks():
        if block.file:
            path = folder / block.file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.body, encoding="utf-8")
    return folder


def test_every_block_is_tested() -> None:
    """Every block is a tutorial file or a console block of commands that a test here runs."""
    blocks = doc_blocks()
    untested = [f"line {block.line}: {block.lang}" for block in blocks if not block.file and block.lang != "console"]
    assert untested == [], "blocks neither written out nor run"
    unknown = set(doc_commands()) - TESTED_COMMANDS
    assert not unknown, f"commands no test runs: {unknown}"
    assert {"my_detector.py", "test_my_detector.py", "pyproject.toml"} <= {block.file for block in blocks}


def test_scratch_plugin_file_runs_over_saved_pages(project: Path) -> None:
    """`fraudwall --plugin my_detector.py analyze pages ...` adds the scratch detector's loan finding, with evidence."""
    findings = _page_findings(_run(SCRATCH_RUN, project).stdout)
    ours = [f for f in findings if f["detector"] == "my_detector"]
    assert len(ours) == 1 and ours[0]["category"] == "loan" and ours[0]["version"] == "0.1.0"
    assert "解冻费" in ours[0]["evidence"][0]


def test_tutorial_tests_pass(project: Path) -> None:
    """The tutorial's test file passes with pytest, through fraudwall.testing."""
    result = _run(RUN_TESTS, project)
    assert "2 passed" in result.stdout


def test_dns_and_apk_hooks_example_passes(project: Path) -> None:
    """The tutorial's analyze_dns and analyze_apk plugin passes its tests, run through fraudwall.testing and judge()."""
    result = _run(EVIDENCE_TESTS, project)
    assert "3 passed" in result.stdout


@pytest.fixture
def installed(project: Path) -> Iterator[Path]:
    """The tutorial package installed (`pip install .`) into a temporary directory, removed afterwards."""
    assert INSTALL in doc_commands()
    with tempfile.TemporaryDirectory(prefix="fraudwall-doc-plugin-") as temp:
        target = Path(temp) / "site"
        pip_install_target(project, target)
        yield target


def test_packaged_plugin_is_listed_and_used(project: Path, installed: Path) -> None:
    """Installed, the plugin is listed with the origin the tutorial names, and analyze uses it without --plugin."""
    listing = run_with_path(_command(LIST_PLUGINS), installed, project)
    assert listing.returncode == 0, listing.stderr
    assert "entry point my_detector (fraudwall-my-detector 0.1.0)" in DOC.read_text(encoding="utf-8")
    row = next(line for line in listing.stdout.splitlines() if "my_detector" in line)
    assert "entry point my_detector (fraudwall-my-detector 0.1.0)" in row and "analyze_page" in row
    analysed = run_with_path(_command(INSTALLED_RUN), installed, project)
    assert analysed.returncode == 0, analysed.stderr
    assert any(f["detector"] == "my_detector" for f in _page_findings(analysed.stdout))


def test_reanalyze_command_takes_the_documented_options() -> None:
    """`fraudwall reanalyze --rerun NAME [--since WHEN]` exists as the tutorial shows it."""
    _command(REANALYZE)
    command = cli_main.commands.get("reanalyze") if isinstance(cli_main, click.Group) else None
    if command is None:
        pytest.skip("`fraudwall reanalyze` is not on the CLI yet (the lead's part of issue 4)")
    assert _has_option("--rerun", command) and _has_option("--since", command)


def test_rule_files_follow_the_schema(project: Path) -> None:
    """The tutorial's YAML rule loads without errors, and its YARA rule compiles."""
    assert load_rules([project / "rules"]).errors == ()
    yara = compile_dirs([project / "yara"])
    assert yara.errors == () and len(yara.files) == 1


@pytest.mark.parametrize(
    ("command", "flag", "detector"), [(RULES_RUN, "--rules", "yaml_rules"), (YARA_RUN, "--yara", "yara_rules")]
)
def test_rules_and_yara_flags(project: Path, command: str, flag: str, detector: str) -> None:
    """`--rules DIR` and `--yara DIR` bring the tutorial's rules into `analyze pages`."""
    _command(command)
    if not _has_option(flag):
        pytest.skip(f"`fraudwall {flag} DIR` is not on the CLI yet (the lead's part of issue 4)")
    findings = _page_findings(_run(command, project).stdout)
    assert any(f["detector"] == detector and f["category"] == "loan" for f in findings)


def test_config_file_sets_rule_directories(project: Path) -> None:
    """With RULES_DIRS and YARA_DIRS in the config file, the YAML and YARA rules both report, with evidence."""
    findings = _page_findings(_run(CONFIG_RUN, project).stdout)
    yaml_finding = next(f for f in findings if f["detector"] == "yaml_rules" and f["category"] == "loan")
    assert "rule my-unfreeze-fee-form" in yaml_finding["reason"]
    assert any(item.startswith("my-unfreeze-fee-form text:") for item in yaml_finding["evidence"])
    yara_finding = next(f for f in findings if f["detector"] == "yara_rules")
    assert yara_finding["category"] == "loan" and yara_finding["score"] == 0.6
    assert "unfreeze_fee_kit (unfreeze_kit.yar): $form@" in yara_finding["evidence"][0]
