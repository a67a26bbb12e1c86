"""The vectorised per-group metrics agree with scikit-learn on every group, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from mloop.evaluation import metrics as m


@st.composite
def binary_groups(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 60))
    codes = np.asarray(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    positive = np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    # few distinct scores, so that ties are common
    score = np.asarray(
        draw(
            st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]), min_size=n, max_size=n)
        )
    )
    predicted = score >= 0.5
    return codes, positive, predicted, score


@settings(max_examples=40, deadline=None)
@given(binary_groups())
def test_binary_metrics_match_scikit_learn_per_group(data: tuple[np.ndarray, ...]) -> None:
    codes, positive, predicted, score = data
    found = m.binary_metrics(codes, 4, positive, predicted, score, True)
    for g in range(4):
        rows = codes == g
        if not rows.any():
            continue
        y, p, s = positive[rows], predicted[rows], score[rows]
        assert found.values["accuracy"][g] == pytest.approx(skm.accuracy_score(y, p))
        expected = {
            "precision": skm.precision_score(y, p, zero_division=np.nan),
            "recall": skm.recall_score(y, p, zero_division=np.nan),
            "f1": skm.f1_score(y, p, zero_division=np.nan),
        }
        for name, value in expected.items():
            if np.isnan(value):
                assert np.isnan(found.values[name][g]) and found.reason(name, g)
            else:
                assert found.values[name][g] == pytest.approx(value)
        if y.all() or not y.any():
            assert np.isnan(found.values["roc_auc"][g])
            assert "only" in found.reason("roc_auc", g)
        else:
            assert found.values["roc_auc"][g] == pytest.approx(skm.roc_auc_score(y, s))
        if y.any():
            assert found.values["pr_auc"][g] == pytest.approx(skm.average_precision_score(y, s))
        else:
            assert np.isnan(found.values["pr_auc"][g]) and "no positive" in found.reason(
                "pr_auc", g
            )
        assert found.values["log_loss"][g] == pytest.approx(
            skm.log_loss(y, s, labels=[False, True])
        )
        assert found.values["brier"][g] == pytest.approx(skm.brier_score_loss(y, s, pos_label=True))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(3, 50).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 2), min_size=n, max_size=n),
            st.lists(st.floats(-100, 100, allow_nan=False), min_size=n, max_size=n),
            st.lists(st.floats(-100, 100, allow_nan=False), min_size=n, max_size=n),
        )
    )
)
def test_regression_metrics_match_scikit_learn_per_group(
    data: tuple[list[int], list[float], list[float]],
) -> None:
    codes, y, predicted = (np.asarray(v) for v in data)
    y = np.round(y, 1)
    found = m.regression_metrics(codes, 3, y, predicted)
    for g in range(3):
        rows = codes == g
        if not rows.any():
            continue
        yt, yp = y[rows], predicted[rows]
        assert found.values["mae"][g] == pytest.approx(skm.mean_absolute_error(yt, yp))
        assert found.values["rmse"][g] == pytest.approx(np.sqrt(skm.mean_squared_error(yt, yp)))
        if rows.sum() >= 2 and np.var(yt) > 1e-9:
            assert found.values["r2"][g] == pytest.approx(skm.r2_score(yt, yp), rel=1e-6, abs=1e-6)
        elif np.var(yt) == 0:
            assert np.isnan(found.values["r2"][g]) and "constant" in found.reason("r2", g)
        if (yt == 0).any():
            assert np.isnan(found.values["mape"][g]) and "zero" in found.reason("mape", g)
        else:
            assert found.values["mape"][g] == pytest.approx(
                skm.mean_absolute_percentage_error(yt, yp)
            )


def test_multiclass_macro_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    y = rng.choice(["a", "b", "c"], size=300)
    predicted = np.where(rng.random(300) < 0.6, y, rng.choice(["a", "b", "c"], size=300))
    proba = rng.dirichlet([1, 1, 1], size=300)
    codes = np.zeros(300, dtype=int)
    found = m.multiclass_metrics(codes, 1, y, predicted, proba, ["a", "b", "c"])
    assert found.values["accuracy"][0] == pytest.approx(skm.accuracy_score(y, predicted))
    for name, fn in (
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ):
        assert found.values[name][0] == pytest.approx(fn(y, predicted, average="macro"))
    assert found.values["log_loss"][0] == pytest.approx(
        skm.log_loss(y, proba, labels=["a", "b", "c"])
    )


def test_every_metric_has_a_direction() -> None:
    for name in (*m.BINARY, *m.REGRESSION, *m.MULTICLASS):
        assert name in m.GREATER_IS_BETTER
    assert m.greater_is_better("rmse") is False
    assert m.greater_is_better("cost", {"cost": False}) is False
