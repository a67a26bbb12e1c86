"""Batch scoring: a model over a dataset version or a file, in chunks, to Parquet or CSV.

>>> score("models:/delays@champion", "flights@3", "scored.parquet").rows
336776

Chunks are read and written in a stream (memory stays bounded); with the ``ray`` runner
configured they are scored in parallel on Ray. The output is linked in lineage to the
model version (and the dataset version) that produced it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput, NotFound
from mloop.core.ids import new_id
from mloop.registry.flavors import code_modules

if TYPE_CHECKING:
    import pandas as pd

    from mloop.serving.runtime import ModelRuntime


@dataclass(frozen=True)
class ScoreResult:
    """Where the scores went and what produced them."""

    output: str
    rows: int
    chunks: int
    model_name: str
    model_version: str
    seconds: float
    runner: str


def _source(data: Any, chunk_rows: int) -> tuple[Iterator[pd.DataFrame], int, str | None]:
    """Chunks of the input, its row count, and its dataset key when it is a dataset version."""
    import pandas as pd
    import pyarrow.parquet as pq

    if isinstance(data, pd.DataFrame):
        return (
            (data.iloc[i : i + chunk_rows] for i in range(0, len(data), chunk_rows)),
            len(data),
            None,
        )
    if not isinstance(data, (str, os.PathLike)):
        raise InvalidInput(
            f"score input {data!r} is not a dataset reference, a file path or a DataFrame."
        )
    path = Path(data)
    key = None
    if not path.exists():
        if "@" not in str(data) and path.suffix:
            raise NotFound(f"input file {str(data)!r} does not exist; check the path.")
        from mloop import data as datasets

        version = datasets.get_version(str(data))
        key = version.key
        path = Path(version.uri)
    if path.suffix.lower() == ".csv":
        with open(path, "rb") as stream:
            total = sum(1 for _ in stream) - 1
        return iter(pd.read_csv(path, chunksize=chunk_rows)), max(total, 0), key
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:
        raise InvalidInput(
            f"input {str(data)!r} is not a Parquet or CSV file ({exc}); give a .parquet or .csv "
            "file or a dataset such as flights@3."
        ) from None
    batches = parquet.iter_batches(batch_size=chunk_rows)
    return (b.to_pandas() for b in batches), parquet.metadata.num_rows, key


def _scored(chunk: pd.DataFrame, outputs: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    clash = [c for c in outputs.columns if c in chunk.columns]
    if clash:
        raise InvalidInput(
            f"the input already has a column {clash[0]!r}, which scoring writes; rename it first."
        )
    return pd.concat([chunk.reset_index(drop=True), outputs.reset_index(drop=True)], axis=1)


def score(
    model_uri: str,
    data: Any,
    output: str | os.PathLike[str],
    chunk_rows: int = 50_000,
    runner: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    proba: bool = True,
) -> ScoreResult:
    """Score ``data`` (``name@version``, a .parquet/.csv path or a DataFrame) into ``output``.

    ``runner`` is ``"local"`` or ``"ray"`` (default: the ``runner`` setting, where ``ray``
    means Ray and anything else scores locally). ``progress(done_rows, total_rows)`` is
    called after each chunk.

    >>> score("models:/delays@champion", "flights@3", "out/scored.parquet", chunk_rows=100_000)

    Args:
        model_uri: the model (``models:/name@alias``, ``models:/name/3``, ``runs:/...``).
        data: what to score.
        output: the file written (``.parquet`` or ``.csv``), whole or not at all.
        chunk_rows: rows scored at a time (memory stays bounded by a chunk).
        runner: see above.
        progress: see above.
        proba: add the class probabilities of a classifier.

    Raises:
        InvalidInput: ``chunk_rows`` below 1, an ``output`` that is not .parquet or .csv,
            an unknown ``runner``, or ``data`` of another kind.
        NotFound: the model, the dataset or the input file does not exist.
    """
    from mloop.core.config import get_settings
    from mloop.serving.runtime import ModelRuntime

    if chunk_rows < 1:
        raise InvalidInput(f"chunk_rows={chunk_rows} must be at least 1, e.g. 50000.")
    target = Path(output)
    if target.suffix.lower() not in (".parquet", ".csv"):
        raise InvalidInput(
            f"output {str(output)!r} must end in .parquet or .csv, e.g. scored.parquet."
        )
    mode = runner or ("ray" if get_settings().runner == "ray" else "local")
    if mode not in ("local", "ray"):
        raise InvalidInput(f"runner {mode!r} is unknown; use 'local' or 'ray'.")
    started = time.perf_counter()
    runtime = ModelRuntime(model_uri, proba=proba)
    runtime.load()
    chunks, total, dataset_key = _source(data, chunk_rows)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{new_id()[:8]}.tmp")
    scored = _score_ray(runtime, chunks) if mode == "ray" else _score_local(runtime, chunks)
    rows = count = 0
    try:
        with _Sink(tmp, target.suffix.lower()) as sink:
            for frame in scored:
                sink.write(frame)
                rows += len(frame)
                count += 1
                if progress is not None:
                    progress(rows, total)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _record_lineage(runtime, dataset_key, target)
    return ScoreResult(
        str(target), rows, count, runtime.name, runtime.version, time.perf_counter() - started, mode
    )


def _score_local(runtime: ModelRuntime, chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    for chunk in chunks:
        outputs, _ = runtime.predict(chunk)
        yield _scored(chunk, outputs)


def _score_ray(runtime: ModelRuntime, chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Chunks scored by Ray tasks (at most 4 in flight), yielded in input order."""
    from collections import deque

    from mloop.core.cluster import ensure_ray
    from mloop.serving.runtime import model_outputs

    ray = ensure_ray()
    for module in code_modules():  # models from code: their classes travel by value
        ray.cloudpickle.register_pickle_by_value(module)
    model_ref = ray.put(runtime.model)
    proba, uri = runtime.proba, runtime.uri

    @ray.remote
    def predict(model: Any, chunk: pd.DataFrame) -> pd.DataFrame:
        return _scored(chunk, model_outputs(model, chunk, proba, uri))

    pending: deque[Any] = deque()
    for chunk in chunks:
        pending.append(predict.remote(model_ref, chunk))
        if len(pending) >= 4:
            yield ray.get(pending.popleft())
    while pending:
        yield ray.get(pending.popleft())


class _Sink:
    """Writes chunks to one Parquet (streamed) or CSV file."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self.kind = kind
        self._writer: Any = None
        self._schema: Any = None
        self._first = True

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.kind == ".csv":
            frame.to_csv(
                self.path, mode="w" if self._first else "a", header=self._first, index=False
            )
            self._first = False
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._schema = table.schema
            self._writer = pq.ParquetWriter(self.path, self._schema, compression="zstd")
        elif table.schema != self._schema:
            table = table.cast(self._schema)
        self._writer.write_table(table)

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
        elif self.kind != ".csv" and self._first and not self.path.exists():
            self.path.touch()


def _record_lineage(runtime: ModelRuntime, dataset_key: str | None, target: Path) -> None:
    from mloop.store import get_store, lineage

    output = lineage.Node("external", str(target.resolve()))
    edges: list[tuple[lineage.Node, str, lineage.Node, dict[str, Any] | None]] = []
    if runtime.model.version is not None:
        edges.append(
            (lineage.Node("model_version", runtime.model.version.key), "scored", output, None)
        )
    if dataset_key is not None:
        edges.append((lineage.Node("dataset_version", dataset_key), "input_of", output, None))
    if edges:
        lineage.add_edges(get_store(), edges)
