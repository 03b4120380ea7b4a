"""Load plugins and call them one at a time, each isolated from the others.

Built-in detectors are registered exactly like third-party ones: through the
``fraudwall.plugins`` entry-point group. An analyst's scratch file is loaded
with ``--plugin path/to/file.py``. pluggy stops a hook call at the first
exception; a crawl must not, so :meth:`PluginHost.call` invokes each
implementation itself, with a time budget, and records what went wrong.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import logging
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import pluggy

from fraudwall import hookspecs, page_view, reference
from fraudwall.exceptions import PluginError
from fraudwall.models import Finding
from fraudwall.settings import Settings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "fraudwall.plugins"
#: The package of the detectors that ship with fraudwall (the top-level ``plugins/`` folder).
BUNDLED_PLUGINS_PACKAGE = "fraudwall.plugins."


class PluginTimeout(BaseException):
    """Raised inside a plugin that ran past its budget.

    A ``BaseException`` so that a plugin's own ``except Exception`` cannot swallow it.
    """


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """What ``fraudwall plugins`` shows about one registered plugin."""

    name: str
    version: str
    hooks: tuple[str, ...]
    origin: str


@contextlib.contextmanager
def _time_budget(seconds: float) -> Iterator[None]:
    """Interrupt the block with :class:`PluginTimeout` after ``seconds``.

    Uses SIGALRM, which only the main thread can receive; elsewhere the block
    runs unbounded and the caller still measures and reports its duration.
    """
    usable = seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _expire(signum: int, frame: FrameType | None) -> None:
        raise PluginTimeout()

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bundled_inputs_digest() -> str:
    """What every bundled detector reads beside its own code: the bundled reference data and the page view.

    Either changing (a brand added, the view reading one more hidden place) changes every bundled
    detector's recorded version, so ``reanalyze`` judges stored evidence again.
    """
    return hashlib.sha256(f"{reference.bundled_digest()}:{page_view.VERSION}".encode()).hexdigest()[:12]


class PluginHost:
    """The registered plugins and the isolated way of calling them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        self.origins: dict[str, str] = {}
        #: (plugin name, outcome) -> count; outcomes: ok, error, timeout, bad-result
        self.stats: Counter[tuple[str, str]] = Counter()
        #: entry points that failed to load: (entry point, error)
        self.load_errors: list[tuple[str, str]] = []
        self.timeout = settings.getfloat("PLUGIN_TIMEOUT")
        self._disabled = set(settings.getlist("PLUGINS_DISABLED"))
        self._versions: dict[str, str] | None = None  # what versions() answers, until a plugin is registered
        #: plugin name -> digest of the rule and data files its ``configure`` loaded
        self.digests: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Settings, *, hooks: Collection[str] | None = None) -> PluginHost:
        """The usual host: every installed plugin plus the files in ``PLUGIN_FILES``.

        ``hooks`` keeps only the plugins that implement one of those hooks, before
        any is configured: a command that judges nothing but APKs does not compile
        the page rules. Judgements record the plugins that ran, so a later
        ``reanalyze`` still knows which plugins have seen what.
        """
        host = cls(settings)
        host.load_entry_points()
        for path in settings.getlist("PLUGIN_FILES"):
            host.load_file(path)
        if hooks is not None:
            host.keep_only(hooks)
        host.configure()
        return host

    def keep_only(self, hooks: Collection[str]) -> None:
        """Unregister every plugin that implements none of ``hooks`` (``configure`` does not count)."""
        wanted = set(hooks)
        for name, plugin in list(self.manager.list_name_plugin()):
            implemented = {caller.name for caller in self.manager.get_hookcallers(plugin) or ()}
            if not implemented & wanted:
                self.manager.unregister(name=name)
                self.origins.pop(name, None)
        self._versions = None

    # -- registration ---------------------------------------------------------
    def register(self, plugin: Any, origin: str) -> str:
        """Register a module or object that has ``name``, ``version`` and hook implementations."""
        name = getattr(plugin, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin from {origin} has no 'name' attribute")
        if not isinstance(getattr(plugin, "version", None), str):
            raise PluginError(f"plugin {name!r} from {origin} has no 'version' string")
        if name in self._disabled:
            log.info("plugin %s disabled by PLUGINS_DISABLED", name)
            return name
        if self.manager.has_plugin(name):
            raise PluginError(f"two plugins are named {name!r}: {self.origins[name]} and {origin}")
        try:
            self.manager.register(plugin, name=name)
            self.manager.check_pending()  # a misspelt hook name must fail here, not be silently ignored
        except pluggy.PluginValidationError as exc:
            if self.manager.is_registered(plugin):
                self.manager.unregister(plugin)
            raise PluginError(f"plugin {name!r} from {origin} does not match the hook specs: {exc}") from exc
        self.origins[name] = origin
        self._versions = None
        return name

    def load_entry_points(self) -> None:
        """Register every plugin of the ``fraudwall.plugins`` entry-point group.

        A plugin that fails to import is logged and listed in ``load_errors``;
        the others still load.
        """
        # The entry points of one distribution share it; dist.name and dist.version would each parse
        # its metadata again, so it is read once per distribution.
        distributions: dict[int, str] = {}
        for entry_point in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
            dist = entry_point.dist
            if dist is not None and id(dist) not in distributions:
                metadata = dist.metadata
                distributions[id(dist)] = f"{metadata['Name']} {metadata['Version']}"
            origin = distributions[id(dist)] if dist is not None else entry_point.value
            try:
                self.register(entry_point.load(), origin=f"entry point {entry_point.name} ({origin})")
            except Exception as exc:  # a broken third-party plugin must not stop the run
                log.error("cannot load plugin entry point %s: %s", entry_point.name, exc)
                self.load_errors.append((entry_point.name, str(exc)))

    def load_file(self, path: str | Path) -> str:
        """Import a plugin from a Python file and register it; errors are raised, not hidden."""
        file = Path(path)
        if not file.is_file():
            raise PluginError(f"plugin file not found: {file}")
        module_name = f"fraudwall_plugin_file_{file.stem}_{abs(hash(str(file.resolve())))}"
        spec = importlib.util.spec_from_file_location(module_name, file)
        if spec is None or spec.loader is None:
            raise PluginError(f"cannot import plugin file {file}")
        module: ModuleType = importlib.util.module_from_spec(spec)
        try:
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(module_name, None)
            raise PluginError(f"plugin file {file} failed to import: {exc}") from exc
        return self.register(module, origin=f"file {file}")

    def configure(self) -> None:
        """Call every plugin's ``configure`` hook once, outside any time budget; keep the digests they return.

        A bundled plugin's version also carries a digest of what it reads beside its code
        (:func:`bundled_inputs_digest`). A plugin whose ``configure`` raises is unregistered and listed in
        ``load_errors``: a plugin that cannot load its rules must not run without them.
        """
        for impl in self.manager.hook.configure.get_hookimpls():
            name = impl.plugin_name
            try:
                digest = impl.function(*[{"settings": self.settings}[arg] for arg in impl.argnames])
            except Exception as exc:
                log.error("plugin %s could not be configured and is not used: %s", name, exc)
                self.load_errors.append((name, str(exc)))
                self.manager.unregister(name=name)
                continue
            if digest:
                self.digests[name] = str(digest)
        # The bundled detectors read the bundled reference data and the page view too: their digest joins the versions.
        data = bundled_inputs_digest()
        for name, plugin in self.manager.list_name_plugin():
            if getattr(plugin, "__name__", "").startswith(BUNDLED_PLUGINS_PACKAGE):
                self.digests[name] = f"{self.digests[name]}.{data}" if name in self.digests else data
        self._versions = None

    def describe(self) -> list[PluginInfo]:
        """Name, version, hooks and origin of every registered plugin, by name."""
        infos = []
        for name, plugin in self.manager.list_name_plugin():
            hooks = tuple(sorted(caller.name for caller in self.manager.get_hookcallers(plugin) or ()))
            version = getattr(plugin, "version", "?")
            if name in self.digests:
                version = f"{version}+{self.digests[name]}"
            infos.append(PluginInfo(name, version, hooks, self.origins.get(name, "?")))
        return sorted(infos, key=lambda info: info.name)

    def versions(self) -> dict[str, str]:
        """Plugin name -> version, for re-analysis bookkeeping (asked once per judged observation)."""
        if self._versions is None:
            self._versions = {info.name: info.version for info in self.describe()}
        return dict(self._versions)

    # -- calling --------------------------------------------------------------
    def call(self, hook_name: str, only: set[str] | None = None, **kwargs: Any) -> list[Finding]:
        """Call every implementation of ``hook_name`` in isolation; gather their findings.

        ``only`` restricts the call to the named plugins. Each implementation
        receives just the arguments it declares.
        """
        caller = getattr(self.manager.hook, hook_name)
        findings: list[Finding] = []
        for impl in caller.get_hookimpls():
            name = impl.plugin_name
            if only is not None and name not in only:
                continue
            args = [kwargs[arg] for arg in impl.argnames]
            started = time.perf_counter()
            try:
                with _time_budget(self.timeout):
                    result = impl.function(*args)
                produced = list(result) if result is not None else []
            except PluginTimeout:
                self.stats[(name, "timeout")] += 1
                log.error("plugin %s.%s ran past its %.1fs budget and was stopped", name, hook_name, self.timeout)
                continue
            except Exception:
                self.stats[(name, "error")] += 1
                log.exception("plugin %s.%s raised; its findings for this item are dropped", name, hook_name)
                continue
            elapsed = time.perf_counter() - started
            if self.timeout > 0 and elapsed > self.timeout:  # could not be interrupted (not main thread)
                self.stats[(name, "timeout")] += 1
                log.error("plugin %s.%s took %.1fs, over its %.1fs budget", name, hook_name, elapsed, self.timeout)
                continue
            if not all(isinstance(item, Finding) for item in produced):
                self.stats[(name, "bad-result")] += 1
                log.error("plugin %s.%s returned something other than Finding objects", name, hook_name)
                continue
            declared = getattr(impl.plugin, "version", None)
            foreign = [f for f in produced if f.detector != name or f.detector_version != declared]
            if foreign:
                # Stored findings are keyed by detector and version: one filed under another name or
                # version would escape re-analysis, or overwrite another plugin's results.
                self.stats[(name, "foreign-finding")] += len(foreign)
                log.error("plugin %s.%s filed %d findings under another detector or version (%s %s); they are dropped",
                          name, hook_name, len(foreign), foreign[0].detector, foreign[0].detector_version)
                produced = [f for f in produced if f not in foreign]
            self.stats[(name, "ok")] += 1
            digest = self.digests.get(name)
            if digest:  # recorded under the version that covers the rule files loaded
                produced = [dataclasses.replace(f, detector_version=f"{declared}+{digest}") for f in produced]
            findings.extend(produced)
        return findings
