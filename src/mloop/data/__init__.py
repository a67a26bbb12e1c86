"""Data: versioned datasets, quality checks with quarantine, mergeable profiles, anomaly detection.

>>> from mloop import data
>>> v = data.register("weather", df)                      # weather@1, Parquet under the artifact root
>>> suite = data.suggest_suite(data.load("weather@1"))   # review, then suite.save()
>>> result = suite.validate(new_df, quarantine=True)
>>> result.raise_for_errors()
>>> reference = data.profile(df); window = data.profile(new_df, like=reference)
>>> detector = data.RobustDetector().fit(df); detector.flag(new_df)[:3]

Heavy libraries (pandas, pyarrow, DuckDB, DataSketches, scikit-learn) load on first use.
"""

from __future__ import annotations

import builtins

from mloop.core.errors import InvalidInput
from mloop.data import _records, checks
from mloop.data.anomaly import Contribution, Detector, Flag
from mloop.data.datasets import DatasetVersion, get_version, list_datasets, load, register, versions
from mloop.data.isolation import IsolationForestDetector
from mloop.data.profile import (
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    Profile,
    merge,
    profile,
)
from mloop.data.quarantine import FAILED_CHECKS
from mloop.data.result import CheckResult, DataCheckFailed, ValidationResult
from mloop.data.robust import RobustDetector
from mloop.data.suggest import suggest_suite
from mloop.data.suite import Suite

# mloop.data.list() as the issue names it; kept out of __all__ so that
# ``from mloop.data import *`` never shadows the builtin ``list``.
list = list_datasets


def suites() -> builtins.list[dict[str, object]]:
    """The latest version of every stored suite (name, version, number of checks)."""
    return _records.list_suites()


def results(
    dataset: str | None = None, suite: str | None = None, limit: int = 100
) -> builtins.list[ValidationResult]:
    """Stored validation results, newest first, for a dataset (``name`` or ``name@3``) and/or a suite."""
    return _records.list_results(dataset, suite, limit)


def save_result(result: ValidationResult, dataset: str | None = None) -> ValidationResult:
    """Store a result made outside ``Suite.validate`` (e.g. a window of a stream); sets ``result.id``.

    The suite must be stored (``suite.save()``); ``dataset`` (``name@3``) links the result to
    a dataset version.

    Raises:
        InvalidInput: the result has no suite version (its suite was never saved).
    """
    if result.suite_version is None:
        raise InvalidInput(
            f"result of suite {result.suite!r} has no suite version; save the suite first "
            "(suite.save()) and set result.suite_version = suite.version."
        )
    link = None
    if dataset is not None:
        found = get_version(dataset)
        link = (found.name, found.version)
    _records.save_result(result, link)
    return result


def get_result(result_id: str) -> ValidationResult:
    """A stored validation result (its samples, not its full failing index).

    Raises:
        NotFound: no validation result has this id.
    """
    return _records.get_result(result_id)


__all__ = [
    "FAILED_CHECKS",
    "CategoricalProfile",
    "CheckResult",
    "ColumnProfile",
    "Contribution",
    "DataCheckFailed",
    "DatasetVersion",
    "Detector",
    "Flag",
    "IsolationForestDetector",
    "NumericProfile",
    "Profile",
    "RobustDetector",
    "Suite",
    "ValidationResult",
    "checks",
    "get_result",
    "get_version",
    "list_datasets",
    "load",
    "merge",
    "profile",
    "register",
    "results",
    "save_result",
    "suggest_suite",
    "suites",
    "versions",
]
