"""The node functions both sides of the pipeline benchmark run (plain Python, no mloop)."""

from __future__ import annotations

import time


def start(n: int) -> int:
    return n


def inc(x: int) -> int:
    """A trivial node: all of its cost is the runner's."""
    return x + 1


def busy(seconds: float) -> float:
    """About ``seconds`` of CPU time in pure Python (holds the GIL, so only processes help)."""
    end = time.process_time() + seconds
    total = 0.0
    while time.process_time() < end:
        total += sum(i * i for i in range(2000))
    return total
