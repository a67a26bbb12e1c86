"""Routers: several models behind one step (canary, shadow, sticky A/B, ensemble).

>>> Canary({"models:/delays/3": 0.9, "models:/delays/4": 0.1})     # weighted split
>>> Shadow("models:/delays@champion", "models:/delays@challenger")   # challenger gets a copy
>>> ABTest({"a": "models:/delays/3", "b": "models:/delays/4"}, key="user_id")  # sticky
>>> Ensemble(["models:/rf/1", "models:/gbm/2"], method="mean")

Every model that answers (or shadows) is logged under its own name and version, so
monitoring compares them on the same traffic.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.core.log import get_logger
from mloop.serving.event import Event, LogRecord
from mloop.serving.runtime import ModelRuntime
from mloop.serving.steps import Model

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_log = get_logger("mloop.serving")
_BUCKETS = 10_000


def _model(value: Model | str) -> Model:
    if isinstance(value, Model):
        return value
    if isinstance(value, str):
        return Model(value)
    raise InvalidInput(f"{value!r} is not a model; give a model URI or a Model(...) step.")


def _weights(routes: Mapping[Any, float], what: str) -> list[float]:
    weights = [float(w) for w in routes.values()]
    if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise InvalidInput(
            f"{what} weights {list(routes.values())} must be non-negative and not all zero, "
            "e.g. {'models:/m/1': 0.9, 'models:/m/2': 0.1}."
        )
    total = sum(weights)
    return [w / total for w in weights]


def sticky_buckets(keys: pd.Series) -> np.ndarray:
    """A stable bucket in ``[0, 10000)`` per key: the same key always lands in the same one."""
    import pandas as pd

    hashed = pd.util.hash_pandas_object(keys.astype("string"), index=False).to_numpy()
    return (hashed % _BUCKETS).astype("int64")


def _merge(event: Event, parts: list[tuple[np.ndarray, LogRecord]]) -> None:
    """Put the outputs of several models back in request order and answer with them."""
    import pandas as pd

    frames, versions = [], [""] * event.rows
    for positions, record in parts:
        frames.append(record.outputs.set_axis(positions))
        for position in positions:
            versions[int(position)] = record.model_version
        event.records.append(record)
    merged = pd.concat(frames).sort_index()
    event.outputs = event.frame = merged.reset_index(drop=True)
    event.versions = versions


class _Split:
    """Send each row to one of several models, by weight (random or sticky by a key)."""

    def __init__(
        self,
        routes: Mapping[str, Model | str],
        weights: Sequence[float],
        key: str | None,
        name: str,
    ) -> None:
        self.labels = list(routes)
        self.models = [_model(m) for m in routes.values()]
        self.cumulative = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cumulative.append(total)
        self.key = key
        self.name = name
        import numpy as np

        self._rng = np.random.default_rng()

    def assign(self, event: Event) -> np.ndarray:
        import numpy as np

        if self.key is not None:
            if self.key not in event.frame.columns:
                raise InvalidInput(
                    f"router {self.name!r} splits by field {self.key!r}, which the request does "
                    "not have; send it with every row."
                )
            draw = sticky_buckets(event.frame[self.key]) / _BUCKETS
        else:
            draw = self._rng.random(event.rows)
        edges = np.asarray(self.cumulative)
        edges[-1] = 1.0 + 1e-9
        return np.searchsorted(edges, draw, side="right")

    def run(self, event: Event) -> Event:
        import numpy as np

        route = self.assign(event)
        parts = []
        for index, model in enumerate(self.models):
            positions = np.flatnonzero(route == index)
            if len(positions) == 0:
                continue
            record = model.predict(event.frame.iloc[positions], positions)
            parts.append((positions, record))
        _merge(event, parts)
        event.extras[f"{self.name}.route"] = [self.labels[i] for i in route]
        return event

    def runtimes(self) -> list[ModelRuntime]:
        return [m.runtime for m in self.models]


class Canary(_Split):
    """Weighted split between models, e.g. 90 % champion and 10 % challenger.

    With ``key`` the split is sticky (the same key always reaches the same model).
    """

    def __init__(
        self, routes: Mapping[str, float], key: str | None = None, name: str = "canary"
    ) -> None:
        weights = _weights(routes, "Canary")
        super().__init__({str(uri): str(uri) for uri in routes}, weights, key, name)


class ABTest(_Split):
    """Sticky A/B test: each value of ``key`` always reaches the same variant."""

    def __init__(
        self,
        variants: Mapping[str, Model | str],
        key: str,
        weights: Mapping[str, float] | None = None,
        name: str = "ab",
    ) -> None:
        if not key:
            raise InvalidInput("ABTest needs key='<request field>' to keep each user on a variant.")
        shares = _weights(weights or dict.fromkeys(variants, 1.0), "ABTest")
        super().__init__(dict(variants), shares, key, name)


class Shadow:
    """Only ``champion`` answers; ``challenger`` gets a copy of every batch in the background.

    Both are logged. A challenger that fails or falls behind never affects the answer;
    at most ``max_pending`` shadow batches wait, later ones are skipped and counted.
    """

    def __init__(
        self,
        champion: Model | str,
        challenger: Model | str,
        max_pending: int = 8,
        name: str = "shadow",
    ) -> None:
        self.champion = _model(champion)
        self.challenger = _model(challenger)
        self.name = name
        self.max_pending = max_pending
        self.pending = 0
        self.skipped = 0
        self.failures = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mloop-shadow")
        self._lock = threading.Lock()

    def run(self, event: Event) -> Event:
        frame = event.frame
        record = self.champion.predict(frame)
        event.answered(record, record.model_version)
        with self._lock:
            if self.pending >= self.max_pending:
                self.skipped += event.rows
                return event
            self.pending += 1
        self._pool.submit(self._shadow, event, frame)
        return event

    def _shadow(self, event: Event, frame: pd.DataFrame) -> None:
        try:
            record = self.challenger.predict(frame)
            if event.sink is not None:
                event.sink(event, record)
        except Exception as exc:
            self.failures += 1
            _log.error("shadow model %s failed: %s", self.challenger.runtime.uri, exc)
        finally:
            with self._lock:
                self.pending -= 1

    def wait(self) -> None:
        """Wait until every shadow batch submitted so far is done."""
        self._pool.submit(lambda: None).result()

    def runtimes(self) -> list[ModelRuntime]:
        return [self.champion.runtime, self.challenger.runtime]


class Ensemble:
    """Combine several models: ``mean`` of probabilities (or predictions), or majority ``vote``."""

    def __init__(
        self,
        models: Sequence[Model | str],
        method: str = "mean",
        name: str = "ensemble",
    ) -> None:
        if method not in ("mean", "vote"):
            raise InvalidInput(f"Ensemble method {method!r} is unknown; use 'mean' or 'vote'.")
        self.models = [_model(m) for m in models]
        if len(self.models) < 2:
            raise InvalidInput("an Ensemble needs at least two models.")
        self.method = method
        self.name = name

    def run(self, event: Event) -> Event:
        import numpy as np
        import pandas as pd

        records = [m.predict(event.frame) for m in self.models]
        predictions = np.column_stack([r.outputs["prediction"].to_numpy() for r in records])
        out: dict[str, Any] = {}
        if self.method == "vote":
            frame = pd.DataFrame(predictions)
            out["prediction"] = frame.mode(axis=1)[0].to_numpy()
            if predictions.dtype.kind in "iub":
                out["prediction"] = out["prediction"].astype(predictions.dtype)
        elif all("proba" in r.outputs for r in records):
            proba = np.mean([r.outputs["proba"].to_numpy() for r in records], axis=0)
            classes = getattr(self.models[0].runtime.model.native, "classes_", [0, 1])
            out["prediction"] = np.where(proba >= 0.5, classes[1], classes[0])
            out["proba"] = proba
        else:
            out["prediction"] = predictions.astype("float64").mean(axis=1)
        combined = pd.DataFrame(out)
        version = "+".join(f"{r.model_name}/{r.model_version}" for r in records)
        event.records.extend(records)
        event.outputs = event.frame = combined
        event.versions = [version] * event.rows
        return event

    def runtimes(self) -> list[ModelRuntime]:
        return [m.runtime for m in self.models]
