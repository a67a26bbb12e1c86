"""A drift report shows as compact, escaped HTML in a notebook: verdict, blame, findings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mloop.monitoring import drift

SCRIPT = "<script>alert(1)</script>"


def test_a_drift_report_shows_the_verdict_and_the_drifted_column_first() -> None:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({SCRIPT: rng.normal(0, 1, 2000), "steady": rng.normal(0, 1, 2000)})
    current = pd.DataFrame({SCRIPT: rng.normal(3, 1, 2000), "steady": rng.normal(0, 1, 2000)})
    report = drift(reference, current)
    html = report._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert report.drifted == [SCRIPT]
    assert ">drifted<" in html and ">ok<" in html
    assert html.index("&lt;script&gt;") < html.index("steady")  # most to blame first
    assert "1 of 2 features drifted" in html  # the dataset verdict with its numbers
    assert "<b>reference rows</b>: 2,000" in html
