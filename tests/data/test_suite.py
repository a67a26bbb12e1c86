"""Suites: validation results, quarantine, YAML, storage and the errors people meet."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mloop.core.errors import InvalidInput, NotFound
from mloop.data import (
    FAILED_CHECKS,
    DataCheckFailed,
    Suite,
    checks,
    get_result,
    load,
    register,
    results,
)
from mloop.store import get_store
from mloop.store.lineage import Node, downstream


def _suite() -> Suite:
    return Suite(
        "airports",
        [
            checks.not_null("pressure", mostly=0.9, severity="warn"),
            checks.between("wind", 0, 150),
            checks.in_set("origin", ["EWR", "JFK", "LGA"]),
            checks.unique(["origin", "hour"]),
        ],
        description="test suite",
    )


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "origin": pd.array(["EWR", "JFK", "LGA", "BOS", "EWR", "JFK"], dtype="str"),
            "hour": [1, 1, 1, 1, 1, 2],
            "wind": [5.0, 1048.0, 7.0, 3.0, -1.0, 4.0],
            "pressure": [1010.0, None, 1012.0, 1013.0, 1009.0, None],
        },
        index=[10, 11, 12, 13, 14, 15],
    )


def test_result_reports_each_check_with_counts_fractions_and_samples() -> None:
    result = _suite().validate(_frame(), save=False)
    assert not result.success
    by_name = {c.name: c for c in result.checks}
    wind = by_name["between(wind)"]
    assert (wind.failed_count, wind.failed_fraction) == (2, pytest.approx(2 / 6))
    assert list(wind.failing_index) == [11, 14]
    assert wind.samples == [
        {"index": 11, "values": {"wind": 1048.0}},
        {"index": 14, "values": {"wind": -1.0}},
    ]
    assert by_name["unique(origin, hour)"].column == "origin, hour"
    assert list(by_name["unique(origin, hour)"].failing_index) == [10, 14]
    pressure = by_name["not_null(pressure)"]
    assert pressure.failed_count == 2 and not pressure.success and pressure.severity == "warn"
    assert [c.name for c in result.errors] == [
        "between(wind)",
        "in_set(origin)",
        "unique(origin, hour)",
    ]
    assert all(c.seconds >= 0 for c in result.checks) and result.seconds > 0


def test_samples_stop_at_twenty_but_the_failing_index_is_complete() -> None:
    frame = pd.DataFrame({"x": np.arange(100.0)})
    result = Suite("t", [checks.between("x", 0, 49)]).validate(frame, save=False)
    check = result.checks[0]
    assert len(check.samples) == 20 and check.samples[0] == {"index": 50, "values": {"x": 50.0}}
    assert list(check.failing_index) == list(range(50, 100))


def test_raise_for_errors_lists_every_failed_error_level_check() -> None:
    result = _suite().validate(_frame(), save=False)
    with pytest.raises(DataCheckFailed) as caught:
        result.raise_for_errors()
    message = str(caught.value)
    for name in ("between(wind)", "in_set(origin)", "unique(origin, hour)"):
        assert name in message
    assert "not_null(pressure)" not in message  # a warning does not fail the data
    assert "1048" in message and "'BOS'" in message
    assert caught.value.result is result
    assert isinstance(caught.value, InvalidInput)


def test_quarantine_keeps_every_row() -> None:
    frame = _frame()
    result = _suite().validate(frame, quarantine=True, save=False)
    assert result.clean is not None and result.quarantined is not None
    assert len(result.clean) + len(result.quarantined) == len(frame)
    assert list(result.clean.index) == [12, 15]
    labels = result.quarantined[FAILED_CHECKS].to_dict()
    assert labels == {
        10: "unique(origin, hour)",
        11: "between(wind)",
        13: "in_set(origin)",
        14: "between(wind); unique(origin, hour)",
    }
    stored = load(result.quarantine_version)  # type: ignore[arg-type]
    assert result.quarantine_version.key == "airports.quarantine@1"  # type: ignore[union-attr]
    assert sorted(stored["_row"]) == [10, 11, 13, 14]
    assert set(stored[FAILED_CHECKS]) == set(labels.values())


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.one_of(st.none(), st.floats(-10, 10)), st.sampled_from(["a", "b", "z"])),
        max_size=60,
    ),
    st.sampled_from(["error", "warn"]),
)
def test_quarantine_keeps_every_row_for_any_data(rows: list, severity: str) -> None:
    frame = pd.DataFrame(rows or [(0.0, "a")], columns=["x", "k"])
    suite = Suite(
        "prop",
        [
            checks.between("x", -5, 5),
            checks.in_set("k", ["a", "b"], severity=severity),
            checks.not_null("x"),
        ],
    )
    result = suite.validate(frame, quarantine="prop.q", save=False)
    assert result.clean is not None and result.quarantined is not None
    assert len(result.clean) + len(result.quarantined) == len(frame)
    assert set(result.clean.index).isdisjoint(result.quarantined.index)
    assert set(result.clean.index) | set(result.quarantined.index) == set(frame.index)
    for names in result.quarantined[FAILED_CHECKS]:
        assert names  # every quarantined row says why


def test_a_check_on_a_missing_column_fails_with_the_fix_and_quarantines_nothing_silently() -> None:
    frame = pd.DataFrame({"pressure": [1.0, 2.0]})
    suite = Suite("t", [checks.between("presure", 0, 2000)])
    result = suite.validate(frame, quarantine=True, save=False)
    check = result.checks[0]
    assert not check.success and check.failed_count == 2
    assert check.error is not None
    assert (
        "'presure'" in check.error
        and "Did you mean 'pressure'" in check.error
        and "Fix the column name" in check.error
    )
    assert len(result.quarantined) == 2 and len(result.clean) == 0  # type: ignore[arg-type]
    with pytest.raises(DataCheckFailed, match="presure"):
        result.raise_for_errors()


def test_a_check_on_the_wrong_type_says_which_type_it_needs() -> None:
    frame = pd.DataFrame({"n": [1, 2]})
    result = Suite("t", [checks.regex("n", r"\d+")]).validate(frame, save=False)
    assert "regex needs a string column; 'n' is int64" in (result.checks[0].error or "")


def test_an_empty_frame_is_refused_unless_allowed() -> None:
    suite = Suite("t", [checks.not_null("x"), checks.row_count(min=1)])
    empty = pd.DataFrame({"x": pd.Series([], dtype="float64")})
    with pytest.raises(InvalidInput, match=r"no rows.*allow_empty=True"):
        suite.validate(empty, save=False)
    result = suite.validate(empty, allow_empty=True, save=False)
    assert [c.success for c in result.checks] == [True, False]


def test_suite_round_trips_through_yaml(tmp_path: Path) -> None:
    suite = _suite().with_checks(
        checks.expression("dewp <= temp", name="dew"),
        checks.freshness("at", "2h", severity="warn"),
        checks.between("w", 0, 1, inclusive="max"),
        checks.custom("mloop.data._kernels:plain", name="importable"),
    )
    path = tmp_path / "suite.yaml"
    text = suite.to_yaml(path)
    assert "check: between" in text and "mostly: 0.9" in text
    again = Suite.from_yaml(path)
    assert again == suite and again.to_dict() == suite.to_dict()
    assert Suite.from_yaml(text) == suite


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("suite: t\nchecks:\n  - check: not_null\n   column: x\n", "not valid YAML at line 4"),
        (
            "suite: t\nchecks:\n  - check: not_nul\n    column: x\n",
            "unknown. Did you mean 'not_null'",
        ),
        (
            "suite: t\nchecks:\n  - check: between\n    column: x\n    maximum: 3\n",
            "unknown parameter 'maximum'",
        ),
        (
            "suite: t\nchecks:\n  - check: between\n    min: 3\n",
            "missing a required argument: 'column'",
        ),
        ("checks: []\n", "needs 'suite: <name>'"),
        ("suite: t\nchecks: {check: not_null}\n", "must be a list"),
        (
            "suite: t\nchecks:\n  - check: custom\n    function: json:loads\n    severity: fatal\n",
            "check 1: severity",
        ),
    ],
)
def test_malformed_suite_yaml_names_the_place_and_the_fix(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Suite.from_yaml(text)


def test_a_lambda_check_validates_but_cannot_be_stored() -> None:
    suite = Suite("t", [checks.custom(lambda df: df["a"] > 0, name="positive")])
    frame = pd.DataFrame({"a": [1, -1]})
    result = suite.validate(frame)  # not stored, with a warning in the log
    assert result.id is None and result.checks[0].failed_count == 1
    with pytest.raises(InvalidInput, match="module-level function"):
        suite.validate(frame, save=True)


def test_suites_are_versioned_by_content(db_url: str) -> None:
    suite = _suite()
    assert suite.save() == 1
    assert Suite("airports", list(suite.checks), "test suite").save() == 1
    assert suite.without("unique(origin, hour)").save() == 2
    assert Suite.load("airports").version == 2 and len(Suite.load("airports").checks) == 3
    assert Suite.load("airports@1") == suite
    with pytest.raises(NotFound, match="Did you mean 'airports'"):
        Suite.load("airport")


def test_results_are_stored_and_linked_to_the_dataset_version(db_url: str) -> None:
    version = register("airports", _frame())
    result = _suite().validate("airports@1", quarantine=True)
    assert result.id is not None and result.dataset == "airports@1" and result.suite_version == 1
    stored = get_result(result.id)
    assert stored.to_dict() == result.to_dict()
    assert (stored.quarantined_rows, stored.quarantine_dataset) == (4, "airports.quarantine@1")
    assert [r.id for r in results(dataset="airports")] == [result.id]
    edges = downstream(get_store(), version.lineage_node())
    pairs = {(e.relation, e.target.kind) for e in edges}
    assert ("validated_by", "quality_result") in pairs
    assert ("quarantined_to", "dataset_version") in pairs
    assert Node("quality_result", result.id) in {e.target for e in edges}
    with pytest.raises(InvalidInput, match="kept only on the result returned by validate"):
        stored["between(wind)"].failing_index  # noqa: B018


def test_json_and_html_reports_describe_every_check(tmp_path: Path) -> None:
    result = _suite().validate(_frame(), save=False)
    data = json.loads(result.to_json(tmp_path / "r.json"))
    assert [c["name"] for c in data["checks"]] == [c.name for c in result.checks]
    assert data["checks"][1]["samples"][0] == {"index": 11, "values": {"wind": 1048.0}}
    html = result.to_html(tmp_path / "r.html")

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.text: list[str] = []
            self.links: list[str] = []

        def handle_data(self, data: str) -> None:
            self.text.append(data)

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.links += [
                v for k, v in attrs if k in ("href", "src") and v and not v.startswith("#")
            ]

    parser = Text()
    parser.feed((tmp_path / "r.html").read_text())
    page = " ".join(parser.text)
    assert "FAILED" in page and "between(wind)" in page and "1048.0" in page
    assert parser.links == []  # self-contained: opens offline
    assert html.startswith("<!DOCTYPE html>")


def test_a_file_is_read_for_the_checked_columns_with_its_index(tmp_path: Path) -> None:
    frame = _frame()
    path = tmp_path / "airports.parquet"
    frame.to_parquet(path)  # pandas keeps the index (10..15) in the file
    result = Suite("t", [checks.between("wind", 0, 150)]).validate(path, save=False)
    assert list(result.checks[0].failing_index) == [11, 14]
    typo = Suite("t", [checks.between("wnd", 0, 150)]).validate(str(path), save=False)
    assert "Did you mean 'wind'" in (typo.checks[0].error or "")
    assert "origin, hour, wind, pressure" in (typo.checks[0].error or "")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_child_validates_a_large_frame_after_its_parent_did() -> None:
    """The kernels' thread pool is per process: a child forked after the parent used it
    must not wait on the parent's threads, which do not exist in the child."""
    import multiprocessing

    frame = pd.DataFrame({"x": np.arange(200_000, dtype=float), "y": np.ones(200_000)})
    suite = Suite("t", [checks.not_null("x"), checks.between("y", 0, 2)])
    assert suite.validate(frame, save=False).success  # the parent's pool exists now
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        found = pool.apply_async(_validate_in_child, (frame,)).get(timeout=60)
    assert found == [0, 0]


def _validate_in_child(frame: pd.DataFrame) -> list[int]:
    suite = Suite("t", [checks.not_null("x"), checks.between("y", 0, 2)])
    return [c.failed_count for c in suite.validate(frame, save=False).checks]
