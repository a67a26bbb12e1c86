"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, LiteLLM, llama.cpp's server...).

The translation is pure (:func:`chat_payload`, :func:`parse_chat`, :func:`parse_stream_line`,
:func:`embedding_payload`, :func:`parse_embeddings`); :class:`OpenAICompatible` adds the
transport: one pooled aiohttp session per event loop, with connect and read timeouts, so a
stalled upstream raises :class:`ProviderError` instead of hanging a client.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson

from mloop.core.errors import ConfigError
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
    """A provider over an OpenAI-compatible HTTP API at ``api_base`` (ending in ``/v1``).

    The transport is aiohttp: one pooled session per event loop (decision record 0221 has
    the figures that chose it over httpx). ``timeout`` bounds each read (a stalled stream
    fails after it), ``connect_timeout`` the connection.
    """

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
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_connections = max_connections
        self._sessions: dict[int, Any] = {}

    def _session(self) -> Any:
        # a session's pool belongs to the event loop it was made on
        key = id(asyncio.get_running_loop())
        session = self._sessions.get(key)
        if session is None:
            try:
                import aiohttp
            except ImportError as exc:
                raise ConfigError(
                    "The OpenAI-compatible provider needs aiohttp: pip install 'mloop[genai]'."
                ) from exc
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self._connect_timeout, sock_read=self._timeout
                ),
                headers=self._headers,
                skip_auto_headers=("User-Agent",),
            )
            self._sessions[key] = session
        return session

    def _failure(self, exc: BaseException, doing: str) -> ProviderError:
        if isinstance(exc, asyncio.TimeoutError):
            return ProviderError(
                f"The upstream {self.api_base} timed out {doing} (no data for {self._timeout:g} s).",
                status=504,
            )
        return ProviderError(f"The upstream {self.api_base} failed {doing}: {exc!r}")

    async def _post(self, path: str, body: dict[str, Any]) -> bytes:
        import aiohttp

        try:
            async with self._session().post(
                self.api_base + path, data=orjson.dumps(body)
            ) as response:
                content: bytes = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._failure(exc, "to answer") from exc
        if status >= 400:
            raise ProviderError(
                _upstream_message(status, content),
                status=status,
                retryable=is_retryable_status(status),
            )
        return content

    async def chat(self, request: ChatRequest) -> ChatResponse:
        return parse_chat(await self._post("/chat/completions", chat_payload(request)))

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        import aiohttp

        body = orjson.dumps(chat_payload(request, stream=True))
        try:
            async with self._session().post(
                self.api_base + "/chat/completions", data=body
            ) as response:
                if response.status >= 400:
                    content = await response.read()
                    raise ProviderError(
                        _upstream_message(response.status, content),
                        status=response.status,
                        retryable=is_retryable_status(response.status),
                    )
                finished = False
                async for raw in response.content:
                    chunk = parse_stream_line(raw.decode("utf-8", "replace").rstrip("\r\n"))
                    if chunk is DONE:
                        finished = True
                        break
                    if isinstance(chunk, ChatChunk):
                        yield chunk
                if not finished:
                    raise ProviderError(f"The upstream {self.api_base} ended the stream early.")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._failure(exc, "mid-stream") from exc

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        return parse_embeddings(await self._post("/embeddings", embedding_payload(request)))

    async def aclose(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nothing to release
                await session.close()
