"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, LiteLLM, llama.cpp's server...).

The translation is pure (:func:`chat_payload`, :func:`parse_chat`, :func:`parse_stream_line`,
:func:`embedding_payload`, :func:`parse_embeddings`); :class:`OpenAICompatible` adds the
transport: one pooled ``httpx.AsyncClient`` per event loop, with connect and read timeouts,
so a stalled upstream raises :class:`ProviderError` instead of hanging a client.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson

from mloop.genai.providers.base import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    ProviderError,
    Usage,
    is_retryable_status,
)

__all__ = [
    "OpenAICompatible",
    "chat_payload",
    "embedding_payload",
    "parse_chat",
    "parse_embeddings",
    "parse_stream_line",
]

# parameters passed through to an OpenAI-compatible upstream as they are
CHAT_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "n",
        "logit_bias",
        "response_format",
        "tools",
        "tool_choice",
        "user",
    }
)
DONE = object()  # what parse_stream_line returns for the closing ``data: [DONE]``


def chat_payload(request: ChatRequest, *, stream: bool = False) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions`` for ``request``."""
    body: dict[str, Any] = {"model": request.model, "messages": request.messages}
    body.update((k, v) for k, v in request.params.items() if k in CHAT_PARAMS)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))


def parse_chat(body: bytes | dict[str, Any]) -> ChatResponse:
    """A :class:`ChatResponse` from an upstream's chat completion body."""
    data = orjson.loads(body) if isinstance(body, bytes | bytearray) else body
    try:
        choice = data["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError) as exc:
        raise ProviderError(
            f"The upstream answered a chat completion without choices: {str(data)[:200]}",
            retryable=True,
        ) from exc
    return ChatResponse(
        content=message.get("content") or "",
        model=str(data.get("model") or ""),
        finish_reason=choice.get("finish_reason") or "stop",
        usage=_usage(data.get("usage")),
        id=str(data.get("id") or ""),
        tool_calls=message.get("tool_calls"),
    )


def parse_stream_line(line: str) -> ChatChunk | object | None:
    """One SSE line of a streamed completion: a :class:`ChatChunk`, ``DONE`` or None (skip)."""
    if not line.startswith("data:"):
        return None  # comments, event names, blank keep-alive lines
    data = line[5:].strip()
    if data == "[DONE]":
        return DONE
    if not data:
        return None
    event = orjson.loads(data)
    if "error" in event:
        error = event["error"] or {}
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise ProviderError(f"The upstream stream failed: {message}", retryable=True)
    usage = _usage(event["usage"]) if event.get("usage") else None
    choices = event.get("choices") or []
    if not choices:
        return ChatChunk(usage=usage)
    choice = choices[0]
    delta = choice.get("delta") or {}
    return ChatChunk(
        delta=delta.get("content") or "",
        finish_reason=choice.get("finish_reason"),
        usage=usage,
        role=delta.get("role"),
    )


def embedding_payload(request: EmbeddingRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": request.model, "input": request.inputs}
    if "dimensions" in request.params:
        body["dimensions"] = request.params["dimensions"]
    return body


def parse_embeddings(body: bytes | dict[str, Any]) -> EmbeddingResponse:
    data = orjson.loads(body) if isinstance(body, bytes | bytearray) else body
    try:
        rows = sorted(data["data"], key=lambda row: row.get("index", 0))
        vectors = [list(row["embedding"]) for row in rows]
    except (KeyError, TypeError) as exc:
        raise ProviderError(
            f"The upstream answered embeddings without data: {str(data)[:200]}"
        ) from exc
    usage = data.get("usage") or {}
    return EmbeddingResponse(
        vectors, str(data.get("model") or ""), Usage(int(usage.get("prompt_tokens") or 0), 0)
    )


def _upstream_message(status: int, body: bytes) -> str:
    try:
        error = orjson.loads(body).get("error")
        text = error.get("message") if isinstance(error, dict) else str(error)
    except (orjson.JSONDecodeError, AttributeError):
        text = body[:200].decode("utf-8", "replace")
    return f"The upstream answered {status}: {text}"


class OpenAICompatible:
    """A provider over an OpenAI-compatible HTTP API at ``api_base`` (ending in ``/v1``)."""

    name = "openai"

    def __init__(
        self,
        api_base: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_connections: int = 256,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self._headers = {"content-type": "application/json"}
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._clients: dict[int, httpx.AsyncClient] = {}

    def _client(self) -> httpx.AsyncClient:
        # a client's pool belongs to the event loop it was first used on
        key = id(asyncio.get_running_loop())
        client = self._clients.get(key)
        if client is None:
            client = httpx.AsyncClient(timeout=self._timeout, limits=self._limits)
            self._clients[key] = client
        return client

    async def _post(self, path: str, body: dict[str, Any]) -> bytes:
        try:
            response = await self._client().post(
                self.api_base + path, content=orjson.dumps(body), headers=self._headers
            )
        except httpx.TimeoutException as exc:
            raise ProviderError(
                f"The upstream {self.api_base} timed out ({type(exc).__name__}).", status=504
            ) from exc
        except httpx.HTTPError as exc:
            raise ProviderError(f"The upstream {self.api_base} is unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise ProviderError(
                _upstream_message(response.status_code, response.content),
                status=response.status_code,
                retryable=is_retryable_status(response.status_code),
            )
        return response.content

    async def chat(self, request: ChatRequest) -> ChatResponse:
        return parse_chat(await self._post("/chat/completions", chat_payload(request)))

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = orjson.dumps(chat_payload(request, stream=True))
        url = self.api_base + "/chat/completions"
        try:
            async with self._client().stream(
                "POST", url, content=body, headers=self._headers
            ) as response:
                if response.status_code >= 400:
                    content = await response.aread()
                    raise ProviderError(
                        _upstream_message(response.status_code, content),
                        status=response.status_code,
                        retryable=is_retryable_status(response.status_code),
                    )
                finished = False
                async for line in response.aiter_lines():
                    chunk = parse_stream_line(line)
                    if chunk is DONE:
                        finished = True
                        break
                    if isinstance(chunk, ChatChunk):
                        yield chunk
                if not finished:
                    raise ProviderError(f"The upstream {self.api_base} ended the stream early.")
        except httpx.TimeoutException as exc:
            raise ProviderError(
                f"The upstream {self.api_base} timed out mid-stream ({type(exc).__name__}).",
                status=504,
            ) from exc
        except httpx.HTTPError as exc:
            raise ProviderError(f"The upstream {self.api_base} cut the stream: {exc}") from exc

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        return parse_embeddings(await self._post("/embeddings", embedding_payload(request)))

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nothing to release
                await client.aclose()
