"""The plugin host: entry points, plugin files, and isolation of failing plugins."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from fraudwall.exceptions import PluginError
from fraudwall.hookspecs import hookimpl
from fraudwall.models import Finding
from fraudwall.names import parse_url
from fraudwall.pages import parse_page
from fraudwall.plugin_host import PluginHost
from fraudwall.settings import Settings

URL = parse_url("http://example.top/")
PAGE = parse_page("http://example.top/", b"<title>t</title><p>hello</p>")


class _Good:
    name, version = "good", "1"

    @hookimpl
    def analyze_page(self, page):  # takes only the argument it needs
        return [Finding(page.final_url, self.name, self.version, "test", 0.5, "always")]


class _Raises:
    name, version = "raises", "1"

    @hookimpl
    def analyze_page(self, page, url, settings):
        raise RuntimeError("boom")


class _Slow:
    name, version = "slow", "1"

    @hookimpl
    def analyze_page(self):
        while True:  # a runaway plugin; even `except Exception` inside could not swallow the stop
            try:
                time.sleep(0.01)
            except Exception:
                pass


class _BadResult:
    name, version = "bad_result", "1"

    @hookimpl
    def analyze_page(self):
        return ["not a finding"]


def _host(*plugins: object, timeout: float = 5.0) -> PluginHost:
    host = PluginHost(Settings({"PLUGIN_TIMEOUT": timeout}))
    for plugin in plugins:
        host.register(plugin, origin="test")
    return host


def test_failing_plugins_are_isolated_and_counted() -> None:
    """A plugin that raises, hangs or returns junk is counted; the good one's findings still arrive."""
    host = _host(_Good(), _Raises(), _Slow(), _BadResult(), timeout=0.3)
    started = time.monotonic()
    findings = host.call("analyze_page", page=PAGE, url=URL, settings=host.settings)
    assert time.monotonic() - started < 3
    assert [f.detector for f in findings] == ["good"]
    assert host.stats[("raises", "error")] == 1
    assert host.stats[("slow", "timeout")] == 1
    assert host.stats[("bad_result", "bad-result")] == 1
    assert host.stats[("good", "ok")] == 1


def test_builtin_plugins_come_from_entry_points() -> None:
    """The built-in detectors are registered through the fraudwall.plugins entry-point group."""
    host = PluginHost.from_settings(Settings())
    infos = {info.name: info for info in host.describe()}
    assert {"fraud_lexicon", "url_heuristics"} <= set(infos)
    assert "entry point" in infos["fraud_lexicon"].origin
    assert "analyze_page" in infos["fraud_lexicon"].hooks
    assert "analyze_url" in infos["url_heuristics"].hooks


def test_plugin_file_is_loaded_and_called(tmp_path: Path) -> None:
    """An analyst's scratch file given with --plugin is registered and its hook called."""
    file = tmp_path / "scratch.py"
    file.write_text(textwrap.dedent('''
        from fraudwall import hookimpl, Finding
        name = "scratch"
        version = "0.1"

        @hookimpl
        def analyze_url(url):
            if url.host.endswith(".top"):
                return [Finding(url.host, name, version, "suspicious_url", 0.2, "top")]
    '''))
    host = PluginHost(Settings({"PLUGIN_FILES": [str(file)]}))
    host.load_file(file)
    assert [f.subject for f in host.call("analyze_url", url=URL, settings=host.settings)] == ["example.top"]
    assert host.describe()[0].origin == f"file {file}"


@pytest.mark.parametrize(
    ("source", "message"),
    [("raise ImportError('nope')", "failed to import"), ("x = 1", "no 'name'"),
     ("name = 'n'\nversion = '1'\nfrom fraudwall import hookimpl\n@hookimpl\ndef analyze_nothing(): pass", "hook specs")],
)
def test_broken_plugin_file_is_a_plugin_error(tmp_path: Path, source: str, message: str) -> None:
    """A plugin file that cannot be used fails loudly with a PluginError saying why."""
    file = tmp_path / "broken.py"
    file.write_text(source)
    with pytest.raises(PluginError, match=message):
        PluginHost(Settings()).load_file(file)


def test_disabled_plugins_are_not_registered() -> None:
    """PLUGINS_DISABLED switches a plugin off by name."""
    host = PluginHost.from_settings(Settings({"PLUGINS_DISABLED": ["url_heuristics"]}))
    assert "url_heuristics" not in {info.name for info in host.describe()}


class _Impostor:
    name, version = "impostor", "1"

    @hookimpl
    def analyze_page(self, page):
        return [Finding(page.final_url, "fraud_lexicon", "2.0", "loan", 0.9, "under another plugin's name"),
                Finding(page.final_url, self.name, "0.9", "loan", 0.9, "under another version"),
                Finding(page.final_url, self.name, self.version, "loan", 0.5, "its own")]


def test_findings_under_another_name_or_version_are_dropped_and_counted() -> None:
    """A finding filed under another plugin's name, or another version, would escape re-analysis: rejected, counted."""
    host = PluginHost(Settings())
    host.register(_Impostor(), origin="test")
    findings = host.call("analyze_page", page=PAGE, url=URL, settings=host.settings)
    assert [f.reason for f in findings] == ["its own"]
    assert host.stats[("impostor", "foreign-finding")] == 2


class _Configured:
    name, version = "configured", "3"
    calls = 0

    @hookimpl
    def configure(self, settings):
        _Configured.calls += 1
        return "abc123"

    @hookimpl
    def analyze_page(self, page):
        return [Finding(page.final_url, self.name, self.version, "loan", 0.5, "rules said so")]


class _CannotLoad:
    name, version = "cannot_load", "1"

    @hookimpl
    def configure(self):
        raise ValueError("rules/bad.yaml line 3: mapping values are not allowed here")

    @hookimpl
    def analyze_page(self, page):
        return [Finding(page.final_url, self.name, self.version, "loan", 0.5, "never")]


def test_configure_runs_once_and_its_digest_versions_the_findings() -> None:
    """configure() runs once at load, outside any page; its digest joins the version findings and runs are stored under."""
    host = PluginHost(Settings())
    host.register(_Configured(), origin="test")
    host.register(_CannotLoad(), origin="test")
    host.configure()
    for _ in range(3):
        findings = host.call("analyze_page", page=PAGE, url=URL, settings=host.settings)
    assert _Configured.calls == 1
    assert host.versions() == {"configured": "3+abc123"}
    assert [f.detector_version for f in findings] == ["3+abc123"]
    assert host.load_errors == [("cannot_load", "rules/bad.yaml line 3: mapping values are not allowed here")]


def test_rule_file_change_changes_the_yaml_plugins_version(tmp_path: Path) -> None:
    """Editing a rule under RULES_DIRS gives yaml_rules a new recorded version, so stored pages are due again."""
    rule = tmp_path / "rules" / "mine.yaml"
    rule.parent.mkdir()
    text = ("rules:\n  - id: mine\n    category: loan\n    score: 0.5\n    description: d\n"
            "    match:\n      all:\n        - {field: text, contains: \"%s\"}\n")
    rule.write_text(text % "解冻费", encoding="utf-8")
    import fraudwall.plugins.yaml_rules as yaml_rules

    yaml_rules._load.cache_clear()  # the rule set is cached per process and directory list
    first = PluginHost.from_settings(Settings({"RULES_DIRS": [str(rule.parent)]})).versions()["yaml_rules"]
    rule.write_text(text % "保证金", encoding="utf-8")
    yaml_rules._load.cache_clear()
    second = PluginHost.from_settings(Settings({"RULES_DIRS": [str(rule.parent)]})).versions()["yaml_rules"]
    version = yaml_rules.version
    assert first.startswith(f"{version}+") and second.startswith(f"{version}+") and first != second


def test_a_host_for_some_hooks_loads_only_the_plugins_that_implement_them() -> None:
    """from_settings(hooks=...) keeps the APK detectors (and YARA, which scans archives) and drops the page-only
    plugins before they are configured, so their rules are never compiled."""
    full = PluginHost.from_settings(Settings())
    apk_only = PluginHost.from_settings(Settings(), hooks={"analyze_apk"})
    kept = set(apk_only.versions())
    assert {"apk_impersonation", "apk_capabilities", "yara_rules"} <= kept < set(full.versions())
    assert not {"yaml_rules", "fraud_lexicon", "dns_flux"} & kept
    assert all("analyze_apk" in info.hooks for info in apk_only.describe())


def test_bundled_reference_data_and_page_view_join_the_bundled_plugins_versions(monkeypatch: pytest.MonkeyPatch,
                                                                                 tmp_path: Path) -> None:
    """A release that only edits the bundled reference data (a brand, a word) or changes how the page view reads a
    page changes every bundled detector's recorded version, so stored evidence is judged again; an analyst's own
    plugin keeps its version."""
    from fraudwall import page_view, reference
    from fraudwall.plugin_host import bundled_inputs_digest
    from fraudwall.plugins import lookalike

    file = tmp_path / "mine.py"
    file.write_text("from fraudwall import hookimpl\nname = 'mine'\nversion = '0.1'\n"
                    "@hookimpl\ndef analyze_url(url):\n    return []\n")

    def versions(digest: str, view: str = page_view.VERSION) -> dict[str, str]:
        monkeypatch.setattr(reference, "bundled_digest", lambda: digest)
        monkeypatch.setattr(page_view, "VERSION", view)
        return PluginHost.from_settings(Settings({"PLUGIN_FILES": [str(file)]})).versions()

    before, after, new_view = versions("aaaaaaaaaaaa"), versions("bbbbbbbbbbbb"), versions("aaaaaaaaaaaa", "99")
    assert len({before["lookalike"], after["lookalike"], new_view["lookalike"]}) == 3
    assert before["lookalike"].startswith(lookalike.version + "+")
    assert before["yaml_rules"].count(".") == 2  # 1.2+<rule files' digest>.<inputs' digest>
    assert before["mine"] == after["mine"] == new_view["mine"] == "0.1"
    monkeypatch.undo()
    assert bundled_inputs_digest() in PluginHost.from_settings(Settings()).versions()["brand_impersonation"]
