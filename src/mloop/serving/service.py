"""The serving core behind both ``mloop serve`` and ``graph.test_client()``.

A :class:`Service` holds the graphs, one micro-batcher per graph, the prediction log
writer and the metrics. It speaks bytes and dicts, not HTTP: the FastAPI app in
``mloop.server.serving`` maps routes onto it, and the in-process test client calls it
directly, so both run exactly the same code.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput, MloopError, NotFound, did_you_mean
from mloop.core.log import get_logger
from mloop.serving.answers import RecentIds, answer_of, as_error, request_ids_for
from mloop.serving.batcher import Item, MicroBatcher
from mloop.serving.errors import PayloadTooLarge, ShuttingDown
from mloop.serving.event import Event, LogRecord
from mloop.serving.feedback import FeedbackRequest, LabelDomain
from mloop.serving.metrics import ServingMetrics
from mloop.serving.payload import Columns, loads, parse
from mloop.serving.validation import input_names, to_arrays, validate
from mloop.store.predictions import GRACE_SECONDS, STATES, feedback_status, record_feedback

if TYPE_CHECKING:
    from mloop.serving.graph import Graph
    from mloop.serving.runtime import ModelRuntime
    from mloop.store.predictions import PredictionLogWriter

_log = get_logger("mloop.serving")


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a server healthy under bad or excessive traffic.

    ``inline_batch_ms``: batches that recently took less than this run on the event loop
    instead of the batch thread (no thread hand-off for small models); 0 never does.
    """

    max_body_bytes: int = 10 * 1024 * 1024
    timeout_s: float = 30.0
    max_queue: int = 2048
    max_batch_rows: int = 256
    max_wait_ms: float = 1.0
    inline_batch_ms: float = 3.0


class Service:
    """Graphs served with micro-batching, prediction logging and metrics."""

    def __init__(
        self,
        graphs: Sequence[Graph],
        limits: Limits | None = None,
        log: bool | PredictionLogWriter = True,
        watch: bool = True,
        flush_rows: int = 5_000,
        flush_seconds: float = 2.0,
        feedback_grace_s: float = GRACE_SECONDS,
    ) -> None:
        if not graphs:
            raise InvalidInput("nothing to serve; give at least one model URI or graph.")
        names = [g.name for g in graphs]
        if len(set(names)) != len(names):
            raise InvalidInput(f"graph names must be unique; got {names}.")
        self.graphs = {g.name: g for g in graphs}
        self.default = names[0]
        self.limits = limits or Limits()
        self.watch = watch
        self.metrics = ServingMetrics()
        if log is True:
            from mloop.store.predictions import PredictionLogWriter

            self.writer: PredictionLogWriter | None = PredictionLogWriter(
                flush_rows=flush_rows, flush_seconds=flush_seconds
            )
        else:
            self.writer = log or None
        self._batchers: dict[str, MicroBatcher] = {}
        self._recent_ids = RecentIds()
        self._feedback_counts: dict[str, dict[str, Any]] = {}
        self._feedback_checked = 0.0
        self.feedback_grace_s = feedback_grace_s  # a label unmatched this long is "unmatched"
        self.loaded = False
        self.closing = False

    # -- life cycle ----------------------------------------------------------------------

    def load(self) -> None:
        """Load every model (blocking) and follow their aliases."""
        for graph in self.graphs.values():
            graph.load()
            for runtime in graph.runtimes():
                self.metrics.set_version(graph.name, runtime.name, runtime.version)
                runtime.listeners.append(self._swapped(graph.name))
                self._record_deployment(graph.name, runtime.name, runtime.version)
            if self.watch:
                graph.start_watching()
        self.loaded = True

    def _swapped(self, graph: str) -> Any:
        def listener(model: str, _old: str | None, new: str) -> None:
            self.metrics.set_version(graph, model, new)
            self.metrics.swaps.labels(model).inc()
            self._record_deployment(graph, model, new)

        return listener

    def _record_deployment(self, graph: str, model: str, version: str) -> None:
        """Lineage: ``model_version --deployed_to--> deployment`` (``--logs_to--> prediction_log``)."""
        from mloop.store import get_store, lineage

        deployment = lineage.Node("deployment", graph)
        edges: list[tuple[lineage.Node, str, lineage.Node, dict[str, Any] | None]] = []
        if not model.startswith("run-"):
            edges.append(
                (
                    lineage.Node("model_version", f"{model}/{version}"),
                    "deployed_to",
                    deployment,
                    None,
                )
            )
        if self.writer is not None:
            edges.append((deployment, "logs_to", lineage.Node("prediction_log", model), None))
        try:
            lineage.add_edges(get_store(), edges)
        except Exception as exc:  # lineage must never stop serving
            _log.error("recording the deployment of %s/%s failed: %s", model, version, exc)

    async def start(self) -> None:
        """Load the models (in a thread) and start the batchers on the running loop."""
        if not self.loaded:
            await asyncio.to_thread(self.load)
        if self.writer is not None:
            await asyncio.to_thread(self.writer.warm_up)
        for name, graph in self.graphs.items():
            if name not in self._batchers:
                self._batchers[name] = MicroBatcher(
                    functools.partial(self._run_batch, graph),
                    max_batch_rows=self.limits.max_batch_rows,
                    max_wait_ms=self.limits.max_wait_ms,
                    max_queue=self.limits.max_queue,
                    name=name,
                    on_batch=self._batch_observer(name),
                    inline_ms=self.limits.inline_batch_ms,
                )
                self._batchers[name].start()

    def _batch_observer(self, name: str) -> Any:
        rows = self.metrics.batch_rows.labels(name)
        queue = self.metrics.queue.labels(name)

        def observe(batch_rows: int) -> None:
            rows.observe(batch_rows)
            queue.set(self._batchers[name].depth)

        return observe

    @property
    def ready(self) -> bool:
        return self.loaded and not self.closing and len(self._batchers) == len(self.graphs)

    async def stop(self, timeout: float = 30.0) -> None:
        """Graceful shutdown: refuse new requests, answer the queued ones, flush the log."""
        self.closing = True
        await asyncio.gather(*(b.drain(timeout) for b in self._batchers.values()))
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        for graph in self.graphs.values():
            graph.stop()
        if self.writer is not None:
            self.writer.close()

    # -- requests ------------------------------------------------------------------------

    def graph(self, name: str | None) -> Graph:
        graph = self.graphs.get(name or self.default)
        if graph is None:
            raise NotFound(
                f"no model named {name!r} is served here."
                + did_you_mean(str(name), self.graphs)
                + f" Served: {', '.join(self.graphs)}."
            )
        return graph

    async def predict(
        self, name: str | None, body: bytes | Any, request_id: str | None = None
    ) -> dict[str, Any]:
        """Answer one prediction request (raw JSON bytes or an already decoded body)."""
        started = time.perf_counter()
        label = self._label(name)
        status = 200
        try:
            if self.closing:
                raise ShuttingDown("the server is shutting down; retry on another replica.")
            graph = self.graph(name)
            label = graph.name
            if isinstance(body, (bytes, bytearray, memoryview)):
                if len(body) > self.limits.max_body_bytes:
                    raise PayloadTooLarge(
                        f"the request body has {len(body):,} bytes, over the limit of "
                        f"{self.limits.max_body_bytes:,}; send fewer rows per request."
                    )
                body = loads(bytes(body))
            signature, extra = graph.request_schema()
            columns = parse(body, input_names(signature))
            columns = validate(columns, signature, extra)
            ids = columns.request_ids or request_ids_for(request_id, columns.rows)
            if columns.request_ids is not None or request_id:  # ids the client chose
                repeated = self._recent_ids.repeats(ids)
                if repeated:
                    self.metrics.duplicate_ids.labels(graph.name).inc(repeated)
            batcher = self._batchers.get(graph.name)
            if batcher is None:
                raise ShuttingDown("the server is not ready yet; retry in a moment.")
            result: dict[str, Any] = await batcher.submit(
                (columns, ids), columns.rows, self.limits.timeout_s
            )
            return result
        except MloopError as exc:
            status = exc.http_status
            raise
        except Exception:
            status = 500
            raise
        finally:
            self.metrics.observe(label, status, time.perf_counter() - started)

    def _label(self, name: str | None) -> str:
        """The graph a request is counted under in /metrics (a bounded set of labels)."""
        if name is None:
            return self.default
        return name if name in self.graphs else "unknown"

    def count_rejected(self, name: str | None, status: int) -> None:
        """Count a request refused before its body was read (413, 415) in /metrics."""
        self.metrics.observe(self._label(name), status, 0.0)

    def _run_batch(self, graph: Graph, items: Sequence[Item]) -> list[Any]:
        """Run queued requests as one batch; on failure, alone, so one bad request fails alone."""
        try:
            return self._run_items(graph, items)
        except Exception as exc:
            if len(items) == 1:
                return [as_error(graph.name, exc)]
        results: list[Any] = []
        for item in items:
            try:
                results.extend(self._run_items(graph, [item]))
            except Exception as exc:
                results.append(as_error(graph.name, exc))
        return results

    def _run_items(self, graph: Graph, items: Sequence[Item]) -> list[dict[str, Any]]:
        import pandas as pd

        payloads: list[tuple[Columns, list[str]]] = [item.payload for item in items]
        if len(payloads) == 1:
            merged, ids = payloads[0][0].data, payloads[0][1]
        else:
            merged, ids = _merge(payloads)
        signature, _ = graph.request_schema()
        arrays = to_arrays(merged, signature)
        model = graph.single_model()
        if model is not None:  # the common case: one model, no Event or output DataFrame
            outputs, version = model.runtime.predict_arrays(arrays)
            latency = _latency(items, len(ids))
            if self.writer is not None:
                try:
                    self.writer.log(model.runtime.name, version, ids, arrays, outputs, latency)
                except Exception as exc:  # logging must never fail a request
                    _log.error("prediction log of %s failed: %s", model.runtime.name, exc)
            versions = [version] * len(ids)
            answer_columns = {str(c): values.tolist() for c, values in outputs.items()}
        else:
            frame = pd.DataFrame(arrays)
            event = Event(ids, frame, frame, sink=self._log_late, input_columns=arrays)
            event = graph.run(event)
            latency = _latency(items, len(ids))
            self._log(event, latency)
            assert event.outputs is not None and event.versions is not None
            versions = event.versions
            answer_columns = {
                str(c): event.outputs[c].to_numpy().tolist() for c in event.outputs.columns
            }
        answers = []
        offset = 0
        for (_, request_ids), item in zip(payloads, items, strict=True):
            end = offset + item.rows
            answers.append(answer_of(answer_columns, versions, request_ids, offset, end))
            offset = end
        return answers

    def _log(self, event: Event, latency: Any) -> None:
        if self.writer is None:
            return
        for record in event.records:
            self._write(event, record, latency)

    def _write(self, event: Event, record: LogRecord, latency: Any) -> None:
        assert self.writer is not None
        positions = record.positions
        inputs: Any = event.input_columns if event.input_columns is not None else event.inputs
        features, ids = event.features, event.request_ids
        if positions is not None:
            inputs = event.inputs.iloc[positions].reset_index(drop=True)
            features = (
                features.iloc[positions].reset_index(drop=True) if features is not None else None
            )
            ids = [ids[int(p)] for p in positions]
            latency = latency[positions] if hasattr(latency, "__len__") else latency
        try:
            self.writer.log(
                record.model_name,
                record.model_version,
                ids,
                inputs,
                record.outputs,
                latency,
                features=features,
            )
        except Exception as exc:  # logging must never fail a request
            _log.error("prediction log of %s failed: %s", record.model_name, exc)

    def _log_late(self, event: Event, record: LogRecord) -> None:
        if self.writer is not None:
            self._write(event, record, record.latency_ms or 0.0)

    # -- feedback and status -------------------------------------------------------------

    async def feedback(self, body: bytes | Any) -> dict[str, Any]:
        """Record ground truth: ``{"request_id": "...", "label": 1}`` or lists of both.

        Each label is checked against the label domain of every model it is recorded for
        (:class:`LabelDomain`); request ids are matched against the log later (see
        :mod:`mloop.store.predictions.matching`).
        """
        try:
            if isinstance(body, (bytes, bytearray, memoryview)):
                body = loads(bytes(body))
            request = FeedbackRequest.parse(body)
            models = self._feedback_models(request.model)
            for runtime in self._runtimes_of(models):
                LabelDomain.of(runtime).check(request.labels)

            def record() -> int:
                count = 0
                for model in models:
                    count = record_feedback(model, request.request_ids, request.labels, request.ts)
                return count

            recorded = await asyncio.to_thread(record)
        except MloopError:
            self.metrics.feedback_rejected.inc()
            raise
        self.metrics.feedback_recorded.inc(recorded)
        return {"recorded": recorded, "models": models}

    def _runtimes_of(self, models: Sequence[str]) -> list[ModelRuntime]:
        return [
            runtime
            for graph in self.graphs.values()
            for runtime in graph.runtimes()
            if runtime.name in models and runtime.loaded
        ]

    def feedback_status(self, max_age_s: float = 30.0) -> dict[str, dict[str, Any]]:
        """Labels of each served model by state (matched, pending, unmatched), looked up in
        the store at most every ``max_age_s`` seconds (one scan of the log's request ids),
        and set on the ``mloop_feedback_labels`` gauge of ``/metrics``."""
        now = time.monotonic()
        if now - self._feedback_checked < max_age_s and self._feedback_counts:
            return self._feedback_counts
        names = list(dict.fromkeys(m for g in self.graphs.values() for m in g.model_names()))
        counts = {name: feedback_status(name, self.feedback_grace_s).as_dict() for name in names}
        for name, status in counts.items():
            for state in STATES:
                self.metrics.feedback_states.labels(name, state).set(status[state])
        self._feedback_counts, self._feedback_checked = counts, now
        return counts

    def _feedback_models(self, name: Any) -> list[str]:
        if name is None:
            return self.graph(None).model_names()
        if name in self.graphs:
            return self.graphs[name].model_names()
        known = {m for g in self.graphs.values() for m in g.model_names()}
        if name in known:
            return [name]
        raise NotFound(
            f"feedback for model {name!r}, which is not served here."
            + did_you_mean(str(name), [*self.graphs, *known])
        )

    def status(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "models": {name: g.versions() for name, g in self.graphs.items()},
        }


def _latency(items: Sequence[Item], rows: int) -> Any:
    """Milliseconds from each request's arrival until now, one per row."""
    import numpy as np

    done = time.perf_counter()
    return np.fromiter(
        ((done - item.arrived) * 1000 for item in items for _ in range(item.rows)),
        dtype="float64",
        count=rows,
    )


def _merge(payloads: Sequence[tuple[Columns, list[str]]]) -> tuple[dict[str, list[Any]], list[str]]:
    """The columns and request ids of several requests, in order (absent fields as None)."""
    names: dict[str, None] = {}
    for columns, _ in payloads:
        names.update(dict.fromkeys(columns.data))
    merged: dict[str, list[Any]] = {name: [] for name in names}
    ids: list[str] = []
    for columns, request_ids in payloads:
        data = columns.data
        for name, values in merged.items():
            part = data.get(name)
            values.extend(part if part is not None else [None] * columns.rows)
        ids.extend(request_ids)
    return merged, ids
