"""An application graph: the steps a request goes through, served as one endpoint.

>>> graph = (
...     Graph("delays")
...     .add(add_hour)                                   # pre-process (a plain function)
...     .add(Enrich(["weather:temp"]))                   # online features by entity key
...     .add(Model("models:/delays@champion"))           # or a router: Canary, Shadow...
...     .add(lambda out: out.assign(late=out.proba > .5))  # post-process
...     .add(webhook("http://127.0.0.1:9000/alerts", when=lambda out: out.late))
... )
>>> with graph.test_client() as client:
...     client.predict({"records": [{"origin": "EWR", "distance": 719}]})

The same graph runs in-process (``test_client``) and behind ``mloop serve``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.serving.event import Event
from mloop.serving.runtime import ModelRuntime
from mloop.serving.steps import Action, Model, Postprocess, Preprocess, Step
from mloop.serving.validation import Extra

if TYPE_CHECKING:
    from mloop.registry import Signature
    from mloop.serving.test_client import TestClient


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or "/" in name or "@" in name or ".." in name:
        raise InvalidInput(
            f"graph name {name!r} is not valid; use a name without '/', '@' or '..', e.g. 'delays'."
        )
    return name


class Graph:
    """Steps run in order on each batch of requests; the last answering step is the response."""

    def __init__(
        self,
        name: str,
        steps: Sequence[Step | Callable[..., Any]] = (),
        inputs: Signature | Mapping[str, str] | None = None,
    ) -> None:
        self.name = _check_name(name)
        self.steps: list[Step] = []
        self._inputs = _as_signature(inputs)
        for step in steps:
            self.add(step)

    @classmethod
    def from_model(cls, uri: str, name: str | None = None, **options: Any) -> Graph:
        """A graph of one model step, named after the registered model.

        >>> Graph.from_model("models:/delays@champion").name
        'delays'
        """
        model = Model(uri, **options)
        return cls(name or model.runtime.name, [model])

    def add(self, step: Step | Callable[..., Any]) -> Graph:
        """Append a step (a plain function is a pre-process before the model, else a post-process)."""
        if isinstance(step, Step):
            self.steps.append(step)
        elif callable(step):
            after_model = any(s.runtimes() for s in self.steps)
            self.steps.append(Postprocess(step) if after_model else Preprocess(step))
        else:
            raise InvalidInput(
                f"graph {self.name!r}: {step!r} is not a step; add a function or a built-in "
                "step (Preprocess, Enrich, Model, Canary, Shadow, ABTest, Ensemble, Postprocess, "
                "Action)."
            )
        return self

    # -- models --------------------------------------------------------------------------

    def runtimes(self) -> list[ModelRuntime]:
        return [runtime for step in self.steps for runtime in step.runtimes()]

    def model_names(self) -> list[str]:
        return list(dict.fromkeys(r.name for r in self.runtimes()))

    def load(self) -> None:
        """Load every model of the graph (those not loaded yet)."""
        if not self.runtimes():
            raise InvalidInput(
                f"graph {self.name!r} has no model step; add Model('models:/<name>@<alias>')."
            )
        for runtime in self.runtimes():
            if not runtime.loaded:
                runtime.load()

    def start_watching(self) -> None:
        for runtime in self.runtimes():
            runtime.start_watching()

    def stop(self) -> None:
        for runtime in self.runtimes():
            runtime.stop()
        for step in self.steps:
            wait = getattr(step, "wait", None)
            if callable(wait) and not isinstance(step, Action):
                wait()
            close = getattr(step, "close", None)
            if callable(close):
                close()

    def versions(self) -> dict[str, str]:
        """``{model name: version}`` of the models loaded now."""
        return {r.name: r.version for r in self.runtimes() if r.loaded}

    # -- requests ------------------------------------------------------------------------

    def single_model(self) -> Model | None:
        """The graph's only step when it is a plain :class:`Model` (served without an Event)."""
        if len(self.steps) == 1 and type(self.steps[0]) is Model:
            return self.steps[0]
        return None

    def request_schema(self) -> tuple[Signature | None, Extra]:
        """What each request is checked against before it joins a batch."""
        if self._inputs is not None:
            return self._inputs, "keep"
        first = self.steps[0] if self.steps else None
        if first is None or not first.runtimes():
            return None, "keep"  # pre-processing comes first: the model step checks its input
        runtime = first.runtimes()[0]
        signature = runtime.signature if runtime.loaded else None
        extra: Extra = "keep" if getattr(first, "key", None) else "reject"
        return signature, extra

    def run(self, event: Event) -> Event:
        """Run every step on the batch ``event``."""
        for step in self.steps:
            event = step.run(event)
        if event.outputs is None:
            raise InvalidInput(f"graph {self.name!r} ran but no model answered.")
        return event

    def test_client(self, **options: Any) -> TestClient:
        """An in-process client of this graph, with the server's batching and logging."""
        from mloop.serving.test_client import TestClient

        return TestClient([self], **options)

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, steps={[s.name for s in self.steps]})"


def _as_signature(inputs: Signature | Mapping[str, str] | None) -> Signature | None:
    if inputs is None:
        return None
    from mloop.registry import ColSpec, Signature

    if isinstance(inputs, Signature):
        return inputs
    if isinstance(inputs, Mapping):
        return Signature(tuple(ColSpec(str(k), str(v)) for k, v in inputs.items()))
    raise InvalidInput(
        f"graph inputs {inputs!r} must be a Signature or a mapping such as "
        "{'distance': 'double', 'origin': 'string'}."
    )
