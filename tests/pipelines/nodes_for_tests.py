"""Node functions of the pipeline tests, at module level so worker processes can import them."""

from __future__ import annotations

import os
import time

import pandas as pd

import mloop


def scale(value: float) -> float:
    return value * 10


def make_frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"x": range(rows), "g": [i % 3 for i in range(rows)]})


def add_feature(frame: pd.DataFrame, factor: float) -> pd.DataFrame:
    return frame.assign(y=frame["x"] * factor + scale(1))


def summarize(frame: pd.DataFrame) -> dict:
    mloop.log_metric("rows", len(frame))
    return {"rows": len(frame), "total": float(frame["y"].sum())}


def group_sums(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby("g", as_index=False)["y"].sum()


def split_even_odd(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return frame[frame["x"] % 2 == 0], frame[frame["x"] % 2 == 1]


def count(frame: pd.DataFrame) -> int:
    return len(frame)


def explode(frame: pd.DataFrame) -> pd.DataFrame:
    raise ValueError("bad batch: column x has negative values")


def two_values(frame: pd.DataFrame) -> tuple[int, int, int]:
    return 1, 2, 3


def pid(_: object) -> int:
    return os.getpid()


def busy(seconds: float) -> float:
    """CPU-bound work for about ``seconds``."""
    end = time.process_time() + seconds
    total = 0.0
    while time.process_time() < end:
        total += sum(i * i for i in range(1000))
    return total


class Blob:
    """A value whose release the tests can observe through a weak reference."""

    def __init__(self, size: int) -> None:
        self.payload = list(range(size))


_blobs: list = []


def produce_blob(size: int) -> Blob:
    import weakref

    blob = Blob(size)
    _blobs.append(weakref.ref(blob))
    return blob


def use_blob(blob: Blob) -> int:
    return len(blob.payload)


def blob_released(_: int) -> bool:
    import gc

    gc.collect()
    return _blobs[-1]() is None


def explode_if(frame: pd.DataFrame, fail: bool) -> pd.DataFrame:
    if fail:
        raise RuntimeError("the check failed")
    return frame
