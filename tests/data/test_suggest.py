"""Suggested suites: learnt from a reference, which passes them, robust to its own outliers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mloop.core.errors import InvalidInput
from mloop.data import Suite, suggest_suite


def _reference(rows: int = 5_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "amount": rng.lognormal(3, 1, rows),
            "score": rng.normal(0, 1, rows),
            "country": pd.array(rng.choice(["FR", "DE", "IT"], rows), dtype="str"),
            "sku": pd.array([f"SKU-{i:05d}" for i in rng.integers(0, 99_999, rows)], dtype="str"),
            "vip": rng.random(rows) < 0.1,
            "note": pd.array(np.where(rng.random(rows) < 0.2, None, "ok"), dtype="str"),
        }
    )
    frame.loc[17, "amount"] = 1e9  # one wild value in the reference
    return frame


def test_suggested_checks_cover_types_nulls_ranges_sets_patterns_and_keys() -> None:
    suite = suggest_suite(_reference(), "orders")
    names = {c.name for c in suite.checks}
    assert {"column(id)", "dtype(id)", "not_null(id)", "unique(id)", "between(id)"} <= names
    assert suite["dtype(amount)"].params == {"type": "float"}
    assert suite["in_set(country)"].params["values"] == ["DE", "FR", "IT"]
    assert suite["in_set(vip)"].params["values"] == [False, True]
    assert suite["regex(sku)"].params["pattern"] == r"[A-Za-z]{3}-\d{5}"
    note = suite["not_null(note)"]
    assert note.severity == "warn" and 0.6 < note.mostly < 0.8
    assert "unique(country)" not in names and "unique(amount)" not in names
    assert suite.description.startswith("suggested from 5,000 reference rows")


def test_ranges_come_from_quantiles_so_a_wild_reference_value_stays_out() -> None:
    reference = _reference()
    amount = suggest_suite(reference)["between(amount)"]
    assert amount.params["min"] == 0.0  # never negative in the reference, so never below 0
    assert amount.params["max"] < 2_000 < 1e9
    result = suggest_suite(reference).validate(reference, save=False)
    assert 17 in result["between(amount)"].failing_index
    failures = {c.name: c.failed_count for c in result.checks if not c.success}
    assert set(failures) <= {"between(amount)", "between(score)"}  # only the quantile tails fail
    assert all(count <= 10 for count in failures.values())


def test_suggested_suite_survives_yaml_review() -> None:
    suite = suggest_suite(_reference(), "orders")
    reviewed = Suite.from_yaml(suite.to_yaml()).without("in_set(vip)")
    assert len(reviewed.checks) == len(suite.checks) - 1


def test_an_empty_reference_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no rows"):
        suggest_suite(pd.DataFrame({"a": pd.Series([], dtype=float)}))
