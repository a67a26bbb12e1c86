"""The gateway itself, as a Python API: routes, retries, fallbacks, limits, caches, hooks.

    gateway = Gateway(load_config("routes.yaml"))
    answer = await gateway.chat("chat", [{"role": "user", "content": "Hi"}], max_tokens=20)

A call goes: ``before`` hooks → cache → reserve limits → deployments of the route, then of
each fallback route, with retries and backoff on retryable errors → ``after`` hooks →
cache → settle limits → ``on_complete`` hooks. Streams follow :mod:`.streaming`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import orjson

from mloop.core.errors import ConfigError, InvalidInput, NotFound, did_you_mean
from mloop.core.log import get_logger
from mloop.core.principal import Principal
from mloop.genai.gateway.cache import ResponseCache
from mloop.genai.gateway.caching import lookup, remember
from mloop.genai.gateway.config import Deployment, GatewayConfig, Price, Route
from mloop.genai.gateway.embeddings import embed
from mloop.genai.gateway.errors import NoDeployment, RateLimited
from mloop.genai.gateway.guarding import default_guardrail_factory
from mloop.genai.gateway.hooks import CallContext, HookSet, Outcome, guardrail_factory
from mloop.genai.gateway.limits import (
    Limiter,
    MemoryLimiter,
    RedisLimiter,
    Reservation,
    counters_for,
    estimate_input_tokens,
)
from mloop.genai.gateway.routing import Candidate, choose, fallback_chain
from mloop.genai.gateway.streaming import stream
from mloop.genai.providers import make_provider
from mloop.genai.providers.base import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingResponse,
    Provider,
    ProviderError,
    Usage,
)

__all__ = ["Gateway"]

_log = get_logger("mloop.genai.gateway")
ANONYMOUS = Principal("anonymous", workspace="default", role="editor")


def provider_for(deployment: Deployment) -> Provider:
    """The provider that answers for ``deployment`` (its API key read from the environment)."""
    return make_provider(
        deployment.provider,
        deployment.model,
        api_base=deployment.api_base,
        api_key=deployment.api_key(),
        timeout=deployment.timeout,
    )


class Gateway:
    """Routes chat and embedding calls to deployments, with limits, caches and hooks."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        hooks: Sequence[object] = (),
        provider_factory: Callable[[Deployment], Provider] = provider_for,
        limiter: Limiter | None = None,
        cache: ResponseCache | None = None,
        seed: int | None = None,
    ) -> None:
        self.config = config
        self._rng = random.Random(seed)
        self._providers: dict[str, Provider] = {}
        self._candidates: dict[str, list[Candidate]] = {}
        self._hooks: dict[str, HookSet] = {}
        factory = guardrail_factory() or default_guardrail_factory
        for name, route in config.routes.items():
            self._candidates[name] = [
                self._candidate(d, provider_factory) for d in route.deployments
            ]
            try:
                route_hooks = [factory(name, spec) for spec in route.guardrails]
            except InvalidInput as exc:
                raise ConfigError(f"routes.{name}.{exc}") from None
            self._hooks[name] = HookSet.of([*route_hooks, *hooks])
        self._worst_price = {name: self._chain_price(name) for name in config.routes}
        if limiter is None:
            limiter = RedisLimiter(config.limits_url) if config.limits_url else MemoryLimiter()
        self.limiter = limiter
        self.cache = cache
        self._all_hooks = list(hooks)

    def _candidate(
        self, deployment: Deployment, factory: Callable[[Deployment], Provider]
    ) -> Candidate:
        provider = self._providers.get(deployment.id)
        if provider is None:
            provider = factory(deployment)
            self._providers[deployment.id] = provider
        price = self.config.price(deployment)
        return Candidate(deployment, provider, price.input_per_1m + price.output_per_1m)

    def _chain(self, name: str) -> list[str]:
        return fallback_chain(self.config.routes, name)

    def _chain_price(self, name: str) -> Price:
        prices = [
            self.config.price(d)
            for r in self._chain(name)
            for d in self.config.routes[r].deployments
        ]
        return Price(
            input_per_1m=max(p.input_per_1m for p in prices),
            output_per_1m=max(p.output_per_1m for p in prices),
        )

    def models(self) -> list[str]:
        """The route names clients may ask for."""
        return list(self.config.routes)

    def route(self, name: str) -> Route:
        try:
            return self.config.routes[name]
        except KeyError:
            raise NotFound(
                f"The model {name!r} is not a route of this gateway; the routes are "
                f"{sorted(self.config.routes)}." + did_you_mean(name, self.config.routes)
            ) from None

    # -- the steps of a call ---------------------------------------------------------------

    def context(
        self,
        route: str,
        *,
        operation: str = "chat",
        messages: list[dict[str, Any]] | None = None,
        inputs: list[str] | None = None,
        params: dict[str, Any] | None = None,
        stream: bool = False,
        principal: Principal | None = None,
        key_id: str = "",
    ) -> CallContext:
        self.route(route)
        return CallContext(
            route=route,
            principal=principal or ANONYMOUS,
            operation=operation,
            messages=messages or [],
            inputs=inputs or [],
            params=params or {},
            stream=stream,
            key_id=key_id,
        )

    def run_before(self, call: CallContext) -> None:
        for before in self._hooks[call.route].before:
            before(call)

    def run_after(self, call: CallContext, response: ChatResponse) -> None:
        for after in self._hooks[call.route].after:
            after(call, response)

    def has_after_hooks(self, route: str) -> bool:
        return bool(self._hooks[route].after)

    async def reserve(self, call: CallContext) -> Reservation:
        route = self.config.routes[call.route]
        if call.operation == "chat":
            input_tokens = estimate_input_tokens(call.messages)
            for extra in ("tools", "response_format"):  # sent to the model as prompt too
                if call.params.get(extra):
                    input_tokens += len(orjson.dumps(call.params[extra]))
            output_tokens = int(
                call.params.get("max_tokens")
                or call.params.get("max_completion_tokens")
                or route.max_tokens
            )
            call.params.setdefault("max_tokens", output_tokens)  # the reservation caps the answer
        else:
            input_tokens = sum(len(text.encode()) + 2 for text in call.inputs)
            output_tokens = 0
        cost = self._worst_price[call.route].cost(input_tokens, output_tokens)
        subjects = {
            "key": call.key_id,
            "user": call.principal.name,
            "workspace": call.principal.workspace,
            "route": call.route,
        }
        counters = counters_for(self.config.limits, subjects, time.time())
        return await self.limiter.reserve(counters, input_tokens + output_tokens, cost)

    def attempts(self, call: CallContext) -> Iterator[tuple[str, Candidate, int]]:
        """(route, deployment, attempt number) to try in order, over the fallback chain."""
        number = 0
        for name in self._chain(call.route):
            route = self.config.routes[name]
            tried: set[int] = set()
            candidates = self._candidates[name]
            for _ in range(route.retries + 1):
                candidate = choose(candidates, route.strategy, tried, self._rng)
                if candidate is None:
                    tried.clear()  # every deployment tried once: retry them
                    candidate = choose(candidates, route.strategy, tried, self._rng)
                    if candidate is None:
                        break
                tried.add(candidates.index(candidate))
                yield name, candidate, number
                number += 1

    async def backoff(self, attempt: int) -> None:
        if attempt > 0 and self.config.backoff_seconds > 0:
            delay = self.config.backoff_seconds * (2 ** (attempt - 1))
            await asyncio.sleep(min(delay, 5.0) * (0.5 + self._rng.random() / 2))

    def failed(self, call: CallContext, candidate: Candidate, error: ProviderError) -> None:
        candidate.record_failure(self.config.cooldown_seconds)
        _log.warning(
            "gateway: %s via %s failed (%s), attempt %d",
            call.route,
            candidate.deployment.id,
            error,
            call.attempts,
        )

    def served(self, call: CallContext, name: str, candidate: Candidate) -> None:
        call.served_route = name
        call.deployment = candidate.deployment.id
        call.provider = candidate.deployment.provider
        call.model = candidate.deployment.model

    def cost(self, call: CallContext, usage: Usage) -> float:
        if not call.deployment:
            return 0.0
        for candidate in self._candidates[call.served_route]:
            if candidate.deployment.id == call.deployment:
                return self.config.price(candidate.deployment).cost(
                    usage.input_tokens, usage.output_tokens
                )
        return 0.0

    async def finish(
        self, call: CallContext, reservation: Reservation | None, outcome: Outcome
    ) -> None:
        outcome.latency_s = time.perf_counter() - call.started
        if reservation is not None:
            try:
                await self.limiter.settle(reservation, outcome.usage.total_tokens, outcome.cost)
            except Exception:  # a limiter outage must not turn an answer into an error
                _log.exception("gateway: settling the limits of %s failed", call.route)
        for complete in self._hooks[call.route].complete:
            try:
                complete(call, outcome)
            except Exception:
                _log.exception("gateway: an on_complete hook failed for %s", call.route)

    # -- the public calls ------------------------------------------------------------------

    async def chat(
        self,
        route: str,
        messages: list[dict[str, Any]],
        *,
        principal: Principal | None = None,
        key_id: str = "",
        **params: Any,
    ) -> ChatResponse:
        """One chat completion through ``route`` (its fallbacks if it fails)."""
        call = self.context(
            route, messages=messages, params=params, principal=principal, key_id=key_id
        )
        return await self.complete(call)

    async def complete(self, call: CallContext) -> ChatResponse:
        reservation: Reservation | None = None
        outcome = Outcome(status="error", http_status=500)
        try:
            self.run_before(call)
            hit, slot = await lookup(self, call)
            if hit is not None:
                outcome = Outcome(status="ok", cache_hit=True, response=hit)
                return hit
            reservation = await self.reserve(call)
            response = await self._call_chat(call)
            self.run_after(call, response)
            outcome = Outcome(
                status="ok",
                usage=response.usage,
                cost=self.cost(call, response.usage),
                response=response,
            )
            if slot is not None:
                await remember(self, call, slot, response)
            return response
        except RateLimited as exc:
            outcome = Outcome(status="rate_limited", error=str(exc), http_status=429)
            raise
        except Exception as exc:
            outcome = Outcome(
                status="error", error=str(exc), http_status=getattr(exc, "http_status", 500)
            )
            raise
        finally:
            await self.finish(call, reservation, outcome)

    async def _call_chat(self, call: CallContext) -> ChatResponse:
        last: ProviderError | None = None
        for name, candidate, attempt in self.attempts(call):
            await self.backoff(attempt if last is not None else 0)
            call.attempts = attempt + 1
            request = ChatRequest(candidate.deployment.model, call.messages, call.params)
            started = time.perf_counter()
            try:
                response = await candidate.provider.chat(request)
            except ProviderError as exc:
                if not exc.retryable:
                    raise
                self.failed(call, candidate, exc)
                last = exc
                continue
            candidate.record_success(time.perf_counter() - started)
            self.served(call, name, candidate)
            return response
        raise NoDeployment(
            f"No deployment of route {call.route!r} (or its fallbacks) could answer after "
            f"{call.attempts} attempts; the last error: {last}"
        )

    def stream_chat(
        self,
        route: str,
        messages: list[dict[str, Any]],
        *,
        principal: Principal | None = None,
        key_id: str = "",
        **params: Any,
    ) -> AsyncIterator[ChatChunk]:
        """A streamed chat completion; see :mod:`.streaming` for what a failure looks like."""
        call = self.context(
            route, messages=messages, params=params, stream=True, principal=principal, key_id=key_id
        )
        return stream(self, call)

    def stream_call(self, call: CallContext) -> AsyncIterator[ChatChunk]:
        return stream(self, call)

    async def embed(
        self,
        route: str,
        inputs: list[str],
        *,
        principal: Principal | None = None,
        key_id: str = "",
        **params: Any,
    ) -> EmbeddingResponse:
        call = self.context(
            route,
            operation="embeddings",
            inputs=inputs,
            params=params,
            principal=principal,
            key_id=key_id,
        )
        return await self.embed_call(call)

    async def embed_call(self, call: CallContext) -> EmbeddingResponse:
        return await embed(self, call)

    async def aclose(self) -> None:
        """Close the providers' connections, the cache, the limiter and hooks that hold any."""
        for provider in self._providers.values():
            await provider.aclose()
        for part in (self.cache, self.limiter):
            close = getattr(part, "aclose", None)
            if close is not None:
                await close()
        for hook in self._all_hooks:
            close = getattr(hook, "close", None)
            if callable(close):
                close()
