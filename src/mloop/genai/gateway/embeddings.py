"""Embedding calls: the same limits, retries, fallbacks and hooks as chat, without streams."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mloop.genai.gateway.errors import NoDeployment, RateLimited
from mloop.genai.gateway.hooks import CallContext, Outcome
from mloop.genai.gateway.limits import Reservation
from mloop.genai.providers.base import EmbeddingRequest, EmbeddingResponse, ProviderError

if TYPE_CHECKING:
    from mloop.genai.gateway.engine import Gateway

__all__ = ["embed"]


async def embed(gateway: Gateway, call: CallContext) -> EmbeddingResponse:
    """Embeddings through ``call.route`` (and its fallbacks), with limits and hooks."""
    reservation: Reservation | None = None
    outcome = Outcome(status="error", http_status=500)
    try:
        gateway.run_before(call)
        reservation = await gateway.reserve(call)
        last: ProviderError | None = None
        for name, candidate, attempt in gateway.attempts(call):
            await gateway.backoff(attempt if last is not None else 0)
            call.attempts = attempt + 1
            started = time.perf_counter()
            try:
                result = await candidate.provider.embed(
                    EmbeddingRequest(candidate.deployment.model, call.inputs, call.params)
                )
            except ProviderError as exc:
                if not exc.retryable:
                    raise
                gateway.failed(call, candidate, exc)
                last = exc
                continue
            candidate.record_success(time.perf_counter() - started)
            gateway.served(call, name, candidate)
            outcome = Outcome(
                status="ok", usage=result.usage, cost=gateway.cost(call, result.usage)
            )
            return result
        raise NoDeployment(
            f"No deployment of route {call.route!r} could embed after {call.attempts} attempts; "
            f"the last error: {last}"
        )
    except RateLimited as exc:
        outcome = Outcome(status="rate_limited", error=str(exc), http_status=429)
        raise
    except Exception as exc:
        outcome = Outcome(
            status="error", error=str(exc), http_status=getattr(exc, "http_status", 500)
        )
        raise
    finally:
        await gateway.finish(call, reservation, outcome)
