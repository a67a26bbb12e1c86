"""Cached node outputs: each kind of value in its safe format, given back exactly."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mloop.pipelines import Pipeline, node, run
from mloop.pipelines import cache as node_cache
from mloop.pipelines.cache_format import decode, encode, format_of


def _frames() -> dict[str, pd.DataFrame]:
    rows = 6
    return {
        "numbers": pd.DataFrame(
            {
                "i": np.arange(rows, dtype=np.int64),
                "u8": np.arange(rows, dtype=np.uint8),
                "f": np.linspace(0, 1, rows),
                "f32": np.linspace(0, 1, rows, dtype=np.float32),
                "b": np.arange(rows) % 2 == 0,
                "nan": [1.5, np.nan, 3.0, np.inf, -0.0, 6.0],
            }
        ),
        "text_and_nulls": pd.DataFrame({"s": ["a", None, "c"], "p": pd.array(["x", None, "z"])}),
        "nullable": pd.DataFrame(
            {
                "i": pd.array([1, None, 3], dtype="Int64"),
                "b": pd.array([True, None, False], dtype="boolean"),
                "f": pd.array([1.5, None, 2.0], dtype="Float32"),
            }
        ),
        "categorical": pd.DataFrame(
            {"c": pd.Categorical(["x", "y", "x"], categories=["y", "x", "z"], ordered=True)}
        ),
        "times": pd.DataFrame(
            {
                "tz": pd.date_range("2024-03-30", periods=3, freq="h", tz="Europe/Paris"),
                "naive": pd.to_datetime(["2024-01-01 00:00", "2025-06-30 12:00", None]),
                "us": np.array(["2024-01-01", "2024-01-02", "NaT"], dtype="datetime64[us]"),
                "span": pd.to_timedelta([1, 2, None], unit="s"),
            }
        ),
        "text_index": pd.DataFrame({"a": [1, 2]}, index=pd.Index(["p", "q"], name="key")),
        "int_index": pd.DataFrame({"a": [1.0, 2.0]}, index=[7, 3]),
        "range_index_step": pd.DataFrame({"a": [1, 2]}, index=pd.RangeIndex(10, 14, 2)),
        "multi_index": pd.DataFrame(
            {"a": [1, 2]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["x", "y"])
        ),
        "empty": pd.DataFrame({"a": pd.Series([], dtype="int64"), "s": pd.Series([], dtype=str)}),
    }


# values Arrow would change (type, precision, labels, freq): they must go to pickle
_NOT_KEPT = {
    "object_mixed": pd.DataFrame({"o": pd.Series(["a", 1, None], dtype=object)}),
    "object_text": pd.DataFrame({"o": pd.Series(["a", "b"], dtype=object)}),
    "object_lists": pd.DataFrame({"o": pd.Series([[1, 2], [3]], dtype=object)}),
    "int_labels": pd.DataFrame({0: [1, 2], 1: [3, 4]}),
    "duplicate_labels": pd.DataFrame([[1, 2]], columns=["a", "a"]),
    "daily_index_freq": pd.DataFrame({"a": [1, 2]}, index=pd.date_range("2024", periods=2)),
    "seconds": pd.DataFrame({"t": np.array(["2024-01-01"], dtype="datetime64[s]")}),
    "float16": pd.DataFrame({"h": np.array([1.5], dtype=np.float16)}),
    "python_strings": pd.DataFrame({"s": pd.array(["a", None], dtype="string[python]")}),
    "complex": pd.DataFrame({"c": np.array([1 + 2j, 3j])}),
    "attrs": pd.DataFrame({"a": [1]}).pipe(lambda d: (d.attrs.update(source="x"), d)[1]),
}


def _same(left: Any, right: Any) -> None:
    assert type(left) is type(right)
    if isinstance(left, pd.DataFrame):
        pd.testing.assert_frame_equal(left, right, check_exact=True, check_freq=True)
        assert left.attrs == right.attrs
    elif isinstance(left, pd.Series):
        pd.testing.assert_series_equal(left, right, check_exact=True)
    elif isinstance(left, np.ndarray | np.generic):
        assert left.dtype == right.dtype
        np.testing.assert_array_equal(left, right)
        if isinstance(left, np.ndarray):
            assert left.shape == right.shape
            assert left.flags.f_contiguous == right.flags.f_contiguous
    elif isinstance(left, float) and math.isnan(left):
        assert math.isnan(right)
    else:
        assert left == right


def _round_trip(value: Any) -> tuple[str, Any]:
    suffix, data = encode(value, "test value")
    return suffix, decode(suffix, data)


@pytest.mark.parametrize("name", sorted(_frames()))
def test_a_dataframe_is_stored_as_arrow_and_comes_back_exactly(name: str) -> None:
    frame = _frames()[name]
    suffix, back = _round_trip(frame)
    assert suffix == ".arrow"
    _same(frame, back)


@pytest.mark.parametrize("name", sorted(_NOT_KEPT))
def test_a_dataframe_arrow_would_change_goes_to_pickle_and_comes_back_exactly(name: str) -> None:
    frame = _NOT_KEPT[name]
    suffix, back = _round_trip(frame)
    assert suffix == ".pkl"
    _same(frame, back)


@pytest.mark.parametrize(
    "series",
    [
        pd.Series([1.0, np.nan, 3.0], name="price"),
        pd.Series(["a", "b"], index=pd.Index(["x", "y"], name="k")),
        pd.Series([1, 2], name=7),
        pd.Series(pd.Categorical(["lo", "hi"]), name="band"),
    ],
    ids=["named", "unnamed_text_index", "int_name", "categorical"],
)
def test_a_series_is_stored_as_arrow_with_its_name(series: pd.Series) -> None:
    suffix, back = _round_trip(series)
    assert suffix == ".arrow"
    _same(series, back)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.float64).reshape(3, 4),
        np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)),
        np.array([True, False]),
        np.array(["ab", "c"]),
        np.array(["2024-01-01", "NaT"], dtype="datetime64[D]"),
        np.array([1 + 2j]),
        np.zeros((0, 3)),
    ],
    ids=["float_2d", "int_fortran", "bool", "unicode", "dates", "complex", "empty"],
)
def test_a_numpy_array_is_stored_as_npy_without_pickle(array: np.ndarray) -> None:
    suffix, data = encode(array, "test value")
    assert suffix == ".npy"
    np.load(__import__("io").BytesIO(data), allow_pickle=False)  # no pickle needed to read it
    _same(array, decode(suffix, data))


@pytest.mark.parametrize("scalar", [np.float64(2.5), np.int32(-3), np.bool_(True)])
def test_a_numpy_scalar_comes_back_as_the_same_numpy_type(scalar: np.generic) -> None:
    suffix, back = _round_trip(scalar)
    assert suffix == ".scalar.npy"
    _same(scalar, back)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        12,
        10**30,
        2.5,
        float("inf"),
        float("nan"),
        "text é",
        [1, "a", None, [2.5, False]],
        {"rows": 3, "total": 12.5, "nested": {"tags": ["a"], "ok": True}},
    ],
)
def test_plain_data_is_stored_as_json(value: Any) -> None:
    suffix, back = _round_trip(value)
    assert suffix == ".json"
    _same(value, back)


@pytest.mark.parametrize(
    "value",
    [
        (1, 2, 3),
        {1: "int key"},
        {"a": (1, 2)},
        {3, 4},
        dt.date(2024, 1, 2),
        np.array([{"a": 1}], dtype=object),
    ],
    ids=["tuple", "int_key", "nested_tuple", "set", "date", "object_array"],
)
def test_values_json_or_numpy_would_change_go_to_pickle(value: Any) -> None:
    suffix, back = _round_trip(value)
    assert suffix == ".pkl"
    if isinstance(value, np.ndarray):
        assert back.dtype == object and back.tolist() == value.tolist()
    else:
        _same(value, back)


def test_a_fitted_estimator_is_stored_with_skops_and_predicts_the_same() -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    suffix, data = encode(model, "test value")
    assert suffix == ".skops"
    back = decode(suffix, data)
    assert type(back) is type(model)
    np.testing.assert_array_equal(back.predict_proba(x), model.predict_proba(x))


def _double(values: np.ndarray) -> np.ndarray:
    return values * 2


def test_an_estimator_holding_a_module_function_is_stored_with_skops() -> None:
    from sklearn.preprocessing import FunctionTransformer

    model = FunctionTransformer(_double).fit(np.ones((2, 2)))
    suffix, back = _round_trip(model)
    assert suffix == ".skops"
    np.testing.assert_array_equal(back.transform(np.ones((1, 2))), [[2.0, 2.0]])


def test_an_estimator_holding_a_lambda_is_refused_not_written_unloadable() -> None:
    from sklearn.preprocessing import FunctionTransformer

    from mloop.core.errors import InvalidInput

    model = FunctionTransformer(lambda v: v * 2).fit(np.ones((2, 2)))
    # skops would write the lambda by a name nobody can import, pickle cannot write it
    with pytest.raises(InvalidInput, match="cannot be stored in the cache"):
        encode(model, "output 'model'")


def test_an_unpicklable_value_is_a_clear_error() -> None:
    import threading

    from mloop.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"output .x.*--no-cache"):
        encode(threading.Lock(), "output 'x'")


def test_the_format_comes_from_the_artifact_suffix() -> None:
    assert format_of("objects/ab/abc.scalar.npy") == ".scalar.npy"
    assert format_of("objects/ab/abc.npy") == ".npy"
    assert format_of("objects/ab/abc.arrow") == ".arrow"
    assert format_of("objects/ab/abc.exe") == ""


# -- through a pipeline run ----------------------------------------------------------------


def _frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(rows), "when": pd.date_range("2024", periods=rows)})


def _matrix(frame: pd.DataFrame) -> np.ndarray:
    return frame[["x"]].to_numpy(dtype=np.float64) * 2


def _summary(matrix: np.ndarray) -> dict[str, Any]:
    return {"rows": int(matrix.shape[0]), "total": float(matrix.sum())}


def _model(matrix: np.ndarray) -> Any:
    from sklearn.linear_model import LinearRegression

    return LinearRegression().fit(matrix, matrix[:, 0] * 3 + 1)


def _pair(matrix: np.ndarray) -> tuple[float, float]:
    return float(matrix.min()), float(matrix.max())


def _mean(matrix: np.ndarray) -> np.floating:
    return matrix.mean()


_NODES: list[tuple[Callable[..., Any], str, str, str]] = [
    (_frame, "params:rows", "frame", ".arrow"),
    (_matrix, "frame", "matrix", ".npy"),
    (_summary, "matrix", "summary", ".json"),
    (_model, "matrix", "model", ".skops"),
    (_pair, "matrix", "pair", ".pkl"),
    (_mean, "matrix", "mean", ".scalar.npy"),
]


def test_every_kind_of_output_is_cached_in_its_format_and_a_second_run_is_all_hits() -> None:
    pipe = Pipeline([node(func, source, out) for func, source, out, _ in _NODES])
    first = run(pipe, params={"rows": 5})
    second = run(pipe, params={"rows": 5})
    assert {s.status for s in first.nodes.values()} == {"ran"}
    assert {s.status for s in second.nodes.values()} == {"cached"}
    formats = {
        name: format_of(stored.artifact)
        for outputs in node_cache.entries_of("__default__").values()
        for name, stored in outputs.items()
    }
    assert formats == {out: suffix for _, _, out, suffix in _NODES}
    assert second.outputs["summary"] == {"rows": 5, "total": 20.0}
    assert second.outputs["pair"] == (0.0, 8.0)
    assert type(second.outputs["mean"]) is np.float64 and second.outputs["mean"] == 4.0
    np.testing.assert_array_equal(
        second.outputs["model"].predict([[10.0]]), first.outputs["model"].predict([[10.0]])
    )
