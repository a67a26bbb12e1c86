"""Runs and search results show in a notebook as compact, escaped tables."""

from __future__ import annotations

import mloop
from mloop.tracking import RunList, TrackingClient

SCRIPT = "<script>alert(1)</script>"


def _two_runs() -> None:
    mloop.set_experiment("display")
    with mloop.start_run(run_name=SCRIPT):
        mloop.log_params({"model": "rf", "depth": 8})
        mloop.log_metric("auc", 0.91)
    with mloop.start_run(run_name="baseline"):
        mloop.log_param("model", "<lr>")
        mloop.log_metric("auc", 0.8)


def test_search_results_as_a_list_show_as_a_runs_table() -> None:
    _two_runs()
    runs = mloop.search_runs(output_format="list", order_by=["metrics.auc DESC"])
    assert isinstance(runs, RunList) and len(runs) == 2
    html = runs._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;lr&gt;" in html and "<lr>" not in html
    assert "2 runs" in html
    for header in ("run", "status", "metrics.auc", "params.depth", "params.model"):
        assert f">{header}</th>" in html
    assert html.index(">0.91<") < html.index(">0.8<")  # the search's order is kept
    assert ">FINISHED<" in html


def test_the_client_search_gives_the_same_table_and_a_run_shows_its_values() -> None:
    _two_runs()
    client = TrackingClient()
    experiment = client.get_experiment_by_name("display")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], filter_string="params.model = 'rf'")
    assert isinstance(runs, RunList) and len(runs) == 1
    html = runs[0]._repr_html_()
    assert "Run &lt;script&gt;" in html and "<script>" not in html
    assert ">auc</td>" in html and ">0.91</td>" in html and ">depth</td>" in html
    assert f"<b>id</b>: {runs[0].info.run_id}" in html
