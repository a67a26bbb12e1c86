"""Step 4: the serving graph, served over HTTP by uvicorn in a background thread.

    request (flight: origin, carrier, tailnum, hour, distance...)
      → Enrich: the online features of its origin, carrier and tailnum (``delay_model``)
      → Model("models:/flight-delays@champion"): the alias is polled, new versions hot-swap
      → Action: an alert row for each flight likely to leave 15+ minutes late

The server is mloop's own (:func:`mloop.server.serving.create_app`) on a free local port;
only its clock is the replay's (see :mod:`mloop.demo.clock`).

>>> with DemoServer(graph, clock) as server:
...     httpx.post(f"{server.url}/v1/models/flight-delays/predict", json={"records": [...]})
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.core.errors import StoreUnavailable
from mloop.demo.clock import ClockedFeatures, ClockedLogWriter, ReplayClock
from mloop.demo.scenario import MODEL, SERVICE

if TYPE_CHECKING:
    import pandas as pd

    from mloop.serving import Event, Graph


class AlertLog:
    """The graph's action: one JSON line per likely-late flight (``late-flight-alerts.jsonl``)."""

    def __init__(self, path: Path, clock: ReplayClock) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")
        self.clock = clock
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, rows: pd.DataFrame, event: Event) -> None:
        flights = event.inputs.iloc[rows.index.to_numpy()].reset_index(drop=True)
        versions = event.versions or []
        lines = []
        for i, request_id in enumerate(rows["request_id"]):
            flight = flights.iloc[i]
            lines.append(
                json.dumps(
                    {
                        "request_id": request_id,
                        "flight": str(flight.get("flight", "")),
                        "origin": str(flight.get("origin", "")),
                        "scheduled": str(flight.get("scheduled", "")),
                        "proba": round(float(rows["proba"].iloc[i]), 4),
                        "model_version": versions[int(rows.index[i])] if versions else None,
                    }
                )
            )
        with self._lock:
            with self.path.open("a") as handle:
                handle.write("\n".join(lines) + "\n")
            self.count += len(lines)


def serving_graph(
    features: ClockedFeatures, alerts: AlertLog, threshold: float, poll_seconds: float
) -> Graph:
    """Enrich → champion model (hot-swapped) → alert action."""
    from mloop import serving

    return serving.Graph(
        MODEL,
        [
            serving.Enrich(service=SERVICE, store=features),
            serving.Model(f"models:/{MODEL}@champion", poll_seconds=poll_seconds),
            serving.Action(
                alerts, when=lambda out: out["proba"] >= threshold, name="late-flight-alert"
            ),
        ],
    )


class DemoServer:
    """mloop's model server for ``graph`` on a free local port, in a background thread."""

    def __init__(self, graph: Graph, clock: ReplayClock, host: str = "127.0.0.1") -> None:
        self.graph = graph
        self.clock = clock
        self.host = host
        self.port = 0
        self.writer: ClockedLogWriter | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 120.0) -> DemoServer:
        import socket
        import time

        import uvicorn

        from mloop.server.serving import create_app

        app = create_app(self.graph, drain_seconds=30.0)
        service = app.state.service
        self.writer = ClockedLogWriter(self.clock, flush_rows=20_000, flush_seconds=5.0)
        service.writer = self.writer  # the server's prediction log, stamped at the replay time
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", timeout_graceful_shutdown=30
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name="mloop-demo-server",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise StoreUnavailable(
                    f"the demo's model server did not start on {self.url} within {timeout:.0f} s; "
                    "see the log above (is the champion model loadable?)."
                )
            time.sleep(0.05)
        return self

    def flush(self) -> None:
        """Write the prediction log's pending rows now (before a monitoring window is made)."""
        if self.writer is not None:
            self.writer.flush()

    def stop(self) -> None:
        """Graceful shutdown: queued requests answered, prediction log flushed, thread joined."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        self._server = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
