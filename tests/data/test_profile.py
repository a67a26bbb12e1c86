"""Profiles: exact where they can be, within the sketches' stated error where not, and mergeable."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mloop.core.errors import InvalidInput, NotFound
from mloop.data import Profile, merge, profile
from mloop.data._categorical import EXACT_LIMIT
from mloop.data.profile import CategoricalProfile, NumericProfile

values = st.lists(
    st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)),
    min_size=1,
    max_size=600,
)
labels = st.lists(st.one_of(st.none(), st.sampled_from(list("abcdefgh"))), min_size=1, max_size=300)


def _frame(items: list[float | None]) -> pd.DataFrame:
    return pd.DataFrame({"x": pd.Series(items, dtype="float64")})


def _assert_quantiles_within_error(column: NumericProfile, data: np.ndarray) -> None:
    data = np.sort(data[~np.isnan(data)])
    epsilon = column.rank_error + 1.0 / data.size
    for q in (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        value = column.quantile(q)
        at_most = np.searchsorted(data, value, side="right") / data.size
        below = np.searchsorted(data, value, side="left") / data.size
        assert at_most >= q - epsilon and below <= q + epsilon, (q, value, below, at_most, epsilon)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, values)
def test_merged_numeric_profile_equals_profile_of_concatenated_data(a: list, b: list) -> None:
    first = profile(_frame(a))
    second = profile(_frame(b), like=first)
    merged = merge(first, second)
    whole = profile(_frame(a + b), like=first)
    x, y = merged["x"], whole["x"]
    assert isinstance(x, NumericProfile) and isinstance(y, NumericProfile)
    data = np.asarray(_frame(a + b)["x"], dtype=float)
    present = data[~np.isnan(data)]
    assert merged.num_rows == len(a) + len(b)
    assert (x.count, x.nulls) == (y.count, y.nulls) == (present.size, data.size - present.size)
    if present.size == 0:  # only nulls: no extremes, no quantiles (checked, not skipped)
        assert (x.minimum, x.maximum, x.variance, x.quantile(0.5)) == (None, None, None, None)
        assert (y.minimum, y.maximum, y.quantile(0.5)) == (None, None, None)
        assert int(np.sum(x.counts)) == 0
    else:
        _assert_numeric_matches(x, y, data, has_edges=first["x"].edges is not None)  # type: ignore[attr-defined]


def _assert_numeric_matches(
    x: NumericProfile, y: NumericProfile, data: np.ndarray, has_edges: bool
) -> None:
    """A merged profile of at least one value against numpy and the unmerged profile."""
    present = data[~np.isnan(data)]
    assert x.minimum == present.min() and x.maximum == present.max()
    assert x.mean == pytest.approx(present.mean(), rel=1e-9, abs=1e-6)
    if present.size > 1:
        assert x.variance == pytest.approx(np.var(present, ddof=1), rel=1e-6, abs=1e-3)
    else:
        assert x.variance is None  # one value has no sample variance
    if has_edges:
        assert np.array_equal(x.counts, y.counts)
        assert x.counts.sum() == present.size
    _assert_quantiles_within_error(x, data)


@settings(max_examples=60, deadline=None)
@given(labels, labels)
def test_merged_categorical_counts_are_the_counts_of_concatenated_data(a: list, b: list) -> None:
    frame = lambda items: pd.DataFrame({"c": pd.Series(items, dtype="str")})  # noqa: E731
    merged = merge(profile(frame(a)), profile(frame(b)))["c"]
    assert isinstance(merged, CategoricalProfile)
    truth = Counter(v for v in a + b if v is not None)
    assert merged.frequencies() == dict(truth)
    assert merged.nulls == sum(v is None for v in a + b)
    assert merged.distinct == len(truth)
    assert merged.top_k(2) == sorted(truth.items(), key=lambda kv: (-kv[1], kv[0]))[:2]


def test_numeric_profile_matches_numpy_on_a_large_column() -> None:
    rng = np.random.default_rng(7)
    data = rng.lognormal(2.0, 1.0, 300_000)
    data[rng.random(data.size) < 0.02] = np.nan
    column = profile(pd.DataFrame({"x": data}))["x"]
    assert isinstance(column, NumericProfile)
    present = data[~np.isnan(data)]
    assert column.nulls == data.size - present.size
    assert column.mean == pytest.approx(present.mean(), rel=1e-12)
    assert column.std == pytest.approx(np.std(present, ddof=1), rel=1e-9)
    assert column.counts.sum() == present.size
    inner = column.counts[1:-1]
    assert inner.min() > 0.8 * present.size / 20  # quantile edges give balanced bins
    _assert_quantiles_within_error(column, data)


def test_merging_large_profiles_keeps_quantiles_within_the_stated_error() -> None:
    rng = np.random.default_rng(3)
    parts = [rng.normal(i, 1 + i, 120_000) for i in range(4)]
    reference = profile(pd.DataFrame({"x": parts[0]}))
    merged = merge(*(profile(pd.DataFrame({"x": p}), like=reference) for p in parts))
    column = merged["x"]
    assert isinstance(column, NumericProfile)
    _assert_quantiles_within_error(column, np.concatenate(parts))
    assert column.counts.sum() == 480_000


def test_profile_like_a_reference_reuses_its_edges_and_counts_values_outside_them() -> None:
    reference = profile(pd.DataFrame({"x": np.linspace(0, 10, 1001)}), bins=10)
    shifted = profile(pd.DataFrame({"x": np.array([-5.0, 0.0, 10.0, 11.0, 12.0])}), like=reference)
    edges = reference["x"].edges  # type: ignore[attr-defined]
    assert np.array_equal(shifted["x"].edges, edges)  # type: ignore[attr-defined]
    counts = shifted["x"].counts  # type: ignore[attr-defined]
    assert counts[0] == 1 and counts[-1] == 2  # below the first edge, above the last
    assert counts[1] == 1 and counts[-2] == 1  # 0.0 in the first bin, 10.0 in the (closed) last bin


def test_merging_profiles_with_different_edges_says_how_to_fix_it() -> None:
    a = profile(pd.DataFrame({"x": np.arange(100.0)}))
    b = profile(pd.DataFrame({"x": np.arange(1000.0, 1100.0)}))
    with pytest.raises(InvalidInput, match="like=reference"):
        merge(a, b)


def test_constant_column_gets_one_closed_bin() -> None:
    column = profile(pd.DataFrame({"x": [3.0] * 10}))["x"]
    assert list(column.edges) == [3.0, 3.0]  # type: ignore[attr-defined]
    assert list(column.counts) == [0, 10, 0]  # type: ignore[attr-defined]


def test_high_cardinality_column_switches_to_a_sketch_within_its_error_bound() -> None:
    rng = np.random.default_rng(5)
    ranks = np.minimum(rng.zipf(1.3, 200_000), 50_000)
    frame = pd.DataFrame({"c": pd.Series([f"v{r}" for r in ranks], dtype="str")})
    halves = [profile(frame.iloc[:100_000]), profile(frame.iloc[100_000:])]
    column = merge(*halves)["c"]
    assert isinstance(column, CategoricalProfile) and column.exact is None
    truth = Counter(frame["c"])
    for value, count in column.top_k(20):
        assert abs(count - truth[value]) <= column.max_error
    top_true = [v for v, _ in truth.most_common(5)]
    assert [v for v, _ in column.top_k(5)] == top_true
    distinct = len(truth)
    assert abs(column.distinct - distinct) <= 3 * 0.0163 * distinct
    assert distinct > EXACT_LIMIT


def test_profile_round_trips_through_json_compactly() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=50_000),
            "c": pd.Series(rng.choice(list("abc"), 50_000), dtype="str"),
            "t": pd.date_range("2024-01-01", periods=50_000, freq="min"),
            "b": rng.random(50_000) > 0.5,
        }
    )
    original = profile(frame)
    text = original.to_json()
    again = Profile.from_json(text)
    assert json.loads(text)["num_rows"] == 50_000
    assert len(text) < 40_000
    assert again["x"].summary() == original["x"].summary()
    assert again["c"].summary() == original["c"].summary()
    assert again["t"].kind == "numeric" and again["t"].dtype.startswith("timestamp")
    assert again["b"].kind == "categorical"
    assert dict(again["b"].top_k()) == {
        "true": int(frame["b"].sum()),
        "false": int((~frame["b"]).sum()),
    }  # type: ignore[attr-defined]
    assert merge(again, original).num_rows == 100_000


def test_parquet_file_is_profiled_batch_by_batch(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=600_000),
            "k": pd.Series(rng.choice(list("xyz"), 600_000), dtype="str"),
        }
    )
    path = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=100_000)
    streamed = profile(path)
    in_memory = profile(frame, like=streamed)
    assert streamed.num_rows == 600_000
    assert np.array_equal(streamed["x"].counts, in_memory["x"].counts)  # type: ignore[attr-defined]
    assert streamed["x"].mean == pytest.approx(in_memory["x"].mean, rel=1e-12)  # type: ignore[attr-defined]
    assert streamed["k"].frequencies() == in_memory["k"].frequencies()  # type: ignore[attr-defined]


def test_batches_with_different_columns_are_refused() -> None:
    batches = [pa.record_batch({"a": [1.0]}), pa.record_batch({"b": [2.0]})]
    with pytest.raises(InvalidInput, match="same columns"):
        profile(iter(batches))


def test_unknown_column_names_the_profiled_ones() -> None:
    with pytest.raises(NotFound, match="Did you mean 'wind_speed'"):
        profile(pd.DataFrame({"wind_speed": [1.0]}))["wind_sped"]


def test_unsupported_input_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="cannot profile a int"):
        profile(42)
