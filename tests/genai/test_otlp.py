"""OTLP/HTTP ingest: the real OpenTelemetry exporter sends spans to the route, JSON works too."""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import Depends, FastAPI
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

import mloop.genai as genai
from mloop.genai.tracing import reset_tracer_provider


@contextlib.contextmanager
def _serve(app: FastAPI) -> Iterator[str]:
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def ingest_server() -> Iterator[tuple[str, list[int]]]:
    calls: list[int] = []

    def count() -> None:  # stands for the server's authentication dependency
        calls.append(1)

    app = FastAPI()
    app.include_router(genai.create_tracing_router(dependencies=[Depends(count)]))
    with _serve(app) as url:
        yield url, calls


def _application_provider(url: str, compression: Compression) -> TracerProvider:
    """An application instrumented with plain OpenTelemetry, exporting to mloop."""
    provider = TracerProvider(resource=Resource.create({"service.name": "rag-app"}))
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", compression=compression)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_spans_from_the_otel_exporter_are_stored_and_searchable(
    ingest_server: tuple[str, list[int]], compression: Compression
) -> None:
    url, calls = ingest_server
    provider = _application_provider(url, compression)
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("rag-request") as root:
        root.set_attribute("mloop.route", "support")
        with tracer.start_as_current_span("chat llama-3") as call:
            call.set_attribute("gen_ai.operation.name", "chat")
            call.set_attribute("gen_ai.provider.name", "ollama")
            call.set_attribute("gen_ai.request.model", "llama-3")
            call.set_attribute("gen_ai.usage.input_tokens", 31)
            call.set_attribute("gen_ai.usage.output_tokens", 7)
            call.set_attribute("mloop.route", "support")
            call.set_attribute(
                "gen_ai.input.messages", '[{"role":"user","content":"I am ada@example.com"}]'
            )
            call.set_status(Status(StatusCode.ERROR, "upstream 500"))
        trace_id = f"{root.get_span_context().trace_id:032x}"
    provider.shutdown()
    assert len(calls) == 2  # one export per span, each through the dependency
    spans = {s.name: s for s in genai.search_traces(trace_id=trace_id)}
    assert set(spans) == {"rag-request", "chat llama-3"}
    call_span = spans["chat llama-3"]
    assert call_span.source == "otlp" and call_span.service == "rag-app"
    assert (call_span.kind, call_span.provider, call_span.model) == ("llm", "ollama", "llama-3")
    assert (call_span.input_tokens, call_span.output_tokens) == (31, 7)
    assert call_span.status == "error" and call_span.error == "upstream 500"
    assert call_span.parent_span_id == spans["rag-request"].span_id
    assert "<EMAIL_ADDRESS>" in call_span.attributes["gen_ai.input.messages"]  # redacted on ingest
    assert [s.name for s in genai.search_traces(route="support", status="error")] == [
        "chat llama-3"
    ]


def test_otlp_json_is_accepted_with_hex_ids(ingest_server: tuple[str, list[int]]) -> None:
    url, _ = ingest_server
    now = time.time_ns()
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "js-app"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "embeddings minilm",
                                "kind": 3,
                                "startTimeUnixNano": str(now - 2_000_000),
                                "endTimeUnixNano": str(now),
                                "attributes": [
                                    {
                                        "key": "gen_ai.operation.name",
                                        "value": {"stringValue": "embeddings"},
                                    },
                                    {
                                        "key": "gen_ai.usage.input_tokens",
                                        "value": {"intValue": "9"},
                                    },
                                    {"key": "mloop.cost", "value": {"doubleValue": 0.5}},
                                ],
                                "status": {},
                            }
                        ]
                    }
                ],
            }
        ]
    }
    response = httpx.post(f"{url}/v1/traces", json=body)
    assert response.status_code == 200 and response.json() == {}
    [stored] = genai.search_traces(trace_id="5b8efff798038103d269b633813fc60c")
    assert (stored.span_id, stored.kind, stored.input_tokens, stored.cost) == (
        "eee19b7ec3c1b174",
        "embedding",
        9,
        0.5,
    )
    assert stored.latency_ms == pytest.approx(2.0) and stored.service == "js-app"


def test_malformed_bodies_get_4xx_with_the_reason(ingest_server: tuple[str, list[int]]) -> None:
    url, _ = ingest_server
    garbage = httpx.post(
        f"{url}/v1/traces",
        content=b"\xff\x00junk",
        headers={"content-type": "application/x-protobuf"},
    )
    assert garbage.status_code == 400
    bad_json = httpx.post(
        f"{url}/v1/traces", content=b"[1, 2]", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400 and "resourceSpans" in bad_json.json()["message"]
    bad_id = httpx.post(
        f"{url}/v1/traces",
        json={"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "01"}]}]}]},
    )
    assert bad_id.status_code == 400 and "not hex" in bad_id.json()["message"]
    text = httpx.post(f"{url}/v1/traces", content=b"hi", headers={"content-type": "text/plain"})
    assert text.status_code == 415 and "application/x-protobuf" in text.json()["message"]
    broken_gzip = httpx.post(
        f"{url}/v1/traces",
        content=b"not gzip",
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert broken_gzip.status_code == 400
    ok_gzip = httpx.post(
        f"{url}/v1/traces",
        content=gzip.compress(json.dumps({"resourceSpans": []}).encode()),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert ok_gzip.status_code == 200
    bomb = gzip.compress(b"\0" * (40 * 1024 * 1024))  # 40 MB of zeros in about 40 kB
    too_big = httpx.post(
        f"{url}/v1/traces",
        content=bomb,
        headers={"content-type": "application/x-protobuf", "content-encoding": "gzip"},
    )
    assert too_big.status_code == 413 and b"limit" in too_big.content


def test_mloop_spans_are_exported_over_otlp_when_the_endpoint_is_set(
    ingest_server: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, calls = ingest_server
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "600000")  # export at shutdown only
    reset_tracer_provider()
    try:
        genai.record_llm_call(
            provider="openai",
            model="gpt-4o-mini",
            route="chat",
            messages=[{"role": "user", "content": "bill card 4111 1111 1111 1111"}],
            capture_content=True,
        )
        genai.flush_traces()  # mloop's own copy is stored first
        genai.search_traces(route="chat")  # (and found)
        from mloop.store import get_store
        from mloop.store.schema.genai import Span

        with get_store().write() as conn:  # forget it, to see what the export delivers
            conn.execute(Span.__table__.delete())
    finally:
        reset_tracer_provider()  # shutting down exports what is pending
    assert len(calls) == 1
    [exported] = genai.search_traces(route="chat")
    assert exported.model == "gpt-4o-mini" and exported.source == "otlp"
    content = exported.attributes["gen_ai.input.messages"]
    assert "<CREDIT_CARD>" in content and "4111" not in content
