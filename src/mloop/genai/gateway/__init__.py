"""The LLM gateway: one OpenAI-compatible API over many models (docs/genai-gateway.md).

from mloop.genai.gateway import Gateway, load_config
gateway = Gateway(load_config("routes.yaml"))
answer = await gateway.chat("chat", [{"role": "user", "content": "Hello"}])
"""

from __future__ import annotations

from mloop.genai.gateway.app import create_gateway_app
from mloop.genai.gateway.config import GatewayConfig, load_config
from mloop.genai.gateway.engine import Gateway
from mloop.genai.gateway.errors import NoDeployment, RateLimited
from mloop.genai.gateway.hooks import (
    CallContext,
    GatewayHook,
    Outcome,
    register_guardrail_factory,
)
from mloop.genai.gateway.http import create_gateway_router

__all__ = [
    "CallContext",
    "Gateway",
    "GatewayConfig",
    "GatewayHook",
    "NoDeployment",
    "Outcome",
    "RateLimited",
    "create_gateway_app",
    "create_gateway_router",
    "load_config",
    "register_guardrail_factory",
]
