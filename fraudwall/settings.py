"""Layered settings: defaults < config file < ``FRAUDWALL_*`` environment < command line.

Modelled on Scrapy's settings: each value is stored with the priority of the
layer that set it, and a lower layer never overrides a higher one. Components
receive a :class:`Settings` and read it; nothing reads globals.

Every name a config file or the environment sets must be a setting of
:mod:`fraudwall.default_settings` (names are case-insensitive): a typo is a
:class:`ConfigError` with the closest names, never silently ignored.
:meth:`Settings.check` converts every value once, so a bad one is reported at
start, naming where it came from, and not halfway through a crawl.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from fraudwall import default_settings
from fraudwall.exceptions import ConfigError

#: Layer priorities, lowest first.
PRIORITIES: dict[str, int] = {"default": 0, "file": 10, "env": 20, "cmdline": 30}

ENV_PREFIX = "FRAUDWALL_"

#: Environment variables with the prefix that are not settings: read by other parts of fraudwall.
ENV_NOT_SETTINGS = frozenset({"FRAUDWALL_CONFIG"})

#: Bounds of numeric settings, inclusive (None: unbounded on that side).
BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "PLUGIN_TIMEOUT": (0.001, None),
    "SCORE_MALICIOUS": (0.0, 1.0),
    "SCORE_SUSPICIOUS": (0.0, 1.0),
    "CRAWL_DEPTH": (0, None),
    "CRAWL_MAX_PAGES": (0, None),
    "CRAWL_TIMEOUT": (0.001, None),
    "CRAWL_MAX_BYTES": (1, None),
    "CRAWL_MAX_HEAD_BYTES": (1024, None),
    "CRAWL_CONCURRENCY": (1, None),
    "CRAWL_CONCURRENCY_PER_DOMAIN": (1, None),
    "CRAWL_MAX_APK_BYTES": (1, None),
    "CRAWL_MAX_REDIRECTS": (0, None),
    "CRAWL_MAX_HOST_FAILURES": (0, None),
    "CRAWL_DNS_TIMEOUT": (0.001, None),
    "CRAWL_MAX_PAGES_PER_DOMAIN": (0, None),
    "CRAWL_MAX_BYTES_PER_DOMAIN": (0, None),
    "CRAWL_RENDER_PAGES": (1, None),
    "CRAWL_PROGRESS_LOG_SECONDS": (1.0, None),
    "CRAWL_RENDER_WAIT": (0.0, None),
    "CRAWL_RENDER_MAX_BYTES": (1, None),
    "DNS_TIMEOUT": (0.001, None),
    "DNS_RETRIES": (0, None),
    "DNS_CONCURRENCY": (1, None),
    "DNS_RATE": (0.0, None),
    "RECHECK_HOURS": (0.0, None),
    "RECHECK_GONE_HOURS": (0.0, None),
    "RECHECK_RETRY_HOURS": (0.0, None),
    "DISTRIBUTED_IDLE_SECONDS": (0.0, None),
    "DISTRIBUTED_LEASE_SECONDS": (1.0, None),
    "EXPORT_WORKERS": (0, None),
    "JUDGE_WORKERS": (0, None),
    "LIST_MAX_BYTES": (1, None),
    "PUBLISH_MAX_SHRINK": (0.0, 1.0),
}


def _known_setting(name: str, where: str) -> str:
    """``name`` upper-cased, or a :class:`ConfigError` naming the closest settings."""
    key = name.upper()
    if not hasattr(default_settings, key) or not key.isupper() or key.startswith("_"):
        known = [n for n in dir(default_settings) if n.isupper() and not n.startswith("_")]
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else "; see fraudwall/default_settings.py"
        raise ConfigError(f"unknown setting {name!r} {where}{hint}")
    return key


class Settings(Mapping[str, Any]):
    """A mapping of upper-case setting names to values, each with the priority that set it."""

    def __init__(self, values: Mapping[str, Any] | None = None, priority: str = "cmdline") -> None:
        self._values: dict[str, tuple[Any, int]] = {}
        self._config_file: str | None = None
        for name in dir(default_settings):
            if name.isupper():
                self._values[name] = (getattr(default_settings, name), PRIORITIES["default"])
        if values:
            self.update(values, priority)

    # -- layering -----------------------------------------------------------
    def set(self, name: str, value: Any, priority: str = "cmdline") -> None:
        """Set ``name`` unless a higher-priority layer already set it."""
        key = name.upper()
        rank = PRIORITIES[priority]
        current = self._values.get(key)
        if current is None or rank >= current[1]:
            self._values[key] = (value, rank)

    def update(self, values: Mapping[str, Any], priority: str = "cmdline") -> None:
        for name, value in values.items():
            self.set(name, value, priority)

    def load_file(self, path: str | Path) -> None:
        """Read a TOML config file into the ``file`` layer."""
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {path} is not UTF-8 text") from exc
        for name, value in data.items():
            key = _known_setting(name, f"in config file {path}")
            if isinstance(value, dict) and not isinstance(getattr(default_settings, key), dict):
                raise ConfigError(f"[{name}] in config file {path}: {key} is not a table setting")
            self.set(key, value, "file")
        self._config_file = str(path)

    def load_env(self, environ: Mapping[str, str] | None = None) -> None:
        """Read ``FRAUDWALL_*`` variables into the ``env`` layer (strings; getters convert)."""
        environ = os.environ if environ is None else environ
        for key, value in environ.items():
            if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX) and key not in ENV_NOT_SETTINGS:
                name = _known_setting(key[len(ENV_PREFIX):], f"in the environment ({key})")
                self.set(name, value, "env")

    def origin(self, name: str) -> str:
        """Where ``name``'s value came from, for messages: the config file, the environment, ..."""
        key = name.upper()
        layer = self.getpriority(key)
        if layer == "file":
            return f"{key} in config file {self._config_file}"
        if layer == "env":
            return f"environment variable {ENV_PREFIX}{key}"
        if layer == "cmdline":
            return f"{key} from the command line"
        return f"default {key}"

    def check(self) -> None:
        """Convert every setting once; the first bad value is a :class:`ConfigError` naming its origin.

        Types follow the defaults (a number, a boolean, a list, a table);
        numbers must lie within :data:`BOUNDS`; networks must be CIDRs and
        host-map answers IP addresses.
        """
        getters: dict[type, Callable[[str], Any]] = {
            bool: self.getbool, int: self.getint, float: self.getfloat, list: self.getlist, dict: self.getdict,
        }
        for key in self:
            kind = type(getattr(default_settings, key, None))
            try:
                value = getters[kind](key) if kind in getters else self.get(key)
                if kind is str and not isinstance(value, str):
                    raise ConfigError(f"setting {key} expects text, got {value!r}")
            except ConfigError as exc:
                raise ConfigError(f"{exc} ({self.origin(key)})") from exc
            low, high = BOUNDS.get(key, (None, None))
            if isinstance(value, float) and not math.isfinite(value) or (
                    low is not None and value < low) or (high is not None and value > high):
                bounds = f"at least {low}" if high is None else f"between {low} and {high}"
                raise ConfigError(f"setting {key} must be {bounds}, got {value!r} ({self.origin(key)})")
        for cidr in self.getlist("ALLOW_NETS"):
            try:
                ipaddress.ip_network(str(cidr).strip(), strict=False)
            except ValueError:
                raise ConfigError(f"ALLOW_NETS expects CIDRs such as 127.0.0.0/8, got {cidr!r} "
                                  f"({self.origin('ALLOW_NETS')})") from None
        for host, address in self.getdict("HOST_MAP").items():
            try:
                ipaddress.ip_address(str(address))
            except ValueError:
                raise ConfigError(f"HOST_MAP answers {host!r} with {address!r}, which is not an IP address "
                                  f"({self.origin('HOST_MAP')})") from None

    def getpriority(self, name: str) -> str | None:
        entry = self._values.get(name.upper())
        if entry is None:
            return None
        return next(layer for layer, rank in PRIORITIES.items() if rank == entry[1])

    # -- typed getters --------------------------------------------------------
    def __getitem__(self, name: str) -> Any:
        return self._values[name.upper()][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def get(self, name: str, default: Any = None) -> Any:
        entry = self._values.get(name.upper())
        return default if entry is None else entry[0]

    def getbool(self, name: str, default: bool = False) -> bool:
        value = self.get(name, default)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ConfigError(f"setting {name.upper()} expects a boolean, got {value!r}")
        return bool(value)

    def getint(self, name: str, default: int = 0) -> int:
        return self._convert(name, default, int)

    def getfloat(self, name: str, default: float = 0.0) -> float:
        return self._convert(name, default, float)

    def getlist(self, name: str, default: list[Any] | None = None) -> list[Any]:
        """A list; a string from the environment is split on commas (or parsed as JSON)."""
        value = self.get(name, default or [])
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return list(self._json(name, value))
            return [part.strip() for part in value.split(",") if part.strip()]
        return list(value)

    def getdict(self, name: str, default: dict[str, Any] | None = None) -> dict[str, Any]:
        """A dict; a string from the environment is parsed as JSON."""
        value = self.get(name, default or {})
        if isinstance(value, str):
            value = self._json(name, value)
        if not isinstance(value, Mapping):
            raise ConfigError(f"setting {name.upper()} expects a table, got {value!r}")
        return dict(value)

    def copy_with(self, values: Mapping[str, Any], priority: str = "cmdline") -> Settings:
        """A copy with ``values`` layered on top."""
        clone = Settings.__new__(Settings)
        clone._values = dict(self._values)
        clone._config_file = self._config_file
        clone.update(values, priority)
        return clone

    def _convert(self, name: str, default: Any, kind: type) -> Any:
        value = self.get(name, default)
        if isinstance(value, bool) or kind is int and isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"setting {name.upper()} expects {kind.__name__}, got {value!r}")
        try:
            return kind(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ConfigError(f"setting {name.upper()} expects {kind.__name__}, got {value!r}") from exc

    @staticmethod
    def _json(name: str, value: str) -> Any:
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"setting {name.upper()} is not valid JSON: {exc}") from exc


def load_settings(
    config_file: str | Path | None = None,
    cmdline: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the full layered settings the CLI and tests use."""
    settings = Settings()
    if config_file is not None:
        settings.load_file(config_file)
    settings.load_env(environ)
    if cmdline:
        settings.update({k: v for k, v in cmdline.items() if v is not None}, "cmdline")
    return settings
