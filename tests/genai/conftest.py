"""Fake upstreams for the gateway; spans and hit counts are written behind, so each test
starts and ends with an empty queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mloop.genai.gateway.hooks import register_guardrail_factory
from mloop.genai.tracing.writer import writer
from tests.genai.upstream import FakeUpstream


@pytest.fixture(autouse=True)
def empty_trace_queue(mloop_home: object) -> Iterator[None]:
    writer.clear()
    yield
    writer.clear()


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    server = FakeUpstream("primary").start()
    yield server
    server.stop()


@pytest.fixture
def backup() -> Iterator[FakeUpstream]:
    server = FakeUpstream("backup").start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_guardrail_factory() -> Iterator[None]:
    yield
    register_guardrail_factory(None)
