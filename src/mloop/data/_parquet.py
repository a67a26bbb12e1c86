"""Reading any tabular input as a stream of Arrow tables, and writing canonical Parquet.

A dataset version's sha256 is the hash of the Parquet file mloop writes for it. The file
is canonical for its content: the input is re-cut into row groups of :data:`ROW_GROUP`
rows whatever its batches were, types with two Arrow spellings are written one way
(``large_string`` as ``string``...), and no pandas metadata is kept, so the same rows
and columns give the same bytes (for one pyarrow version).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from mloop.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    import pyarrow as pa

ROW_GROUP = 131_072
COMPRESSION = "zstd"


def read_batches(
    path: str | os.PathLike[str], columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """Record batches of a Parquet or CSV file (local path or fsspec URL), read lazily."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = os.fspath(path)
    suffix = Path(text.split("?", 1)[0]).suffix.lower()
    if "://" not in text and not Path(text).exists():
        raise NotFound(f"file {text!r} does not exist; check the path.")
    if suffix in (".csv", ".tsv", ".txt"):
        yield from _csv_batches(text, columns, delimiter="\t" if suffix == ".tsv" else ",")
        return
    try:
        source = _open(text)
        parquet = pq.ParquetFile(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(
            f"{text!r} is not a readable Parquet file ({exc}); give a .parquet or .csv file."
        ) from None
    if columns is not None:
        missing = [c for c in columns if c not in parquet.schema_arrow.names]
        if missing:
            raise InvalidInput(
                f"columns {missing} are not in {text!r}; it has {parquet.schema_arrow.names}."
            )
    yield from parquet.iter_batches(batch_size=ROW_GROUP, columns=columns)


def read_frame(path: str | os.PathLike[str], columns: list[str] | None = None) -> Any:
    """A Parquet or CSV file as a DataFrame, decoded on all cores (see :func:`to_frame`).

    ``columns`` limits the read to those columns when the file has them all (else, and
    with None, every column is read); the index pandas stored with the file comes back too.
    """
    import pyarrow as pa
    import pyarrow.csv as csv
    import pyarrow.parquet as pq

    text = os.fspath(path)
    if "://" not in text and not Path(text).exists():
        raise NotFound(f"file {text!r} does not exist; check the path.")
    try:
        if Path(text.split("?", 1)[0]).suffix.lower() in (".csv", ".tsv", ".txt"):
            table = csv.read_csv(_open(text))
            if columns is not None and all(c in table.column_names for c in columns):
                table = table.select(columns)
        else:
            source = _open(text)
            if columns is not None:
                present = pq.read_schema(source).names
                columns = columns if all(c in present for c in columns) else None
                source = _open(text)
            table = pq.read_table(source, columns=columns, use_pandas_metadata=True)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"cannot read {text!r} ({exc}); give a .parquet or .csv file.") from None
    return to_frame(table)


def to_frame(table: pa.Table) -> Any:
    """An Arrow table as a DataFrame without consolidating columns into 2-D blocks.

    (pandas' default copies every numeric column once more to build its blocks; one
    block per column is as fast to use and avoids the copy. The table is consumed.)
    """
    return table.to_pandas(split_blocks=True, self_destruct=True)


def _open(text: str) -> Any:
    if "://" not in text:
        return text
    import fsspec

    return fsspec.open(text, "rb").open()


def _csv_batches(text: str, columns: list[str] | None, delimiter: str) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.csv as csv

    options = csv.ConvertOptions(include_columns=columns) if columns else None
    try:
        reader = csv.open_csv(
            _open(text),
            parse_options=csv.ParseOptions(delimiter=delimiter),
            convert_options=options,
        )
        yield from reader
    except pa.ArrowInvalid as exc:
        raise InvalidInput(
            f"cannot read the CSV file {text!r}: {exc}. A column whose type changes after the "
            "first block needs consistent values (or convert the file to Parquet first)."
        ) from None


def table_stream(data: Any) -> tuple[pa.Schema, Iterator[pa.Table], bool]:
    """The canonical schema and a stream of Arrow tables of ``data``.

    The flag tells whether the whole input is already in memory (a DataFrame or Table).

    Raises:
        InvalidInput: the input kind is unsupported, a column cannot be converted, or a
            batch's columns differ from the first batch's.
    """
    import pandas as pd
    import pyarrow as pa

    if isinstance(data, pd.DataFrame):
        table = from_pandas(data)
        return table.schema, iter([table]), True
    if isinstance(data, pa.Table):
        table = canonical(data)
        return table.schema, iter([table]), True
    if isinstance(data, str | os.PathLike):
        batches = read_batches(data)
    elif isinstance(data, pa.RecordBatchReader | Iterable):
        batches = iter(data)
    else:
        raise InvalidInput(
            f"cannot read a {type(data).__name__} as a dataset; give a pandas DataFrame, a pyarrow "
            "Table, a Parquet or CSV path, or an iterable of pyarrow RecordBatches."
        )
    stream = (canonical(_as_table(item)) for item in batches)
    first = next(stream, None)
    if first is None:
        raise InvalidInput(f"{data!r} holds no batches; nothing to read.")
    return first.schema, _same_schema(first, stream), False


def _as_table(item: Any) -> pa.Table:
    import pandas as pd
    import pyarrow as pa

    if isinstance(item, pa.RecordBatch):
        return pa.Table.from_batches([item])
    if isinstance(item, pa.Table):
        return item
    if isinstance(item, pd.DataFrame):
        return from_pandas(item)
    raise InvalidInput(
        f"a batch is a {type(item).__name__}; give pyarrow RecordBatches or pandas DataFrames."
    )


def _same_schema(first: pa.Table, rest: Iterator[pa.Table]) -> Iterator[pa.Table]:
    yield first
    for table in rest:
        if not table.schema.equals(first.schema):
            if table.schema.names != first.schema.names:
                raise InvalidInput(
                    f"a batch has columns {table.schema.names} but the first had {first.schema.names}; "
                    "every batch needs the same columns."
                )
            try:
                table = table.cast(first.schema)
            except (ValueError, TypeError, NotImplementedError) as exc:
                raise InvalidInput(
                    f"a batch's types differ from the first batch's: {exc}"
                ) from None
        yield table


def from_pandas(frame: Any) -> pa.Table:
    """A DataFrame as a canonical Arrow table: named index levels become columns, unnamed ones go."""
    import pyarrow as pa

    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    names = [str(name) for name in frame.columns]
    if len(set(names)) != len(names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInput(
            f"column names must be unique; {duplicated} appear more than once. Rename them."
        )
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        column = _unconvertible_column(frame)
        raise InvalidInput(
            f"column {column!r} cannot be stored: {exc}. Give it one type, e.g. "
            f"df[{column!r}] = df[{column!r}].astype(str)."
        ) from None
    return canonical(table.rename_columns(names))


def _unconvertible_column(frame: Any) -> str:
    import pyarrow as pa

    for name in frame.columns:
        try:
            pa.array(frame[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return str(name)
    return "?"


_PANDAS_INDEX = re.compile(r"^__index_level_\d+__$")


def canonical(table: pa.Table) -> pa.Table:
    """The table with one spelling per type, no schema metadata, and no unnamed pandas index.

    (A DataFrame written to Parquet by pandas keeps an unnamed non-default index as
    ``__index_level_0__``: a row label, not data.)
    """
    import pyarrow as pa

    index_columns = [name for name in table.column_names if _PANDAS_INDEX.match(name)]
    if index_columns:
        table = table.drop_columns(index_columns)
    fields = [pa.field(f.name, _canonical_type(f.type), nullable=True) for f in table.schema]
    schema = pa.schema(fields)
    if schema != table.schema.remove_metadata():
        table = table.cast(schema)
    return table.replace_schema_metadata(None)


def _canonical_type(kind: pa.DataType) -> pa.DataType:
    import pyarrow as pa

    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    if pa.types.is_large_binary(kind) or pa.types.is_binary_view(kind):
        return pa.binary()
    if pa.types.is_dictionary(kind):
        return pa.dictionary(kind.index_type, _canonical_type(kind.value_type))
    if pa.types.is_large_list(kind):
        return pa.list_(_canonical_type(kind.value_type))
    return kind


def rechunk(tables: Iterable[pa.Table], rows: int = ROW_GROUP) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows (the last one shorter), whatever the input cut."""
    import pyarrow as pa

    pending: list[pa.Table] = []
    size = 0
    for table in tables:
        pending.append(table)
        size += table.num_rows
        while size >= rows:
            whole = pa.concat_tables(pending)
            yield whole.slice(0, rows)
            rest = whole.slice(rows)
            pending, size = ([rest], rest.num_rows) if rest.num_rows else ([], 0)
    if size:
        yield pa.concat_tables(pending)


class HashingFile:
    """A write-only binary file that hashes what passes through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        self.size += view.nbytes
        return self.raw.write(view)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.raw.flush()

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False


def writer(sink: HashingFile, schema: pa.Schema) -> Any:
    """A Parquet writer with mloop's canonical settings.

    Dictionary encoding is asked for text-like columns only: trying it on a million
    distinct floats doubles the write time for nothing.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [
        field.name
        for field in schema
        if pa.types.is_string(field.type)
        or pa.types.is_binary(field.type)
        or pa.types.is_dictionary(field.type)
        or pa.types.is_boolean(field.type)
    ]
    return pq.ParquetWriter(sink, schema, compression=COMPRESSION, use_dictionary=texts or False)
