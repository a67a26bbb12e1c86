"""Budgets and rate limits: reserve before a call, settle after, so nothing overspends.

Every configured :class:`Limit` that applies to a call (its API key, user, workspace, route)
is a counter of requests, tokens and cost (in micro-dollars, integers, so sums are exact)
in a fixed window of its period. :meth:`reserve` checks every counter against its limit
and adds the call's upper-bound estimate to all of them in one step (no ``await`` in
between in memory; one Lua script in Redis), so concurrent calls cannot all see the same
room. :meth:`settle` replaces the estimate by what the call really used.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mloop.genai.gateway.config import Limit
from mloop.genai.gateway.errors import RateLimited

__all__ = [
    "Counter",
    "Limiter",
    "MemoryLimiter",
    "RedisLimiter",
    "Reservation",
    "counters_for",
    "estimate_input_tokens",
]

MICRO = 1_000_000


def estimate_input_tokens(messages: Sequence[dict[str, Any]]) -> int:
    """An upper bound of the prompt's tokens: its UTF-8 bytes plus a few per message.

    Byte-level tokenizers never make more tokens than bytes, so a reservation built on this
    can only be too large (and is settled down afterwards), never too small.
    """
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            total += len(content.encode())
        elif content is not None:
            total += len(str(content).encode())
        total += 8
    return total + 3


@dataclass(frozen=True)
class Counter:
    """One limit applied to one subject in one window."""

    limit: Limit
    subject: str  # the key id, user, workspace or route counted
    window: int  # index of the period window

    @property
    def key(self) -> str:
        return f"{self.limit.scope}:{self.subject}:{self.limit.period}:{self.window}"

    def caps(self) -> tuple[int, int, int]:
        """(requests, tokens, micro-dollars) allowed; -1 where unlimited."""
        lim = self.limit
        return (
            -1 if lim.requests is None else lim.requests,
            -1 if lim.tokens is None else lim.tokens,
            -1 if lim.cost is None else math.floor(lim.cost * MICRO),
        )

    def retry_after(self, now: float) -> float:
        return (self.window + 1) * self.limit.seconds - now


def counters_for(limits: Sequence[Limit], subjects: dict[str, str], now: float) -> list[Counter]:
    """The counters of the limits that apply to a call whose subjects are ``subjects``."""
    out = []
    for limit in limits:
        subject = subjects.get(limit.scope, "")
        if limit.key == "*" or limit.key == subject:
            out.append(Counter(limit, subject, int(now // limit.seconds)))
    return out


@dataclass
class Reservation:
    counters: list[Counter]
    tokens: int
    micro_cost: int


def _refusal(counter: Counter, what: str, used: int, asked: int, now: float) -> RateLimited:
    lim = counter.limit
    if what == "cost":
        amounts = (
            f"{used / MICRO:.6g} of {lim.cost:.6g} USD used, this call may cost {asked / MICRO:.6g}"
        )
    else:
        cap = lim.requests if what == "requests" else lim.tokens
        amounts = f"{used} of {cap} {what} used, this call needs up to {asked}"
    wait = counter.retry_after(now)
    return RateLimited(
        f"Limit {lim.name} reached for {lim.scope} {counter.subject!r}: {amounts} "
        f"per {lim.period}. Retry in {wait:.0f} s, or ask an admin to raise the limit.",
        limit=lim.name,
        retry_after=wait,
    )


class Limiter(Protocol):
    async def reserve(self, counters: list[Counter], tokens: int, cost: float) -> Reservation: ...

    async def settle(self, reservation: Reservation, tokens: int, cost: float) -> None: ...

    async def ausage(self, counter: Counter) -> tuple[int, int, int]: ...


class MemoryLimiter:
    """Counters in this process (one worker). Use :class:`RedisLimiter` for several."""

    def __init__(self) -> None:
        self._counts: dict[str, list[int]] = {}
        self._windows: dict[str, tuple[int, str]] = {}  # counter key without window -> current

    def _slot(self, counter: Counter) -> list[int]:
        base = counter.key.rsplit(":", 1)[0]
        current = self._windows.get(base)
        if current is None or current[0] != counter.window:
            if current is not None and current[0] < counter.window:
                self._counts.pop(current[1], None)  # an old window: memory stays bounded
            self._windows[base] = (counter.window, counter.key)
        return self._counts.setdefault(counter.key, [0, 0, 0])

    async def reserve(self, counters: list[Counter], tokens: int, cost: float) -> Reservation:
        micro = math.ceil(cost * MICRO)
        asked = (1, tokens, micro)
        now = time.time()
        slots = [self._slot(c) for c in counters]
        for counter, slot in zip(counters, slots, strict=True):
            for i, what in enumerate(("requests", "tokens", "cost")):
                cap = counter.caps()[i]
                if cap >= 0 and slot[i] + asked[i] > cap:
                    raise _refusal(counter, what, slot[i], asked[i], now)
        for slot in slots:
            slot[0] += 1
            slot[1] += tokens
            slot[2] += micro
        return Reservation(counters, tokens, micro)

    async def settle(self, reservation: Reservation, tokens: int, cost: float) -> None:
        micro = math.ceil(cost * MICRO)
        for counter in reservation.counters:
            slot = self._counts.get(counter.key)
            if slot is not None:
                slot[1] += tokens - reservation.tokens
                slot[2] += micro - reservation.micro_cost

    def seed(self, counter: Counter, requests: int, tokens: int, micro_cost: int) -> None:
        """Start ``counter`` at what was already spent in its window (after a restart)."""
        slot = self._slot(counter)
        slot[0], slot[1], slot[2] = (
            max(slot[0], requests),
            max(slot[1], tokens),
            max(slot[2], micro_cost),
        )

    async def ausage(self, counter: Counter) -> tuple[int, int, int]:
        """(requests, tokens, micro-dollars) counted so far in ``counter``'s window."""
        slot = self._counts.get(counter.key, [0, 0, 0])
        return slot[0], slot[1], slot[2]


# KEYS: one hash per counter. ARGV: tokens, micro, then (req cap, token cap, micro cap, ttl)
# per key. Returns {0} when reserved, else {index of the key (1-based), field, used}.
_RESERVE = """
local fields = {'r', 't', 'c'}
local asked = {1, tonumber(ARGV[1]), tonumber(ARGV[2])}
for i, key in ipairs(KEYS) do
  local used = redis.call('HMGET', key, 'r', 't', 'c')
  for f = 1, 3 do
    local cap = tonumber(ARGV[2 + (i - 1) * 4 + f])
    local u = tonumber(used[f] or '0')
    if cap >= 0 and u + asked[f] > cap then return {i, f, u} end
  end
end
for i, key in ipairs(KEYS) do
  for f = 1, 3 do redis.call('HINCRBY', key, fields[f], asked[f]) end
  redis.call('EXPIRE', key, tonumber(ARGV[2 + (i - 1) * 4 + 4]))
end
return {0}
"""


class RedisLimiter:
    """Counters in Redis, shared by every gateway process; one Lua script reserves."""

    def __init__(self, url: str, prefix: str = "mloop:gw:limit:") -> None:
        import redis.asyncio as redis_asyncio

        # a blocking pool: a burst waits for a connection instead of failing
        pool = redis_asyncio.BlockingConnectionPool.from_url(url, max_connections=64, timeout=10)
        self._redis: Any = redis_asyncio.Redis(connection_pool=pool)
        self._prefix = prefix
        self._script = self._redis.register_script(_RESERVE)

    async def reserve(self, counters: list[Counter], tokens: int, cost: float) -> Reservation:
        micro = math.ceil(cost * MICRO)
        if not counters:
            return Reservation(counters, tokens, micro)
        args: list[int] = [tokens, micro]
        for counter in counters:
            args.extend([*counter.caps(), counter.limit.seconds * 2])
        result = await self._script(keys=[self._prefix + c.key for c in counters], args=args)
        if int(result[0]) != 0:
            counter = counters[int(result[0]) - 1]
            what = ("requests", "tokens", "cost")[int(result[1]) - 1]
            asked = (1, tokens, micro)[int(result[1]) - 1]
            raise _refusal(counter, what, int(result[2]), asked, time.time())
        return Reservation(counters, tokens, micro)

    async def settle(self, reservation: Reservation, tokens: int, cost: float) -> None:
        micro = math.ceil(cost * MICRO)
        if not reservation.counters:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for counter in reservation.counters:
                pipe.hincrby(self._prefix + counter.key, "t", tokens - reservation.tokens)
                pipe.hincrby(self._prefix + counter.key, "c", micro - reservation.micro_cost)
            await pipe.execute()

    async def ausage(self, counter: Counter) -> tuple[int, int, int]:
        raw = await self._redis.hmget(self._prefix + counter.key, "r", "t", "c")
        return tuple(int(v or 0) for v in raw)  # type: ignore[return-value]

    async def aclose(self) -> None:
        await self._redis.aclose(close_connection_pool=True)
