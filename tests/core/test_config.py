"""Configuration: environment over mloop.toml over defaults, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mloop.core.config import SETTINGS, get_settings, load_settings
from mloop.core.errors import ConfigError


def test_defaults_put_every_store_under_the_home(tmp_path: Path) -> None:
    settings = load_settings(env={}, cwd=tmp_path)
    assert settings.home == tmp_path / ".mloop"
    assert settings.db_url == f"sqlite:///{tmp_path}/.mloop/mloop.db"
    assert settings.artifacts_uri == f"{tmp_path}/.mloop/artifacts"
    assert settings.online_url == f"sqlite:///{tmp_path}/.mloop/online.db"
    assert settings.runner == "sequential"


def test_environment_overrides_project_file_overrides_defaults(tmp_path: Path) -> None:
    (tmp_path / "mloop.toml").write_text(
        '[mloop]\nexperiment = "from-file"\nrunner = "parallel"\n\n[params]\nalpha = 0.5\n'
    )
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    settings = load_settings(env={"MLOOP_EXPERIMENT": "from-env"}, cwd=nested)
    assert settings.root == tmp_path
    assert settings.experiment == "from-env"
    assert settings.runner == "parallel"
    assert settings.section("params") == {"alpha": 0.5}
    assert settings.section("missing") == {}


def test_relative_sqlite_urls_resolve_against_the_project_root(tmp_path: Path) -> None:
    settings = load_settings(env={"MLOOP_DB_URL": "sqlite:///data/m.db"}, cwd=tmp_path)
    assert settings.db_url == f"sqlite:///{tmp_path}/data/m.db"


def test_errors_name_the_setting_the_value_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"MLOOP_FLUSH_INTERVAL = 'soon' is not a number"):
        load_settings(env={"MLOOP_FLUSH_INTERVAL": "soon"}, cwd=tmp_path)
    (tmp_path / "mloop.toml").write_text('[mloop]\nexperimnet = "x"\n')
    with pytest.raises(ConfigError, match="Did you mean 'experiment'"):
        load_settings(env={}, cwd=tmp_path)
    (tmp_path / "mloop.toml").write_text("[mloop\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env={}, cwd=tmp_path)


def test_settings_follow_environment_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOOP_EXPERIMENT", "one")
    assert get_settings().experiment == "one"
    monkeypatch.setenv("MLOOP_EXPERIMENT", "two")
    assert get_settings().experiment == "two"


def test_every_setting_has_an_environment_name_and_help() -> None:
    assert all(s.env.startswith("MLOOP_") and s.help for s in SETTINGS)
