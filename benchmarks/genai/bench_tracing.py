"""Tracing and guardrail costs: mloop against MLflow's tracing, in one run.

Measures, per call, what tracing adds on the caller's path (p50/p99/mean µs) for a
decorated no-op function and for one recorded LLM call, then how long until every span
is stored (write-behind flush). The same for MLflow 3 (its own venv, SQLite store).
Also the cost per message of the guardrails: Presidio PII detection with mloop's
configuration and with all of Presidio's pattern recognizers, and the injection patterns.

    python benchmarks/genai/bench_tracing.py --calls 2000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peer_env import peer_python, run_peer, save

HERE = Path(__file__).resolve().parent
MLFLOW = ["mlflow==3.*"]  # the pin of the other MLflow benchmarks (one venv)

MESSAGES_WITH_PII = [
    "Hi, I'm Jane, reach me at jane.doe@example.com or +1 415-555-0132.",
    "Please refund card 4111 1111 1111 1111, the charge was wrong.",
    "Wire it to GB82 WEST 1234 5698 7654 32 by Friday.",
    "Our VPN gateway 10.20.30.40 keeps dropping since Monday.",
]
MESSAGES_CLEAN = [
    "Summarise the causes of the French revolution in three sentences.",
    "Write a haiku about autumn leaves falling on a quiet pond.",
    "What is the difference between a list and a tuple in Python?",
    "Explain how a transformer's attention works to a new engineer, briefly.",
]


def _timed(function: Callable[[int], Any], calls: int) -> tuple[list[int], float]:
    timings = []
    started = time.perf_counter()
    for i in range(calls):
        t0 = time.perf_counter_ns()
        function(i)
        timings.append(time.perf_counter_ns() - t0)
    return timings, time.perf_counter() - started


def _summary(timings: list[int]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "p50_us": ordered[len(ordered) // 2] / 1000,
        "p99_us": ordered[int(len(ordered) * 0.99)] / 1000,
        "mean_us": statistics.fmean(ordered) / 1000,
    }


def bench_mloop_tracing(calls: int) -> dict[str, Any]:
    import mloop.genai as genai
    from mloop.genai.tracing.writer import writer

    @genai.trace
    def answer(question: str) -> str:
        return question

    def llm_call(i: int) -> None:
        genai.record_llm_call(
            provider="openai",
            model="gpt-4o-mini",
            route="chat",
            user=f"user-{i % 10}",
            input_tokens=12,
            output_tokens=5,
            cost=0.0001,
        )

    def plain(question: str) -> str:
        return question

    for i in range(50):  # warm-up
        answer(str(i))
    writer.flush()
    figures: dict[str, Any] = {"calls": calls}
    baseline, _ = _timed(lambda i: plain(str(i)), calls)
    figures["untraced_noop"] = _summary(baseline)
    for name, function in (("decorated_noop", lambda i: answer(str(i))), ("llm_span", llm_call)):
        started = time.perf_counter()
        timings, calls_s = _timed(function, calls)
        writer.flush()
        stored_s = time.perf_counter() - started
        figures[name] = {
            **_summary(timings),
            "calls_s": calls_s,
            "stored_s": stored_s,
            "stored_per_s": calls / stored_s,
        }
    figures["spans_found"] = len(genai.search_traces(limit=100_000))
    figures["dropped"] = writer.dropped
    return figures


def bench_guardrails(rounds: int) -> dict[str, Any]:
    from mloop.genai import pii
    from mloop.genai.guardrails import find_injection

    started = time.perf_counter()
    pii.warm_up()
    load_s = time.perf_counter() - started
    all_patterns = pii._pattern_entities()
    figures: dict[str, Any] = {"analyzer_load_s": load_s, "rounds": rounds}
    for label, texts in (("with_pii", MESSAGES_WITH_PII), ("clean", MESSAGES_CLEAN)):
        for config, entities in (
            ("mloop_default", pii.DEFAULT_ENTITIES),
            ("all_patterns", all_patterns),
        ):
            timings, _ = _timed(lambda i, t=texts, e=entities: pii.redact(t[i % len(t)], e), rounds)
            figures[f"pii_{config}_{label}"] = _summary(timings)
        timings, _ = _timed(lambda i, t=texts: find_injection(t[i % len(t)]), rounds * 10)
        figures[f"injection_{label}"] = _summary(timings)
    return figures


def bench(args: argparse.Namespace) -> dict[str, Any]:
    home = tempfile.mkdtemp(prefix="mloop-genai-bench-")
    os.environ["MLOOP_HOME"] = home
    figures: dict[str, Any] = {"host": "2 cores shared with other engineers' jobs (loaded)"}
    figures["mloop"] = bench_mloop_tracing(args.calls)
    if not args.no_peers:
        python = peer_python("mlflow", MLFLOW)
        figures["mlflow"] = run_peer(
            python, HERE / "peer_mlflow_tracing.py", ["--calls", str(args.calls)]
        )
        for case in ("decorated_noop", "llm_span"):
            ours, theirs = figures["mloop"][case], figures["mlflow"][case]
            figures[f"ratio_{case}"] = {
                "caller_p50": theirs["p50_us"] / ours["p50_us"],
                "caller_p99": theirs["p99_us"] / ours["p99_us"],
                "stored_throughput": ours["stored_per_s"] / theirs["stored_per_s"],
            }
    figures["guardrails"] = bench_guardrails(args.rounds)
    if args.save:
        save("genai_tracing", figures)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=400, help="messages per PII measurement")
    parser.add_argument("--no-peers", action="store_true", help="skip MLflow (smoke tests)")
    parser.add_argument("--no-save", dest="save", action="store_false")
    return bench(parser.parse_args(argv))


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
