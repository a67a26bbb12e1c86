"""Spans and hit counts are written behind: each test starts and ends with an empty queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mloop.genai.tracing.writer import writer


@pytest.fixture(autouse=True)
def empty_trace_queue(mloop_home: object) -> Iterator[None]:
    writer.clear()
    yield
    writer.clear()
