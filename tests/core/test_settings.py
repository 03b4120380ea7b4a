"""Layered settings: defaults < config file < FRAUDWALL_* environment < command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudwall.exceptions import ConfigError
from fraudwall.settings import Settings, load_settings


def test_layers_override_in_order(tmp_path: Path) -> None:
    """Each layer overrides the one below it, whatever order they are applied in."""
    config = tmp_path / "fraudwall.toml"
    config.write_text('db_path = "from-file.db"\ncrawl_depth = 5\nplugin_timeout = 9.0\n')
    settings = load_settings(
        config, cmdline={"DB_PATH": "from-cmdline.db"},
        environ={"FRAUDWALL_CRAWL_DEPTH": "7", "FRAUDWALL_DB_PATH": "from-env.db"},
    )
    assert settings["DB_PATH"] == "from-cmdline.db"
    assert settings.getint("CRAWL_DEPTH") == 7
    assert settings.getfloat("PLUGIN_TIMEOUT") == 9.0
    assert settings.getpriority("PLUGIN_TIMEOUT") == "file"
    settings.set("DB_PATH", "late-default.db", "default")  # a lower layer never wins
    assert settings["DB_PATH"] == "from-cmdline.db"


def test_defaults_are_documented_values() -> None:
    """Without any layer the defaults apply, and unknown names read as None."""
    settings = Settings()
    assert settings.getfloat("SCORE_MALICIOUS") > settings.getfloat("SCORE_SUSPICIOUS")
    assert settings.get("NO_SUCH_SETTING") is None


def test_environment_strings_convert() -> None:
    """Environment values are strings; typed getters parse lists, dicts and booleans."""
    settings = load_settings(environ={
        "FRAUDWALL_ALLOW_NETS": "127.0.0.0/8, ::1/128",
        "FRAUDWALL_HOST_MAP": '{"a.example": "127.0.0.1"}',
        "FRAUDWALL_HOST_MAP_ONLY": "yes",
    })
    assert settings.getlist("ALLOW_NETS") == ["127.0.0.0/8", "::1/128"]
    assert settings.getdict("HOST_MAP") == {"a.example": "127.0.0.1"}
    assert settings.getbool("HOST_MAP_ONLY") is True


@pytest.mark.parametrize(
    ("environ", "getter"),
    [({"FRAUDWALL_CRAWL_DEPTH": "deep"}, "getint"), ({"FRAUDWALL_HOST_MAP_ONLY": "maybe"}, "getbool"),
     ({"FRAUDWALL_HOST_MAP": "{not json"}, "getdict")],
)
def test_bad_values_raise_config_error(environ: dict[str, str], getter: str) -> None:
    """A malformed value is a ConfigError naming the setting, not a crash deeper down."""
    settings = load_settings(environ=environ)
    name = next(iter(environ)).removeprefix("FRAUDWALL_")
    with pytest.raises(ConfigError, match=name):
        getattr(settings, getter)(name)


def test_bad_config_file_is_config_error(tmp_path: Path) -> None:
    """An unreadable or invalid TOML file is reported as a ConfigError."""
    bad = tmp_path / "bad.toml"
    bad.write_text("db_path = [unclosed")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.toml")
