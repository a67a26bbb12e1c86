"""A drift trigger weighted by the features' importance, next to the unweighted one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mloop import loop
from mloop.core.errors import InvalidInput
from mloop.loop.triggers import TriggerContext, drifted_importance
from mloop.monitoring import Window, drift

# "temp" stands for the demo's temperature: it drifts, and the model barely uses it
IMPORTANCE = {"temp": 0.05, "key": 0.8, "other": 0.15}


def _frame(n: int, seed: int, temp: float = 0.0, key: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "temp": rng.normal(temp, 1.0, n),
            "key": rng.normal(key, 1.0, n),
            "other": rng.normal(0.0, 1.0, n),
        }
    )


def _window(i: int, temp: float = 0.0, key: float = 0.0) -> Window:
    report = drift(_frame(5_000, 0), _frame(2_000, i + 1, temp, key), importance=IMPORTANCE)
    return Window(f"w{i}", "m", "1", i, i + 1, 2_000, report)


def _context(windows: list[Window]) -> TriggerContext:
    return TriggerContext("m", 1, windows, now=0)


def test_drift_of_a_feature_the_model_barely_uses_fires_only_the_unweighted_trigger() -> None:
    windows = [_window(i, temp=1.0) for i in range(3)]
    assert all(w.drift.drifted == ["temp"] for w in windows)
    assert drifted_importance(windows[0]) == pytest.approx(0.05)
    unweighted = loop.DriftTrigger(k=2, n=3, columns=["temp"]).check(_context(windows))
    assert unweighted is not None and unweighted.evidence["drifted_columns"] == ["temp"]
    assert loop.DriftTrigger(k=2, n=3, importance=0.3).check(_context(windows)) is None


def test_drift_of_a_key_feature_fires_the_weighted_trigger_with_its_share() -> None:
    windows = [_window(0), _window(1, key=1.0), _window(2, key=1.0)]
    fired = loop.DriftTrigger(k=2, n=3, importance=0.3).check(_context(windows))
    assert fired is not None
    assert fired.evidence["importance_shares"] == [pytest.approx(0.8), pytest.approx(0.8)]
    assert "holding 80% of the model's importance" in fired.reason
    assert fired.window_id == "w2"


def test_without_importance_every_feature_weighs_the_same() -> None:
    report = drift(_frame(5_000, 0), _frame(2_000, 1, temp=1.0))
    window = Window("w", "m", "1", 0, 1, 2_000, report)
    assert drifted_importance(window) == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"importance": 0.0}, r"importance = 0.0 must be in \(0, 1\]"),
        ({"importance": True}, r"importance = True must be in"),
        ({"importance": 0.3, "columns": ["x"]}, "one of columns, share or importance"),
    ],
)
def test_weighted_trigger_arguments_are_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        loop.DriftTrigger(**kwargs)  # type: ignore[arg-type]


def test_the_demo_counts_the_retrains_of_each_policy_over_its_windows() -> None:
    from mloop.demo.policy import retrains_by_policy

    months = [
        (4, _window(0, temp=1.0)),  # only temperature (barely used) drifts in April to June...
        (5, _window(1, temp=1.0)),
        (6, _window(2, temp=1.0)),
        (7, _window(3, key=1.0)),  # ...then the key feature drifts in July and August
        (8, _window(4, key=1.0)),
    ]
    unweighted, weighted = retrains_by_policy(months, lambda version: None)
    assert unweighted["policy"].startswith("unweighted")
    # temperature in 2 of the last 3 windows: May, and again each month while that holds
    # (June, July), as the demo's policy does after a rejected challenger
    assert (unweighted["retrains"], unweighted["months"]) == (3, [5, 6, 7])
    assert (weighted["retrains"], weighted["months"]) == (1, [8])  # the key feature
    assert "holding 80% of the model's importance" in weighted["why"][0]
