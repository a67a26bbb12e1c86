"""The numpy HyperLogLog: estimates within its stated error, merges as a union."""

from __future__ import annotations

import numpy as np
import pytest

from mloop.data._hll import HyperLogLog


@pytest.mark.parametrize("distinct", [0, 1, 7, 300, 5_000, 60_000, 400_000])
def test_estimate_is_within_three_standard_errors(distinct: int) -> None:
    rng = np.random.default_rng(distinct)
    values = rng.normal(size=distinct)
    sketch = HyperLogLog()
    sketch.update_numbers(np.concatenate([values, values[: distinct // 2]]))  # repeats do not count
    tolerance = 3 * sketch.relative_error * max(distinct, 1)
    assert abs(sketch.estimate() - distinct) <= max(tolerance, 0.5)


def test_small_counts_are_nearly_exact() -> None:
    sketch = HyperLogLog()
    sketch.update_strings(np.array(["a", "b", "c", "a"], dtype=object))
    assert round(sketch.estimate()) == 3


def test_merge_equals_the_sketch_of_the_union() -> None:
    rng = np.random.default_rng(1)
    values = rng.integers(0, 1_000_000, 200_000).astype(float)
    left, right, whole = HyperLogLog(), HyperLogLog(), HyperLogLog()
    left.update_numbers(values[:120_000])
    right.update_numbers(values[80_000:])
    whole.update_numbers(values)
    assert np.array_equal(left.merge(right).registers, whole.registers)


def test_serialised_sketch_gives_the_same_estimate() -> None:
    sketch = HyperLogLog()
    sketch.update_numbers(np.arange(10_000, dtype=float))
    again = HyperLogLog.from_dict(sketch.to_dict())
    assert again.estimate() == sketch.estimate()
    assert len(sketch.to_dict()["registers"]) < 6000


def test_integers_and_equal_floats_hash_alike() -> None:
    a, b = HyperLogLog(), HyperLogLog()
    a.update_numbers(np.array([1, 2, 3]))
    b.update_numbers(np.array([1.0, 2.0, 3.0, -0.0, 0.0]))
    assert round(b.estimate()) == 4
    assert np.array_equal(a.registers, np.minimum(a.registers, b.registers))
