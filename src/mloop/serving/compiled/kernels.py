"""The numpy kernels of a compiled transform: numeric and one-hot blocks, linear final steps,
and the row-by-row path for a few rows (docs/decisions/0072-serving-compiled-transform.md)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    Source: TypeAlias = pd.DataFrame | Mapping[str, Any]  # a frame, or columns as arrays

_FLOATS = ("float64", "float32", "float16")  # the dtypes scikit-learn's scalers keep
_FEW_ROWS = 32  # up to this many rows, answer() works row by row in Python floats


def _dtype(source: Any, name: str) -> Any:
    column = source[name]
    return column.dtype if hasattr(column, "dtype") else None


def _array(source: Any, name: str) -> Any:
    column = source[name]
    return column if isinstance(column, np.ndarray) else column.to_numpy()


def _objects(source: Any, name: str) -> Any:
    column = source[name]
    if isinstance(column, list):
        return column
    return column.to_numpy(dtype=object) if hasattr(column, "to_numpy") else list(column)


@dataclass(frozen=True)
class _Numbers:
    """Numeric columns: ``StandardScaler.transform`` of dense input (``X -= mean_``,
    ``X /= scale_`` in place, in the input's float dtype), or ``"passthrough"`` (no scaling:
    the numbers as they are, converted as stacking converts them)."""

    columns: list[str]
    offset: int
    scaled: bool
    mean: Any = None
    scale: Any = None

    width = property(lambda self: len(self.columns))

    def slots(self, frame: Source, n: int) -> tuple[Any, Any] | None:
        values = _numeric(frame, self.columns, n, self.scaled)
        if values is None:
            return None
        if self.mean is not None:
            values -= self.mean.astype(values.dtype, copy=False)
        if self.scale is not None:
            values /= self.scale.astype(values.dtype, copy=False)
        return values, np.arange(self.offset, self.offset + len(self.columns))


@dataclass(frozen=True)
class _OneHot:
    """``OneHotEncoder.transform`` for known categories: one ``1`` per column and row."""

    columns: list[str]
    offset: int
    lookups: list[dict[Any, int]]  # category -> output column, per input column
    dtype: Any
    width: int

    def slots(self, frame: Source, n: int) -> tuple[Any, Any] | None:
        where = np.empty((n, len(self.columns)), dtype=np.int64)
        for j, (name, lookup) in enumerate(zip(self.columns, self.lookups, strict=True)):
            try:
                where[:, j] = [lookup.get(v, -1) for v in _objects(frame, name)]
            except TypeError:  # an unhashable value
                return None
        if (where < 0).any():  # unseen or missing: scikit-learn's rules decide
            return None
        return np.ones((n, len(self.columns)), dtype=self.dtype), where


_Block = _Numbers | _OneHot


def _numeric(frame: Source, columns: list[str], n: int, scaled: bool) -> Any | None:
    """The columns as one array of the dtype scikit-learn's validation gives them."""
    dtypes = [d for d in (_dtype(frame, name) for name in columns) if isinstance(d, np.dtype)]
    if len(dtypes) < len(columns) or any(d.kind not in "biuf" for d in dtypes):
        return None  # extension dtypes, objects, dates: not numbers scikit-learn takes as is
    common = np.result_type(*dtypes)
    if scaled and common.name not in _FLOATS:
        common = np.dtype("float64")
    values = np.empty((n, len(columns)), dtype=common)
    for i, name in enumerate(columns):
        values[:, i] = _array(frame, name)
    return values


@dataclass(frozen=True)
class _Linear:
    """A final linear model from its coefficients, as its own ``predict_proba`` (logistic)
    or ``predict`` (regression) computes: the same products, intercept and link."""

    estimator: Any
    link: str  # "logistic" (two classes), "softmax" (more) or "identity" (a regression)

    def __call__(self, matrix: Any) -> Any:
        coef, intercept = self.estimator.coef_, self.estimator.intercept_
        if self.link == "identity":  # LinearModel._decision_function
            return matrix @ (coef if coef.ndim == 1 else coef.T) + intercept
        from sklearn.utils.extmath import safe_sparse_dot

        return self._linked(safe_sparse_dot(matrix, coef.T, dense_output=True) + intercept)

    def of_entries(self, values: Any, where: Any) -> Any:
        """:meth:`__call__` of the sparse matrix whose row ``i`` holds ``values[i]`` at
        columns ``where[i]`` (ascending), without building it: a sparse matrix times dense
        coefficients sums each row's products one by one in stored order, starting from
        zero, and so does this (an entry the matrix drops for being zero adds a zero)."""
        coef, intercept = self.estimator.coef_, self.estimator.intercept_
        weights = coef.T if coef.ndim == 2 else coef[:, None]  # (columns, outputs)
        products = values[:, :, None] * weights[where]  # (rows, entries, outputs)
        sums = np.add.accumulate(products, axis=1)[:, -1]
        sums += 0.0  # -0.0 -> 0.0: a sum that starts from zero is never -0.0
        if self.link == "identity":
            return (sums if coef.ndim == 2 else sums.reshape(-1)) + intercept
        return self._linked(sums + intercept)

    def _linked(self, scores: Any) -> Any:
        from scipy.special import expit
        from sklearn.utils.extmath import softmax

        if self.link == "softmax":
            return softmax(scores, copy=False)
        positive = scores.reshape(-1)
        expit(positive, out=positive)
        return np.stack([1 - positive, positive], axis=1)


@dataclass(frozen=True)
class _RowByRow:
    """:meth:`_Linear.of_entries` for a few rows in Python floats: a binary logistic
    regression or a one-output regression after a sparse transform of float64 numbers.

    Not for a model served bare: its product is BLAS's, whose kernels fuse multiply-adds on
    blocks of rows, so a row's last bits depend on how many rows the batch has (the
    benchmark's logistic regression differed in up to 24 of 40 batches of 4 to 64 rows,
    while agreeing on the 5 probing rows). A sparse product is scipy's loop over each row's
    entries, the same whatever the batch.

    Python's float arithmetic is the same IEEE double arithmetic as numpy's float64 (and
    ``math.exp`` is the C library's ``exp`` that scipy's ``expit`` calls), so the same
    operations in the same order give the same bits; what it saves is numpy's cost per
    call, which is nearly all of the cost of a batch of one to a few rows.
    """

    blocks: list[_Block]
    weights: list[float]
    intercept: float
    logistic: bool
    means: dict[int, tuple[list[float] | None, list[float] | None]]  # per numbers block

    @classmethod
    def of(cls, blocks: list[_Block], final: _Linear) -> _RowByRow | None:
        coef, intercept = final.estimator.coef_, final.estimator.intercept_
        logistic = final.link == "logistic"
        if final.link == "softmax" or (coef.ndim == 2) != logistic or coef.dtype != np.float64:
            return None  # several outputs, or coefficients not in float64
        if any(isinstance(b, _OneHot) and b.dtype != np.float64 for b in blocks):
            return None
        means = {}
        for i, block in enumerate(blocks):
            if isinstance(block, _Numbers):
                means[i] = tuple(
                    None if v is None else np.asarray(v, dtype=np.float64).tolist()
                    for v in (block.mean, block.scale)
                )
        weights = coef.reshape(-1).tolist()
        bias = float(np.asarray(intercept, dtype=np.float64).reshape(-1)[0])
        return cls(blocks, weights, bias, logistic, means)  # type: ignore[arg-type]

    def __call__(self, columns: Mapping[str, list[Any]], n: int) -> Any | None:
        """The answer for ``n`` rows of ``columns`` (Python lists), or None for a value the
        matrix path must see (an unseen or unhashable category, NaN or infinity)."""
        weights = self.weights
        answers: list[Any] = []
        for i in range(n):
            total = 0.0  # a row's products in stored (column) order, as a sparse product sums
            for b, block in enumerate(self.blocks):
                if isinstance(block, _OneHot):
                    for name, lookup in zip(block.columns, block.lookups, strict=True):
                        try:
                            slot = lookup.get(columns[name][i])
                        except TypeError:  # an unhashable value
                            return None
                        if slot is None:
                            return None
                        total += weights[slot]  # the entry is 1.0
                    continue
                mean, scale = self.means[b]
                for j, name in enumerate(block.columns):
                    x = float(columns[name][i])
                    if mean is not None:
                        x -= mean[j]
                    if scale is not None:
                        x /= scale[j]
                    if not math.isfinite(x):
                        return None
                    total += x * weights[block.offset + j]
            score = total + self.intercept
            if not self.logistic:
                answers.append(score)
                continue
            try:
                positive = 1.0 / (1.0 + math.exp(-score))
            except OverflowError:  # exp(-score) is infinite: expit gives 0
                positive = 0.0
            answers.append((1.0 - positive, positive))
        return np.array(answers, dtype=np.float64)


def _linear(final: Any) -> _Linear | None:
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

    kind = type(final)
    if kind is LogisticRegression and getattr(final, "coef_", None) is not None:
        return _Linear(final, "logistic" if len(final.classes_) == 2 else "softmax")
    if kind in (LinearRegression, Ridge) and getattr(final, "coef_", None) is not None:
        return _Linear(final, "identity")
    return None
