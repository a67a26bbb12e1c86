"""Nodes and pipelines: order, composition, namespaces, slices, and errors at build time."""

from __future__ import annotations

import pytest

from mloop.core.errors import InvalidInput, NotFound
from mloop.pipelines import Pipeline, node, pipeline
from mloop.pipelines.render import to_html, to_mermaid, to_tree
from tests.pipelines import nodes_for_tests as f


def _chain() -> Pipeline:
    return Pipeline(
        [
            node(f.summarize, "features", "summary"),  # given out of order on purpose
            node(f.add_feature, ["raw", "params:factor"], "features"),
            node(f.make_frame, "params:rows", "raw"),
        ]
    )


def test_nodes_are_ordered_after_their_inputs() -> None:
    pipe = _chain()
    assert [n.name for n in pipe.nodes] == ["make_frame", "add_feature", "summarize"]
    assert pipe.inputs() == {"params:rows", "params:factor"}
    assert pipe.outputs() == {"summary"}
    assert [[n.name for n in layer] for layer in pipe.layers] == [
        ["make_frame"],
        ["add_feature"],
        ["summarize"],
    ]


def test_pipelines_compose_with_plus_and_sum() -> None:
    first = Pipeline([node(f.make_frame, "params:rows", "raw")])
    second = Pipeline([node(f.count, "raw", "n")])
    combined = first + second
    assert [n.name for n in combined.nodes] == ["make_frame", "count"]
    assert sum([first, second]) == combined
    assert first + first == first  # the same node twice is one node


def test_two_nodes_writing_one_dataset_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match=r"'count' and 'other' both write 'n'"):
        Pipeline([node(f.count, "raw", "n"), node(f.count, "raw", "n", name="other")])


def test_two_different_nodes_with_one_name_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"two nodes are named 'count'"):
        Pipeline([node(f.count, "a", "n1"), node(f.count, "b", "n2")])
    with pytest.raises(InvalidInput, match=r"two nodes are named 'x'"):  # same wiring, other code
        Pipeline([node(f.count, "a", "n", name="x"), node(f.use_blob, "a", "n", name="x")])


def test_a_cycle_is_refused_and_named() -> None:
    with pytest.raises(InvalidInput, match=r"cycle: .*a -> b -> a|cycle: .*b -> a -> b"):
        Pipeline([node(f.count, "y", "x", name="a"), node(f.count, "x", "y", name="b")])
    with pytest.raises(InvalidInput, match=r"reads its own output"):
        Pipeline([node(f.count, "x", "x", name="loop")])


def test_inputs_that_do_not_match_the_signature_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"inputs \['a', 'b'\] do not match the signature"):
        node(f.count, ["a", "b"], "n")
    with pytest.raises(InvalidInput, match=r"do not match the signature"):
        node(f.add_feature, {"frame": "raw", "wrong": "params:f"}, "out")
    with pytest.raises(InvalidInput, match=r"must be a function"):
        node(f.count(range(3)), "a", "n")  # type: ignore[arg-type]


def test_bad_names_and_parameter_outputs_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"is not valid"):
        node(f.count, "has space", "n")
    with pytest.raises(InvalidInput, match=r"parameters are read-only"):
        node(f.count, "a", "params:n")


def test_a_node_returning_the_wrong_number_of_outputs_says_so() -> None:
    item = node(f.two_values, "frame", ["a", "b"])
    with pytest.raises(InvalidInput, match=r"returned 3 values, but it declares 2 outputs"):
        item.call([None])
    keyed = node(f.summarize, "frame", {"rows": "n_rows", "missing": "m"})
    with pytest.raises(InvalidInput, match=r"without the keys \['missing'\]"):
        keyed.split_outputs({"rows": 1, "total": 2.0})
    assert keyed.split_outputs({"rows": 1, "missing": 2}) == {"n_rows": 1, "m": 2}


def test_namespace_prefixes_datasets_and_params_except_mapped_ones() -> None:
    base = Pipeline(
        [node(f.add_feature, ["raw", "params:factor"], "features"), node(f.count, "features", "n")]
    )
    reused = pipeline(base, namespace="eval", inputs={"raw": "holdout"}, outputs="n")
    names = {n.name: n for n in reused.nodes}
    assert set(names) == {"eval.add_feature", "eval.count"}
    assert names["eval.add_feature"].inputs == ("holdout", "params:eval.factor")
    assert names["eval.add_feature"].outputs == ("eval.features",)
    assert names["eval.count"].outputs == ("n",)
    both = base + pipeline(base, namespace="b", outputs={"n": "n_b"})
    assert len(both.nodes) == 4
    with pytest.raises(InvalidInput, match=r"'rwa' is not one of its inputs. Did you mean 'raw'"):
        pipeline(base, namespace="x", inputs={"rwa": "r"})


def test_slices_select_upstream_downstream_and_single_nodes() -> None:
    pipe = _chain()
    assert [n.name for n in pipe.from_nodes("add_feature").nodes] == ["add_feature", "summarize"]
    assert [n.name for n in pipe.to_nodes("add_feature").nodes] == ["make_frame", "add_feature"]
    assert [n.name for n in pipe.only_nodes("summarize").nodes] == ["summarize"]
    with pytest.raises(NotFound, match=r"Did you mean 'summarize'"):
        pipe.from_nodes("sumarize")


def test_the_dag_renders_as_tree_mermaid_and_offline_html() -> None:
    pipe = _chain()
    tree = to_tree(pipe, "demo")
    assert tree.splitlines()[0] == "demo (3 nodes)"
    assert "└── make_frame  [params:rows] -> [raw]" in tree
    mermaid = to_mermaid(pipe)
    assert mermaid.startswith("flowchart LR")
    assert "n_add_feature --> d_features" in mermaid
    assert "d_params_factor -.-> n_add_feature" in mermaid
    page = to_html(pipe, "demo")
    assert "<svg" in page and "summarize" in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # opens offline


def test_a_long_chain_given_backwards_is_ordered_first_to_last() -> None:
    chain = [node(f.count, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(3000)]
    pipe = Pipeline(list(reversed(chain)))
    assert [n.name for n in pipe.nodes] == [f"n{i}" for i in range(3000)]
    assert len(pipe.layers) == 3000
