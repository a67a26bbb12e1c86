"""Ground truth at the door: labels checked against each model's label domain, then stored.

A classifier's labels are its ``classes_`` (``7`` for a 0/1 model, or ``"banana"``, is a
422 naming the value and the allowed ones); a regressor's are finite numbers; a model
that says neither takes numbers and strings. Stored labels are matched against the
prediction log later (:mod:`mloop.store.predictions.matching`): a label may arrive
before the log of its prediction is flushed.

>>> LabelDomain.of(runtime).check([1, 0])     # a 0/1 classifier
[1, 0]
>>> LabelDomain.of(runtime).check([7])
Traceback (most recent call last):
InvalidInput: label 7 (row 0) is not a class of model 'delays'; its classes: 0, 1.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput

if TYPE_CHECKING:
    from mloop.serving.runtime import ModelRuntime

_NUMERIC_OUTPUTS = ("double", "float")
_FIELDS = {"request_id", "label", "request_ids", "labels", "model", "ts"}


@dataclass(frozen=True)
class LabelDomain:
    """What labels a model can be given: its classes, any number, or anything (``kind``)."""

    model: str
    kind: str  # "classes", "number" or "any"
    classes: tuple[Any, ...] = ()

    @classmethod
    def of(cls, runtime: ModelRuntime) -> LabelDomain:
        """The domain of the model ``runtime`` serves now (classes of a classifier, else the
        type of its signature's output)."""
        model = runtime.model
        classes = getattr(model.native, "classes_", None)
        if classes is not None:
            return cls(runtime.name, "classes", tuple(_plain(c) for c in classes))
        signature = model.signature
        outputs = signature.outputs if signature is not None else ()
        if outputs and outputs[0].type in _NUMERIC_OUTPUTS:
            return cls(runtime.name, "number")
        try:
            from sklearn.base import is_regressor

            if is_regressor(model.native):
                return cls(runtime.name, "number")
        except ImportError:  # pragma: no cover - scikit-learn is a core dependency
            pass
        return cls(runtime.name, "any")

    def allowed(self) -> str:
        if self.kind == "classes":
            shown = ", ".join(repr(c) if isinstance(c, str) else str(c) for c in self.classes[:20])
            more = f" (and {len(self.classes) - 20} more)" if len(self.classes) > 20 else ""
            return f"its classes: {shown}{more}"
        if self.kind == "number":
            return "it is a regressor: send the observed number"
        return "send a number, boolean or non-empty string"

    def check(self, labels: Sequence[Any]) -> list[Any]:
        """``labels`` unchanged when every one is in the domain.

        Raises:
            InvalidInput: the first label outside it, with the allowed ones.
        """
        for row, label in enumerate(labels):
            if not self.accepts(label):
                shown = repr(label) if len(repr(label)) < 60 else repr(label)[:57] + "..."
                raise InvalidInput(
                    f"label {shown} (row {row}) is not a valid label of model {self.model!r}; "
                    f"{self.allowed()}."
                )
        return list(labels)

    def accepts(self, label: Any) -> bool:
        if label is None or isinstance(label, (list, dict)):
            return False
        if self.kind == "classes":
            if isinstance(label, float) and not math.isfinite(label):
                return False
            if isinstance(label, str) != any(isinstance(c, str) for c in self.classes):
                return False
            try:
                return label in self.classes
            except TypeError:
                return False
        if self.kind == "number":
            if not isinstance(label, (int, float)) or isinstance(label, bool):
                return False
            return abs(label) <= sys.float_info.max  # finite, and an int that has a float
        return isinstance(label, (bool, int, float)) or (isinstance(label, str) and bool(label))

    def parse(self, text: str) -> Any:
        """A label typed on a command line, as the domain reads it (``"1"`` is 1 for 0/1)."""
        if self.kind == "classes" and any(isinstance(c, str) for c in self.classes):
            return text
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                continue
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        return text


def _plain(value: Any) -> Any:
    """A class as a plain Python value (numpy scalars compare and print as Python's)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


@dataclass(frozen=True)
class FeedbackRequest:
    """A decoded ``/v1/feedback`` body: request ids, labels, the model named, the time."""

    request_ids: list[str]
    labels: list[Any]
    model: Any
    ts: Any

    @classmethod
    def parse(cls, body: Any) -> FeedbackRequest:
        """``{"request_id": "...", "label": 1}`` or ``{"request_ids": [...], "labels": [...]}``.

        Raises:
            InvalidInput: the body is not one of those forms.
        """
        if not isinstance(body, dict):
            raise InvalidInput(
                'feedback must be an object such as {"request_id": "…", "label": 1}.'
            )
        unknown = sorted(set(body) - _FIELDS)
        if unknown:
            raise InvalidInput(
                f"unknown field {unknown[0]!r} in the feedback; use request_id + label, or "
                "request_ids + labels (and optionally model, ts)."
            )
        if "request_ids" in body:
            ids, labels = body.get("request_ids"), body.get("labels")
        elif "request_id" in body:
            ids, labels = [body.get("request_id")], [body.get("label")]
        else:
            raise InvalidInput(
                'feedback needs "request_id" and "label" (or "request_ids" and "labels").'
            )
        if not isinstance(ids, list) or not isinstance(labels, list) or len(ids) != len(labels):
            raise InvalidInput("request_ids and labels must be lists of the same length.")
        if not all(isinstance(i, str) for i in ids):
            raise InvalidInput("every request id must be a string, as the prediction answered it.")
        model = body.get("model")
        if model is not None and not isinstance(model, str):
            raise InvalidInput(
                f"model {model!r} in the feedback is not a name; give the served model's name."
            )
        return cls(ids, labels, model, body.get("ts"))
