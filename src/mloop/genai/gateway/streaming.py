"""Streamed chat completions, and what a client sees when a stream fails.

- **Before the first chunk** (connection refused, 429/5xx, timeout, stream closed empty):
  the failure is invisible; the next deployment or fallback route is tried, with the same
  retries and backoff as a plain call. If all fail, the client gets an HTTP error status
  (no stream starts).
- **After the first chunk** (the upstream cuts the stream, stalls past its read timeout, or
  sends an error event): the client has part of an answer, which cannot be taken back. The
  stream ends with one ``data: {"error": {...}}`` event naming the failure, and no
  ``[DONE]``; the ``openai`` client raises ``APIError`` there. Never a hang: every read has
  the deployment's timeout.
- **Routes with ``after`` hooks** (output guardrails): the answer is collected whole, checked
  (and possibly rewritten), then sent as one chunk, so unchecked text never reaches a client.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from mloop.genai.gateway.errors import NoDeployment, RateLimited
from mloop.genai.gateway.hooks import CallContext, Outcome
from mloop.genai.gateway.limits import Reservation
from mloop.genai.providers.base import ChatChunk, ChatRequest, ChatResponse, ProviderError, Usage

if TYPE_CHECKING:
    from mloop.genai.gateway.engine import Gateway

__all__ = ["StreamInterrupted", "stream"]


class StreamInterrupted(ProviderError):
    """The upstream failed after part of the answer was sent (see the module docstring)."""


async def _open(gateway: Gateway, call: CallContext) -> tuple[ChatChunk, AsyncIterator[ChatChunk]]:
    """The first chunk and the rest of the first stream that produces one."""
    last: ProviderError | None = None
    for name, candidate, attempt in gateway.attempts(call):
        await gateway.backoff(attempt if last is not None else 0)
        call.attempts = attempt + 1
        request = ChatRequest(candidate.deployment.model, call.messages, call.params)
        chunks = candidate.provider.stream_chat(request).__aiter__()
        try:
            first = await chunks.__anext__()
        except StopAsyncIteration:
            last = ProviderError(f"{candidate.deployment.id} closed the stream without a chunk.")
            gateway.failed(call, candidate, last)
            continue
        except ProviderError as exc:
            if not exc.retryable:
                raise
            gateway.failed(call, candidate, exc)
            last = exc
            continue
        gateway.served(call, name, candidate)
        return first, chunks
    raise NoDeployment(
        f"No deployment of route {call.route!r} (or its fallbacks) could start a stream after "
        f"{call.attempts} attempts; the last error: {last}"
    )


async def stream(gateway: Gateway, call: CallContext) -> AsyncIterator[ChatChunk]:
    """Chunks of the answer; raises :class:`StreamInterrupted` after a partial answer."""
    reservation: Reservation | None = None
    outcome = Outcome(status="error", http_status=500)
    parts: list[str] = []
    usage: Usage | None = None
    finish_reason = "stop"
    try:
        gateway.run_before(call)
        reservation = await gateway.reserve(call)
        first, rest = await _open(gateway, call)
        buffered = gateway.has_after_hooks(call.route)
        chunk: ChatChunk | None = first
        try:
            while chunk is not None:
                parts.append(chunk.delta)
                if chunk.usage is not None:
                    usage = chunk.usage
                if chunk.finish_reason:
                    finish_reason = chunk.finish_reason
                if not buffered and (chunk.delta or chunk.finish_reason or chunk.role):
                    yield chunk
                chunk = await anext(rest, None)
        except ProviderError as exc:
            raise StreamInterrupted(
                f"The answer of {call.deployment} stopped after {sum(map(len, parts))} characters: {exc}",
                status=exc.status,
            ) from exc
        text = "".join(parts)
        if usage is None:  # the upstream did not count: estimate (about 4 characters a token)
            usage = Usage(0, math.ceil(len(text) / 4))
        response = ChatResponse(text, call.model, finish_reason, usage)
        if buffered:
            gateway.run_after(call, response)
            yield ChatChunk(delta=response.content, role="assistant")
            yield ChatChunk(finish_reason=response.finish_reason)
        outcome = Outcome(
            status="ok", usage=usage, cost=gateway.cost(call, usage), response=response
        )
    except RateLimited as exc:
        outcome = Outcome(status="rate_limited", error=str(exc), http_status=429)
        raise
    except BaseException as exc:  # GeneratorExit too: the client went away
        partial = Usage(0, math.ceil(sum(map(len, parts)) / 4))
        outcome = Outcome(
            status="error",
            error=str(exc) or type(exc).__name__,
            http_status=getattr(exc, "http_status", 500),
            usage=usage or partial,
            cost=gateway.cost(call, usage or partial),
        )
        raise
    finally:
        await gateway.finish(call, reservation, outcome)
