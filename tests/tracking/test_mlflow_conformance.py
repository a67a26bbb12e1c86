"""MLflow conformance: the search cases of MLflow's own store tests, with MLflow's answers.

Each scenario rebuilds, through mloop's public API, the runs of one search test of
MLflow's ``tests/store/tracking/test_sqlalchemy_store.py`` (params, tags, metrics,
attributes, run names and ids, the ``created`` alias, dataset inputs, ordering with
NaN/inf/missing values, deleted runs, max_results); each case is one filter (and order)
of that test with the runs MLflow's test asserts, in MLflow's order where the test checks
an order. A filter MLflow refuses must be refused. Where mloop deliberately answers
otherwise, the case is in ``test_mlflow_differences.py`` and on docs/coming-from-mlflow.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

import mloop
from mloop.core.errors import InvalidInput
from mloop.store.lineage import Node
from mloop.tracking.filter import And, Comparison, parse

Runs = dict[str, str]  # label -> run id


@dataclass(frozen=True)
class Dataset:
    """A stand-in for an MLflow dataset: a name, a digest and a lineage node."""

    name: str
    sha256: str

    def lineage_node(self) -> Node:
        return Node("external", f"{self.name}:{self.sha256}")


def _experiment(name: str) -> str:
    return mloop.set_experiment(name).experiment_id


def _two_runs(client: mloop.Client) -> tuple[str, Runs]:
    exp = _experiment("two")
    return exp, {
        "r1": client.create_run(exp, start_time=1, run_name="name").info.run_id,
        "r2": client.create_run(exp, start_time=2, run_name="name").info.run_id,
    }


def _params(client: mloop.Client) -> tuple[list[str], Runs]:
    exp, runs = _two_runs(client)
    r1, r2 = runs["r1"], runs["r2"]
    for run in (r1, r2):
        client.log_param(run, "generic_param", "p_val")
    client.log_param(r1, "generic_2", "some value")
    client.log_param(r2, "generic_2", "another value")
    client.log_param(r1, "p_a", "abc")
    client.log_param(r2, "p_b", "ABC")
    return [exp], runs


def _tags(client: mloop.Client) -> tuple[list[str], Runs]:
    exp, runs = _two_runs(client)
    r1, r2 = runs["r1"], runs["r2"]
    for run in (r1, r2):
        client.set_tag(run, "generic_tag", "p_val")
    client.set_tag(r1, "generic_2", "some value")
    client.set_tag(r2, "generic_2", "another value")
    client.set_tag(r1, "p_a", "abc")
    client.set_tag(r2, "p_b", "ABC")
    return [exp], runs


def _metrics(client: mloop.Client) -> tuple[list[str], Runs]:
    exp, runs = _two_runs(client)
    r1, r2 = runs["r1"], runs["r2"]
    # MLflow's Metric(key, value, timestamp, step): every value at step 0, by timestamp
    for run, key, value, timestamp in [
        (r1, "common", 1.0, 1),
        (r2, "common", 1.0, 1),
        (r1, "measure_a", 1.0, 1),
        (r2, "measure_a", 200.0, 2),
        (r2, "measure_a", 400.0, 3),
        (r1, "m_a", 2.0, 2),
        (r2, "m_b", 3.0, 2),
        (r2, "m_b", 4.0, 8),  # the latest timestamp: the value searches see
        (r2, "m_b", 8.0, 3),
    ]:
        client.log_metric(run, key, value, timestamp=timestamp, step=0)
    return [exp], runs


def _full(client: mloop.Client) -> tuple[list[str], Runs]:
    exps, runs = _metrics(client)
    r1, r2 = runs["r1"], runs["r2"]
    for run in (r1, r2):
        client.log_param(run, "generic_param", "p_val")
    client.log_param(r1, "p_a", "abc")
    client.log_param(r2, "p_b", "ABC")
    return exps, runs


def _attributes(client: mloop.Client) -> tuple[list[str], Runs]:
    e1 = _experiment("search_attributes_1")
    r1 = client.create_run(e1, start_time=1).info.run_id
    e2 = _experiment("search_attrs_2")
    r2 = client.create_run(e2, start_time=2).info.run_id
    client.set_terminated(r2, "FAILED", end_time=300)
    return [e1, e2], {"r1": r1, "r2": r2}


def _run_names(client: mloop.Client) -> tuple[list[str], Runs]:
    exp = _experiment("run_names")
    return [exp], {
        "run1": client.create_run(exp, start_time=1, run_name="run_name1").info.run_id,
        "run2": client.create_run(exp, start_time=2, run_name="run_name2").info.run_id,
    }


def _renamed(client: mloop.Client) -> tuple[list[str], Runs]:
    exps, runs = _run_names(client)
    client.set_tag(runs["run1"], "mlflow.runName", "new_run_name1")
    return exps, runs


def _ids(client: mloop.Client) -> tuple[list[str], Runs]:
    exp, runs = _two_runs(client)
    return [exp], runs


def _datasets(client: mloop.Client) -> tuple[list[str], Runs]:
    exp = _experiment("datasets")
    runs = {
        "run1": client.create_run(exp, start_time=1).info.run_id,
        "run2": client.create_run(exp, start_time=3).info.run_id,
        "run3": client.create_run(exp, start_time=2).info.run_id,
    }
    d1, d2, d3 = (Dataset(f"name{i}", f"digest{i}") for i in (1, 2, 3))
    for label, logged in [
        ("run1", [(d1, "train"), (d2, "eval")]),
        ("run2", [(d1, "train"), (d3, "eval")]),
        ("run3", [(d2, "test")]),
    ]:
        with mloop.start_run(run_id=runs[label]):
            for dataset, context in logged:
                mloop.log_input(dataset, context=context)
    return [exp], runs


def _datasets_and_params(client: mloop.Client) -> tuple[list[str], Runs]:
    exp, runs = _two_runs(client)
    client.log_param(runs["r1"], "learning_rate", "0.01")
    client.log_param(runs["r1"], "batch_size", "32")
    client.log_param(runs["r2"], "learning_rate", "0.02")
    for run in runs.values():
        with mloop.start_run(run_id=run):
            mloop.log_input(Dataset("train_data", "digest1"), context="training")
    return [exp], runs


def _ordered_metrics(client: mloop.Client) -> tuple[list[str], Runs]:
    """MLflow's order: numbers (-inf..inf), then NaN, then runs without the metric."""
    exp = _experiment("order_metrics")
    runs = {}
    for x, y in zip(
        [None, "nan", "inf", "-inf", "-1000", "0", "0", "1000"], "12345678", strict=True
    ):
        run = client.create_run(exp, start_time=1).info.run_id
        if x is not None:
            client.log_metric(run, "x", float(x), timestamp=1, step=0)
        client.log_metric(run, "y", float(y), timestamp=1, step=0)
        client.set_tag(run, "metric", y)
        client.log_param(run, "metric", y)
        runs[f"{x}/{y}"] = run
    return [exp], runs


def _ordered_end_times(client: mloop.Client) -> tuple[list[str], Runs]:
    exp = _experiment("order_attributes")
    runs = {}
    for start, end in enumerate([234, None, 456, -123, 789, 123], start=123):
        run = client.create_run(exp, start_time=start, run_name=str(end)).info.run_id
        if end is not None:  # mloop ends a run with an end time; MLflow's test leaves None
            client.set_terminated(run, "FINISHED", end_time=end)
        runs[str(end)] = run
    return [exp], runs


def _three(client: mloop.Client) -> tuple[str, Runs]:
    exp = _experiment("vanilla")
    return exp, {f"r{i}": client.create_run(exp, start_time=i).info.run_id for i in (1, 2, 3)}


def _deleted(client: mloop.Client) -> tuple[list[str], Runs]:
    exp, runs = _three(client)
    client.delete_run(runs["r1"])
    return [exp], runs


def _restored(client: mloop.Client) -> tuple[list[str], Runs]:
    exps, runs = _deleted(client)
    client.restore_run(runs["r1"])
    return exps, runs


def _same_start(client: mloop.Client) -> tuple[list[str], Runs]:
    exp = _experiment("deterministic")
    ids = sorted(client.create_run(exp, start_time=10).info.run_id for _ in range(10))
    return [exp], {f"#{i}": run for i, run in enumerate(ids)}


SCENARIOS: dict[str, Callable[[mloop.Client], tuple[list[str], Runs]]] = {
    "params": _params,
    "tags": _tags,
    "metrics": _metrics,
    "full": _full,
    "attributes": _attributes,
    "run_names": _run_names,
    "renamed": _renamed,
    "ids": _ids,
    "datasets": _datasets,
    "datasets_and_params": _datasets_and_params,
    "ordered_metrics": _ordered_metrics,
    "ordered_end_times": _ordered_end_times,
    "deleted": _deleted,
    "restored": _restored,
    "same_start": _same_start,
}


@dataclass(frozen=True)
class Case:
    scenario: str
    filter: str
    expected: tuple[str, ...] | None  # labels; None: MLflow refuses the filter
    ordered: bool = False  # MLflow's test checks the order
    order_by: tuple[str, ...] = ()
    view: str = "ACTIVE_ONLY"
    max_results: int = 1000


BOTH = ("r1", "r2")
_ORDER_ASC = ("-inf/4", "-1000/5", "0/6", "0/7", "1000/8", "inf/3", "nan/2", "None/1")
_ORDER_ASC_DESC = ("-inf/4", "-1000/5", "0/7", "0/6", "1000/8", "inf/3", "nan/2", "None/1")
_ORDER_DESC_ASC = ("inf/3", "1000/8", "0/6", "0/7", "-1000/5", "-inf/4", "nan/2", "None/1")
_ORDER_DESC = ("inf/3", "1000/8", "0/7", "0/6", "-1000/5", "-inf/4", "nan/2", "None/1")


def _text_cases(scenario: str, prefix: str, key: str) -> list[Case]:
    """The cases MLflow's test_search_params and test_search_tags share."""
    return [
        Case(scenario, f"{prefix}.{key} = 'p_val'", BOTH),
        Case(scenario, f"{prefix}.generic_2 = 'some value'", ("r1",)),
        Case(scenario, f"{prefix}.generic_2 = 'another value'", ("r2",)),
        Case(scenario, f"{prefix}.{key} = 'wrong_val'", ()),
        Case(scenario, f"{prefix}.{key} != 'p_val'", ()),
        Case(scenario, f"{prefix}.{key} != 'wrong_val'", BOTH),
        Case(scenario, f"{prefix}.generic_2 != 'wrong_val'", BOTH),
        Case(scenario, f"{prefix}.p_a = 'abc'", ("r1",)),
        Case(scenario, f"{prefix}.p_b = 'ABC'", ("r2",)),
        Case(scenario, f"{prefix}.generic_2 LIKE '%other%'", ("r2",)),
        Case(scenario, f"{prefix}.generic_2 LIKE 'other%'", ()),
        Case(scenario, f"{prefix}.generic_2 LIKE '%other'", ()),
        Case(scenario, f"{prefix}.generic_2 LIKE 'other'", ()),
        Case(scenario, f"{prefix}.generic_2 LIKE '%Other%'", ()),
        Case(scenario, f"{prefix}.generic_2 ILIKE '%Other%'", ("r2",)),
    ]


CASES: list[Case] = [
    *_text_cases("params", "params", "generic_param"),
    Case("params", "params.p_a = 'ABC'", ()),
    Case("params", "params.p_a != 'ABC'", ("r1",)),
    *_text_cases("tags", "tags", "generic_tag"),
    Case("tags", "tags.generic_tag = 'P_VAL'", ()),
    Case("tags", "tags.generic_tag != 'P_VAL'", BOTH),
    Case("tags", "tags.generic_2 ILIKE '%Other%' and tags.generic_tag = 'p_val'", ("r2",)),
    Case("tags", "tags.generic_2 ILIKE '%Other%' and tags.generic_tag ILIKE 'p_val'", ("r2",)),
    # metrics
    Case("metrics", "metrics.common = 1.0", BOTH),
    Case("metrics", "metrics.common > 0.0", BOTH),
    Case("metrics", "metrics.common >= 0.0", BOTH),
    Case("metrics", "metrics.common < 4.0", BOTH),
    Case("metrics", "metrics.common <= 4.0", BOTH),
    Case("metrics", "metrics.common != 1.0", ()),
    Case("metrics", "metrics.common >= 3.0", ()),
    Case("metrics", "metrics.common <= 0.75", ()),
    Case("metrics", "metrics.measure_a > 0.0", BOTH),
    Case("metrics", "metrics.measure_a < 50.0", ("r1",)),
    Case("metrics", "metrics.measure_a < 1000.0", BOTH),
    Case("metrics", "metrics.measure_a != -12.0", BOTH),
    Case("metrics", "metrics.measure_a > 50.0", ("r2",)),
    Case("metrics", "metrics.measure_a = 1.0", ("r1",)),
    Case("metrics", "metrics.measure_a = 400.0", ("r2",)),
    Case("metrics", "metrics.m_a > 1.0", ("r1",)),
    Case("metrics", "metrics.m_b > 1.0", ("r2",)),
    Case("metrics", "metrics.m_b > 5.0", ()),
    Case("metrics", "metrics.m_b = 4.0", ("r2",)),
    # several kinds at once
    Case("full", "params.generic_param = 'p_val' and metrics.common = 1.0", BOTH),
    Case(
        "full",
        "params.generic_param = 'p_val' and metrics.common = 1.0 and metrics.m_a > 1.0",
        ("r1",),
    ),
    Case(
        "full",
        "params.generic_param = 'p_val' and metrics.common = 1.0 "
        "and metrics.m_a > 1.0 and params.p_a LIKE 'a%'",
        ("r1",),
    ),
    Case(
        "full",
        "params.generic_param = 'p_val' and metrics.common = 1.0 "
        "and metrics.m_a > 1.0 and params.p_a LIKE 'A%'",
        (),
    ),
    Case(
        "full",
        "params.generic_param = 'p_val' and metrics.common = 1.0 "
        "and metrics.m_a > 1.0 and params.p_a ILIKE 'A%'",
        ("r1",),
    ),
    Case(
        "full",
        "params.random_bad_name = 'p_val' and metrics.common = 1.0 and metrics.m_a > 1.0",
        (),
    ),
    Case(
        "full",
        "params.generic_param = 'p_val' and metrics.common = 1.0 and metrics.m_a > 100.0",
        (),
    ),
    # attributes
    Case("attributes", "", BOTH),
    Case("attributes", "attribute.status != 'blah'", BOTH),
    Case("attributes", "attribute.status = 'RUNNING'", ("r1",)),
    Case("attributes", "attribute.status = 'FAILED'", ("r2",)),
    Case("attributes", "attribute.status != 'SCHEDULED'", BOTH),
    Case("attributes", "attribute.status = 'SCHEDULED'", ()),
    Case("attributes", "attribute.status = 'KILLED'", ()),
    Case("attributes", "attr.artifact_uri = '{uri:r1}'", ("r1",)),
    Case("attributes", "attr.artifact_uri = '{URI:r1}'", ()),
    Case("attributes", "attr.artifact_uri != '{URI:r1}'", BOTH),
    Case("attributes", "attr.artifact_uri = '{uri:r2}/../{id:r1}'", ()),
    Case("attributes", "attribute.artifact_uri = 'random_artifact_path'", ()),
    Case("attributes", "attribute.artifact_uri != 'random_artifact_path'", BOTH),
    Case("attributes", "attribute.artifact_uri LIKE '%{id:r1}%'", ("r1",)),
    Case("attributes", "attribute.artifact_uri LIKE '%{head:r1}%'", ("r1",)),
    Case("attributes", "attribute.artifact_uri LIKE '%{tail:r1}%'", ("r1",)),
    Case("attributes", "attribute.artifact_uri LIKE '%{ID:r1}%'", ()),
    Case("attributes", "attribute.artifact_uri ILIKE '%{ID:r1}%'", ("r1",)),
    Case("attributes", "attribute.artifact_uri ILIKE '%{HEAD:r1}%'", ("r1",)),
    Case("attributes", "attribute.artifact_uri ILIKE '%{TAIL:r1}%'", ("r1",)),
    Case("attributes", "attribute.lifecycle_stage = 'ACTIVE'", None),
    # run names: the attribute, MLflow's column titles and the system tag
    Case("run_names", "attributes.run_name = 'run_name1'", ("run1",)),
    Case("run_names", "attributes.`Run name` = 'run_name1'", ("run1",)),
    Case("run_names", "attributes.`run name` = 'run_name2'", ("run2",)),
    Case("run_names", "attributes.`Run Name` = 'run_name2'", ("run2",)),
    Case("run_names", "tags.`mlflow.runName` = 'run_name2'", ("run2",)),
    Case("renamed", "attributes.run_name = 'new_run_name1'", ("run1",)),
    Case("renamed", "tags.`mlflow.runName` = 'new_run_name1'", ("run1",)),
    # run ids, keys without a prefix
    Case("ids", "attributes.run_id = '{id:r1}'", ("r1",)),
    Case("ids", "attributes.run_id != '{id:r1}'", ("r2",)),
    Case("ids", "attributes.run_id IN ('{id:r1}')", ("r1",)),
    Case("ids", "attributes.run_id NOT IN ('{id:r1}')", ("r2",)),
    Case("ids", "run_name = 'name' AND run_id IN ('{id:r1}')", ("r1",)),
    Case("ids", "attributes.run_id IN ('{id:r1}','{id:r2}')", ("r2", "r1"), ordered=True),
    Case("ids", "attributes.run_id IN ('{id:r1}', '{id:r2}')", ("r2", "r1"), ordered=True),
    Case("ids", "attributes.run_id IN ('{id:r1}',  '{id:r2}')", ("r2", "r1"), ordered=True),
    Case("ids", "attributes.run_id NOT IN ('{id:r1}', '{id:r2}')", ()),
    # the ``created`` alias of start_time
    Case(
        "ids",
        "attributes.run_name = 'name'",
        ("r2", "r1"),
        ordered=True,
        order_by=("attributes.start_time DESC",),
    ),
    Case(
        "ids",
        "attributes.run_name = 'name'",
        ("r1", "r2"),
        ordered=True,
        order_by=("attributes.created ASC",),
    ),
    Case(
        "ids",
        "attributes.run_name = 'name'",
        ("r2", "r1"),
        ordered=True,
        order_by=("attributes.Created DESC",),
    ),
    Case("ids", "attributes.start_time > 0", BOTH),
    Case("ids", "attributes.created > 1", ("r2",)),
    Case("ids", "attributes.Created > 2", ()),
    # dataset inputs
    Case("datasets", "dataset.name = 'name1'", ("run1", "run2")),
    Case("datasets", "dataset.digest = 'digest2'", ("run1", "run3")),
    Case("datasets", "dataset.name = 'name4'", ()),
    Case("datasets", "dataset.context = 'train'", ("run1", "run2")),
    Case("datasets", "dataset.context = 'test'", ("run3",)),
    Case("datasets", "dataset.context = 'test' and dataset.name = 'name2'", ("run3",)),
    Case("datasets", "dataset.name = 'name2' and dataset.context = 'test'", ("run3",)),
    Case("datasets", "datasets.name IN ('name1', 'name2')", ("run1", "run2", "run3")),
    Case("datasets", "datasets.digest IN ('digest1', 'digest2')", ("run1", "run2", "run3")),
    Case("datasets", "datasets.name LIKE 'Name%'", ()),
    Case("datasets", "datasets.name ILIKE 'Name%'", ("run1", "run2", "run3")),
    Case("datasets", "datasets.context ILIKE 'test%'", ("run3",)),
    Case("datasets", "datasets.context IN ('test', 'train')", ("run1", "run2", "run3")),
    Case(
        "datasets_and_params",
        "params.learning_rate = '0.01' AND dataset.name = 'train_data'",
        ("r1",),
    ),
    Case(
        "datasets_and_params",
        "params.learning_rate = '0.01' AND dataset.context = 'training'",
        ("r1",),
    ),
    Case(
        "datasets_and_params",
        "params.learning_rate = '0.01' AND params.batch_size = '32' AND dataset.name = 'train_data'",
        ("r1",),
    ),
    Case(
        "datasets_and_params",
        "params.learning_rate = '0.01' AND dataset.name = 'train_data' "
        "AND dataset.context = 'training'",
        ("r1",),
    ),
    # ordering with NaN, infinities and missing values
    Case("ordered_metrics", "", _ORDER_ASC, True, ("metrics.x asc", "metrics.y asc")),
    Case("ordered_metrics", "", _ORDER_ASC, True, ("metrics.x asc", "tag.metric asc")),
    Case("ordered_metrics", "", _ORDER_ASC_DESC, True, ("metrics.x asc", "metrics.y desc")),
    Case("ordered_metrics", "", _ORDER_ASC_DESC, True, ("metrics.x asc", "tag.metric desc")),
    Case("ordered_metrics", "", _ORDER_DESC_ASC, True, ("metrics.x desc", "metrics.y asc")),
    Case("ordered_metrics", "", _ORDER_DESC, True, ("metrics.x desc", "param.metric desc")),
    Case(
        "ordered_end_times",
        "",
        ("-123", "123", "234", "456", "789", "None"),
        True,
        ("attribute.end_time asc",),
    ),
    Case(
        "ordered_end_times",
        "",
        ("789", "456", "234", "123", "-123", "None"),
        True,
        ("attribute.end_time desc",),
    ),
    Case(
        "ordered_end_times",
        "",
        ("234", "None", "456", "-123", "789", "123"),
        True,
        ("attribute.start_time asc", "attribute.end_time desc"),
    ),
    # deleted runs
    Case("deleted", "", ("r1", "r2", "r3"), view="ALL"),
    Case("deleted", "", ("r2", "r3"), view="ACTIVE_ONLY"),
    Case("deleted", "", ("r1",), view="DELETED_ONLY"),
    Case("restored", "", ("r1", "r2", "r3"), view="ALL"),
    Case("restored", "", ("r1", "r2", "r3"), view="ACTIVE_ONLY"),
    Case("restored", "", (), view="DELETED_ONLY"),
    # max_results over runs that tie on start_time: by run id
    *(
        Case("same_start", "", tuple(f"#{i}" for i in range(min(10, n))), True, max_results=n)
        for n in (1, 2, 4, 8, 10, 20)
    ),
    # filters MLflow refuses
    Case("params", "params.generic_param = p_val", None),
    Case("params", "metrics.common > 'one'", None),
    Case("params", "attribute.unknown = 'x'", None),
    Case("params", "metrics.common >", None),
]


def _fill(template: str, runs: Runs, uris: dict[str, str]) -> str:
    """Put run ids and artifact URIs into a filter: ``{id:r1}``, ``{URI:r1}``, ``{head:r1}``..."""
    out = template
    for label, run_id in runs.items():
        uri = uris[label]
        for field, value in {
            "id": run_id,
            "ID": run_id.upper(),
            "head": run_id[: len(run_id) // 2],
            "HEAD": run_id[: len(run_id) // 2].upper(),
            "tail": run_id[len(run_id) // 2 :],
            "TAIL": run_id[len(run_id) // 2 :].upper(),
            "uri": uri,
            "URI": uri.replace(run_id, run_id.upper()),
        }.items():
            out = out.replace("{" + f"{field}:{label}" + "}", value)
    return out


def _answers(scenario: str) -> list[tuple[Case, tuple[str, ...] | None]]:
    """Build the scenario's runs once; each of its cases with the labels mloop returns
    (in order where the case checks it; None: the filter was refused)."""
    client = mloop.Client()
    experiment_ids, runs = SCENARIOS[scenario](client)
    uris = {label: client.get_run(run_id).info.artifact_uri for label, run_id in runs.items()}
    labels = {run_id: label for label, run_id in runs.items()}
    answers: list[tuple[Case, tuple[str, ...] | None]] = []
    for case in (c for c in CASES if c.scenario == scenario):
        try:
            found = mloop.search_runs(
                experiment_ids=experiment_ids,
                filter_string=_fill(case.filter, runs, uris),
                order_by=list(case.order_by),
                run_view_type=case.view,
                max_results=case.max_results,
                output_format="list",
            )
        except InvalidInput:
            answers.append((case, None))
            continue
        answer = tuple(labels[run.info.run_id] for run in found)  # type: ignore[union-attr]
        answers.append((case, answer if case.ordered else tuple(sorted(answer))))
    return answers


# -- grammar: the parser cases of MLflow's tests/utils/test_search_utils.py ---------------

_TYPES = {"metric": "metrics", "parameter": "params", "tag": "tags", "attribute": "attributes"}
_TYPES["dataset"] = "datasets"

# (filter, [(MLflow's type, key, comparator, value)]) that MLflow parses
GRAMMAR_ACCEPTED: list[tuple[str, list[tuple[str, str, str, str]]]] = [
    ("metric.acc >= 0.94", [("metric", "acc", ">=", "0.94")]),
    ("metric.acc>=100", [("metric", "acc", ">=", "100")]),
    ("params.m!='tf'", [("parameter", "m", "!=", "tf")]),
    ('params."m"!="tf"', [("parameter", "m", "!=", "tf")]),
    ('metric."legit name" >= 0.243', [("metric", "legit name", ">=", "0.243")]),
    ("metrics.XYZ = 3", [("metric", "XYZ", "=", "3")]),
    ('params."cat dog" = "pets"', [("parameter", "cat dog", "=", "pets")]),
    ('metrics."X-Y-Z" = 3', [("metric", "X-Y-Z", "=", "3")]),
    ('metrics."X//Y#$$@&Z" = 3', [("metric", "X//Y#$$@&Z", "=", "3")]),
    ("params.model = 'LinearRegression'", [("parameter", "model", "=", "LinearRegression")]),
    (
        "metrics.rmse < 1 and params.model_class = 'LR'",
        [("metric", "rmse", "<", "1"), ("parameter", "model_class", "=", "LR")],
    ),
    ("", []),
    ("`metric`.a >= 0.1", [("metric", "a", ">=", "0.1")]),
    ("tags.version = 'commit-hash'", [("tag", "version", "=", "commit-hash")]),
    ("`tags`.source_name = 'a notebook'", [("tag", "source_name", "=", "a notebook")]),
    ('metrics."accuracy.2.0" > 5', [("metric", "accuracy.2.0", ">", "5")]),
    ("metrics.`spacey name` > 5", [("metric", "spacey name", ">", "5")]),
    ('params."p.a.r.a.m" != "a"', [("parameter", "p.a.r.a.m", "!=", "a")]),
    ('tags."t.a.g" = "a"', [("tag", "t.a.g", "=", "a")]),
    ("attribute.artifact_uri = '1/23/4'", [("attribute", "artifact_uri", "=", "1/23/4")]),
    ("attribute.start_time >= 1234", [("attribute", "start_time", ">=", "1234")]),
    ("run.status = 'RUNNING'", [("attribute", "status", "=", "RUNNING")]),
    ("dataset.name = 'my_dataset'", [("dataset", "name", "=", "my_dataset")]),
    ("params.m = 'LR'", [("parameter", "m", "=", "LR")]),
    ('params.m = "LR"', [("parameter", "m", "=", "LR")]),
    ('params.m = "L\'Hosp"', [("parameter", "m", "=", "L'Hosp")]),
    ("attribute.user_id = 'user-id2'", [("attribute", "user_id", "=", "user-id2")]),
]

# filters MLflow refuses (when parsing, or when searching with them)
GRAMMAR_REFUSED = [
    "metric.acc >= 0.94; metrics.rmse < 1",
    "m.acc >= 0.94",
    "acc >= 0.94",
    "p.model >= 'LR'",
    "attri.x != 1",
    "a.x != 1",
    "model >= 'LR'",
    "metrics.A > 0.1 NAND params.B = 'LR'",
    "`metrics.A > 0.1",
    "param`.A > 0.1",
    "`dummy.A > 0.1",
    "dummy`.A > 0.1",
    "attribute.start != 1",
    "attribute.lifecycle_stage = 'ACTIVE'",
    "attribute.name != 1",
    "attribute.time != 1",
    "attribute._status != 'RUNNING'",
    "attribute.status = true",
    "dataset.status = 'true'",
    "dataset.profile = 'num_rows: 10'",
    "metric.model = 'LR'",
    "metric.model = '5'",
    "params.acc = 5",
    "tags.acc = 5",
    "metrics.acc != metrics.acc",
    "1.0 > metrics.acc",
    "attribute.status = 1",
    "params.acc = LR",
    "tags.acc = LR",
    "params.acc = `LR`",
    "params.'acc = LR",
    "params.acc = 'LR",
    "params.acc = LR'",
    "params.acc = \"LR'",
    "tags.acc = \"LR'",
    "tags.acc = = 'LR'",
    "attribute.status IS 'RUNNING'",
    "params.acc LR !=",
    "params.acc LR",
    "metric.acc !=",
    "acc != 1.0",
    "foo is null",
    "1=1",
    "1==2",
    "`params`.model >= 'LR'",  # MLflow parses it, then refuses the comparator when searching
    *(f"metrics.abc {op} 1.0" for op in ("~", "~=")),
    *(f"params.abc {op} 'my-param-value'" for op in (">", "<", ">=", "<=", "~")),
    *(f"tags.abc {op} 'my-tag-value'" for op in (">", "<", ">=", "<=", "~")),
    *(f"attributes.status {op} 'my-tag-value'" for op in (">", "<", ">=", "<=", "~")),
    *(f"attributes.start_time {op} 1234" for op in ("LIKE", "ILIKE")),
    *(f"datasets.name {op} 'my-dataset-name'" for op in (">", "<", ">=", "<=", "~")),
]


def _flat(node: object) -> list[Comparison]:
    if node is None:
        return []
    if isinstance(node, Comparison):
        return [node]
    assert isinstance(node, And), node  # MLflow's grammar has AND only
    return [c for part in node.parts for c in _flat(part)]


@pytest.mark.parametrize(("filter_string", "parsed"), GRAMMAR_ACCEPTED)
def test_the_filters_mlflow_parses_mean_the_same(
    filter_string: str, parsed: list[tuple[str, str, str, str]]
) -> None:
    ours = [(c.entity, c.key, c.op, c.value) for c in _flat(parse(filter_string))]
    theirs = [
        (_TYPES[kind], key, op, float(value) if _TYPES[kind] == "metrics" else value)
        for kind, key, op, value in parsed
    ]
    theirs = [
        (entity, key, op, float(value) if key in ("start_time",) else value)
        for entity, key, op, value in theirs
    ]
    assert ours == theirs


@pytest.mark.parametrize("filter_string", GRAMMAR_REFUSED)
def test_the_filters_mlflow_refuses_are_refused(filter_string: str) -> None:
    with pytest.raises(InvalidInput, match="filter_string"):
        parse(filter_string)


def _filtering(client: mloop.Client) -> tuple[list[str], Runs]:
    """MLflow's test_correct_filtering: three runs, two experiments, inputs with contexts."""
    e0, e1 = _experiment("filtering-0"), _experiment("filtering-1")
    runs = {}
    for label, exp, status, key1, my_param, tag1, dataset, context in [
        ("0", e0, "FAILED", 121, "A", None, Dataset("name1", "digest1"), "train"),
        ("1", e0, "FINISHED", 123, "A", "C", Dataset("name1", "digest1"), None),
        ("2", e1, "FAILED", 125, "B", "D", Dataset("name2", "digest2"), None),
    ]:
        run = client.create_run(exp, start_time=0).info.run_id
        client.log_metric(run, "key1", key1, timestamp=1, step=0)
        client.log_param(run, "my_param", my_param)
        if tag1:
            client.set_tag(run, "tag1", tag1)
        with mloop.start_run(run_id=run):
            mloop.log_input(dataset, context=context)
        client.set_terminated(run, status, end_time=1)
        runs[label] = run
    return [e0, e1], runs


SCENARIOS["filtering"] = _filtering
CASES.extend(
    Case("filtering", filter_string, tuple(expected))
    for filter_string, expected in [
        ("", "012"),
        ("attributes.status = 'FAILED'", "02"),
        ("metrics.key1 = 123", "1"),
        ("metrics.key1 != 123", "02"),
        ("metrics.key1 >= 123", "12"),
        ("params.my_param = 'A'", "01"),
        ("tags.tag1 = 'D'", "2"),
        ("tags.tag1 != 'D'", "1"),
        ("params.my_param = 'A' AND attributes.status = 'FAILED'", "0"),
        ("datasets.name = 'name1'", "01"),
        ("datasets.name IN ('name1', 'name2')", "012"),
        ("datasets.digest IN ('digest1', 'digest2')", "012"),
        ("datasets.name = 'name1' AND datasets.digest = 'digest2'", ""),
        ("datasets.context = 'train'", "0"),
        ("datasets.name = 'name1' AND datasets.context = 'train'", "0"),
    ]
)


def _expected(case: Case) -> tuple[str, ...] | None:
    if case.expected is None or case.ordered:
        return case.expected
    return tuple(sorted(case.expected))


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_search_answers_like_mlflow(scenario: str, db_url: str) -> None:
    """Every case of the scenario (its runs built once per backend) gives MLflow's answer."""
    answers = _answers(scenario)
    differing = [
        f"{case.filter!r} order_by={list(case.order_by)} {case.view}: "
        f"MLflow {_expected(case)}, mloop {answer}"
        for case, answer in answers
        if answer != _expected(case)
    ]
    assert not differing, f"{len(differing)} of {len(answers)} cases differ:\n" + "\n".join(
        differing
    )


def test_the_cases_cover_every_scenario() -> None:
    assert {case.scenario for case in CASES} == set(SCENARIOS)
