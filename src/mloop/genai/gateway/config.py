"""The gateway's configuration: routes, deployments, prices, limits, keys and caches.

Read once at start (YAML file, or the ``gateway`` section of ``mloop.toml``); the hot path
only reads the parsed, frozen objects. Example (docs/genai-gateway.md has every key)::

    routes:
      chat:
        deployments:
          - {provider: openai, model: gpt-4o-mini, api_base: "http://127.0.0.1:9000/v1",
             api_key_env: UPSTREAM_KEY, weight: 3}
          - {provider: local, model: smollm2-135m}
        fallbacks: [chat-local]
        guardrails: [{pii: redact}]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mloop.core.errors import ConfigError, did_you_mean

__all__ = [
    "ApiKey",
    "CacheConfig",
    "Deployment",
    "GatewayConfig",
    "Limit",
    "Price",
    "Route",
    "load_config",
]

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "month": 30 * 86400}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Strict):
    """US dollars per million tokens, in and out."""

    input_per_1m: float = Field(0.0, ge=0)
    output_per_1m: float = Field(0.0, ge=0)

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_1m + output_tokens * self.output_per_1m) / 1e6


class Deployment(_Strict):
    """One model at one provider that can answer a route."""

    provider: Literal["openai", "local"]
    model: str
    api_base: str | None = None
    api_key_env: str | None = None  # the key is read from this environment variable
    weight: float = Field(1.0, gt=0)
    timeout: float = Field(60.0, gt=0)
    price: Price | None = None  # overrides the price table for this deployment

    @property
    def id(self) -> str:
        return f"{self.provider}:{self.model}@{self.api_base or 'local'}"

    def api_key(self) -> str | None:
        if self.api_key_env is None:
            return None
        value = os.environ.get(self.api_key_env)
        if value is None:
            raise ConfigError(
                f"Deployment {self.model!r} reads its API key from ${self.api_key_env}, "
                "which is not set. Export it, or remove api_key_env for an upstream without keys."
            )
        return value


class SemanticCache(_Strict):
    embed_route: str  # the route whose embeddings compare prompts
    threshold: float = Field(0.95, gt=0, le=1)


class RouteCache(_Strict):
    exact: bool = False
    semantic: SemanticCache | None = None
    ttl_seconds: float = Field(3600, gt=0)


class Route(_Strict):
    """What clients name as ``model``: deployments to choose from, and what to fall back to."""

    deployments: list[Deployment] = Field(min_length=1)
    strategy: Literal["weighted", "least-latency", "cost"] = "weighted"
    fallbacks: list[str] = Field(default_factory=list)
    guardrails: list[Any] = Field(default_factory=list)  # specs handed to the guardrail factory
    retries: int = Field(2, ge=0, le=10)  # further tries after the first, across deployments
    max_tokens: int = Field(1024, gt=0)  # output tokens reserved when the request sets none
    cache: RouteCache = Field(default_factory=lambda: RouteCache.model_validate({}))


class Limit(_Strict):
    """At most ``requests``, ``tokens`` and/or ``cost`` (USD) per ``period`` for each key.

    ``scope`` says what is counted: each API key, user, workspace or route; ``key`` names
    one of them, or ``*`` for each one separately.
    """

    scope: Literal["key", "user", "workspace", "route"]
    key: str = "*"
    period: Literal["second", "minute", "hour", "day", "month"] = "day"
    requests: int | None = Field(None, ge=0)
    tokens: int | None = Field(None, ge=0)
    cost: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _something_limited(self) -> Limit:
        if self.requests is None and self.tokens is None and self.cost is None:
            raise ValueError("a limit needs at least one of requests, tokens or cost")
        return self

    @property
    def seconds(self) -> int:
        return PERIODS[self.period]

    @property
    def name(self) -> str:
        return f"{self.scope}:{self.key}/{self.period}"


class ApiKey(_Strict):
    """A key clients send as ``Authorization: Bearer``; its value comes from ``env``."""

    env: str
    user: str
    workspace: str = "default"
    role: str = "editor"


class CacheConfig(_Strict):
    url: str = "sqlite:///{home}/gateway-cache.db"  # or redis://host:6379/0
    max_entries: int = Field(100_000, gt=0)


class GatewayConfig(_Strict):
    routes: dict[str, Route] = Field(min_length=1)
    prices: dict[str, Price] = Field(default_factory=dict)  # by deployment model name
    limits: list[Limit] = Field(default_factory=list)
    limits_url: str | None = None  # redis://... to share limits between processes
    api_keys: list[ApiKey] = Field(default_factory=list)
    cache: CacheConfig = Field(default_factory=lambda: CacheConfig.model_validate({}))
    cooldown_seconds: float = Field(30.0, ge=0)
    backoff_seconds: float = Field(0.05, ge=0)  # first retry's wait, doubled each time
    tracing: bool = True  # record each call as a span (mloop.genai.search_traces)

    @model_validator(mode="after")
    def _fallbacks_exist(self) -> GatewayConfig:
        for name, route in self.routes.items():
            for target in route.fallbacks:
                if target not in self.routes:
                    raise ValueError(
                        f"route {name!r} falls back to {target!r}, which is not a route."
                        + did_you_mean(target, self.routes)
                    )
            semantic = route.cache.semantic
            if semantic is not None and semantic.embed_route not in self.routes:
                raise ValueError(
                    f"route {name!r} compares prompts with route {semantic.embed_route!r}, "
                    "which is not a route." + did_you_mean(semantic.embed_route, self.routes)
                )
        return self

    def price(self, deployment: Deployment) -> Price:
        if deployment.price is not None:
            return deployment.price
        return self.prices.get(deployment.model, _FREE)


_FREE = Price(input_per_1m=0.0, output_per_1m=0.0)


def _explain(error: ValidationError, origin: str) -> str:
    lines = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "(top)"
        value = item.get("input")
        shown = repr(value)[:80] if not isinstance(value, dict) else "{...}"
        lines.append(f"  {where} = {shown}: {item['msg']}")
    return f"The gateway configuration {origin} is invalid:\n" + "\n".join(lines)


def load_config(source: str | Path | dict[str, Any]) -> GatewayConfig:
    """Parse a YAML file (path) or an already-loaded mapping into a :class:`GatewayConfig`.

    Raises:
        ConfigError: naming the key, the value and what is wrong with it.
    """
    origin = "(mapping)"
    if isinstance(source, str | Path):
        path = Path(source)
        origin = str(path)
        try:
            data = yaml.safe_load(path.read_text())
        except FileNotFoundError as exc:
            raise ConfigError(f"The gateway configuration {path} does not exist.") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"The gateway configuration {path} is not valid YAML: {exc}") from exc
    else:
        data = source
    if not isinstance(data, dict):
        raise ConfigError(
            f"The gateway configuration {origin} must be a mapping with a 'routes' key, "
            f"not {type(data).__name__}."
        )
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, origin)) from None
