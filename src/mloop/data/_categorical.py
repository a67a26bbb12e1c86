"""The summary of a categorical column: value counts, exact and then sketched, and a distinct count."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.data._columns import ColumnProfile
from mloop.data._hll import HyperLogLog

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

EXACT_LIMIT = 256  # a categorical column keeps exact counts up to this many distinct values
FREQUENT_LG_K = 10  # frequent-items map of 2**10 slots (768 tracked values) beyond that
_FEED = 768  # values of one batch fed to the frequent-items sketch (its capacity)


class CategoricalProfile(ColumnProfile):
    """Value counts: exact up to :data:`EXACT_LIMIT` distinct values, then a frequent-items sketch.

    In sketch mode the counts of the most frequent values are estimates whose error is
    at most :attr:`max_error`, and the number of distinct values is a HyperLogLog estimate.
    """

    kind = "categorical"

    def __init__(self, dtype: str) -> None:
        super().__init__(dtype)
        self.exact: dict[str, int] | None = {}
        self.sketch: Any = None
        self.hll: HyperLogLog | None = None
        self.omitted = 0  # the largest count a value can have lost by batch truncation

    def update(self, column: pa.Array | pa.ChunkedArray) -> None:
        """Add the values of an Arrow array (nulls are counted, not tracked)."""
        values, counts = value_counts(column)
        nulls = column.null_count
        self.nulls += nulls
        self.count += len(column) - nulls
        self._add(values, counts)

    def _add(self, values: list[str], counts: np.ndarray) -> None:
        import numpy as np

        if self.exact is not None and len(values) > EXACT_LIMIT:
            self._to_sketch(self.exact)  # this batch alone is too varied: no exact counts to build
        elif self.exact is not None:
            for value, count in zip(values, counts.tolist(), strict=True):
                self.exact[value] = self.exact.get(value, 0) + count
            if len(self.exact) > EXACT_LIMIT:
                self._to_sketch(self.exact)
            return
        if len(values) > _FEED:
            keep = np.argpartition(counts, -_FEED)[-_FEED:]
            self.omitted += int(np.delete(counts, keep).max())
            self._hll_add(values)
            values, counts = [values[i] for i in keep.tolist()], counts[keep]
        else:
            self._hll_add(values)
        for value, count in zip(values, counts.tolist(), strict=True):
            self.sketch.update(value, count)

    def _to_sketch(self, pending: dict[str, int]) -> None:
        """Leave exact counting: the counts so far go into a new sketch and HyperLogLog."""
        import datasketches
        import numpy as np

        self.exact = None
        self.sketch = datasketches.frequent_strings_sketch(FREQUENT_LG_K)
        self.hll = HyperLogLog()
        if pending:
            self._add(
                list(pending), np.fromiter(pending.values(), dtype=np.int64, count=len(pending))
            )

    def _hll_add(self, values: list[str]) -> None:
        import numpy as np

        assert self.hll is not None
        self.hll.update_strings(np.asarray(values, dtype=object))

    def merge(self, other: ColumnProfile) -> CategoricalProfile:
        import datasketches
        import numpy as np

        if not isinstance(other, CategoricalProfile):
            raise InvalidInput(f"cannot merge a categorical profile with a {other.kind} one")
        result = CategoricalProfile(self.dtype)
        result.count, result.nulls = self.count + other.count, self.nulls + other.nulls
        first, second = (self, other) if self.exact is None else (other, self)
        if first.exact is None:  # at least one side is a sketch: start from a copy of it
            result.exact = None
            result.sketch = datasketches.frequent_strings_sketch.deserialize(
                first.sketch.serialize()
            )
            result.hll = first.hll.merge(HyperLogLog())  # type: ignore[union-attr]
            result.omitted = first.omitted
        else:
            result.exact = dict(first.exact)
        if second.exact is not None:
            values = list(second.exact)
            result._add(
                values, np.fromiter(second.exact.values(), dtype=np.int64, count=len(values))
            )
        else:
            result.sketch.merge(second.sketch)
            result.hll = result.hll.merge(second.hll)  # type: ignore[union-attr,arg-type]
            result.omitted += second.omitted
        return result

    @property
    def distinct(self) -> float:
        """Number of distinct values: exact while counts are exact, else a HyperLogLog estimate."""
        if self.exact is not None:
            return float(len(self.exact))
        assert self.hll is not None
        return self.hll.estimate()

    @property
    def max_error(self) -> int:
        """Upper bound of the error of any count from :meth:`top_k` (0 when exact)."""
        if self.exact is not None:
            return 0
        return int(self.sketch.epsilon * self.sketch.total_weight) + 1 + self.omitted

    def top_k(self, k: int = 20) -> list[tuple[str, int]]:
        """The ``k`` most frequent values with their counts, most frequent first."""
        if self.exact is not None:
            return sorted(self.exact.items(), key=lambda item: (-item[1], item[0]))[:k]
        import datasketches

        rows = self.sketch.get_frequent_items(
            datasketches.frequent_items_error_type.NO_FALSE_NEGATIVES
        )
        return [(str(row[0]), int(row[1])) for row in rows[:k]]

    def frequencies(self) -> dict[str, int]:
        """Every tracked value with its count (all values while exact)."""
        if self.exact is not None:
            return dict(self.exact)
        return dict(self.top_k(1 << FREQUENT_LG_K))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {**super().to_dict()}
        if self.exact is not None:
            data["exact"] = {"values": list(self.exact), "counts": list(self.exact.values())}
        else:
            data["sketch"] = base64.b64encode(self.sketch.serialize()).decode("ascii")
            data["hll"] = self.hll.to_dict()  # type: ignore[union-attr]
            data["omitted"] = self.omitted
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalProfile:
        import datasketches

        result = cls(data["dtype"])
        result.count, result.nulls = int(data["count"]), int(data["nulls"])
        if "exact" in data:
            result.exact = dict(zip(data["exact"]["values"], data["exact"]["counts"], strict=True))
        else:
            result.exact = None
            result.sketch = datasketches.frequent_strings_sketch.deserialize(
                base64.b64decode(data["sketch"])
            )
            result.hll = HyperLogLog.from_dict(data["hll"])
            result.omitted = int(data.get("omitted", 0))
        return result

    def summary(self) -> dict[str, Any]:
        top = self.top_k(3)
        return {
            **super().summary(),
            "distinct": round(self.distinct),
            "top": ", ".join(f"{value} ({count})" for value, count in top),
        }


def value_counts(column: pa.Array | pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    """Distinct non-null values (as text) and their counts, computed in Arrow."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_dictionary(column.type):
        indices = column.indices.to_numpy(zero_copy_only=False)
        if column.null_count:
            indices = indices[column.is_valid().to_numpy(zero_copy_only=False)]
        counts = np.bincount(indices.astype(np.intp), minlength=len(column.dictionary))
        used = np.flatnonzero(counts)
        labels = pc.cast(column.dictionary.take(pa.array(used)), pa.string()).to_pylist()
        return [str(v) for v in labels], counts[used]
    table = pc.value_counts(column)
    values, counts = table.field("values"), table.field("counts").to_numpy()
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    labels = values.filter(pa.array(valid)).to_pylist()
    return labels, counts[valid]
