"""The actor recorded by runs and audit entries is the principal acting, else the configured user."""

from __future__ import annotations

import threading

import pytest

import mloop
from mloop.core.principal import Principal, acting_as, current_actor, current_principal


def test_actor_is_configured_user_without_principal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOOP_USER", "grace")
    assert current_principal() is None
    assert current_actor() == "grace"


def test_acting_as_sets_and_restores_the_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOOP_USER", "grace")
    with acting_as(Principal("ada", workspace="fraud", role="viewer")) as principal:
        assert current_actor() == "ada"
        assert current_principal() == principal
    assert current_actor() == "grace"


def test_principal_does_not_leak_into_other_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOOP_USER", "grace")
    seen: list[str] = []
    with acting_as(Principal("ada")):
        thread = threading.Thread(target=lambda: seen.append(current_actor()))
        thread.start()
        thread.join()
    assert seen == ["grace"]


def test_runs_record_the_acting_principal(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_HOME", str(tmp_path))
    monkeypatch.setenv("MLOOP_USER", "grace")
    with acting_as(Principal("ada")), mloop.start_run() as run:
        mloop.log_param("p", 1)
    assert mloop.get_run(run.info.run_id).info.user_id == "ada"
