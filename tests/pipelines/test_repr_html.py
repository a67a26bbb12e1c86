"""A pipeline shows in a notebook as its DAG in inline SVG and a table of its nodes."""

from __future__ import annotations

from mloop.pipelines import Pipeline, node


def clean(raw: list[int]) -> list[int]:
    return [x for x in raw if x > 0]


def test_a_pipeline_shows_its_graph_and_nodes_escaped_and_without_scripts() -> None:
    # dataset and node names are validated; a function's name is not: a lambda's has <>
    pipe = Pipeline(
        [node(clean, "raw", "values"), node(lambda v: sum(v), "values", "total", name="sum")]
    )
    html = pipe._repr_html_()
    assert "<lambda>" not in html and "&lt;lambda&gt;" in html
    assert "<script" not in html
    assert html.count("<svg") == 1 and "http://www.w3.org/2000/svg" in html
    assert "Pipeline of 2 nodes" in html
    assert html.count("marker-end=") == 1  # one edge: clean -> sum, through "values"
    assert html.index(">clean<") < html.index(">sum<")  # in run order
    assert ">raw</td>" in html and ">total</td>" in html
