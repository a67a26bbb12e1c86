"""Load for the gateway benchmarks: ``wrk`` posting one chat completion body.

``wrk(url, connections, seconds)`` sends back to back; ``paced(url, rate, seconds)`` spreads
requests at about ``rate`` per second (each connection waits a random whole number of
milliseconds between requests, like independent clients). Both return requests/s and
latency percentiles in ms, and count failures (non-2xx, connect, read, timeout).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import Any

_LUA = """
wrk.method = "POST"
wrk.body = [[%(body)s]]
wrk.headers["Content-Type"] = "application/json"
%(auth)s
%(delay)s
reported = false
response = function(status, headers, body)
  if status > 299 and not reported then
    reported = true
    io.write("ERROR " .. status .. " " .. string.sub(body, 1, 300) .. "\\n")
  end
end
done = function(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "non2xx": %%d, "connect": %%d, "read": %%d, '
    .. '"write": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def chat_body(model: str) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "max_tokens": 16,
    }


def wrk(
    url: str,
    body: dict[str, Any],
    connections: int,
    seconds: float,
    wait_ms: float | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    most = round(2 * wait_ms) if wait_ms else 0
    script_text = _LUA % {
        "body": json.dumps(body),
        "auth": f'wrk.headers["Authorization"] = "Bearer {token}"' if token else "",
        "delay": f"function delay() return math.random(0, {most}) end" if most else "",
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(script_text)
    try:
        completed = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 120,
        )
    finally:
        os.unlink(script.name)
    for error in (x for x in completed.stdout.splitlines() if x.startswith("ERROR ")):
        print(f"  {url}: first failed answer: {error[6:]}", flush=True)
    line = next(x for x in completed.stdout.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line[len("RESULT ") :])
    failures = raw["non2xx"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "connections": connections,
        "requests": raw["requests"],
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 3),
        "p90_ms": round(raw["p90_us"] / 1000, 3),
        "p99_ms": round(raw["p99_us"] / 1000, 3),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "failed": failures,
        "wait_ms": most / 2 if most else None,
    }


def paced(
    url: str, body: dict[str, Any], rate: float, seconds: float, token: str | None = None
) -> dict[str, Any]:
    """About ``rate`` requests/s: connections x 1000 / (mean wait + latency) = rate.

    The number of connections makes a cycle of ~20 ms at the target; the mean wait is
    corrected from the measured rate, up to three runs, and the closest run is kept.
    """
    connections = max(2, round(rate * 0.02))
    cycle = connections * 1000 / rate
    wait, best, tried = max(0.5, cycle - 1), None, set()
    while round(wait * 2) not in tried and len(tried) < 3:
        tried.add(round(wait * 2))
        run = wrk(url, body, connections, seconds, wait, token)
        if best is None or abs(run["rps"] - rate) < abs(best["rps"] - rate):
            best = run
        if abs(run["rps"] - rate) / rate < 0.05 or run["rps"] == 0:
            break
        wait = max(0.5, wait + cycle - connections * 1000 / run["rps"])
    assert best is not None
    best["target_rps"] = rate
    return best
