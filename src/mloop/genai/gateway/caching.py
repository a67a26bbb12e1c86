"""When a chat call consults the caches, and what it stores (backends: :mod:`.cache`).

Only complete (non-streamed) answers are cached. A hit is free: it reserves nothing, costs
nothing and is reported to ``on_complete`` hooks with ``cache_hit=True``. The semantic
cache embeds the prompt through the route's ``embed_route`` (an ordinary gateway call of
the same user, so its tokens are counted too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mloop.genai.gateway.cache import cache_key, prompt_text, semantic_scope
from mloop.genai.gateway.hooks import CallContext
from mloop.genai.providers.base import ChatResponse

if TYPE_CHECKING:
    from mloop.genai.gateway.engine import Gateway

__all__ = ["Slot", "lookup", "remember"]


@dataclass
class Slot:
    """Where a call's answer goes in the caches once it is known."""

    key: str | None = None
    scope: str | None = None
    vector: np.ndarray | None = None


async def lookup(gateway: Gateway, call: CallContext) -> tuple[ChatResponse | None, Slot | None]:
    """A cached answer for ``call``, or None and the slot to fill afterwards."""
    settings = gateway.config.routes[call.route].cache
    cache = gateway.cache
    if cache is None or call.stream or not (settings.exact or settings.semantic):
        return None, None
    slot = Slot()
    if settings.exact:
        slot.key = cache_key(call)
        hit = await cache.get(slot.key)
        if hit is not None:
            return hit, None
    if settings.semantic is not None:
        embed_call = gateway.context(
            settings.semantic.embed_route,
            operation="embeddings",
            inputs=[prompt_text(call)],
            principal=call.principal,
            key_id=call.key_id,
        )
        embedded = await gateway.embed_call(embed_call)
        slot.scope = semantic_scope(call)
        slot.vector = np.asarray(embedded.vectors[0], dtype=np.float32)
        hit = await cache.nearest(slot.scope, slot.vector, settings.semantic.threshold)
        if hit is not None:
            return hit, None
    return None, slot


async def remember(gateway: Gateway, call: CallContext, slot: Slot, response: ChatResponse) -> None:
    cache = gateway.cache
    if cache is None:
        return
    ttl = gateway.config.routes[call.route].cache.ttl_seconds
    if slot.key is not None:
        await cache.put(slot.key, response, ttl)
    if slot.scope is not None and slot.vector is not None:
        await cache.add(slot.scope, slot.vector, response, ttl)
