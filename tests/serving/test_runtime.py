"""Micro-batching, limits, and hot swap of a model when its alias moves."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx

from mloop import serving
from mloop.registry import set_alias
from mloop.server.serving import create_app
from mloop.serving import Limits, MicroBatcher, Overloaded, RequestTimeout
from tests.serving.conftest import Flights, records, running, train


def test_concurrent_requests_share_predict_calls(champion: str, flights: Flights) -> None:
    graph = serving.Graph.from_model(champion)
    bodies = [{"records": records(flights.test.iloc[i : i + 1])} for i in range(64)]
    with graph.test_client(log=False) as client:
        answers = client.predict_many(bodies)
        batcher = client.service._batchers["delays"]
        batches = batcher.batches
    assert all(isinstance(a, dict) for a in answers)
    expected = serving.ModelRuntime(champion)
    expected.load()
    outputs, _ = expected.predict(flights.test.head(64))
    assert [a["predictions"][0] for a in answers] == outputs["prediction"].tolist()
    assert batches < 64  # several requests per predict call


def test_an_idle_single_request_is_not_held_back_for_a_batch(
    champion: str, flights: Flights
) -> None:
    graph = serving.Graph.from_model(champion)
    limits = Limits(max_wait_ms=500)
    with graph.test_client(log=False, limits=limits) as client:
        client.predict({"records": records(flights.test.head(1))})
        time.sleep(1.0)  # idle: no other request within the wait window
        client.predict({"records": records(flights.test.head(1))})
        assert client.service._batchers["delays"].waits == 0


def test_a_batch_waits_for_as_many_requests_as_were_in_flight_lately() -> None:
    """Under load the worker holds a batch until as many requests queue as were in flight
    at once lately, and goes as soon as they have (not at the end of the wait)."""
    sizes: list[int] = []

    def run(items: list[serving.batcher.Item]) -> list[object]:
        sizes.append(len(items))
        return [item.payload for item in items]

    async def scenario() -> list[object]:
        batcher = MicroBatcher(run, max_batch_rows=64, max_wait_ms=5_000)
        await asyncio.gather(*(batcher.submit(i, 1) for i in range(8)))  # 8 in flight at once

        async def spaced(i: int) -> object:
            await asyncio.sleep(0.002 * i)
            return await batcher.submit(i, 1)

        # a wait that ran to its end would take 5 s: the 8th arrival ends it
        results = await asyncio.wait_for(asyncio.gather(*(spaced(i) for i in range(8))), 2.5)
        await batcher.drain()
        assert batcher.waits >= 1
        return list(results)

    assert asyncio.run(scenario()) == list(range(8))
    assert sizes[-1] == 8  # the spaced requests went as one batch


def _slow_batch(items: list[serving.batcher.Item]) -> list[object]:
    time.sleep(0.3)
    return [item.payload for item in items]


def test_a_full_queue_answers_overloaded_instead_of_growing() -> None:
    async def scenario() -> list[object]:
        batcher = MicroBatcher(_slow_batch, max_batch_rows=1, max_wait_ms=0, max_queue=3)
        results = await asyncio.gather(
            *(batcher.submit(i, 1) for i in range(10)), return_exceptions=True
        )
        await batcher.drain()
        return results

    results = asyncio.run(scenario())
    served = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Overloaded)]
    assert served == list(range(len(served))) and len(served) >= 3
    assert len(refused) == 10 - len(served) and "429" not in str(refused[0])
    assert "requests waiting (the limit is 3)" in str(refused[0])


def test_a_request_over_the_timeout_gets_request_timeout() -> None:
    async def scenario() -> object:
        batcher = MicroBatcher(_slow_batch, max_wait_ms=0)
        try:
            return await batcher.submit("x", 1, timeout=0.05)
        except RequestTimeout as exc:
            return exc
        finally:
            await batcher.drain()

    result = asyncio.run(scenario())
    assert isinstance(result, RequestTimeout) and result.http_status == 504


def test_hot_swap_under_load_fails_no_request(flights: Flights, mloop_home: Path) -> None:
    set_alias("delays", "champion", train(flights, c=1.0))
    new_version = train(flights, c=0.001)
    app = create_app("models:/delays@champion", poll_seconds=0.1, log=False)
    statuses: list[int] = []
    versions: list[str] = []  # in the order the clients noted them (threads race to note)
    by_client: list[list[str]] = [[] for _ in range(4)]  # each client's, in its order
    stop = threading.Event()
    body = {"records": records(flights.test.head(3))}

    def load(url: str, seen: list[str]) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while not stop.is_set():
                response = client.post("/v1/models/delays/predict", json=body)
                statuses.append(response.status_code)
                if response.status_code == 200:
                    seen.append(response.json()["model_version"])
                    versions.append(seen[-1])

    with running(app) as url:
        threads = [threading.Thread(target=load, args=(url, seen)) for seen in by_client]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(statuses) < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        set_alias("delays", "champion", new_version)
        while (not versions or versions[-1] != "2") and time.monotonic() < deadline:
            time.sleep(0.05)
        seen_after = len(statuses)
        while len(statuses) < seen_after + 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join()
        metrics = httpx.get(f"{url}/metrics").text
    assert set(statuses) == {200}
    assert versions[0] == "1" and "2" in versions
    for seen in by_client:  # a client that got the new version never gets the old one again
        # (its next request is sent after that answer; across clients the order in which
        # the answers were noted is a race between the client threads)
        assert seen[-1] == "2"
        first_new = seen.index("2")
        assert set(seen[first_new:]) == {"2"}, seen
    assert 'mloop_model_version{graph="delays",model="delays"} 2.0' in metrics
    assert 'mloop_model_swaps_total{model="delays"} 1.0' in metrics
