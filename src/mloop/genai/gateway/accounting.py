"""Cost and token accounting on every call: totals in memory, a ledger in the metadata store.

:class:`UsageLedger` is an ``on_complete`` hook. It adds each call to totals per route,
deployment, user and workspace (read with :meth:`UsageLedger.totals`), and appends one row
per call to the ``gateway_usage`` table in batches from a background thread (write-behind:
the event loop never waits on the database). :func:`spent` sums the ledger, e.g. to seed a
limiter's counters after a restart.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, insert, select

from mloop.core.log import get_logger
from mloop.genai.gateway.hooks import CallContext, Outcome
from mloop.genai.gateway.limits import MICRO
from mloop.store.db import MetadataStore
from mloop.store.schema.gateway import GatewayUsage

__all__ = ["Totals", "UsageLedger", "spent", "spent_by"]

_SCOPE_COLUMN = {"key": "key_id", "user": "user", "workspace": "workspace", "route": "route"}

_log = get_logger("mloop.genai.gateway")
_TABLE: Table = GatewayUsage.__table__  # type: ignore[assignment]


@dataclass
class Totals:
    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0


def _row(call: CallContext, outcome: Outcome) -> dict[str, Any]:
    return {
        "at": int(time.time() * 1000),
        "route": call.route,
        "served_route": call.served_route or call.route,
        "deployment": call.deployment,
        "provider": call.provider,
        "model": call.model,
        "user": call.principal.name,
        "workspace": call.principal.workspace,
        "key_id": call.key_id,
        "operation": call.operation,
        "stream": call.stream,
        "cache_hit": outcome.cache_hit,
        "status": outcome.status,
        "http_status": outcome.http_status,
        "input_tokens": outcome.usage.input_tokens,
        "output_tokens": outcome.usage.output_tokens,
        "cost_micro_usd": round(outcome.cost * MICRO),
        "latency_ms": outcome.latency_s * 1000,
        "error": (outcome.error or "")[:2000] or None,
    }


class UsageLedger:
    """An ``on_complete`` hook: totals in memory and (with a store) a ledger of every call."""

    def __init__(
        self, store: MetadataStore | None = None, *, batch: int = 512, every_seconds: float = 1.0
    ) -> None:
        self.store = store
        self._totals: dict[tuple[str, str, str, str], Totals] = defaultdict(Totals)
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._batch = batch
        self._every = every_seconds
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    def on_complete(self, call: CallContext, outcome: Outcome) -> None:
        totals = self._totals[
            (call.route, call.deployment, call.principal.name, call.principal.workspace)
        ]
        totals.calls += 1
        totals.errors += outcome.status != "ok"
        totals.input_tokens += outcome.usage.input_tokens
        totals.output_tokens += outcome.usage.output_tokens
        totals.cost += outcome.cost
        if self.store is None:
            return
        with self._lock:
            self._pending.append(_row(call, outcome))
            full = len(self._pending) >= self._batch
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="gateway-ledger", daemon=True)
            self._thread.start()
        if full:
            self._wake.set()

    def totals(self, **where: str) -> Totals:
        """Totals of the calls matching ``route=``, ``deployment=``, ``user=``, ``workspace=``."""
        names = ("route", "deployment", "user", "workspace")
        out = Totals()
        for key, t in list(self._totals.items()):
            if all(key[names.index(k)] == v for k, v in where.items()):
                out.calls += t.calls
                out.errors += t.errors
                out.input_tokens += t.input_tokens
                out.output_tokens += t.output_tokens
                out.cost += t.cost
        return out

    def flush(self) -> int:
        """Write the pending rows now; returns how many."""
        with self._lock:
            rows, self._pending = self._pending, []
        if rows and self.store is not None:
            try:
                with self.store.write() as conn:
                    conn.execute(insert(_TABLE), rows)
            except Exception:
                _log.exception(
                    "gateway: writing %d usage rows failed; they are kept for the next try",
                    len(rows),
                )
                with self._lock:
                    self._pending[:0] = rows[-100_000:]  # bounded: never grows without end
                return 0
        return len(rows)

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self._every)
            self._wake.clear()
            self.flush()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        self.flush()


def spent(store: MetadataStore, since_ms: int, **where: str) -> tuple[int, int, float]:
    """(calls, tokens, USD) in the ledger since ``since_ms``, for e.g. ``user="ada"``."""
    query = select(
        func.count(),
        func.coalesce(func.sum(_TABLE.c.input_tokens + _TABLE.c.output_tokens), 0),
        func.coalesce(func.sum(_TABLE.c.cost_micro_usd), 0),
    ).where(_TABLE.c.at >= since_ms)
    for name, value in where.items():
        query = query.where(_TABLE.c[name] == value)
    with store.read() as conn:
        calls, tokens, micro = conn.execute(query).one()
    return int(calls), int(tokens), int(micro) / MICRO


def spent_by(store: MetadataStore, scope: str, since_ms: int) -> dict[str, tuple[int, int, int]]:
    """(calls, tokens, micro-dollars) since ``since_ms`` for each key, user, workspace or route."""
    column = _TABLE.c[_SCOPE_COLUMN[scope]]
    query = (
        select(
            column,
            func.count(),
            func.coalesce(func.sum(_TABLE.c.input_tokens + _TABLE.c.output_tokens), 0),
            func.coalesce(func.sum(_TABLE.c.cost_micro_usd), 0),
        )
        .where(_TABLE.c.at >= since_ms)
        .group_by(column)
    )
    with store.read() as conn:
        return {str(k): (int(c), int(t), int(m)) for k, c, t, m in conn.execute(query)}
