"""A registered model served on a stream: one output per record, equal to the HTTP server's."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from mloop.serving import Graph
from mloop.store.predictions import read_predictions
from mloop.streams import StreamRunner, run
from mloop.streams.ledger import ACTED, SqliteLedger
from tests.streams.conftest import consume, fresh, publish, require, url_for


def _records(flights, n: int, prefix: str = "r") -> list[dict]:
    rows = flights.test.head(n).to_dict(orient="records")
    return [{"request_id": f"{prefix}{i}", **row} for i, row in enumerate(rows)]


def _http_answers(uri: str, records: list[dict]) -> dict:
    """What the model server answers for the same records (the in-process test client)."""
    body = {
        "records": [{k: v for k, v in r.items() if k != "request_id"} for r in records],
        "request_ids": [r["request_id"] for r in records],
    }
    with Graph.from_model(uri).test_client(log=False) as client:
        answer = client.predict(body)
    return {
        rid: (p, q)
        for rid, p, q in zip(
            answer["request_ids"], answer["predictions"], answer["proba"], strict=True
        )
    }


@pytest.mark.parametrize("scheme", ["amqp", "nats", "mqtt", "redis"])
def test_a_model_on_a_stream_answers_each_record_as_the_http_server_does(
    scheme: str, champion: str, flights
) -> None:
    require(scheme)
    name = fresh("in")
    source, sink = url_for(scheme, name), url_for(scheme, fresh("out"))
    records = _records(flights, 60)
    # one record per message, and lists of records in one message
    bodies = [orjson.dumps(r) for r in records[:30]] + [
        orjson.dumps(records[i : i + 10]) for i in range(30, 60, 10)
    ]

    async def scenario() -> tuple[object, list[bytes]]:
        runner = StreamRunner(champion, source, sink, idle_seconds=1.5, batch=16)
        task = asyncio.create_task(runner.run())
        # subscribers first (MQTT keeps messages only for known sessions)
        out = asyncio.create_task(consume(sink, 60, timeout=30))
        await asyncio.sleep(1.0)
        await publish(source, bodies)
        metrics = await task
        return metrics, await out

    metrics, outputs = asyncio.run(scenario())
    expected = _http_answers(champion, records)
    docs = [orjson.loads(o) for o in outputs]
    assert sorted(d["id"] for d in docs) == sorted(expected)
    for doc in docs:
        assert (doc["prediction"], doc["proba"]) == expected[doc["id"]]
        assert doc["model_version"] == "1"
    assert metrics.scored == 60 and metrics.dead == 0
    logged = read_predictions("delays")
    assert sorted(logged["request_id"]) == sorted(expected)  # each prediction logged once


def test_a_redelivered_record_is_not_scored_published_or_logged_twice(
    champion: str, flights
) -> None:
    require("amqp")
    source, sink = url_for("amqp", fresh("in")), url_for("amqp", fresh("out"))
    records = _records(flights, 5)
    # the same five events twice: a producer retry, or a redelivery after a crash
    asyncio.run(publish(source, [orjson.dumps(r) for r in records + records]))
    metrics = run(champion, source, sink, idle_seconds=1.0, batch=4)
    outputs = asyncio.run(consume(sink, 10, timeout=2))
    assert sorted(orjson.loads(o)["id"] for o in outputs) == [f"r{i}" for i in range(5)]
    assert (metrics.scored, metrics.duplicates) == (5, 5)
    assert sorted(read_predictions("delays")["request_id"]) == [f"r{i}" for i in range(5)]


def test_a_record_published_before_a_crash_is_logged_but_not_published_again(
    champion: str, flights, mloop_home
) -> None:
    """The process died after publishing r0 and r1 (ledger: acted) and logging only r1."""
    require("amqp")
    from mloop.store.predictions import PredictionLogWriter

    source, sink = url_for("amqp", fresh("in")), url_for("amqp", fresh("out"))
    records = _records(flights, 3)
    ledger_path = mloop_home / "ledger.db"
    ledger = SqliteLedger(ledger_path)
    ledger.mark(["r0", "r1"], ACTED)
    ledger.close()
    with PredictionLogWriter() as writer:
        writer.log("delays", "1", ["r1"], {"distance": [1.0]}, {"prediction": [0]}, 1.0)
    asyncio.run(publish(source, [orjson.dumps(r) for r in records]))
    metrics = run(champion, source, sink, idle_seconds=1.0, ledger=f"sqlite:///{ledger_path}")
    outputs = asyncio.run(consume(sink, 3, timeout=2))
    assert [orjson.loads(o)["id"] for o in outputs] == ["r2"]  # r0 and r1 acted already
    assert sorted(read_predictions("delays")["request_id"]) == ["r0", "r1", "r2"]
    assert metrics.scored == 3
    states = SqliteLedger(ledger_path).states(["r0", "r1", "r2"])
    assert {k: s for k, (s, _) in states.items()} == {"r0": "done", "r1": "done", "r2": "done"}


def test_a_graph_from_a_module_runs_on_a_stream(champion: str, flights, tmp_path) -> None:
    require("redis")
    (tmp_path / "app_graph.py").write_text(
        "from mloop.serving import Graph, Model\n"
        "graph = Graph('late').add(Model('models:/delays@champion'))"
        ".add(lambda out: out.assign(late=out['proba'] > 0.5))\n"
    )
    source, sink = url_for("redis", fresh("in")), url_for("redis", fresh("out"))
    records = _records(flights, 20)
    asyncio.run(publish(source, [orjson.dumps(r) for r in records]))
    metrics = run(f"{tmp_path / 'app_graph.py'}:graph", source, sink, idle_seconds=1.0)
    docs = {d["id"]: d for d in (orjson.loads(o) for o in asyncio.run(consume(sink, 20)))}
    expected = _http_answers(champion, records)
    assert metrics.scored == 20 and len(docs) == 20
    for rid, (prediction, proba) in expected.items():
        doc = docs[rid]
        assert (doc["prediction"], doc["proba"], doc["late"]) == (prediction, proba, proba > 0.5)
        assert doc["model_version"] == "1"


@pytest.mark.parametrize("scheme", ["nats", "redis", "amqp"])
def test_consumers_of_one_group_share_a_stream_each_record_once(
    scheme: str, champion: str, flights, mloop_home
) -> None:
    """Two runners with the same group (a shared ledger) split the stream between them."""
    require(scheme)
    name = fresh("in")
    sink = url_for(scheme, fresh("out"))
    ledger = f"sqlite:///{mloop_home / 'shared.ledger.db'}"
    records = _records(flights, 400)

    async def scenario() -> list:
        await publish(url_for(scheme, name), [orjson.dumps(r) for r in records])
        runners = []
        for consumer in ("c1", "c2"):
            options = {"consumer": consumer} if scheme == "redis" else {}
            source = url_for(scheme, name, group="scorers", **options)
            if scheme == "amqp":  # competing consumers of one queue, each holding 16 at most
                source = url_for(scheme, name, prefetch="16")
            runners.append(
                StreamRunner(champion, source, sink, idle_seconds=1.5, batch=8, ledger=ledger)
            )
        return await asyncio.gather(*(r.run() for r in runners))

    first, second = asyncio.run(scenario())
    assert first.scored > 0 and second.scored > 0  # both took part
    assert first.scored + second.scored == 400
    outputs = asyncio.run(consume(sink, 400, timeout=5))
    assert sorted(orjson.loads(o)["id"] for o in outputs) == sorted(
        r["request_id"] for r in records
    )
    assert len(read_predictions("delays")) == 400


def test_moving_the_alias_swaps_the_model_of_a_running_stream(champion: str, flights) -> None:
    require("redis")
    from mloop.registry import set_alias
    from tests.serving.conftest import train

    source, sink = url_for("redis", fresh("in")), url_for("redis", fresh("out"))
    records = _records(flights, 10)
    second = train(flights, c=0.01)  # version 2: another regularisation, other probabilities

    async def scenario() -> list[bytes]:
        runner = StreamRunner(champion, source, sink, idle_seconds=8.0, poll_seconds=0.1)
        task = asyncio.create_task(runner.run())
        await publish(source, [orjson.dumps(r) for r in records[:5]])
        first = await consume(sink, 5, timeout=20)
        set_alias("delays", "champion", second)
        await asyncio.sleep(1.5)  # a few polls: the new version is loaded and swapped in
        await publish(source, [orjson.dumps(r) for r in records[5:]])
        metrics = await task
        assert metrics.scored == 10, metrics.as_dict()
        return first + await consume(sink, 5, timeout=5)

    docs = {d["id"]: d for d in (orjson.loads(o) for o in asyncio.run(scenario()))}
    assert {docs[f"r{i}"]["model_version"] for i in range(5)} == {"1"}
    assert {docs[f"r{i}"]["model_version"] for i in range(5, 10)} == {str(second)}
    logged = read_predictions("delays")
    assert sorted(logged["model_version"].tolist()) == ["1"] * 5 + [str(second)] * 5
