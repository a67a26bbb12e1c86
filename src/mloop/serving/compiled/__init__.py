"""A compiled input transform for served scikit-learn pipelines: the same numbers, faster.

A fitted ``ColumnTransformer`` of ``OneHotEncoder`` / ``StandardScaler`` (or one bare
scaler or encoder), and a final ``LogisticRegression`` / ``LinearRegression`` / ``Ridge``,
are repeated with a few numpy operations, and used only after they gave scikit-learn's
answer bit for bit on probing rows; anything else goes to scikit-learn. Why and how,
with the measurements: docs/decisions/0072-serving-compiled-transform.md.

- :mod:`.plan` -- which heads compile, into which blocks;
- :mod:`.kernels` -- the numpy blocks, linear final steps and the few-rows path;
- :mod:`.probe` -- the rows and the comparison that vouch for a compiled transform.

>>> fast = CompiledTransform.of(pipeline[:-1], example, final=pipeline[-1])  # None: not compilable
>>> scores = fast.answer(columns)                 # None: build the matrix then
>>> matrix = fast(columns)                        # None: let scikit-learn do it
>>> scores = fast.final_output(matrix)            # None: call the final step itself
"""

from __future__ import annotations

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

from mloop.serving.compiled.kernels import _FEW_ROWS, _Block, _Linear, _linear, _RowByRow
from mloop.serving.compiled.plan import _bare_plan, _plan
from mloop.serving.compiled.probe import _frame, _identical, _lists, _probe_rows

__all__ = ["CompiledTransform"]

_log = get_logger("mloop.serving")


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
