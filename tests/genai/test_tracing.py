"""Tracing: spans with the GenAI conventions, stored behind the caller, searchable, redacted."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

import mloop.genai as genai
import mloop.genai.tracing.writer as writer_module
from mloop.core.errors import InvalidInput
from mloop.core.principal import Principal, acting_as
from mloop.genai.tracing.writer import BatchWriter, writer


def _call(**overrides: object) -> str:
    now = time.time_ns()
    values: dict[str, object] = {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "route": "chat",
        "user": "ada",
        "input_tokens": 12,
        "output_tokens": 5,
        "cost": 0.0002,
        "start_ns": now - 40_000_000,
        "end_ns": now,
    }
    values.update(overrides)
    return genai.record_llm_call(**values)  # type: ignore[arg-type]


def test_an_llm_call_is_stored_with_the_genai_conventions() -> None:
    trace_id = _call(response_model="gpt-4o-mini-2024", finish_reasons=["stop"])
    [stored] = genai.search_traces(trace_id=trace_id)
    assert stored.name == "chat gpt-4o-mini" and stored.kind == "llm"
    assert (stored.operation, stored.provider, stored.model) == ("chat", "openai", "gpt-4o-mini")
    assert (stored.input_tokens, stored.output_tokens, stored.cost) == (12, 5, 0.0002)
    assert stored.latency_ms == pytest.approx(40.0)
    assert stored.status == "ok" and stored.source == "mloop"
    attributes = stored.attributes
    assert attributes["gen_ai.usage.input_tokens"] == 12
    assert attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert "gen_ai.input.messages" not in attributes  # content is opt-in


def test_search_filters_by_route_user_status_latency_cost_and_prompt(db_url: str) -> None:
    _call(route="chat", user="ada", cost=0.001)
    _call(route="chat", user="bob", error="RateLimitError", start_ns=time.time_ns() - 900_000_000)
    _call(route="embed", user="ada", operation="embeddings", model="minilm", cost=None)
    _call(route="chat", user="ada", prompt="qa@3")
    assert len(genai.search_traces(route="chat")) == 3
    assert [s.user for s in genai.search_traces(status="error")] == ["bob"]
    assert genai.search_traces(status="error")[0].error == "RateLimitError"
    assert [s.user for s in genai.search_traces(min_latency_ms=500)] == ["bob"]
    assert [s.cost for s in genai.search_traces(min_cost=0.0005)] == [0.001]
    [embedding] = genai.search_traces(route="embed")
    assert embedding.kind == "embedding" and embedding.operation == "embeddings"
    assert [s.prompt_version for s in genai.search_traces(prompt="qa@3")] == [3]
    assert genai.search_traces(prompt="qa/4") == []
    assert len(genai.search_traces(prompt="qa")) == 1
    assert len(genai.search_traces(user="ada", limit=2)) == 2
    with pytest.raises(InvalidInput, match="status = 'failed'"):
        genai.search_traces(status="failed")
    with pytest.raises(InvalidInput, match="use 'name', 'name@3'"):
        genai.search_traces(prompt="qa@prod")


def test_decorated_functions_and_spans_nest_and_record_failures(db_url: str) -> None:
    @genai.trace(kind="retrieval")
    def retrieve(query: str) -> list[str]:
        return ["doc-1", "doc-2"]

    @genai.trace
    def answer(question: str) -> str:
        docs = retrieve(question)
        with genai.span("generate", kind="llm"):
            _call()
        return f"{len(docs)} docs"

    @genai.trace(name="broken-tool", kind="tool")
    def broken() -> None:
        raise ValueError("tool exploded")

    assert answer("why?") == "2 docs"
    with pytest.raises(ValueError, match="tool exploded"):
        broken()
    spans = {s.name: s for s in genai.search_traces()}
    root = spans["test_decorated_functions_and_spans_nest_and_record_failures.<locals>.answer"]
    assert root.parent_span_id is None and root.kind == "chain"
    assert (
        spans[
            "test_decorated_functions_and_spans_nest_and_record_failures.<locals>.retrieve"
        ].parent_span_id
        == root.span_id
    )
    assert spans["generate"].parent_span_id == root.span_id
    assert spans["chat gpt-4o-mini"].parent_span_id == spans["generate"].span_id
    assert len({s.trace_id for s in spans.values() if s.name != "broken-tool"}) == 1
    failed = spans["broken-tool"]
    assert failed.status == "error" and "tool exploded" in (failed.error or "")
    assert failed.kind == "tool" and failed.operation == "execute_tool"


def test_async_functions_are_traced() -> None:
    @genai.trace(kind="agent", capture=True)
    async def plan(goal: str) -> str:
        await asyncio.sleep(0)
        return goal.upper()

    assert asyncio.run(plan("ship")) == "SHIP"
    [stored] = genai.search_traces(kind="agent")
    assert json.loads(stored.attributes["mloop.inputs"]) == {"goal": "ship"}
    assert json.loads(stored.attributes["mloop.output"]) == "SHIP"


def test_the_rendered_prompt_version_is_recorded_on_the_span_and_the_call() -> None:
    genai.register_prompt("qa", "Q: {{ q }}")
    qa = genai.register_prompt("qa", "Question: {{ q }}")
    with genai.span("answer"):
        qa.render(q="why?")
        trace_id = _call()
    stored = {s.name: s for s in genai.search_traces(trace_id=trace_id)}
    assert (stored["answer"].prompt_name, stored["answer"].prompt_version) == ("qa", 2)
    assert (stored["chat gpt-4o-mini"].prompt_name, stored["chat gpt-4o-mini"].prompt_version) == (
        "qa",
        2,
    )
    other = _call()  # outside the span: the prompt is not carried over
    assert genai.search_traces(trace_id=other)[0].prompt_name is None
    qa.render(q="outside any span")
    alone = _call()
    assert genai.search_traces(trace_id=alone)[0].prompt_name is None


def test_captured_content_is_pii_redacted_before_storage_unless_allowed() -> None:
    messages = [{"role": "user", "content": "I am jane.doe@example.com, card 4111 1111 1111 1111"}]
    redacted = _call(messages=messages, output="Noted, jane.doe@example.com", capture_content=True)
    allowed = _call(
        messages=messages, output="ok", capture_content=True, allow_pii=True, route="internal"
    )
    stored = genai.search_traces(trace_id=redacted)[0].attributes
    inputs = json.loads(stored["gen_ai.input.messages"])
    assert inputs == [
        {
            "role": "user",
            "parts": [{"type": "text", "content": "I am <EMAIL_ADDRESS>, card <CREDIT_CARD>"}],
        }
    ]
    assert "<EMAIL_ADDRESS>" in stored["gen_ai.output.messages"]
    kept = genai.search_traces(trace_id=allowed)[0].attributes
    assert "jane.doe@example.com" in kept["gen_ai.input.messages"]


def test_content_capture_follows_the_otel_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    trace_id = _call(messages=[{"role": "user", "content": "hello"}])
    assert "hello" in genai.search_traces(trace_id=trace_id)[0].attributes["gen_ai.input.messages"]


def test_user_defaults_to_the_acting_principal() -> None:
    with acting_as(Principal("carol")):
        trace_id = _call(user=None)
    assert genai.search_traces(trace_id=trace_id)[0].user == "carol"


def test_recording_never_touches_the_database_on_the_callers_path() -> None:
    def down() -> None:
        raise AssertionError("the caller's path reached the store")

    timings = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer_module, "get_store", down)
        patch.setattr(writer, "interval", 3600.0)  # keep the thread from flushing meanwhile
        for _ in range(300):
            started = time.perf_counter()
            _call()
            timings.append(time.perf_counter() - started)
    timings.sort()
    # tens of microseconds each; the bound is loose for a loaded 2-core host
    assert timings[len(timings) // 2] < 0.002
    assert writer.flush() == 300
    assert len(genai.search_traces(route="chat", limit=1000)) == 300


def test_a_full_queue_drops_the_oldest_spans_and_counts_them() -> None:
    small = BatchWriter(max_queue=3, interval=3600.0)
    for i in range(5):
        small.put_span({"span_id": i})
    assert small.dropped == 2
    assert [row["span_id"] for row in small._spans] == [2, 3, 4]


def test_an_unknown_span_kind_is_refused() -> None:
    with pytest.raises(InvalidInput, match="span kind 'llama' is not known"):
        genai.trace(kind="llama")
    with pytest.raises(InvalidInput, match="prompt = 'qa'"):
        _call(prompt="qa")


def test_a_failed_write_keeps_the_spans_for_the_next_attempt() -> None:
    def down() -> None:
        raise ConnectionError("database restarting")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "interval", 3600.0)
        for _ in range(5):
            _call(route="retry")
        patch.setattr(writer_module, "get_store", down)
        with pytest.raises(ConnectionError):
            writer.flush()
    assert writer.flush() == 5
    assert len(genai.search_traces(route="retry")) == 5
