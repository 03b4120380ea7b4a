"""Layered settings: defaults < config file < ``FRAUDWALL_*`` environment < command line.

Modelled on Scrapy's settings: each value is stored with the priority of the
layer that set it, and a lower layer never overrides a higher one. Components
receive a :class:`Settings` and read it; nothing reads globals.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from fraudwall import default_settings
from fraudwall.exceptions import ConfigError

#: Layer priorities, lowest first.
PRIORITIES: dict[str, int] = {"default": 0, "file": 10, "env": 20, "cmdline": 30}

ENV_PREFIX = "FRAUDWALL_"


class Settings(Mapping[str, Any]):
    """A mapping of upper-case setting names to values, each with the priority that set it."""

    def __init__(self, values: Mapping[str, Any] | None = None, priority: str = "cmdline") -> None:
        self._values: dict[str, tuple[Any, int]] = {}
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
        self.update(data, "file")

    def load_env(self, environ: Mapping[str, str] | None = None) -> None:
        """Read ``FRAUDWALL_*`` variables into the ``env`` layer (strings; getters convert)."""
        environ = os.environ if environ is None else environ
        for key, value in environ.items():
            if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
                self.set(key[len(ENV_PREFIX):], value, "env")

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
        clone.update(values, priority)
        return clone

    def _convert(self, name: str, default: Any, kind: type) -> Any:
        value = self.get(name, default)
        try:
            return kind(value)
        except (TypeError, ValueError) as exc:
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
