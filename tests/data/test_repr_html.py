"""Validation results and profiles show as compact, escaped HTML in a notebook."""

from __future__ import annotations

import pandas as pd

from mloop import data
from mloop.data import checks

SCRIPT = "<script>alert(1)</script>"


def _frame() -> pd.DataFrame:
    return pd.DataFrame({SCRIPT: [1.0, None, 3.0, 4.0], "origin": ["EWR", "JFK", "XXX", "LGA"]})


def test_a_validation_result_shows_its_verdict_and_failed_checks_first() -> None:
    suite = data.Suite(
        "airports",
        [
            checks.in_set("origin", ["EWR", "JFK", "LGA"]),
            checks.not_null(SCRIPT),
            checks.between(SCRIPT, 0, 10),
        ],
    )
    html = suite.validate(_frame())._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "suite &#x27;airports&#x27;" in html
    assert ">failed<" in html  # the verdict: two error-level checks failed
    assert "<b>errors</b>: 2" in html and "<b>rows</b>: 4" in html
    # failed checks before the passing one
    assert html.index("in_set(origin)") < html.index("between(")
    assert "25.00%" in html  # one row of four failed each


def test_a_profile_shows_one_row_per_column_with_its_statistics() -> None:
    html = data.profile(_frame())._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>rows</b>: 4" in html and "<b>columns</b>: 2" in html
    for header in ("column", "nulls", "min", "max", "distinct", "top"):
        assert f">{header}</th>" in html
    assert ">1<" in html and ">4<" in html  # min and max of the numeric column
