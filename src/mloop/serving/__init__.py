"""Serving: models and application graphs behind a REST API, with roll-outs and a prediction log.

>>> from mloop import serving
>>> graph = serving.Graph("delays").add(serving.Enrich(["weather:temp"])).add(
...     serving.Canary({"models:/delays/3": 0.9, "models:/delays/4": 0.1}))
>>> with graph.test_client() as client:
...     client.predict({"records": [{"origin": "EWR", "distance": 719}]})

``mloop serve models:/delays@champion`` serves the same thing over HTTP (FastAPI +
uvicorn), and ``mloop score`` scores a dataset in chunks. Heavy libraries load on first use.
"""

from __future__ import annotations

from mloop.serving.answers import ModelFailed, error_body
from mloop.serving.batch import ScoreResult, score
from mloop.serving.batcher import MicroBatcher
from mloop.serving.errors import (
    BadRequest,
    Overloaded,
    PayloadTooLarge,
    RequestTimeout,
    ShuttingDown,
    UnsupportedMediaType,
)
from mloop.serving.event import Event, LogRecord
from mloop.serving.feedback import LabelDomain
from mloop.serving.graph import Graph
from mloop.serving.loading import check_target, load_target
from mloop.serving.routers import ABTest, Canary, Ensemble, Shadow
from mloop.serving.runtime import ModelRuntime
from mloop.serving.service import Limits, Service
from mloop.serving.steps import Action, Enrich, Model, Postprocess, Preprocess, Step, webhook
from mloop.serving.test_client import TestClient, TestResponse

__all__ = [
    "ABTest",
    "Action",
    "BadRequest",
    "Canary",
    "Enrich",
    "Ensemble",
    "Event",
    "Graph",
    "LabelDomain",
    "Limits",
    "LogRecord",
    "MicroBatcher",
    "Model",
    "ModelFailed",
    "ModelRuntime",
    "Overloaded",
    "PayloadTooLarge",
    "Postprocess",
    "Preprocess",
    "RequestTimeout",
    "ScoreResult",
    "Service",
    "Shadow",
    "ShuttingDown",
    "Step",
    "TestClient",
    "TestResponse",
    "UnsupportedMediaType",
    "check_target",
    "error_body",
    "load_target",
    "score",
    "webhook",
]
