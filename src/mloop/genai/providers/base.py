"""The provider interface: one shape for chat and embeddings, whoever answers.

A provider turns a :class:`ChatRequest` into a :class:`ChatResponse` (or a stream of
:class:`ChatChunk`) and an :class:`EmbeddingRequest` into an :class:`EmbeddingResponse`.
Messages stay in OpenAI's form (a list of ``{"role", "content"}`` dicts) because that is
the lingua franca of every provider mloop speaks to; each provider's translation to and
from its wire format is a pure function, tested without a network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from mloop.core.errors import MloopError

__all__ = [
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "Provider",
    "ProviderError",
    "Usage",
]


@dataclass
class Usage:
    """Tokens a call consumed, as the provider counted them."""

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class ChatRequest:
    """A chat completion asked of one deployment (``model`` is the provider's model name)."""

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)  # temperature, max_tokens, stop...


@dataclass
class ChatResponse:
    """One complete answer; ``content`` may be rewritten by an ``after`` hook."""

    content: str
    model: str
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)
    id: str = ""
    tool_calls: list[dict[str, Any]] | None = None


@dataclass
class ChatChunk:
    """One piece of a streamed answer: new text, and on the last piece the finish reason."""

    delta: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None  # when the provider reports it (usually the last chunk)
    role: str | None = None


@dataclass
class EmbeddingRequest:
    model: str
    inputs: list[str]
    params: dict[str, Any] = field(default_factory=dict)  # dimensions, encoding_format...


@dataclass
class EmbeddingResponse:
    vectors: list[list[float]]
    model: str
    usage: Usage = field(default_factory=Usage)


class ProviderError(MloopError):
    """A provider could not answer: ``retryable`` says whether another try may succeed.

    ``status`` is the HTTP status the upstream answered (or 504 for a timeout, 502 for a
    connection error); 429, 5xx, timeouts and connection errors are retryable, other 4xx
    are not (the request itself is wrong and would fail again).
    """

    http_status = 502

    def __init__(self, message: str, *, status: int = 502, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


def is_retryable_status(status: int) -> bool:
    """Whether another try, or another deployment, may succeed.

    429 and 5xx are passing trouble; 401, 403, 404 and 408 say this deployment is
    misconfigured or slow (another may work). 400, 413 and 422 say the request itself is
    wrong: it would fail everywhere, so it goes back to the client.
    """
    return status >= 500 or status in (401, 403, 404, 408, 429)


@runtime_checkable
class Provider(Protocol):
    """What the gateway needs of a provider. Implementations: OpenAI-compatible, local."""

    name: str

    async def chat(self, request: ChatRequest) -> ChatResponse: ...

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]: ...

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse: ...

    async def aclose(self) -> None: ...
