"""search_runs: the filter language, ordering, and MLflow's DataFrame shape."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mloop
from mloop.core.errors import InvalidInput, NotFound
from mloop.tracking.filter import And, Comparison, Or, parse


def _make_runs() -> list[str]:
    mloop.set_experiment("search")
    ids = []
    for index, (model, acc, team) in enumerate(
        [("rf", 0.91, "ops"), ("rf", 0.75, "ml"), ("lr", 0.85, "ops"), ("gbm", float("nan"), "ops")]
    ):
        with mloop.start_run(run_name=f"run-{index}") as run:
            mloop.log_param("model", model)
            mloop.log_metric("acc", acc)
            mloop.set_tag("team", team)
            if index == 0:
                mloop.log_metric("only_first", 1.0)
        ids.append(run.info.run_id)
    return ids


def test_search_runs_returns_mlflows_dataframe_shape(db_url: str) -> None:
    ids = _make_runs()
    frame = mloop.search_runs(experiment_names=["search"])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns[:6]) == [
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
    ]
    assert {"metrics.acc", "params.model", "tags.team", "tags.mloop.runName"} <= set(frame.columns)
    assert set(frame["run_id"]) == set(ids)
    assert str(frame["start_time"].dtype).startswith("datetime64")
    assert frame["metrics.acc"].dtype == "float64"
    assert frame.loc[frame["run_id"] == ids[1], "metrics.only_first"].isna().all()


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.acc > 0.8", {0, 2}),
        ("metrics.acc >= 0.85 and params.model = 'rf'", {0}),
        ("params.model != 'rf'", {2, 3}),
        ("params.model IN ('lr', 'gbm')", {2, 3}),
        ("params.model NOT IN ('lr', 'gbm')", {0, 1}),
        ("tags.team = 'ops' and attributes.status = 'FINISHED'", {0, 2, 3}),
        ("params.model LIKE 'r%'", {0, 1}),
        ("params.model LIKE 'R%'", set()),
        ("params.model ILIKE 'R%'", {0, 1}),
        ("metrics.acc < 0.8 or tags.team = 'ml'", {1}),
        ("(metrics.acc > 0.9 or metrics.acc < 0.8) and tags.team = 'ops'", {0}),
        ("metrics.only_first IS NOT NULL", {0}),
        ("metrics.only_first IS NULL and params.model = 'rf'", {1}),
        ("metrics.acc = nan", {3}),
        ("attributes.run_name = 'run-2'", {2}),
        ("metrics.`acc` > 0.8 and params.\"model\" = 'rf'", {0}),
    ],
)
def test_filters_select_the_right_runs(db_url: str, filter_string: str, expected: set[int]) -> None:
    ids = _make_runs()
    found = mloop.search_runs(
        experiment_names=["search"], filter_string=filter_string, output_format="list"
    )
    assert {ids.index(r.info.run_id) for r in found} == expected  # type: ignore[union-attr]


_AWKWARD_NUMBERS = [0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -0.5e-7, 123456789.123456789]
_AWKWARD_TEXT = ["a,b", 'say "hi"', "it's", "back\\slash", "ünï ✓", '{"json": [1, 2]}', "", "nan"]


def test_search_reads_every_value_back_exactly(db_url: str) -> None:
    """Values travel grouped by key (as text on SQLite): numbers and text must survive."""
    mloop.set_experiment("exact")
    ids = []
    for index, text in enumerate(_AWKWARD_TEXT):
        with mloop.start_run() as run:
            mloop.log_metric("x", _AWKWARD_NUMBERS[index % len(_AWKWARD_NUMBERS)])
            mloop.log_metric("special", [math.inf, -math.inf, math.nan][index % 3])
            mloop.log_param("text", text)
            mloop.set_tag("text", text)
            if index % 2:
                mloop.log_metric("odd_only", index)
        ids.append(run.info.run_id)
    frame = mloop.search_runs(experiment_names=["exact"], order_by=["attributes.start_time"])
    runs = mloop.search_runs(experiment_names=["exact"], output_format="list")
    by_id = {run.info.run_id: run for run in runs}
    for index, run_id in enumerate(ids):
        row = frame[frame["run_id"] == run_id].iloc[0]
        number = _AWKWARD_NUMBERS[index % len(_AWKWARD_NUMBERS)]
        special = [math.inf, -math.inf, math.nan][index % 3]
        assert row["metrics.x"] == number and by_id[run_id].data.metrics["x"] == number
        for got in (row["metrics.special"], by_id[run_id].data.metrics["special"]):
            assert got == special or (math.isnan(got) and math.isnan(special))
        assert row["params.text"] == _AWKWARD_TEXT[index] == by_id[run_id].data.params["text"]
        assert row["tags.text"] == _AWKWARD_TEXT[index] == by_id[run_id].data.tags["text"]
        if index % 2:
            assert row["metrics.odd_only"] == index == by_id[run_id].data.metrics["odd_only"]
        else:
            assert math.isnan(row["metrics.odd_only"])
            assert "odd_only" not in by_id[run_id].data.metrics


def test_order_by_metric_puts_nan_and_missing_last(db_url: str) -> None:
    ids = _make_runs()
    frame = mloop.search_runs(experiment_names=["search"], order_by=["metrics.acc DESC"])
    assert [ids.index(r) for r in frame["run_id"]] == [0, 2, 1, 3]
    frame = mloop.search_runs(
        experiment_names=["search"], order_by=["metrics.acc ASC"], max_results=2
    )
    assert [ids.index(r) for r in frame["run_id"]] == [1, 2]
    frame = mloop.search_runs(
        experiment_names=["search"], order_by=["params.model", "metrics.acc DESC"]
    )
    assert [ids.index(r) for r in frame["run_id"]] == [3, 2, 0, 1]


@pytest.mark.parametrize(
    ("filter_string", "position", "token"),
    [
        ("metrics.acc >", 13, "end of filter"),
        ("metrics.acc > 0.8 and", 21, "end of filter"),
        ("metrics.acc >> 0.8", 13, ">"),
        ("acc > 0.8", 0, "acc"),
        ("metrics.acc > 'high'", 0, "metrics.acc"),
        ("params.model > 'a'", 0, "params.model"),
        ("foo.acc > 1", 0, "foo"),
        ("metrics.acc > 1 xor params.a = 'b'", 16, "xor"),
        ("params.model IN 'rf'", 16, "'rf'"),
    ],
)
def test_a_syntax_error_names_the_position_and_the_token(
    filter_string: str, position: int, token: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        parse(filter_string)
    assert f"at position {position}" in str(error.value)
    assert repr(token) in str(error.value)


def test_unknown_experiment_names_suggest_the_nearest() -> None:
    _make_runs()
    with pytest.raises(NotFound, match="Did you mean 'search'"):
        mloop.search_runs(experiment_names=["serch"])


def test_order_by_errors_are_clear() -> None:
    with pytest.raises(InvalidInput, match="order_by"):
        mloop.search_runs(order_by=["metrics.acc sideways please"])


# -- property test: parsing a rendered filter gives back the same tree ------------------

_keys = st.sampled_from(["acc", "loss", "val loss", "a.b", "x-y"])
_text = st.text(alphabet="abcxyz'% _", max_size=6)


def _comparisons() -> st.SearchStrategy[Comparison]:
    metric = st.builds(
        Comparison,
        st.just("metrics"),
        _keys,
        st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
        st.floats(allow_nan=False, allow_infinity=False, width=32).map(float),
    )
    text = st.builds(
        Comparison,
        st.sampled_from(["params", "tags"]),
        _keys,
        st.sampled_from(["=", "!=", "LIKE", "ILIKE"]),
        _text,
    )
    listed = st.builds(
        Comparison,
        st.sampled_from(["params", "tags"]),
        _keys,
        st.sampled_from(["IN", "NOT IN"]),
        st.lists(_text, min_size=1, max_size=3).map(tuple),
    )
    return st.one_of(metric, text, listed)


def _trees(depth: int = 2) -> st.SearchStrategy[object]:
    if depth == 0:
        return _comparisons()
    child = _trees(depth - 1)
    return st.one_of(
        _comparisons(),
        st.lists(child, min_size=2, max_size=3).map(lambda parts: And(tuple(parts))),
        st.lists(child, min_size=2, max_size=3).map(lambda parts: Or(tuple(parts))),
    )


def _render(node: object) -> str:
    if isinstance(node, And | Or):
        joiner = " and " if isinstance(node, And) else " OR "
        return "(" + joiner.join(_render(p) for p in node.parts) + ")"
    assert isinstance(node, Comparison)
    key = f"{node.entity}.`{node.key}`"

    def value(v: object) -> str:
        if isinstance(v, float):
            return repr(v)
        return "'" + str(v).replace("'", "''") + "'"

    if isinstance(node.value, tuple):
        return f"{key} {node.op} ({', '.join(value(v) for v in node.value)})"
    return f"{key} {node.op} {value(node.value)}"


def _flatten(node: object) -> object:
    """Nested Ands (or Ors) of one kind mean the same as a flat one."""
    if isinstance(node, And | Or):
        parts: list[object] = []
        for part in node.parts:
            flat = _flatten(part)
            if type(flat) is type(node):
                parts.extend(flat.parts)  # type: ignore[attr-defined]
            else:
                parts.append(flat)
        return type(node)(tuple(parts))  # type: ignore[arg-type]
    return node


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_trees())
def test_parsing_a_rendered_filter_gives_back_the_same_tree(tree: object) -> None:
    parsed = parse(_render(tree))
    assert _flatten(parsed) == _flatten(tree)
    assert not any(isinstance(v, float) and math.isnan(v) for v in [])
