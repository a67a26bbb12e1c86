"""Built-in steps of an application graph: pre-process, enrich, model, post-process, action.

Each step takes the batch :class:`~mloop.serving.event.Event` and returns it; a plain
function added to a graph becomes a :class:`Preprocess` before the model and a
:class:`Postprocess` after it. Steps work on whole batches (DataFrames), so they stay
vectorised under micro-batching.

>>> graph = Graph("delays").add(add_hour).add(Enrich(["weather:temp"])).add(
...     Model("models:/delays@champion")).add(Action(page_ops, when=lambda out: out.proba > .9))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mloop.core.errors import InvalidInput
from mloop.core.log import get_logger
from mloop.serving.event import Event, LogRecord
from mloop.serving.runtime import ModelRuntime

if TYPE_CHECKING:
    import pandas as pd

_log = get_logger("mloop.serving")


@runtime_checkable
class Step(Protocol):
    """What a graph step does: transform the batch event (and list the models it serves)."""

    name: str

    def run(self, event: Event) -> Event: ...

    def runtimes(self) -> list[ModelRuntime]: ...


def _name_of(fn: Any, default: str) -> str:
    return str(getattr(fn, "__name__", None) or default)


def _same_rows(step: str, before: int, after: Any) -> None:
    import pandas as pd

    if not isinstance(after, pd.DataFrame):
        raise InvalidInput(
            f"step {step!r} returned a {type(after).__name__}; return a pandas DataFrame."
        )
    if len(after) != before:
        raise InvalidInput(
            f"step {step!r} returned {len(after)} rows for {before}; a step must keep one row "
            "per request (filter in an Action instead)."
        )


class Preprocess:
    """``fn(frame) -> frame`` on the request rows before the model (add, derive, clean fields)."""

    def __init__(self, fn: Callable[[pd.DataFrame], pd.DataFrame], name: str | None = None):
        if not callable(fn):
            raise InvalidInput(f"Preprocess needs a function, got {fn!r}.")
        self.fn = fn
        self.name = name or _name_of(fn, "preprocess")

    def run(self, event: Event) -> Event:
        frame = self.fn(event.frame)
        _same_rows(self.name, event.rows, frame)
        event.frame = frame.reset_index(drop=True)
        return event

    def runtimes(self) -> list[ModelRuntime]:
        return []


class Postprocess:
    """``fn(outputs) -> outputs`` (or ``fn(outputs, inputs)``) on the model's answer."""

    def __init__(self, fn: Callable[..., pd.DataFrame], name: str | None = None) -> None:
        if not callable(fn):
            raise InvalidInput(f"Postprocess needs a function, got {fn!r}.")
        self.fn = fn
        self.name = name or _name_of(fn, "postprocess")
        try:
            self._with_inputs = len(inspect.signature(fn).parameters) >= 2
        except (TypeError, ValueError):
            self._with_inputs = False

    def run(self, event: Event) -> Event:
        if event.outputs is None:
            raise InvalidInput(f"step {self.name!r} is a post-process but no model ran before it.")
        out = self.fn(event.outputs, event.inputs) if self._with_inputs else self.fn(event.outputs)
        _same_rows(self.name, event.rows, out)
        event.outputs = event.frame = out.reset_index(drop=True)
        return event

    def runtimes(self) -> list[ModelRuntime]:
        return []


class Enrich:
    """Join the latest online features of the request's entity keys onto its rows.

    ``features`` are ``"view:feature"`` references (or ``service=`` a feature service);
    entity keys are read from the request's fields of the same name.

    >>> Enrich(["weather:temp", "weather:pressure_change_3h"])
    """

    def __init__(
        self,
        features: Sequence[str] | None = None,
        service: str | None = None,
        store: Any = None,
        name: str = "enrich",
    ) -> None:
        if not features and not service:
            raise InvalidInput(
                "Enrich needs features=['view:feature', ...] or service='<feature service>'."
            )
        self.features = list(features) if features else None
        self.service = service
        self.name = name
        self._store = store

    def _feature_store(self) -> Any:
        if self._store is None:
            from mloop.features import FeatureStore

            self._store = FeatureStore()
        return self._store

    def run(self, event: Event) -> Event:
        import pandas as pd

        response = self._feature_store().get_online_features(
            event.frame, self.features, service=self.service
        )
        values = pd.DataFrame(response.values)
        _same_rows(self.name, event.rows, values)
        event.features = (
            values if event.features is None else pd.concat([event.features, values], axis=1)
        )
        keep = event.frame.drop(columns=[c for c in values.columns if c in event.frame.columns])
        event.frame = pd.concat([keep.reset_index(drop=True), values], axis=1)
        return event

    def runtimes(self) -> list[ModelRuntime]:
        return []

    def close(self) -> None:
        if self._store is not None and hasattr(self._store, "close"):
            self._store.close()


class Model:
    """Run a registered model: ``Model("models:/delays@champion")``.

    Outputs ``prediction`` (and ``proba`` for a binary classifier, ``proba_<class>`` for
    several classes when ``proba=True``). An alias is followed: when it moves the new
    version is loaded in the background and swapped in atomically.
    """

    def __init__(
        self, uri: str, proba: bool = True, poll_seconds: float = 1.5, name: str | None = None
    ) -> None:
        self.runtime = ModelRuntime(uri, proba=proba, poll_seconds=poll_seconds)
        self.name = name or self.runtime.name

    def predict(self, frame: pd.DataFrame, positions: Any = None) -> LogRecord:
        import time

        start = time.perf_counter()
        outputs, version = self.runtime.predict(frame)
        elapsed = (time.perf_counter() - start) * 1000
        return LogRecord(
            self.runtime.name, version, outputs.reset_index(drop=True), positions, elapsed
        )

    def run(self, event: Event) -> Event:
        record = self.predict(event.frame)
        event.answered(record, record.model_version)
        return event

    def runtimes(self) -> list[ModelRuntime]:
        return [self.runtime]


class Action:
    """Act on answered rows: ``fn(rows, event)`` for the rows where ``when(outputs)`` holds.

    Actions run in a background thread by default (``background=False`` runs them in the
    batch), so a slow webhook never delays a response. An action's failure is logged and
    counted in :attr:`failures`; it never fails the request.

    >>> Action(lambda rows, event: alerts.extend(rows.to_dict("records")),
    ...        when=lambda out: out["proba"] > 0.9)
    """

    _pool: ThreadPoolExecutor | None = None

    def __init__(
        self,
        fn: Callable[[pd.DataFrame, Event], Any],
        when: Callable[[pd.DataFrame], Any] | None = None,
        background: bool = True,
        name: str | None = None,
    ) -> None:
        if not callable(fn):
            raise InvalidInput(f"Action needs a function, got {fn!r}.")
        self.fn = fn
        self.when = when
        self.background = background
        self.name = name or _name_of(fn, "action")
        self.failures = 0
        self.calls = 0

    def run(self, event: Event) -> Event:
        import numpy as np

        frame = event.frame
        if self.when is not None:
            mask = np.asarray(self.when(frame), dtype=bool)
            if not mask.any():
                return event
            rows = frame[mask].copy()
        else:
            rows = frame.copy()
        positions = rows.index.to_numpy()
        rows.insert(0, "request_id", [event.request_ids[int(i)] for i in positions])
        if self.background:
            Action._executor().submit(self._call, rows, event)
        else:
            self._call(rows, event)
        return event

    def _call(self, rows: pd.DataFrame, event: Event) -> None:
        try:
            self.fn(rows, event)
            self.calls += 1
        except Exception as exc:
            self.failures += 1
            _log.error("action %s failed: %s", self.name, exc)

    @classmethod
    def _executor(cls) -> ThreadPoolExecutor:
        if cls._pool is None:
            cls._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mloop-action")
        return cls._pool

    @classmethod
    def wait(cls) -> None:
        """Wait for every background action started so far (tests, shutdown)."""
        pool, cls._pool = cls._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def runtimes(self) -> list[ModelRuntime]:
        return []


def webhook(
    url: str,
    when: Callable[[pd.DataFrame], Any] | None = None,
    timeout: float = 2.0,
    headers: dict[str, str] | None = None,
) -> Action:
    """An :class:`Action` that POSTs the selected rows as JSON ``{"rows": [...]}`` to ``url``.

    >>> graph.add(webhook("http://127.0.0.1:9000/alerts", when=lambda out: out.proba > 0.9))
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidInput(f"webhook url {url!r} is not an http(s) URL.")

    def post(rows: pd.DataFrame, event: Event) -> None:
        import httpx
        import orjson

        body = orjson.dumps(
            {"rows": rows.to_dict(orient="records")},
            option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS,
            default=str,
        )
        response = httpx.post(
            url,
            content=body,
            headers={"content-type": "application/json", **(headers or {})},
            timeout=timeout,
        )
        response.raise_for_status()

    return Action(post, when=when, name=f"webhook:{url}")
