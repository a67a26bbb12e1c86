"""Point-in-time correctness: the training set equals a naive reference on random data.

Random sources and entity frames with compound keys, duplicate timestamps, ties broken by
the created timestamp (or by source order without one), null values and null times,
several time zones, entities with no history and ttls.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mloop import features as fs
from tests.features import reference
from tests.features.reference import Row

BASE = datetime(2024, 3, 10, 5, 0, tzinfo=UTC)  # around the New York DST change
ZONES = ["UTC", "Asia/Tokyo", "America/New_York", "Europe/Paris"]
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

source_rows = st.lists(
    st.tuples(
        st.tuples(st.sampled_from([1, 2, 3]), st.sampled_from(["a", "b"])),
        st.one_of(st.none(), st.integers(0, 12)),  # event minute (None: no event time)
        st.integers(0, 4),  # created minute (ties are common)
        st.one_of(st.none(), st.floats(-100, 100, allow_nan=False)),
        st.integers(-5, 5),
    ),
    max_size=25,
)
entity_rows = st.lists(
    st.tuples(
        st.tuples(st.one_of(st.sampled_from([1, 2, 3, 4])), st.sampled_from(["a", "b", "c"])),
        st.integers(-2, 16),
    ),
    min_size=1,
    max_size=15,
)


def _with_probes(
    lookups: list[tuple[Any, ...]], rows: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """The lookups plus one at exactly the time of each of the first source rows (the boundary)."""
    return lookups + [(r[0], r[1]) for r in rows[:6] if r[1] is not None]


def _times(minutes: list[int | None], zone: str | None) -> pd.Series:
    values = pd.Series(
        [None if m is None else BASE + timedelta(minutes=m) for m in minutes], dtype="object"
    )
    series = pd.to_datetime(values, utc=True)
    return series.dt.tz_localize(None) if zone is None else series.dt.tz_convert(zone)


def _same(a: Any, b: Any) -> bool:
    if reference.missing(a) and reference.missing(b):
        return True
    if reference.missing(a) or reference.missing(b):
        return False
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def _check(result: pd.DataFrame, expected: list[dict[str, Any]], columns: list[str]) -> None:
    assert len(result) == len(expected)
    for i, want in enumerate(expected):
        for column in columns:
            got = result[column].iloc[i]
            assert _same(got, want[column]), (
                i,
                column,
                got,
                want[column],
                result.iloc[i].to_dict(),
            )


@PROPERTY
@given(
    rows=source_rows,
    lookups=entity_rows,
    aware=st.booleans(),
    zones=st.tuples(st.sampled_from(ZONES), st.sampled_from(ZONES)),
    ttl=st.one_of(st.none(), st.integers(1, 20)),
    with_created=st.booleans(),
    wide=st.booleans(),
)
def test_training_set_matches_the_naive_point_in_time_join(
    store: fs.FeatureStore,
    rows: list[tuple[Any, ...]],
    lookups: list[tuple[Any, ...]],
    aware: bool,
    zones: tuple[str, str],
    ttl: int | None,
    with_created: bool,
    wide: bool,
) -> None:
    """``wide`` asks for three features: the join then matches row ids first and fetches
    the features after (late materialization); two features are carried through."""
    source_zone, entity_zone = zones if aware else (None, None)
    lookups = _with_probes(lookups, rows)
    created = [c * 100 + i for i, (_, _, c, _, _) in enumerate(rows)]  # unique, order-independent
    source = pd.DataFrame(
        {
            "k1": pd.Series([r[0][0] for r in rows], dtype="int64"),
            "k2": pd.Series([r[0][1] for r in rows], dtype="str"),
            "ts": _times([r[1] for r in rows], source_zone),
            "x": pd.Series([r[3] for r in rows], dtype="float64"),
            "n": pd.Series([r[4] for r in rows], dtype="int64"),
        }
    )
    if with_created:
        source["created"] = _times(created, source_zone)
    entity = fs.Entity("pair", join_keys=["k1", "k2"])
    view = fs.FeatureView(
        "v",
        entity=entity,
        source=source,
        timestamp="ts",
        ttl=None if ttl is None else timedelta(minutes=ttl),
        created_timestamp="created" if with_created else None,
        features=["x", "n", "n2"] if wide else ["x", "n"],
        transforms=[fs.expression("n * 2", name="n2")] if wide else [],
    )
    store.apply([entity, view])
    frame = pd.DataFrame(
        {
            "k1": pd.Series([r[0][0] for r in lookups], dtype="int64"),
            "k2": pd.Series([r[0][1] for r in lookups], dtype="str"),
            "event_timestamp": _times([r[1] for r in lookups], entity_zone),
        }
    )
    names = ["x", "n", "n2"] if wide else ["x", "n"]
    result = store.get_training_set(frame, features=[f"v:{name}" for name in names])

    reference_rows = [
        Row(
            r[0],
            None if r[1] is None else BASE + timedelta(minutes=r[1]),
            created[i] if with_created else i,
            {"x": r[3], "n": r[4], "n2": r[4] * 2},
        )
        for i, r in enumerate(rows)
    ]
    expected = reference.point_in_time(
        [(r[0], BASE + timedelta(minutes=r[1])) for r in lookups],
        reference_rows,
        names,
        None if ttl is None else timedelta(minutes=ttl),
    )
    assert list(result.columns[:3]) == ["k1", "k2", "event_timestamp"]
    pd.testing.assert_frame_equal(result[frame.columns], frame)
    _check(result, expected, names)


AGGS = ["count", "sum", "mean", "min", "max", "std"]


@PROPERTY
@given(
    rows=source_rows,
    lookups=entity_rows,
    agg=st.sampled_from(AGGS),
    width=st.integers(1, 15),
    events=st.integers(1, 3),
    by=st.integers(1, 10),
)
def test_transformations_match_their_naive_definitions(
    store: fs.FeatureStore,
    rows: list[tuple[Any, ...]],
    lookups: list[tuple[Any, ...]],
    agg: str,
    width: int,
    events: int,
    by: int,
) -> None:
    lookups = _with_probes(lookups, rows)
    source = pd.DataFrame(
        {
            "k1": pd.Series([r[0][0] for r in rows], dtype="int64"),
            "k2": pd.Series([r[0][1] for r in rows], dtype="str"),
            "ts": _times([r[1] for r in rows], "UTC"),
            "x": pd.Series([r[3] for r in rows], dtype="float64"),
        }
    )
    entity = fs.Entity("pair", join_keys=["k1", "k2"])
    transforms = [
        fs.window_agg("x", agg, timedelta(minutes=width), name="win"),
        fs.window_agg(None, "count", timedelta(minutes=width), name="rows_in_window"),
        fs.lag("x", events, name="lagged"),
        fs.delta("x", timedelta(minutes=by), name="change"),
        fs.expression("x * 2 + 1", name="affine"),
    ]
    view = fs.FeatureView("t", entity=entity, source=source, timestamp="ts", transforms=transforms)
    store.apply([entity, view])
    frame = pd.DataFrame(
        {
            "k1": pd.Series([r[0][0] for r in lookups], dtype="int64"),
            "k2": pd.Series([r[0][1] for r in lookups], dtype="str"),
            "event_timestamp": _times([r[1] for r in lookups], "UTC"),
        }
    )
    names = ["win", "rows_in_window", "lagged", "change", "affine"]
    result = store.get_training_set(frame, features=[f"t:{n}" for n in names])

    base = [
        Row(r[0], BASE + timedelta(minutes=r[1]), i, {"x": r[3]})
        for i, r in enumerate(rows)
        if r[1] is not None
    ]
    computed = []
    for row in base:
        earlier = reference.lag_as_of(base, row, "x", timedelta(minutes=by))
        x = row.values["x"]
        values = {
            "win": reference.window(base, row, "x", agg, timedelta(minutes=width)),
            "rows_in_window": reference.window(base, row, None, "count", timedelta(minutes=width)),
            "lagged": reference.lag_events(base, row, "x", events),
            "change": None if reference.missing(x) or reference.missing(earlier) else x - earlier,
            "affine": None if reference.missing(x) else x * 2 + 1,
        }
        computed.append(Row(row.key, row.ts, row.created, values))
    expected = reference.point_in_time(
        [(r[0], BASE + timedelta(minutes=r[1])) for r in lookups], computed, names, None
    )
    _check(result, expected, names)


def test_ties_are_broken_by_the_created_timestamp_then_by_source_order(
    store: fs.FeatureStore,
) -> None:
    at = pd.Timestamp("2024-01-01 12:00", tz="UTC")
    source = pd.DataFrame(
        {
            "id": [1, 1, 1, 2, 2],
            "ts": [at] * 5,
            "created": pd.to_datetime(
                ["2024-01-02", "2024-01-03", "2024-01-01", "2024-01-01", "2024-01-01"], utc=True
            ),
            "x": [1.0, 2.0, 3.0, 10.0, 20.0],
        }
    )
    entity = fs.Entity("thing", join_keys=["id"])
    by_created = fs.FeatureView(
        "c", entity=entity, source=source, timestamp="ts", created_timestamp="created"
    )
    by_order = fs.FeatureView(
        "o", entity=entity, source=source.drop(columns="created"), timestamp="ts"
    )
    store.apply([entity, by_created, by_order])
    frame = pd.DataFrame({"id": [1, 2], "event_timestamp": [at, at]})
    result = store.get_training_set(frame, features=["c:x", "o:x"], full_names=True)
    assert result["c:x"].tolist() == [
        2.0,
        20.0,
    ]  # the latest created; for id 2 created ties -> 2nd row
    assert result["o:x"].tolist() == [3.0, 20.0]  # without created: the last row of the source


def test_ttl_keeps_a_row_exactly_ttl_old_and_drops_an_older_one(store: fs.FeatureStore) -> None:
    source = pd.DataFrame({"id": [1], "ts": pd.to_datetime(["2024-01-01 00:00"]), "x": [5.0]})
    entity = fs.Entity("thing", join_keys=["id"])
    store.apply([fs.FeatureView("v", entity=entity, source=source, timestamp="ts", ttl="1h")])
    frame = pd.DataFrame(
        {
            "id": [1, 1, 1],
            "event_timestamp": pd.to_datetime(
                ["2024-01-01 00:00:00", "2024-01-01 01:00:00", "2024-01-01 01:00:01"],
                format="ISO8601",
            ),
        }
    )
    assert store.get_training_set(frame, features=["v:x"])["x"].tolist()[:2] == [5.0, 5.0]
    assert math.isnan(store.get_training_set(frame, features=["v:x"])["x"].iloc[2])


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/Los_Angeles"])
def test_aware_timestamps_in_different_zones_compare_as_instants(
    store: fs.FeatureStore, zone: str
) -> None:
    source = pd.DataFrame(
        {
            "id": [1, 1],
            "ts": pd.to_datetime(["2024-06-01 10:00", "2024-06-01 11:00"], utc=True),
            "x": [1.0, 2.0],
        }
    )
    entity = fs.Entity("thing", join_keys=["id"])
    store.apply([fs.FeatureView("v", entity=entity, source=source, timestamp="ts")])
    lookup = pd.Timestamp("2024-06-01 10:30", tz="UTC").tz_convert(zone)
    frame = pd.DataFrame({"id": [1], "when": [lookup]})
    assert store.get_training_set(frame, features=["v:x"])["x"].tolist() == [1.0]


def test_a_rewritten_parquet_source_is_checked_again_for_ties(
    store: fs.FeatureStore, tmp_path: Path
) -> None:
    path = tmp_path / "v.parquet"
    at = pd.Timestamp("2024-01-01 12:00")
    pd.DataFrame({"id": [1, 2], "ts": [at, at], "x": [1.0, 2.0]}).to_parquet(path)
    entity = fs.Entity("thing", join_keys=["id"])
    store.apply([fs.FeatureView("v", entity=entity, source=path, timestamp="ts")])
    frame = pd.DataFrame({"id": [1, 2], "event_timestamp": [at, at]})
    assert store.get_training_set(frame, features=["v:x"])["x"].tolist() == [
        1.0,
        2.0,
    ]  # no ties: plain ASOF
    pd.DataFrame({"id": [1, 1, 2], "ts": [at, at, at], "x": [5.0, 7.0, 9.0]}).to_parquet(path)
    assert store.get_training_set(frame, features=["v:x"])["x"].tolist() == [
        7.0,
        9.0,
    ]  # ties: the later row


def _sensors(folder: Path) -> pd.DataFrame:
    """Two Parquet files of one source folder (row numbers restart in each file)."""
    folder.mkdir()
    frames = []
    for part in range(2):
        frame = pd.DataFrame(
            {
                "sensor": [1, 2, 1, 2],
                "ts": pd.to_datetime(
                    [BASE + timedelta(minutes=m + part * 10) for m in (0, 0, 5, 5)], utc=True
                ),
                "a": [part * 10 + i + 0.5 for i in range(4)],
                "b": [part * 20 + i for i in range(4)],
                "c": [f"p{part}r{i}" for i in range(4)],
            }
        )
        frame.to_parquet(folder / f"part-{part}.parquet", index=False)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_a_wide_view_over_several_files_fetches_the_matched_rows(
    store: fs.FeatureStore, tmp_path: Path
) -> None:
    _sensors(tmp_path / "sensors")
    entity = fs.Entity("sensor", join_keys=["sensor"])
    view = fs.FeatureView("s", entity=entity, source=tmp_path / "sensors", timestamp="ts")
    store.apply([entity, view])
    minutes = [-1, 0, 7, 12, 16, 30]
    frame = pd.DataFrame(
        {
            "sensor": [1, 2, 2, 1, 2, 1],
            "event_timestamp": [BASE + timedelta(minutes=m) for m in minutes],
        }
    )
    result = store.get_training_set(frame, features=["s:a", "s:b", "s:c"])
    # sensor 2 at minute 7 -> part 0 row 3; minute 12 -> part 1 row 1 (10 + 0); 16 -> part 1 row 3
    assert result["a"].tolist()[1:] == [1.5, 3.5, 10.5, 13.5, 12.5]
    assert result[["a", "b", "c"]].iloc[0].isna().all()  # no history yet
    assert result["c"].tolist()[1:] == ["p0r1", "p0r3", "p1r0", "p1r3", "p1r2"]
    assert result["b"].tolist()[1:] == [1, 3, 20, 23, 22]


def test_a_source_changed_during_the_join_is_joined_again_in_one_read(
    store: fs.FeatureStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mloop.features import training

    _sensors(tmp_path / "sensors")
    entity = fs.Entity("sensor", join_keys=["sensor"])
    view = fs.FeatureView("s", entity=entity, source=tmp_path / "sensors", timestamp="ts")
    store.apply([entity, view])
    identities = iter(range(1000))
    monkeypatch.setattr(training, "source_identity", lambda view, artifacts: str(next(identities)))
    joins: list[bool] = []
    real = training.point_in_time_join

    def spy(con: Any, entity: Any, views: Any) -> Any:
        joins.append(any(view.late for view in views))
        return real(con, entity, views)

    monkeypatch.setattr(training, "point_in_time_join", spy)
    frame = pd.DataFrame({"sensor": [2], "event_timestamp": [BASE + timedelta(minutes=16)]})
    result = store.get_training_set(frame, features=["s:a", "s:b", "s:c"])
    assert joins == [True, False]  # the late fetch saw another source; the rerun reads once
    assert result[["a", "b", "c"]].iloc[0].tolist() == [13.5, 23, "p1r3"]
