"""OpenAI's wire format on the gateway's side: request checks and response bodies.

Pure functions (no I/O), so what a client may send and what it gets back are tested without
a server. A malformed request raises :class:`InvalidInput` naming the field (``param``).
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import numpy as np
import orjson

from mloop.core.errors import InvalidInput
from mloop.genai.providers.base import ChatChunk, ChatResponse, EmbeddingResponse, Usage

__all__ = [
    "BadRequest",
    "chat_body",
    "check_chat",
    "check_embeddings",
    "chunk_event",
    "embeddings_body",
    "models_body",
]

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_PASSED = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "logit_bias",
    "response_format",
    "tools",
    "tool_choice",
    "user",
)


class BadRequest(InvalidInput):
    """A request the OpenAI API would refuse: 400, with the offending ``param``."""

    http_status = 400

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise BadRequest(f"The request body must be a JSON object, not {type(body).__name__}.")
    return body


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest(
            f"'model' must name a route of this gateway (GET /v1/models lists them); got {model!r}.",
            "model",
        )
    return model


def _number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise BadRequest(f"'{name}' must be a number from {low} to {high}; got {value!r}.", name)


def check_chat(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]], dict[str, Any], bool]:
    """(route, messages, parameters, stream) of a chat completion request, or BadRequest."""
    model = _model(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest(
            f"'messages' must be a non-empty list of {{role, content}} objects; got {str(messages)[:60]}.",
            "messages",
        )
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise BadRequest(
                f"messages[{i}] must be an object; got {str(message)[:60]}.", f"messages[{i}]"
            )
        role = message.get("role")
        if role not in ROLES:
            raise BadRequest(
                f"messages[{i}].role must be one of {sorted(ROLES)}; got {role!r}.",
                f"messages[{i}].role",
            )
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            raise BadRequest(
                f"messages[{i}].content must be a string or a list of parts; got {type(content).__name__}.",
                f"messages[{i}].content",
            )
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise BadRequest(f"'stream' must be true or false; got {stream!r}.", "stream")
    n = body.get("n", 1)
    if n != 1:
        raise BadRequest(f"'n' must be 1 (one answer per request); got {n!r}.", "n")
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise BadRequest(f"'{name}' must be a positive integer; got {value!r}.", name)
    params = {name: body[name] for name in _PASSED if body.get(name) is not None}
    return model, messages, params, stream


def check_embeddings(body: dict[str, Any]) -> tuple[str, list[str], dict[str, Any]]:
    model = _model(body)
    raw = body.get("input")
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) for t in inputs):
        raise BadRequest(
            "'input' must be a string or a non-empty list of strings (token arrays are not "
            f"supported); got {str(raw)[:60]}.",
            "input",
        )
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise BadRequest(
            f"'encoding_format' must be 'float' or 'base64'; got {fmt!r}.", "encoding_format"
        )
    params: dict[str, Any] = {"encoding_format": fmt}
    if body.get("dimensions") is not None:
        params["dimensions"] = body["dimensions"]
    return model, inputs, params


def _usage(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }


def new_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex


def chat_body(route: str, response: ChatResponse, call_id: str) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": response.content}
    if response.tool_calls:
        message["tool_calls"] = response.tool_calls
    return orjson.dumps(
        {
            "id": call_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": route,
            "choices": [{"index": 0, "message": message, "finish_reason": response.finish_reason}],
            "usage": _usage(response.usage),
        }
    )


def chunk_event(route: str, chunk: ChatChunk, call_id: str, created: int) -> bytes:
    delta: dict[str, Any] = {}
    if chunk.role:
        delta["role"] = chunk.role
    if chunk.delta:
        delta["content"] = chunk.delta
    event = {
        "id": call_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": route,
        "choices": [{"index": 0, "delta": delta, "finish_reason": chunk.finish_reason}],
    }
    return b"data: " + orjson.dumps(event) + b"\n\n"


def usage_event(route: str, usage: Usage, call_id: str, created: int) -> bytes:
    event = {
        "id": call_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": route,
        "choices": [],
        "usage": _usage(usage),
    }
    return b"data: " + orjson.dumps(event) + b"\n\n"


def embeddings_body(route: str, result: EmbeddingResponse, encoding: str) -> bytes:
    if encoding == "base64":
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode(),
            }
            for i, v in enumerate(result.vectors)
        ]
    else:
        data = [
            {"object": "embedding", "index": i, "embedding": v}
            for i, v in enumerate(result.vectors)
        ]
    usage = {"prompt_tokens": result.usage.input_tokens, "total_tokens": result.usage.input_tokens}
    return orjson.dumps({"object": "list", "data": data, "model": route, "usage": usage})


def models_body(routes: list[str]) -> bytes:
    data = [{"id": r, "object": "model", "created": 0, "owned_by": "mloop"} for r in routes]
    return orjson.dumps({"object": "list", "data": data})
