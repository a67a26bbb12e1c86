"""MLflow's tracing, measured in its own venv: a traced no-op call and an LLM span.

Prints one JSON object: per-call latency (p50, p99 in µs) while tracing, and the time for
the traces to be stored and found again (MLflow 3, SQLite tracking store).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="mlflow-tracing-")
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "true")
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    # artifacts (trace payloads) in the temporary folder too, not ./mlruns
    mlflow.create_experiment("bench-tracing", artifact_location=f"{folder}/artifacts")
    mlflow.set_experiment("bench-tracing")

    @mlflow.trace
    def answer(question: str) -> str:
        return question

    def llm_call(i: int) -> None:
        with mlflow.start_span(name="chat gpt-4o-mini", span_type="LLM") as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.usage.input_tokens": 12,
                    "gen_ai.usage.output_tokens": 5,
                    "route": "chat",
                    "user": f"user-{i % 10}",
                }
            )

    for i in range(50):  # warm-up
        answer(str(i))
    mlflow.flush_trace_async_logging()
    figures = {"peer": "mlflow", "version": mlflow.__version__, "calls": args.calls}
    for name, function in (("decorated_noop", lambda i: answer(str(i))), ("llm_span", llm_call)):
        timings = []
        started = time.perf_counter()
        for i in range(args.calls):
            t0 = time.perf_counter_ns()
            function(i)
            timings.append(time.perf_counter_ns() - t0)
        calls_done = time.perf_counter()
        mlflow.flush_trace_async_logging(terminate=False)
        stored = time.perf_counter()
        timings.sort()
        figures[name] = {
            "p50_us": timings[len(timings) // 2] / 1000,
            "p99_us": timings[int(len(timings) * 0.99)] / 1000,
            "mean_us": statistics.fmean(timings) / 1000,
            "calls_s": (calls_done - started),
            "stored_s": (stored - started),
            "stored_per_s": args.calls / (stored - started),
        }
    found = mlflow.search_traces(max_results=10_000, return_type="list")
    figures["traces_found"] = len(found)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
