"""Batch scoring: chunks in, one file out, the same answers as the model, linked in lineage."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import mloop
from mloop import serving
from mloop.cli.main import app
from mloop.core.errors import InvalidInput, NotFound
from mloop.store import get_store, lineage
from tests.serving.conftest import Flights


def _expected(flights: Flights) -> pd.DataFrame:
    model = mloop.load_model("models:/delays/1")
    return flights.test.assign(
        prediction=model.predict(flights.test), proba=model.predict_proba(flights.test)[:, 1]
    )


def test_scoring_a_parquet_file_in_chunks_matches_the_model(
    champion: str, flights: Flights, mloop_home: Path
) -> None:
    flights.test.to_parquet(mloop_home / "in.parquet")
    seen: list[tuple[int, int]] = []
    result = serving.score(
        champion,
        mloop_home / "in.parquet",
        mloop_home / "out/scored.parquet",
        chunk_rows=300,
        progress=lambda done, total: seen.append((done, total)),
    )
    scored = pd.read_parquet(result.output)
    assert result.rows == len(flights.test) == len(scored)
    assert result.chunks == 4 and seen[-1] == (1000, 1000)
    pd.testing.assert_frame_equal(scored, _expected(flights), check_dtype=False)
    upstream = lineage.upstream(
        get_store(), lineage.Node("external", str(Path(result.output).resolve()))
    )
    assert any(e.source == lineage.Node("model_version", "delays/1") for e in upstream)


def test_scoring_a_registered_dataset_links_it_in_lineage(
    champion: str, flights: Flights, mloop_home: Path
) -> None:
    from mloop import data

    version = data.register("test_flights", flights.test)
    result = serving.score(champion, version.key, mloop_home / "scored.csv")
    scored = pd.read_csv(result.output)
    assert scored["prediction"].tolist() == _expected(flights)["prediction"].tolist()
    upstream = lineage.upstream(
        get_store(), lineage.Node("external", str(Path(result.output).resolve()))
    )
    assert {e.source.kind for e in upstream} >= {"model_version", "dataset_version"}


def test_scoring_refuses_bad_arguments_clearly(champion: str, mloop_home: Path) -> None:
    with pytest.raises(InvalidInput, match=r"must end in \.parquet or \.csv"):
        serving.score(champion, "x.parquet", "out.json")
    with pytest.raises(NotFound, match="does not exist"):
        serving.score(champion, "missing.parquet", "out.parquet")
    with pytest.raises(InvalidInput, match="chunk_rows"):
        serving.score(champion, "x.parquet", "out.parquet", chunk_rows=0)


@pytest.mark.ray
def test_scoring_on_ray_gives_the_same_answers(
    champion: str, flights: Flights, mloop_home: Path
) -> None:
    flights.test.to_parquet(mloop_home / "in.parquet")
    result = serving.score(
        champion,
        mloop_home / "in.parquet",
        mloop_home / "ray.parquet",
        chunk_rows=250,
        runner="ray",
    )
    assert result.runner == "ray" and result.chunks == 4
    pd.testing.assert_frame_equal(
        pd.read_parquet(result.output), _expected(flights), check_dtype=False
    )


def test_score_command_writes_the_output_and_reports_it(
    champion: str, flights: Flights, mloop_home: Path
) -> None:
    flights.test.to_parquet(mloop_home / "in.parquet")
    out = mloop_home / "cli.parquet"
    result = CliRunner().invoke(
        app, ["score", champion, "--input", str(mloop_home / "in.parquet"), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "scored 1,000 rows with delays version 1" in result.output
    assert len(pd.read_parquet(out)) == 1000


def test_serve_command_refuses_an_unknown_target(mloop_home: Path) -> None:
    import sys

    from mloop.cli.main import run

    argv = sys.argv
    sys.argv = ["mloop", "serve", "nothing_here.py:graph"]
    try:
        with pytest.raises(SystemExit) as exit_info:
            run()
    finally:
        sys.argv = argv
    assert exit_info.value.code == 1
