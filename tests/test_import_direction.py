"""Data flows one way: each stage imports only the core and earlier stages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

# Folder -> the fraudwall subpackages its modules may import.
STAGES = {
    "crawler": "fraudwall.crawler",
    "apk_analysis": "fraudwall.apk_analysis",
    "plugins": "fraudwall.plugins",
    "blocklists": "fraudwall.blocklists",
    "exporters": "fraudwall.exporters",
}
ALLOWED = {
    "crawler": {"fraudwall.crawler"},
    "apk_analysis": {"fraudwall.apk_analysis"},
    "plugins": {"fraudwall.plugins"},
    "blocklists": {"fraudwall.blocklists"},
    "exporters": {"fraudwall.exporters"},
    # The core imports no stage; only the orchestration modules below wire stages together.
    "fraudwall": set(),
}
ORCHESTRATION = {
    "fraudwall/cli.py", "fraudwall/pipelines.py", "fraudwall/crawl.py", "fraudwall/scrapy_settings.py",
    "fraudwall/list_compiler.py", "fraudwall/judging.py", "fraudwall/judge_pool.py", "fraudwall/apk_intake.py",
    "fraudwall/discovery.py", "fraudwall/distributed.py", "fraudwall/ingest.py", "fraudwall/cli_distributed.py",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules() -> list[tuple[str, Path]]:
    return [(folder, path) for folder in ALLOWED for path in sorted((REPO / folder).rglob("*.py"))]


@pytest.mark.parametrize(("folder", "path"), _modules(), ids=lambda v: str(v).replace(str(REPO) + "/", ""))
def test_module_imports_only_allowed_stages(folder: str, path: Path) -> None:
    """A stage module imports no later stage; the core imports none but in its orchestration modules."""
    relative = str(path.relative_to(REPO))
    if relative in ORCHESTRATION:
        return
    stage_imports = {
        name for name in _imports(path)
        for stage in STAGES.values() if name == stage or name.startswith(stage + ".")
    }
    forbidden = {name for name in stage_imports if not any(name == a or name.startswith(a + ".") for a in ALLOWED[folder])}
    assert not forbidden, f"{relative} imports {sorted(forbidden)}"


def test_list_reading_is_core() -> None:
    """fraudwall.lists, which crawl seeds and export --input both read through, is core: it imports no stage and
    no orchestration module, so every stage may use it; and it is installed."""
    modules = sorted((REPO / "fraudwall" / "lists").glob("*.py"))
    assert modules
    banned = [*STAGES.values(), *(path.removesuffix(".py").replace("/", ".") for path in ORCHESTRATION)]
    for path in modules:
        forbidden = {name for name in _imports(path) for ban in banned if name == ban or name.startswith(ban + ".")}
        assert not forbidden, f"{path.relative_to(REPO)} imports {sorted(forbidden)}"
    assert "\n    fraudwall.lists\n" in (REPO / "setup.cfg").read_text()


def test_generic_names_never_installed_top_level() -> None:
    """The stage folders install under fraudwall.*: no top-level 'plugins' package lands in site-packages."""
    import fraudwall.plugins

    assert fraudwall.plugins.__name__ == "fraudwall.plugins"
    setup = (REPO / "setup.cfg").read_text()
    for folder, package in STAGES.items():
        assert f"{package} = {folder}" in setup
