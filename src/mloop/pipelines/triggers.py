"""Deprecated: run requests moved to :mod:`mloop.pipelines.run_requests`.

"Trigger" now names only the retraining conditions of :mod:`mloop.loop`; this module keeps
the old path and names working for one release, with a DeprecationWarning.
"""

from __future__ import annotations

import warnings

from mloop.pipelines.run_requests import (
    FAILED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    claim_next,
    recover,
)
from mloop.pipelines.run_requests import RunRequest as Trigger
from mloop.pipelines.run_requests import finish_run_request as finish_trigger
from mloop.pipelines.run_requests import get_run_request as get_trigger
from mloop.pipelines.run_requests import list_run_requests as list_triggers
from mloop.pipelines.run_requests import request_run as trigger

__all__ = [
    "FAILED",
    "QUEUED",
    "RUNNING",
    "SUCCEEDED",
    "Trigger",
    "claim_next",
    "finish_trigger",
    "get_trigger",
    "list_triggers",
    "recover",
    "trigger",
]

warnings.warn(
    "mloop.pipelines.triggers is now mloop.pipelines.run_requests (Trigger -> RunRequest, "
    "trigger -> request_run, get_trigger -> get_run_request, list_triggers -> "
    "list_run_requests, finish_trigger -> finish_run_request).",
    DeprecationWarning,
    stacklevel=2,
)
