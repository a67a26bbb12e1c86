"""A compiled input transform for served scikit-learn pipelines: the same numbers, faster.

A served ``Pipeline(ColumnTransformer(OneHotEncoder, StandardScaler), LogisticRegression)``
spends ~4 ms per ``predict`` call in its ColumnTransformer whatever the batch size: pandas
column selection, input validation and sparse stacking, for a handful of rows. The model
itself takes ~0.2 ms. This module rebuilds what the fitted transform computes from its
fitted attributes with a few numpy operations (~0.1 ms), and hands the result to the
pipeline's own final estimator, so the answer comes from scikit-learn as before.

Exact or not at all:

- Only a head made of one ``ColumnTransformer`` (of ``OneHotEncoder``, ``StandardScaler``,
  ``"passthrough"`` and ``"drop"``), or one bare ``StandardScaler`` or ``OneHotEncoder``,
  is compiled; anything else is transformed by scikit-learn.
- The compiled transform repeats scikit-learn's operations in the same order on the
  same dtypes, so its output is bit-for-bit the matrix scikit-learn builds (the same
  sparse structure too). Before the first batch of each combination of column dtypes it
  checks that on rows made from the model's input example, every category of every
  encoder and a value at each scaler's mean; on any difference it is not used again.
- A batch it cannot vouch for (other columns, other dtypes, a category the encoder has
  not seen, a missing category) goes to scikit-learn, which answers or raises as always.

The serving hot path hands it the request's columns as arrays (a dict), so no DataFrame
is built for a batch it compiles; the dtypes it checks are those of the DataFrame the
columns would become, which is what scikit-learn gets when the batch falls back to it.

A final ``LogisticRegression`` or ``LinearRegression`` / ``Ridge`` is repeated too: once
the transform is in numpy, scikit-learn's validation of the matrix (~0.3 ms a call) costs
more than its arithmetic. :meth:`CompiledTransform.final_output` computes the same
``safe_sparse_dot`` / ``@`` plus intercept, then ``expit`` or ``softmax``, and is used only
after it gave bit for bit the final step's own answer on the probing matrix. Such a model
served bare (no pipeline) is compiled the same way, its numeric columns stacked as its
validation stacks them (column-major, as pandas hands them over), and checked on its answers.

With a sparse matrix, :meth:`CompiledTransform.answer` skips the matrix too: scipy's
checked constructor costs more than everything else for a few rows, and a sparse matrix
times the coefficients is, per row, the row's products summed one by one in stored order,
which numpy repeats on each row's entries (values and their columns). It is used only
after it, too, gave the final step's answer bit for bit on the probing rows.

>>> fast = CompiledTransform.of(pipeline[:-1], example, final=pipeline[-1])  # None: not compilable
>>> scores = fast.answer(columns)                 # None: build the matrix then
>>> matrix = fast(columns)                        # None: let scikit-learn do it
>>> scores = fast.final_output(matrix)            # None: call the final step itself
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mloop.core.log import get_logger

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    Source: TypeAlias = pd.DataFrame | Mapping[str, Any]  # a frame, or columns as arrays

_log = get_logger("mloop.serving")
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


@dataclass
class CompiledTransform:
    """The fitted transform ``head`` rebuilt from its attributes (see the module's notes)."""

    head: Any
    columns: tuple[str, ...]
    blocks: list[_Block]
    width: int
    sparse: bool
    example: pd.DataFrame
    final: _Linear | None = None
    _checked: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # dtypes -> kind or None
    _fused: dict[tuple[Any, ...], bool] = field(default_factory=dict)  # dtypes -> of_entries ok
    _by_row: dict[tuple[Any, ...], bool] = field(default_factory=dict)  # dtypes -> _RowByRow ok
    _rows: _RowByRow | None = None
    _final_checked: dict[tuple[Any, ...], bool] = field(default_factory=dict)  # matrix kinds
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(
        cls, head: Any, example: pd.DataFrame | None, final: Any = None
    ) -> CompiledTransform | None:
        """The compiled form of ``head`` (and of the ``final`` step after it, when that is a
        linear model), or None when ``head`` is not one this module repeats."""
        if example is None or len(example) == 0:
            return None
        linear = _linear(final) if final is not None else None
        try:
            plan = _plan(head) if head is not None else _bare_plan(linear)
        except (AttributeError, TypeError, ValueError, KeyError):
            plan = None
        if plan is None:
            return None
        columns, blocks, width, sparse = plan
        if list(example.columns) != list(columns):
            return None
        example = example.reset_index(drop=True)
        rows = _RowByRow.of(blocks, linear) if linear is not None and sparse else None
        return cls(head, tuple(columns), blocks, width, sparse, example, linear, _rows=rows)

    @property
    def bare(self) -> bool:
        """A bare final model (no transform before it): only worth using with ``final``."""
        return self.head is None

    def __call__(self, source: Source) -> Any | None:
        """What ``head.transform`` returns for ``source`` (a DataFrame, or columns as arrays
        as they would make one), or None to leave it to scikit-learn."""
        checked = self._checked_for(source)
        if checked is None:
            return None
        key, n = checked
        kind = self._checked[key]
        return None if kind is None else self._build(source, n, kind)

    def answer(self, source: Source) -> Any | None:
        """The final step's answer for ``source`` straight from the entries of its matrix
        (see :meth:`_Linear.of_entries`), or None: then build the matrix (:meth:`__call__`)
        and ask :meth:`final_output`. Used only where it gave, on the probing matrix, bit
        for bit the final step's own answer."""
        checked = self._checked_for(source)
        if checked is None:
            return None
        key, n = checked
        if n <= _FEW_ROWS and self._rows is not None and self._by_row.get(key):
            answer = self._rows(_lists(source), n)
            if answer is not None:
                return answer
        if not self._fused.get(key):
            return None
        assert self.final is not None
        entries = self._entries(source, n)
        if entries is None or not np.isfinite(entries[0]).all():
            return None  # NaN or inf: scikit-learn's validation refuses it, let it say so
        return self.final.of_entries(*entries)

    def _checked_for(self, source: Source) -> tuple[tuple[Any, ...], int] | None:
        """The dtype key of ``source`` (checked against scikit-learn on first sight) and its
        row count; None for other columns."""
        if isinstance(source, Mapping):
            if tuple(source) != self.columns:
                return None
            key: tuple[Any, ...] = tuple(
                (v.dtype.str if isinstance(v, np.ndarray) else type(v).__name__)
                for v in source.values()
            )
            n, dtypes = len(source[self.columns[0]]), lambda: _frame(source).dtypes
        else:
            if tuple(source.columns) != self.columns:
                return None
            key = ("frame", *(str(d) for d in source.dtypes))
            n, dtypes = len(source), lambda: source.dtypes
        if key not in self._checked:
            self._remember(key, dtypes)
        return key, n

    def final_output(self, matrix: Any) -> Any | None:
        """The final step's ``predict_proba`` (a classifier) or ``predict`` (a regression)
        of a matrix this transform built, or None to call the final step itself."""
        if self.final is None or not self._final_checked.get((type(matrix), matrix.dtype.str)):
            return None
        values = matrix.data if hasattr(matrix, "tocsr") else matrix
        if not np.isfinite(values).all():  # scikit-learn's validation refuses it: let it say so
            return None
        return self.final(matrix)

    def _remember(self, key: tuple[Any, ...], dtypes: Any) -> None:
        with self._lock:
            if key not in self._checked:
                self._checked[key], self._fused[key], self._by_row[key] = self._check(dtypes())

    def _build(self, frame: Source, n: int, kind: Any) -> Any | None:
        entries = self._entries(frame, n)
        return None if entries is None else self._matrix(*entries, n, kind)

    def _entries(self, frame: Source, n: int) -> tuple[Any, Any] | None:
        """Each row's values and their columns (ascending), zeros included."""
        parts = []
        for block in self.blocks:
            got = block.slots(frame, n)
            if got is None:
                return None
            parts.append(got)
        if len(parts) == 1:
            values, where = parts[0]
            return np.asarray(values), np.broadcast_to(where, (n, np.shape(where)[-1]))
        values = np.concatenate([np.asarray(v) for v, _ in parts], axis=1)
        where = np.concatenate([np.broadcast_to(w, (n, np.shape(w)[-1])) for _, w in parts], 1)
        return values, where

    def _matrix(self, values: Any, where: Any, n: int, kind: Any) -> Any:
        if not self.sparse:
            # a bare model's validation makes a DataFrame column-major; a matrix product's
            # sums depend on the layout, so the compiled matrix is laid out the same way
            dense = np.zeros((n, self.width), values.dtype, order="F" if self.bare else "C")
            dense[np.arange(n)[:, None], where] = values
            return dense
        kept = values != 0  # stacking drops zeros of dense blocks (NaN is kept)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(kept.sum(axis=1), out=indptr[1:])
        index = np.int32 if max(self.width, int(indptr[-1])) < 2**31 - 1 else np.int64
        return kind(
            (values[kept], where[kept].astype(index), indptr.astype(index)), shape=(n, self.width)
        )

    def _check(self, dtypes: pd.Series) -> tuple[Any | None, bool, bool]:
        """Compare with scikit-learn's own transform on probing rows of these dtypes (and the
        final step's answer on that matrix, built, from its entries and row by row): the
        matrix kind to build (None: leave it to scikit-learn), and whether :meth:`answer`
        may be used, and row by row."""
        if self.bare:  # the columns stacked as the model's validation stacks them
            return self._check_bare(dtypes)
        try:
            probe = _probe_rows(self.example, self.blocks).astype(dtypes.to_dict())
            expected = self.head.transform(probe)
            kind = type(expected) if self.sparse else None
            entries = self._entries(probe, len(probe))
            got = None if entries is None else self._matrix(*entries, len(probe), kind)
            same = got is not None and _identical(got, expected, self.sparse)
        except Exception as exc:  # a probe scikit-learn refuses: nothing to compare with
            _log.info("compiled transform not used for %s: %s", list(dtypes), exc)
            return None, False, False
        if not same:
            _log.info("compiled transform differs from scikit-learn for %s; not used", list(dtypes))
            return None, False, False
        fused = by_row = False
        if self.final is not None and self._check_final(self.final, got) and self.sparse:
            assert entries is not None
            fused = self._same_answer(self.final, got, self.final.of_entries(*entries))
            by_row = fused and self._rows_agree(probe, entries[0].dtype, got)
        return (kind if self.sparse else np.ndarray), fused, by_row

    def _check_bare(self, dtypes: pd.Series) -> tuple[Any | None, bool, bool]:
        """A bare model is compared on its answers: compiled on the stacked columns (and row
        by row) against its own on the probing DataFrame."""
        try:
            probe = _probe_rows(self.example, self.blocks).astype(dtypes.to_dict())
            matrix = self._build(probe, len(probe), None)
        except Exception as exc:  # dtypes the probe cannot take: nothing to compare with
            _log.info("compiled model not used for %s: %s", list(dtypes), exc)
            return None, False, False
        if matrix is None or self.final is None:
            return None, False, False
        if not self._check_final(self.final, matrix, probe):
            return None, False, False
        return np.ndarray, False, False  # not row by row: see _RowByRow

    def _rows_agree(self, probe: pd.DataFrame, dtype: Any, given: Any) -> bool:
        """Whether the row-by-row path answers the probing rows (float64 numbers only) as
        the final step answers ``given`` (their matrix)."""
        if self._rows is None or self.final is None or dtype != np.float64:
            return False
        rows = self._rows(_lists(probe), len(probe))
        return rows is not None and self._same_answer(self.final, given, rows)

    def _check_final(self, final: _Linear, matrix: Any, inputs: Any = None) -> bool:
        """Whether the compiled final step on ``matrix`` gives its estimator's own answer
        (on ``inputs``, the DataFrame a bare model takes, or else on the same matrix)."""
        try:
            same = self._same_answer(final, inputs if inputs is not None else matrix, final(matrix))
        except Exception as exc:  # the compiled step refuses the probe: leave it to the model
            _log.info("compiled %s not used: %s", type(final.estimator).__name__, exc)
            same = False
        self._final_checked[(type(matrix), matrix.dtype.str)] = same
        return same

    @staticmethod
    def _same_answer(final: _Linear, given: Any, got: Any) -> bool:
        """Whether ``got`` is bit for bit what ``final``'s estimator answers for ``given``."""
        estimator = final.estimator
        try:
            if final.link == "identity":
                expected = estimator.predict(given)
            else:
                expected = estimator.predict_proba(given)
        except Exception as exc:  # the estimator refuses the probe: leave it to it
            _log.info("compiled %s not used: %s", type(estimator).__name__, exc)
            return False
        same = (
            isinstance(expected, np.ndarray)
            and got.shape == expected.shape
            and got.dtype == expected.dtype
            and bool(np.array_equal(got, expected, equal_nan=True))
        )
        if not same:
            _log.info("compiled %s differs from scikit-learn; not used", type(estimator).__name__)
        return same


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
