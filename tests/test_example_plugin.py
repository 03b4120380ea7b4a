"""The external example plugin installs like any package and fraudwall picks it up through its entry point.

It is installed offline into a temporary ``--target`` directory (never into
the developer's virtualenv), from a copy of its source (pip builds in the
source tree), and fraudwall runs in a subprocess with that directory on
``PYTHONPATH``, where ``importlib.metadata`` finds its entry points.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "fraudwall-example-plugin"
#: Seconds any one subprocess may take (pip builds a wheel, fraudwall imports Scrapy).
STEP_TIMEOUT = 180


def can_build_wheels_offline() -> bool:
    """Whether this environment's setuptools builds wheels without fetching anything.

    setuptools >= 70.1 carries ``bdist_wheel``; older ones need the ``wheel`` package.
    """
    return importlib.util.find_spec("setuptools.command.bdist_wheel") is not None or (
        importlib.util.find_spec("wheel") is not None
    )


def pip_install_target(source: Path, target: Path) -> None:
    """Install the project at ``source`` into ``target`` with pip, offline, with this environment's setuptools.

    pip writes ``build/`` and ``*.egg-info`` into the tree it builds, so it
    builds a copy beside ``target``, and the source stays clean.
    """
    if not can_build_wheels_offline():
        pytest.skip("building a wheel offline needs setuptools>=70.1 (or wheel) in the test environment")
    copy = target.parent / f"{source.name}-build"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps", "--no-index",
         "--target", str(target), str(copy)],
        capture_output=True, text=True, timeout=STEP_TIMEOUT,
    )
    assert result.returncode == 0, f"pip install failed:\n{result.stdout}\n{result.stderr}"


def run_with_path(args: list[str], path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command with ``path`` first on PYTHONPATH, a wide terminal (rich wraps table cells), no bytecode."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(path), os.environ.get("PYTHONPATH", "")])),
        "COLUMNS": "250",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.run(args, capture_output=True, text=True, timeout=STEP_TIMEOUT, cwd=cwd, env=env)


def fraudwall_command(*args: str) -> list[str]:
    """The ``fraudwall`` command of the running interpreter's environment."""
    return [sys.executable, "-m", "fraudwall.cli", *args]


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    """The example plugin installed into a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="fraudwall-example-") as temp:
        target = Path(temp) / "site"
        pip_install_target(EXAMPLE, target)
        yield target


def test_installed_plugin_is_listed_with_entry_point_origin(installed: Path, tmp_path: Path) -> None:
    """`fraudwall plugins` shows the installed example beside the built-ins, registered by entry point."""
    assert (installed / "fraudwall_example_plugin" / "shuadan_jobs.py").is_file()
    result = run_with_path(fraudwall_command("plugins"), installed, tmp_path)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "shuadan_jobs" in line)
    assert "0.1.0" in row and "analyze_page" in row
    assert "entry point shuadan_jobs (fraudwall-example-plugin 0.1.0)" in row
    assert "fraud_lexicon" in result.stdout  # the built-ins are still there


def test_analyze_pages_uses_the_installed_plugin(installed: Path, tmp_path: Path) -> None:
    """`fraudwall analyze pages` runs the installed plugin: its finding appears in the page's verdict."""
    (tmp_path / "ad.html").write_text(
        "<title>急招兼职 日结</title><h1>招聘网店刷单员</h1><p>日结工资，先垫付后返还本金。</p>", encoding="utf-8")
    (tmp_path / "manifest.csv").write_text("file,url\nad.html,http://jianzhi-rijie.example/\n", encoding="utf-8")
    result = run_with_path(fraudwall_command("analyze", "pages", "manifest.csv", "--json"), installed, tmp_path)
    assert result.returncode == 0, result.stderr
    page = json.loads(result.stdout.splitlines()[0])
    ours = [finding for finding in page["findings"] if finding["detector"] == "shuadan_jobs"]
    assert ours and ours[0]["category"] == "task_rebate" and ours[0]["version"] == "0.1.0"


def test_example_own_tests_pass_against_the_installed_package(installed: Path, tmp_path: Path) -> None:
    """The example's tests, written with fraudwall.testing, pass against the installed copy."""
    tests = tmp_path / "tests"
    shutil.copytree(EXAMPLE / "tests", tests)
    result = run_with_path(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tests)],
        installed, tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_source_tree_stays_clean(installed: Path) -> None:
    """Installing built a copy: no build/ or egg-info is left in examples/."""
    leftovers = [p.name for p in EXAMPLE.rglob("*") if p.name == "build" or p.name.endswith(".egg-info")]
    assert leftovers == []
