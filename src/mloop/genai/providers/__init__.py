"""Language-model providers behind one interface (:class:`Provider`).

``make_provider("openai", "gpt-4o-mini", api_base=..., api_key=...)`` for any
OpenAI-compatible endpoint, ``make_provider("local", "smollm2-135m")`` for models that run
in this process.
"""

from __future__ import annotations

from mloop.core.errors import ConfigError
from mloop.genai.providers.base import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    Provider,
    ProviderError,
    Usage,
)
from mloop.genai.providers.local import LocalProvider
from mloop.genai.providers.openai import OpenAICompatible

__all__ = [
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "LocalProvider",
    "OpenAICompatible",
    "Provider",
    "ProviderError",
    "Usage",
    "make_provider",
]


def make_provider(
    kind: str,
    model: str,
    *,
    api_base: str | None = None,
    api_key: str | None = None,
    timeout: float = 60.0,
) -> Provider:
    """The provider of ``kind`` (``openai`` or ``local``) for ``model``."""
    if kind == "openai":
        return OpenAICompatible(api_base or "https://api.openai.com/v1", api_key, timeout=timeout)
    if kind == "local":
        return LocalProvider(model)
    raise ConfigError(
        f"Unknown provider {kind!r}; use 'openai' (any OpenAI-compatible API) or 'local'."
    )
