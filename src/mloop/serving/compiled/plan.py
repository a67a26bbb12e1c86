"""Planning: which fitted heads (a ColumnTransformer of OneHotEncoder / StandardScaler /
passthrough / drop, or one bare scaler or encoder) compile, and into which blocks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from mloop.serving.compiled.kernels import _Block, _Linear, _Numbers, _OneHot

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    Source: TypeAlias = pd.DataFrame | Mapping[str, Any]  # a frame, or columns as arrays


def _bare_plan(linear: _Linear | None) -> tuple[list[str], list[_Block], int, bool] | None:
    """A bare linear model: its numeric columns stacked (dense), as its validation does."""
    names = [str(n) for n in getattr(linear.estimator, "feature_names_in_", [])] if linear else []
    if not names:
        return None
    return names, [_Numbers(names, 0, scaled=False)], len(names), False


def _plan(head: Any) -> tuple[list[str], list[_Block], int, bool] | None:
    """Columns in, blocks, output width and sparseness of a supported fitted ``head``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if isinstance(head, Pipeline):
        if len(head.steps) != 1:
            return None
        head = head.steps[0][1]
    names = [str(n) for n in getattr(head, "feature_names_in_", [])]
    if not names:
        return None
    if not isinstance(head, ColumnTransformer):
        block = _block(head, names, 0)
        if block is None:
            return None
        sparse = isinstance(block, _OneHot) and bool(head.sparse_output)
        return names, [block], block.width, sparse
    blocks: list[_Block] = []
    width = 0
    for name, transformer, selected in head.transformers_:
        where = head.output_indices_[name]
        if transformer == "drop" or where.stop == where.start:
            continue
        columns = _column_names(selected, names)
        if columns is None or where.start != width:
            return None
        block = _block(transformer, columns, width)
        if block is None or block.width != where.stop - where.start:
            return None
        blocks.append(block)
        width = where.stop
    return names, blocks, width, bool(head.sparse_output_)


def _column_names(selected: Any, names: list[str]) -> list[str] | None:
    if isinstance(selected, str) or not hasattr(selected, "__iter__"):
        return None  # a lone name selects a 1-D column; callables and slices: not repeated
    picked = list(selected)
    if all(isinstance(c, str) for c in picked):
        return picked
    if all(isinstance(c, int | np.integer) and not isinstance(c, bool) for c in picked):
        return [names[int(c)] for c in picked]
    return None


def _block(transformer: Any, columns: list[str], offset: int) -> _Block | None:
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    kind = type(transformer)
    if kind is StandardScaler:
        mean = transformer.mean_ if transformer.with_mean else None
        scale = transformer.scale_ if transformer.with_std else None
        return _Numbers(columns, offset, scaled=True, mean=mean, scale=scale)
    if transformer == "passthrough" or (kind is FunctionTransformer and transformer.func is None):
        return _Numbers(columns, offset, scaled=False)
    if kind is OneHotEncoder:
        return _one_hot(transformer, columns, offset)
    return None


def _one_hot(encoder: Any, columns: list[str], offset: int) -> _OneHot | None:
    if encoder.drop is not None or encoder.min_frequency or encoder.max_categories:
        return None
    lookups: list[dict[Any, int]] = []
    start = offset
    for categories in encoder.categories_:
        values = categories.tolist()
        if not all(type(v) is str for v in values) and not all(type(v) is int for v in values):
            return None  # missing values, floats, mixed: scikit-learn's matching rules
        lookups.append({value: start + i for i, value in enumerate(values)})
        start += len(values)
    return _OneHot(columns, offset, lookups, np.dtype(encoder.dtype), start - offset)
