"""Each check agrees with a naive pandas reference, and bad definitions fail clearly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mloop.core.errors import InvalidInput
from mloop.data import Suite, checks

numbers = st.lists(st.one_of(st.none(), st.integers(-50, 50).map(float)), min_size=1, max_size=200)
words = st.lists(
    st.one_of(st.none(), st.sampled_from(["EWR", "JFK", "LGA", "XXX", "ewr"])),
    min_size=1,
    max_size=200,
)


def _run(check: checks.Check, frame: pd.DataFrame):
    return Suite("t", [check]).validate(frame, save=False).checks[0]


@settings(max_examples=80, deadline=None)
@given(
    numbers, st.integers(-60, 60), st.integers(0, 40), st.sampled_from([True, False, "min", "max"])
)
def test_between_fails_exactly_the_rows_pandas_finds_out_of_range(
    items: list, low: int, width: int, inclusive: bool | str
) -> None:
    frame = pd.DataFrame({"x": pd.Series(items, dtype="float64")})
    high = low + width
    result = _run(checks.between("x", low, high, inclusive=inclusive), frame)
    x = frame["x"]
    left = x >= low if inclusive in (True, "min") else x > low
    right = x <= high if inclusive in (True, "max") else x < high
    expected = x.notna() & ~(left & right)
    assert result.failed_count == int(expected.sum())
    assert list(result.failing_index) == list(frame.index[expected])
    assert result.success == (result.failed_count == 0)


@settings(max_examples=60, deadline=None)
@given(numbers, st.floats(0.0, 1.0))
def test_not_null_counts_nulls_and_respects_mostly(items: list, mostly: float) -> None:
    frame = pd.DataFrame({"x": pd.Series(items, dtype="float64")})
    result = _run(checks.not_null("x", mostly=mostly), frame)
    nulls = int(frame["x"].isna().sum())
    assert result.failed_count == nulls
    assert result.failed_fraction == pytest.approx(nulls / len(frame))
    assert result.success == (nulls / len(frame) <= 1 - mostly + 1e-9)


@settings(max_examples=60, deadline=None)
@given(words, st.sets(st.sampled_from(["EWR", "JFK", "LGA"]), min_size=1))
def test_in_set_fails_values_outside_the_set_and_ignores_nulls(items: list, allowed: set) -> None:
    for dtype in ("str", "category", "object"):
        frame = pd.DataFrame({"o": pd.Series(items, dtype=dtype)})
        result = _run(checks.in_set("o", sorted(allowed)), frame)
        expected = frame["o"].notna() & ~frame["o"].isin(allowed)
        assert list(result.failing_index) == list(frame.index[expected]), dtype


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 15)), min_size=1, max_size=100), st.booleans())
def test_unique_fails_every_row_of_a_repeated_key(items: list, compound: bool) -> None:
    frame = pd.DataFrame(
        {"a": pd.Series(items, dtype="float64"), "b": [i % 2 for i in range(len(items))]}
    )
    columns = ["a", "b"] if compound else ["a"]
    result = _run(checks.unique(columns), frame)
    keyed = frame.dropna(subset=["a"])
    expected = keyed.index[keyed.duplicated(subset=columns, keep=False)]
    assert sorted(result.failing_index) == sorted(expected)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=60),
    st.sampled_from([1, 7, 2**40]),
    st.booleans(),
    st.sampled_from(["int64", "uint64", "int32"]),
)
def test_unique_on_integer_columns_agrees_with_pandas_at_any_spread(
    items: list[int], distinct: int, wide: bool, dtype: str
) -> None:
    # keys close together take the counting path, keys far apart the hashing path
    limit = {"int64": 2**63 - 1, "uint64": 2**64 - 1, "int32": 2**31 - 1}[dtype]
    step = limit // distinct if wide else 1
    values = pd.Series([(v % distinct) * step % limit for v in items], dtype=dtype)
    if dtype != "uint64":
        values = values - limit // 2  # negative keys too
    frame = pd.DataFrame({"k": values})
    result = _run(checks.unique("k"), frame)
    repeated = frame["k"].duplicated(keep=False)
    assert list(result.failing_index) == list(frame.index[repeated])
    expected_keys = frame.loc[repeated, "k"].nunique()
    assert result.observed.get("duplicated_keys", 0) == expected_keys


def test_unique_on_integers_without_repeats_passes_quickly_and_exactly() -> None:
    frame = pd.DataFrame({"id": np.random.default_rng(0).permutation(100_000)})
    assert _run(checks.unique("id"), frame).success
    frame.loc[5, "id"] = frame.loc[9, "id"]
    result = _run(checks.unique("id"), frame)
    assert sorted(result.failing_index) == [5, 9]


def test_regex_matches_whole_values_only() -> None:
    frame = pd.DataFrame({"code": pd.Series(["AB12", "AB123", None, "xAB12"], dtype="str")})
    result = _run(checks.regex("code", r"[A-Z]{2}\d{2}"), frame)
    assert list(result.failing_index) == [1, 3]


def test_expression_is_evaluated_by_duckdb_and_null_results_pass() -> None:
    frame = pd.DataFrame({"temp": [50.0, 40.0, None, 30.0], "dewp": [40.0, 45.0, 10.0, None]})
    result = _run(checks.expression("dewp <= temp", name="dew point below temperature"), frame)
    assert result.name == "dew point below temperature"
    assert list(result.failing_index) == [1]


def test_expression_with_a_typo_fails_the_check_with_duckdbs_reason() -> None:
    frame = pd.DataFrame({"temp": [1.0]})
    result = _run(checks.expression("tmep > 0"), frame)
    assert not result.success and result.error is not None
    assert "tmep" in result.error and "Fix the SQL" in result.error


def test_expression_cannot_reach_files() -> None:
    frame = pd.DataFrame({"a": [1.0]})
    result = _run(checks.expression("(SELECT count(*) FROM read_csv('/etc/hostname')) > 0"), frame)
    assert not result.success and "file system operations are disabled" in (result.error or "")


def test_monotonic_flags_the_rows_that_break_the_order() -> None:
    frame = pd.DataFrame({"t": [1.0, 2.0, 2.0, 1.5, None, 3.0, 2.9]})
    assert list(_run(checks.monotonic("t"), frame).failing_index) == [3, 6]
    assert list(_run(checks.monotonic("t", strict=True), frame).failing_index) == [2, 3, 6]
    assert list(_run(checks.monotonic("t", increasing=False), frame).failing_index) == [1, 5]


def test_freshness_compares_the_newest_timestamp_with_now() -> None:
    frame = pd.DataFrame({"at": pd.to_datetime(["2024-05-01 10:00", "2024-05-01 12:00"], utc=True)})
    fresh = _run(checks.freshness("at", "3h"), frame)
    assert not fresh.success  # real clock: 2024 is long gone
    suite = Suite("t", [checks.freshness("at", "3h")])
    assert suite.validate(frame, save=False, now="2024-05-01 14:00Z").success
    assert not suite.validate(frame, save=False, now="2024-05-01 15:30Z").success


def test_row_count_and_dtype_judge_the_table() -> None:
    frame = pd.DataFrame({"n": [1, 2, 3], "s": pd.Series(["a", "b", "c"], dtype="str")})
    suite = Suite(
        "t",
        [
            checks.row_count(min=5),
            checks.dtype("n", "integer"),
            checks.dtype("n", "int32", name="exact width"),
            checks.dtype("s", "string"),
            checks.column("missing"),
        ],
    )
    result = suite.validate(frame, save=False)
    verdicts = {c.name: c.success for c in result.checks}
    assert verdicts == {
        "row_count": False,
        "dtype(n)": True,
        "exact width": False,
        "dtype(s)": True,
        "column(missing)": False,
    }
    assert result["row_count"].observed == {"rows": 3}
    assert "int64" in result["exact width"].message


def test_custom_function_returns_a_boolean_per_row() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3, 4]})
    result = _run(checks.custom(lambda df: df["a"] % 2 == 0, name="even"), frame)
    assert list(result.failing_index) == [0, 2]
    table_level = _run(checks.custom(lambda df: len(df) > 10, name="enough"), frame)
    assert not table_level.success and table_level.failed_count == 0


def test_custom_function_that_raises_fails_its_check_with_the_reason() -> None:
    def broken(df: pd.DataFrame) -> pd.Series:
        raise KeyError("no such thing")

    result = _run(checks.custom(broken), pd.DataFrame({"a": [1]}))
    assert not result.success
    assert (
        result.error is not None and "KeyError" in result.error and result.name == "custom(broken)"
    )


def test_warn_severity_reports_without_failing_the_suite() -> None:
    frame = pd.DataFrame({"x": [1.0, None]})
    result = Suite("t", [checks.not_null("x", severity="warn")]).validate(frame, save=False)
    assert result.success and len(result.warnings) == 1 and result.warnings[0].failed_count == 1


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: checks.between("x"), "give min, max or both"),
        (lambda: checks.between("x", 5, 1), "swap them"),
        (lambda: checks.not_null("x", mostly=1.5), "fraction between 0 and 1"),
        (lambda: checks.not_null("x", severity="fatal"), "use 'error' or 'warn'"),
        (lambda: checks.regex("x", "(unclosed"), "not a regular expression"),
        (lambda: checks.in_set("x", "EWR"), "must be a list"),
        (lambda: checks.freshness("t", "soon"), "not a duration"),
        (lambda: checks.unique([]), "give a column"),
        (lambda: checks.custom("nowhere.module:fn"), "cannot import"),
        (lambda: checks.not_null(""), "column name"),
    ],
)
def test_bad_check_definitions_name_the_check_and_the_fix(build, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build()


def test_checks_of_one_suite_need_distinct_names() -> None:
    with pytest.raises(InvalidInput, match="name="):
        Suite("t", [checks.between("x", 0, 1), checks.between("x", 0, 2)])
    suite = Suite("t", [checks.between("x", 0, 1), checks.between("x", 0, 2, name="wide")])
    assert [c.name for c in suite.checks] == ["between(x)", "wide"]
