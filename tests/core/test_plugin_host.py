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
