"""Probing a compiled transform against scikit-learn: rows that exercise every category and
scaler, and the bit-for-bit comparison of the two answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from mloop.serving.compiled.kernels import _Block, _Numbers, _OneHot

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    Source: TypeAlias = pd.DataFrame | Mapping[str, Any]  # a frame, or columns as arrays


def _lists(source: Source) -> dict[str, list[Any]]:
    """Each column as a Python list (numbers as Python ints and floats)."""
    if isinstance(source, Mapping):
        return {k: v if type(v) is list else v.tolist() for k, v in source.items()}
    return {str(k): source[k].tolist() for k in source.columns}


def _frame(columns: Mapping[str, Any]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns)


def _identical(got: Any, expected: Any, sparse: bool) -> bool:
    if sparse:
        if type(got) is not type(expected) or got.shape != expected.shape:
            return False
        expected = expected.tocsr()
        return bool(
            np.array_equal(got.indptr, expected.indptr)
            and np.array_equal(got.indices, expected.indices)
            and got.data.dtype == expected.data.dtype
            and np.array_equal(got.data, expected.data, equal_nan=True)
        )
    return bool(
        isinstance(expected, np.ndarray)
        and got.shape == expected.shape
        and got.dtype == expected.dtype
        and np.array_equal(got, expected, equal_nan=True)
    )


def _probe_rows(example: pd.DataFrame, blocks: list[_Block]) -> pd.DataFrame:
    """The example's rows, one per category of each encoder, one at each scaler's mean."""
    import pandas as pd

    rows = [example]
    base = example.iloc[[0]]
    for block in blocks:
        if isinstance(block, _OneHot):
            for name, lookup in zip(block.columns, block.lookups, strict=True):
                for category in lookup:
                    rows.append(base.assign(**{name: [category]}))
        elif isinstance(block, _Numbers) and block.mean is not None:
            means = dict(zip(block.columns, np.asarray(block.mean).tolist(), strict=True))
            rows.append(base.assign(**{k: [v] for k, v in means.items()}))
    return pd.concat(rows, ignore_index=True)
