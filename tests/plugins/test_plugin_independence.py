"""Each built-in plugin stands alone: it imports no other plugin, and caches nothing keyed on an observation.

``fraudwall reanalyze`` re-runs a plugin over stored evidence when its recorded
version changes. If one plugin's findings depended on another plugin's module,
a change there would change them without their version moving, and re-analysis
would miss it. What several detectors share lives in the core (the page view,
term matching, host labels, wallet checksums), which fraudwall's own version covers.
"""

from __future__ import annotations

import ast
import configparser
from pathlib import Path

import pytest

from tests.conftest import REPO

PLUGINS_PACKAGE = "fraudwall.plugins"
PLUGINS_DIR = REPO / "plugins"
# Types of evidence: a module-level cache keyed on one of these keeps one observation's results for the next.
OBSERVATION_TYPES = {"PageObservation", "PageView", "Text", "UrlParts", "DnsObservation", "ApkObservation"}
CACHES = {"cache", "lru_cache", "cached"}
# The core modules the detectors share (the page view and its helpers): they must not cache observations either.
SHARED_CORE_MODULES = [
    REPO / "fraudwall" / name for name in ("page_view.py", "matching.py", "host_labels.py", "wallets.py")
]


def registered_plugins() -> dict[str, str]:
    """Entry-point name -> module of every built-in plugin, as setup.cfg registers them."""
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg", encoding="utf-8")
    lines = config["options.entry_points"][PLUGINS_PACKAGE].strip().splitlines()
    entries = dict(line.split("=", 1) for line in lines)
    return {name.strip(): value.strip().split(":", 1)[0] for name, value in entries.items()}


def module_path(module: str) -> Path:
    """The source file of a ``fraudwall.plugins.*`` module."""
    return PLUGINS_DIR / (module.removeprefix(PLUGINS_PACKAGE + ".").replace(".", "/") + ".py")


def imported_modules(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, absolute or relative; ``from package import name`` counts as package.name too."""
    package = module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def plugin_imports(module: str) -> set[str]:
    """The ``fraudwall.plugins`` modules ``module`` imports, directly or through plugins/ helper modules."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in imported_modules(module_path(current), current):
            if name.startswith(PLUGINS_PACKAGE + ".") and module_path(name).is_file() and name not in seen:
                seen.add(name)
                todo.append(name)
    return seen - {module}


def test_every_registered_plugin_is_found() -> None:
    """setup.cfg registers every built-in detector from a module of plugins/ (so the tests below see them all)."""
    plugins = registered_plugins()
    assert {"fraud_lexicon", "app_lures", "brand_impersonation", "diversion_channels", "sensitive_forms",
            "url_heuristics", "lookalike", "cloaking", "yaml_rules", "yara_rules"} <= plugins.keys()
    assert all(module_path(module).is_file() for module in plugins.values())


@pytest.mark.parametrize("name", sorted(registered_plugins()))
def test_plugin_imports_no_other_plugin(name: str) -> None:
    """A registered plugin imports no other registered plugin's module, directly or through a plugins/ helper."""
    plugins = registered_plugins()
    others = {module for other, module in plugins.items() if other != name}
    reached = plugin_imports(plugins[name])
    assert not reached & others, f"{name} imports the plugin module(s) {sorted(reached & others)}"


def test_import_graph_sees_every_import_form(tmp_path: Path) -> None:
    """The check reads ``import a.b``, ``from a import b``, ``from a.b import c`` and relative imports alike."""
    source = tmp_path / "me.py"
    source.write_text(
        "import fraudwall.plugins.x\nfrom fraudwall.plugins import y\nfrom . import z\nfrom .w import v\n",
        encoding="utf-8",
    )
    found = imported_modules(source, "fraudwall.plugins.me")
    assert {"fraudwall.plugins.x", "fraudwall.plugins.y", "fraudwall.plugins.z", "fraudwall.plugins.w"} <= found


def _cached_functions(path: Path) -> list[tuple[str, set[str]]]:
    """(function name, names in its parameters' annotations) of every function under a functools cache decorator."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        decorators = [d.func if isinstance(d, ast.Call) else d for d in node.decorator_list]
        names = {d.attr if isinstance(d, ast.Attribute) else getattr(d, "id", "") for d in decorators}
        if names & CACHES:
            arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            annotated = {
                sub.id if isinstance(sub, ast.Name) else sub.attr
                for argument in arguments if argument.annotation is not None
                for sub in ast.walk(argument.annotation) if isinstance(sub, (ast.Name, ast.Attribute))
            }
            found.append((node.name, annotated))
    return found


@pytest.mark.parametrize(
    "path", [*sorted(PLUGINS_DIR.glob("*.py")), *SHARED_CORE_MODULES], ids=lambda path: str(path.relative_to(REPO))
)
def test_no_module_level_cache_is_keyed_on_an_observation(path: Path) -> None:
    """Caches of compiled reference data are fine; a cache keyed on a page, URL, DNS answer or APK is hidden state.

    Such a cache would hand one detector's results for one observation to the next call, and would outlive
    the observation; per-page sharing belongs in the PageView, which lives exactly as long as the page's judging.
    """
    offending = [name for name, annotated in _cached_functions(path) if annotated & OBSERVATION_TYPES]
    assert not offending, f"{path.relative_to(REPO)} caches on observations in {offending}"
