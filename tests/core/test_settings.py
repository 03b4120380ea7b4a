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


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("SCORE_MALICOUS = 0.9\n", "unknown setting 'SCORE_MALICOUS' in config file .*did you mean SCORE_MALICIOUS"),
        ("score_malicous = 0.9\n", "unknown setting 'score_malicous'.*did you mean SCORE_MALICIOUS"),
        ("[crawl]\ndepth = 3\n", "unknown setting 'crawl'"),
        ("[DB_PATH]\nx = 1\n", r"\[DB_PATH\] in config file .*not a table setting"),
    ],
)
def test_unknown_config_keys_and_tables_are_errors(tmp_path: Path, toml: str, message: str) -> None:
    """A typo, an unknown table or a table where a value belongs is an error with the closest names, never ignored."""
    config = tmp_path / "fraudwall.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_unknown_environment_setting_is_an_error() -> None:
    """FRAUDWALL_DB_PTH is a typo of FRAUDWALL_DB_PATH, said so; FRAUDWALL_CONFIG is not a setting but is allowed."""
    with pytest.raises(ConfigError, match=r"'DB_PTH' in the environment \(FRAUDWALL_DB_PTH\); did you mean DB_PATH"):
        load_settings(environ={"FRAUDWALL_DB_PTH": "x.db"})
    assert load_settings(environ={"FRAUDWALL_CONFIG": "f.toml"}).get("DB_PATH") == "fraudwall.db"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"FRAUDWALL_ALLOW_NETS": "bogus"}, "ALLOW_NETS expects CIDRs.*'bogus' \\(environment variable FRAUDWALL_ALLOW_NETS\\)"),
        ({"FRAUDWALL_CRAWL_DEPTH": "-1"}, "CRAWL_DEPTH must be at least 0, got -1 \\(environment variable"),
        ({"FRAUDWALL_CRAWL_MAX_PAGES": "2.5"}, "CRAWL_MAX_PAGES expects int"),
        ({"FRAUDWALL_SCORE_MALICIOUS": "nan"}, "SCORE_MALICIOUS must be between 0.0 and 1.0, got nan"),
        ({"FRAUDWALL_PUBLISH_MAX_SHRINK": "1.5"}, "PUBLISH_MAX_SHRINK must be between"),
        ({"FRAUDWALL_HOST_MAP": '{"a.top": "notanip"}'}, "HOST_MAP answers 'a.top' with 'notanip', which is not an IP"),
        ({"FRAUDWALL_HOST_MAP_ONLY": "maybe"}, "HOST_MAP_ONLY expects a boolean"),
    ],
)
def test_check_reports_a_bad_value_with_its_origin(environ: dict[str, str], message: str) -> None:
    """check() converts every setting at start; a bad value names the environment variable it came from."""
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=environ).check()


def test_check_names_the_config_file(tmp_path: Path) -> None:
    """A bad value from a config file names the file, not a command-line option."""
    config = tmp_path / "fraudwall.toml"
    config.write_text('ALLOW_NETS = ["10.0.0.0/8", "nonsense"]\n')
    with pytest.raises(ConfigError, match=f"ALLOW_NETS in config file {config}"):
        load_settings(config).check()
    load_settings().check()  # the defaults themselves pass
