"""Serve a model or a serving Graph on a stream: consume → check → score → publish → log → ack.

>>> from mloop import streams
>>> streams.run("models:/delays@champion",
...             source="amqp://guest:guest@127.0.0.1:5672/%2f?queue=flights",
...             sink="amqp://guest:guest@127.0.0.1:5672/%2f?queue=scores")

Each input record gives one output message ``{"id", "prediction", ..., "model_version"}``
published with the record's id as idempotency key. Records are scored by the serving
:class:`~mloop.serving.Service` (the same validation, batching, models, hot swap and
prediction log as ``mloop serve``). A batch is acknowledged only after its outputs are
confirmed by the sink, its dead letters published and its predictions durable in the log;
the ledger (:mod:`mloop.streams.ledger`) makes a redelivered record a no-op. The order and
its reasons: docs/decisions/0161-streams-delivery.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import time
from collections.abc import Sequence
from typing import Any

from mloop.core.config import get_settings
from mloop.core.errors import InvalidInput, MloopError, StoreUnavailable
from mloop.core.log import get_logger
from mloop.data import Suite
from mloop.serving import Graph, Service, load_target
from mloop.store.predictions import PredictionLogWriter, read_predictions
from mloop.streams import brokers
from mloop.streams.address import dead_letter_url
from mloop.streams.ledger import ACTED, DONE, Ledger, open_ledger
from mloop.streams.metrics import StreamMetrics
from mloop.streams.protocol import Message, Sink, Source
from mloop.streams.quality import StreamQuality
from mloop.streams.records import DeadLetter, decode

_log = get_logger("mloop.streams")
_ANSWER_FIELDS = ("predictions", "model_version", "request_ids")


class StreamRunner:
    """One consumer of a stream (run several, with the same group, to share it)."""

    def __init__(
        self,
        target: str | Graph,
        source: str | Source,
        sink: str | Sink,
        *,
        dead_letter: str | Sink | None = None,
        key: str = "request_id",
        batch: int = 256,
        max_message_bytes: int = 1 << 20,
        suite: Any = None,
        quality: StreamQuality | None = None,
        ledger: str | Ledger | None = None,
        log: bool = True,
        max_records: int | None = None,
        idle_seconds: float | None = None,
        poll_seconds: float = 1.5,
    ) -> None:
        if batch < 1 or max_message_bytes < 1:
            raise InvalidInput(
                f"batch={batch} and max_message_bytes={max_message_bytes} must be positive."
            )
        if dead_letter is None:
            if not isinstance(source, str):
                raise InvalidInput("give dead_letter= (a URL or a Sink) for a source object.")
            dead_letter = dead_letter_url(source)
        self.source = brokers.source(source)  # bad URLs fail here, before loading a model
        self.sink = brokers.sink(sink)
        self.dead_sink = brokers.sink(dead_letter)
        graphs = load_target(target, poll_seconds=poll_seconds)
        if len(graphs) != 1:
            raise InvalidInput(
                f"a stream runs one graph; {target!r} holds {len(graphs)} "
                f"({', '.join(g.name for g in graphs)}): name one with module:<graph>."
            )
        self.graph = graphs[0]
        self.key = key
        self.batch = batch
        self.max_message_bytes = max_message_bytes
        self.suite = _suite(suite)
        if quality is not None and not isinstance(quality, StreamQuality):
            raise InvalidInput(f"quality={quality!r} must be a streams.StreamQuality.")
        self.quality = quality
        self.max_records = max_records
        self.idle_seconds = idle_seconds
        self.metrics = StreamMetrics()
        self.writer: Any = None
        if log:
            # flushed by this runner only, before it acknowledges (never by its own timer)
            self.writer = PredictionLogWriter(flush_rows=1 << 40, flush_seconds=1e9)
        self.service = Service([self.graph], log=self.writer or False)
        settings = get_settings()
        source_name = re.sub(r"[^A-Za-z0-9_.-]", "_", _destination(self.source))
        self.ledger = open_ledger(ledger, f"{self.graph.name}-{source_name}", settings.home)
        self._stopping = False
        self._source_url = _safe(self.source)

    def stop(self) -> None:
        """Finish the batch in hand, give the rest back to the broker and return."""
        self._stopping = True

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> StreamMetrics:
        """Consume until stopped (``max_records`` scored, ``idle_seconds`` without input)."""
        try:
            for part in (self.source, self.sink, self.dead_sink):
                await _open(part)
            await self.service.start()
        except BaseException:
            await self._close()
            raise
        backoff = 0.0
        idle_since = time.monotonic()
        try:
            while not self._stopping:
                try:
                    messages = await self.source.fetch(self.batch, 0.2)
                except Exception as exc:  # the broker is unreachable: the client reconnects
                    backoff = min(max(backoff * 2, 0.2), 5.0)
                    _log.warning(
                        "stream %s: receiving failed (retry in %.1f s): %s",
                        self._source_url,
                        backoff,
                        exc,
                    )
                    await asyncio.sleep(backoff)
                    continue
                if not messages:
                    if self.idle_seconds is not None and (
                        time.monotonic() - idle_since >= self.idle_seconds
                    ):
                        break
                    continue
                idle_since = time.monotonic()
                try:
                    await self._process(messages)
                    backoff = 0.0
                except Exception as exc:
                    self.metrics.redeliveries += 1
                    backoff = min(max(backoff * 2, 0.2), 5.0)
                    _log.error(
                        "stream %s: a batch of %d messages failed and goes back to the broker "
                        "(retry in %.1f s): %s",
                        self._source_url,
                        len(messages),
                        backoff,
                        exc,
                    )
                    try:
                        await self.source.nack(messages)
                    except Exception as nack_error:  # the broker redelivers on reconnection
                        _log.warning("stream %s: nack failed: %s", self._source_url, nack_error)
                    await asyncio.sleep(backoff)
                if self.max_records is not None and self.handled >= self.max_records:
                    break
        finally:
            await self._close()
        return self.metrics

    def _observe(self, records: list[dict[str, Any]], keys: list[str]) -> None:
        """Give new records to the quality windows (a failure there never stops scoring)."""
        import pandas as pd

        assert self.quality is not None
        try:
            closed = self.quality.observe(pd.DataFrame.from_records(records, index=keys))
        except MloopError as exc:
            _log.error("stream %s: the quality window failed: %s", self._source_url, exc)
            return
        for window in closed:
            self.metrics.quality_windows += 1
            self.metrics.anomalies += window.anomalies
            self.metrics.flagged += len(window.flagged)

    @property
    def handled(self) -> int:
        """Records finished so far: scored, dead-lettered or found to be duplicates."""
        records = self.metrics.records
        return records["scored"] + records["dead_letter"] + records["duplicate"]

    async def _close(self) -> None:
        if self.quality is not None and self.quality.pending:
            try:
                last = await asyncio.to_thread(self.quality.flush)
            except Exception as exc:
                _log.error("stream: closing the last quality window failed: %s", exc)
            else:
                if last is not None:
                    self.metrics.quality_windows += 1
                    self.metrics.anomalies += last.anomalies
                    self.metrics.flagged += len(last.flagged)
        for part in (self.source, self.sink, self.dead_sink):
            try:
                await part.close()
            except Exception as exc:
                _log.warning("stream: closing %s failed: %s", _safe(part), exc)
        await self.service.stop()
        self.ledger.close()

    # -- one batch -----------------------------------------------------------------------

    async def _process(self, messages: Sequence[Message]) -> None:
        decoded = decode(messages, self.key, self.max_message_bytes)
        dead = list(decoded.dead)
        records, keys = decoded.records, decoded.keys
        if self.suite is not None and records:
            records, keys, failed = self._check(records, keys)
            dead += failed
        states = await asyncio.to_thread(self.ledger.states, keys) if keys else {}
        fresh = [i for i, k in enumerate(keys) if k not in states]
        acted = [i for i, k in enumerate(keys) if states.get(k, ("",))[0] == ACTED]
        duplicates = decoded.duplicates + len(keys) - len(fresh) - len(acted)

        if self.quality is not None and fresh:
            await asyncio.to_thread(
                self._observe, [records[i] for i in fresh], [keys[i] for i in fresh]
            )
        outputs, rejected = await self._score([records[i] for i in fresh], [keys[i] for i in fresh])
        dead += rejected
        if outputs:
            await self.sink.publish(outputs)
            await asyncio.to_thread(self.ledger.mark, [k for k, _ in outputs], ACTED)
        if acted:  # the process died after publishing these: log what the log lacks
            since = min(states[keys[i]][1] for i in acted)
            missing = await asyncio.to_thread(self._not_logged, {keys[i] for i in acted}, since)
            redo = [i for i in acted if keys[i] in missing]
            await self._score([records[i] for i in redo], [keys[i] for i in redo])
        if dead:
            now = int(time.time() * 1000)
            await self.dead_sink.publish(
                [(d.idempotency_key(), d.to_json(self._source_url, now)) for d in dead]
            )
        await asyncio.to_thread(self._flush_log)
        await asyncio.to_thread(
            self.ledger.mark, [k for k, _ in outputs] + [keys[i] for i in acted], DONE
        )
        await self.source.ack(messages)
        metrics = self.metrics
        metrics.messages += len(messages)
        metrics.batches += 1
        metrics.records["scored"] += len(outputs) + len(acted)
        metrics.records["duplicate"] += duplicates
        metrics.records["dead_letter"] += len(dead)
        metrics.dead_letters.update(d.reason for d in dead)

    async def _score(
        self, records: list[dict[str, Any]], keys: list[str]
    ) -> tuple[list[tuple[str, bytes]], list[DeadLetter]]:
        """Score records as one request; if it is refused, one by one (a bad one fails alone)."""
        if not records:
            return [], []
        try:
            answer = await self.service.predict(None, {"records": records, "request_ids": keys})
            return _outputs(answer), []
        except MloopError as exc:
            if exc.http_status >= 500:
                raise
            if len(records) == 1:
                return [], [self._invalid(records[0], keys[0], exc)]
        answers = await asyncio.gather(
            *(
                self.service.predict(None, {"records": [r], "request_ids": [k]})
                for r, k in zip(records, keys, strict=True)
            ),
            return_exceptions=True,
        )
        outputs: list[tuple[str, bytes]] = []
        dead: list[DeadLetter] = []
        for record, key, result in zip(records, keys, answers, strict=True):
            if isinstance(result, MloopError) and result.http_status < 500:
                dead.append(self._invalid(record, key, result))
            elif isinstance(result, BaseException):
                raise result
            else:
                outputs += _outputs(result)
        return outputs, dead

    def _invalid(self, record: dict[str, Any], key: str, exc: Exception) -> DeadLetter:
        return DeadLetter("invalid", str(exc), record={self.key: key, **record}, key=key)

    def _check(
        self, records: list[dict[str, Any]], keys: list[str]
    ) -> tuple[list[dict[str, Any]], list[str], list[DeadLetter]]:
        """The ingestion checks of the suite: records failing an error-level check are set aside."""
        try:
            reasons = self._failed_checks(records)
        except Exception:  # a value the checks cannot even read: find it, record by record
            reasons = {}
            for i, record in enumerate(records):
                try:
                    failed = self._failed_checks([record])
                except Exception as exc:
                    failed = {0: [f"the checks could not read this record: {exc}"]}
                if failed:
                    reasons[i] = failed[0]
        if not reasons:
            return records, keys, []
        dead = [
            DeadLetter(
                "check_failed",
                "; ".join(why),
                record={self.key: keys[i], **records[i]},
                key=keys[i],
            )
            for i, why in sorted(reasons.items())
        ]
        keep = [i for i in range(len(records)) if i not in reasons]
        return [records[i] for i in keep], [keys[i] for i in keep], dead

    def _failed_checks(self, records: list[dict[str, Any]]) -> dict[int, list[str]]:
        """``{position: [failed error-level check, ...]}`` of the records that fail one."""
        import pandas as pd

        result = self.suite.validate(pd.DataFrame.from_records(records), save=False)
        reasons: dict[int, list[str]] = {}
        for check in result.checks:
            if check.success or check.severity != "error":
                continue
            rows = list(check.failing_index) if check.failed_count else []
            if not rows:
                _log.warning("stream: check %s failed for the batch as a whole", check.name)
            for row in rows:
                reasons.setdefault(int(row), []).append(check.describe())
        return reasons

    def _flush_log(self) -> None:
        if self.writer is None:
            return
        self.writer.flush()
        if self.writer.pending_rows:
            raise StoreUnavailable(
                f"the prediction log could not be written ({self.writer.pending_rows} rows "
                "pending); the batch is not acknowledged and will be retried."
            )

    def _not_logged(self, keys: set[str], since_ms: int) -> set[str]:
        """Which of ``keys`` the prediction log does not hold (logged since ``since_ms`` - 10 min)."""
        if self.writer is None:
            return set()
        missing = set(keys)
        for model in self.graph.model_names():
            logged = read_predictions(model, start=since_ms - 600_000)
            missing -= set(logged["request_id"].astype(str))
        return missing


def _outputs(answer: dict[str, Any]) -> list[tuple[str, bytes]]:
    """One output message per record: its id, the prediction, other outputs, the version."""
    import orjson

    ids = answer["request_ids"]
    predictions = answer["predictions"]
    version = answer["model_version"]
    others = {c: v for c, v in answer.items() if c not in _ANSWER_FIELDS}
    messages = []
    for i, key in enumerate(ids):
        doc: dict[str, Any] = {"id": key, "prediction": predictions[i]}
        for column, values in others.items():
            doc[column] = values[i]
        doc["model_version"] = version if isinstance(version, str) else version[i]
        messages.append((key, orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)))
    return messages


def _suite(suite: Any) -> Any:
    if suite is None or hasattr(suite, "validate"):
        return suite
    if isinstance(suite, str):
        return Suite.load(suite)
    raise InvalidInput(
        f"suite {suite!r} must be a data Suite or a stored suite name (name@version)."
    )


async def _open(part: Source | Sink) -> None:
    """Connect, or say which broker cannot be reached (not a client library's traceback)."""
    try:
        await asyncio.wait_for(part.open(), 30)
    except MloopError:
        raise
    except Exception as exc:
        raise StoreUnavailable(
            f"cannot reach the broker of {_safe(part)} ({type(exc).__name__}: {exc}); check "
            "that it runs and the URL's host, port and credentials."
        ) from exc


def _destination(part: Any) -> str:
    address = getattr(part, "address", None)
    return str(address.name) if address is not None else type(part).__name__


def _safe(part: Any) -> str:
    address = getattr(part, "address", None)
    return str(address.safe) if address is not None else type(part).__name__


async def run_async(
    target: str | Graph, source: str | Source, sink: str | Sink, **options: Any
) -> StreamMetrics:
    """:func:`run` inside a running event loop."""
    return await StreamRunner(target, source, sink, **options).run()


def run(
    target: str | Graph,
    source: str | Source,
    sink: str | Sink,
    metrics_port: int | None = None,
    **options: Any,
) -> StreamMetrics:
    """Serve ``target`` (``models:/name@alias``, ``module:graph`` or a Graph) on a stream.

    Runs until SIGINT/SIGTERM (a graceful stop: the batch in hand finishes, the rest goes
    back to the broker), ``max_records`` records or ``idle_seconds`` without input.
    Options: ``dead_letter`` (default ``<source>.dead`` on the same broker), ``key``
    (``request_id``), ``batch`` (256), ``max_message_bytes`` (1 MiB), ``suite`` (ingestion
    checks), ``ledger`` (``sqlite:///…`` or ``redis://…``), ``log`` (True), ``quality`` (a
    :class:`~mloop.streams.StreamQuality`: windows judged by a suite and a detector).

    Raises:
        InvalidInput: a bad URL, target or option.
    """
    runner = StreamRunner(target, source, sink, **options)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, registry=runner.metrics.registry())

    async def main() -> StreamMetrics:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
                loop.add_signal_handler(sig, runner.stop)
        return await runner.run()

    return asyncio.run(main())
