"""Renamed pipeline names keep working for one release, with a DeprecationWarning."""

from __future__ import annotations

import importlib
import sys

import pytest

import mloop.pipelines as pipelines
from mloop.pipelines import catalog_entries, run_requests


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Trigger", run_requests.RunRequest),
        ("trigger", run_requests.request_run),
        ("get_trigger", run_requests.get_run_request),
        ("list_triggers", run_requests.list_run_requests),
    ],
)
def test_the_old_run_request_names_warn_and_are_the_new_objects(old: str, new: object) -> None:
    with pytest.warns(DeprecationWarning, match=f"mloop.pipelines.{old} is now"):
        assert getattr(pipelines, old) is new


@pytest.mark.parametrize(
    ("module", "name", "new"),
    [
        ("mloop.pipelines.triggers", "trigger", run_requests.request_run),
        ("mloop.pipelines.datasets", "ParquetDataset", catalog_entries.ParquetDataset),
    ],
)
def test_the_old_module_paths_warn_and_give_the_same_objects(
    module: str, name: str, new: object
) -> None:
    sys.modules.pop(module, None)
    with pytest.warns(DeprecationWarning, match=module.replace(".", r"\.") + " is now"):
        old = importlib.import_module(module)
    assert getattr(old, name) is new


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        pipelines.nothing  # noqa: B018
