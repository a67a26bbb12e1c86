"""Versioned datasets: immutable Parquet files under the artifact root, numbered per name.

>>> v = register("weather", df, description="hourly weather at the NYC airports")
>>> v.key, v.num_rows, v.sha256[:8]
('weather@1', 26115, '3f2a9c1e')
>>> register("weather", df).version        # same content: the same version
1
>>> load("weather@latest").shape
(26115, 15)

A version records its content sha256, schema, row count and profile. Reading a version
inside a tracked run records the lineage edge ``dataset_version --input_of--> run``.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.core.principal import current_actor
from mloop.data import _parquet
from mloop.data._parquet import to_frame
from mloop.data._runs import record_production, record_read
from mloop.data._types import type_name
from mloop.data.profile import Profile, _Builder
from mloop.data.profile import profile as make_profile
from mloop.store import get_artifacts, get_store
from mloop.store.lineage import Node
from mloop.store.schema.data import Dataset, DatasetVersionRow
from mloop.store.schema.data import DatasetVersionRow as V

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Connection


__all__ = [
    "DatasetVersion",
    "get_version",
    "list_datasets",
    "load",
    "parse_ref",
    "register",
    "versions",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$")


@dataclass(frozen=True)
class DatasetVersion:
    """One immutable version of a dataset (metadata only; :meth:`load` reads the rows)."""

    name: str
    version: int
    sha256: str
    schema: list[dict[str, str]]
    num_rows: int
    profile: Profile = field(repr=False)
    created_at: int
    description: str = ""
    num_bytes: int = 0
    artifact_key: str = ""
    created_by: str = ""

    @property
    def key(self) -> str:
        """``name@version``, the reference other parts of mloop use."""
        return f"{self.name}@{self.version}"

    @property
    def uri(self) -> str:
        """The Parquet file's path or URL, for DuckDB (``read_parquet``) or pyarrow."""
        return get_artifacts().uri(self.artifact_key)

    @property
    def columns(self) -> list[str]:
        return [column["name"] for column in self.schema]

    def lineage_node(self) -> Node:
        return Node("dataset_version", self.key)

    def load(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The rows of this version as a DataFrame (see :func:`load`)."""
        return load(self, columns=columns)

    def to_dict(self, with_profile: bool = False) -> dict[str, Any]:
        data = {
            "name": self.name,
            "version": self.version,
            "key": self.key,
            "sha256": self.sha256,
            "num_rows": self.num_rows,
            "num_bytes": self.num_bytes,
            "schema": self.schema,
            "description": self.description,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "uri": self.uri,
        }
        if with_profile:
            data["profile"] = self.profile.to_dict()
        return data


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"dataset name {name!r} is not valid; use letters, digits, '_', '-' or '.', starting "
            "with a letter or digit (e.g. 'weather' or 'flights.2013')."
        )
    return name


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``name@3`` -> (name, 3); ``name@latest`` and ``name`` -> (name, None)."""
    if not isinstance(ref, str):
        raise InvalidInput(
            f"dataset reference {ref!r} must be a string like 'weather@3' or 'weather@latest'."
        )
    name, _, version = ref.partition("@")
    check_name(name)
    if version in ("", "latest"):
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise InvalidInput(
            f"dataset reference {ref!r} has version {version!r}; use a number from 1 or 'latest' "
            f"(e.g. '{name}@1')."
        )
    return name, int(version)


def register(name: str, data: Any, description: str = "") -> DatasetVersion:
    """Store ``data`` as a new version of dataset ``name`` (or return the version with that content).

    ``data`` is a pandas DataFrame, a pyarrow Table, a Parquet or CSV path (read in
    batches, so files larger than memory work), or an iterable of Arrow record batches.

    Raises:
        InvalidInput: bad name, unsupported or empty data, or a column that cannot be stored.
    """
    check_name(name)
    schema, stream, in_memory = _parquet.table_stream(data)
    if len(schema) == 0:
        raise InvalidInput(f"dataset {name!r}: the data has no columns; nothing to register.")
    builder = _Builder(None, 20)
    rows = 0
    with tempfile.TemporaryDirectory(prefix="mloop-data-") as folder:
        path = Path(folder) / "data.parquet"
        with open(path, "wb") as raw:
            sink = _parquet.HashingFile(raw)
            writer = _parquet.writer(sink, schema)
            chunks = []
            for chunk in _parquet.rechunk(stream):
                writer.write_table(chunk, row_group_size=_parquet.ROW_GROUP)
                rows += chunk.num_rows
                if in_memory:
                    chunks.append(chunk)
                else:
                    builder.add(chunk)
            writer.close()
        if rows == 0:
            raise InvalidInput(
                f"dataset {name!r}: the data has no rows. Register data with at least one row."
            )
        sha256 = sink.digest.hexdigest()
        existing = _find_by_sha(name, sha256)
        if existing is not None:
            return existing
        if in_memory:
            import pyarrow as pa

            summary = make_profile(pa.concat_tables(chunks))
        else:
            summary = builder.result()
        key = f"datasets/{name}/{sha256}.parquet"
        get_artifacts().put_file(key, path)
    row = {
        "name": name,
        "sha256": sha256,
        "artifact_key": key,
        "schema_json": json.dumps(_schema(schema)),
        "num_rows": rows,
        "num_bytes": sink.size,
        "profile_json": summary.to_json(),
        "description": description,
        "created_by": current_actor(),
    }
    version = _insert(get_store(), row, description)
    record_production(version.lineage_node())
    return version


def _schema(schema: Any) -> list[dict[str, str]]:
    return [{"name": f.name, "type": type_name(f.type)} for f in schema]


def _insert(store: Any, row: dict[str, Any], description: str) -> DatasetVersion:
    from sqlalchemy import func, insert, select, update

    def work(conn: Connection) -> Any:
        name = row["name"]
        found = conn.execute(
            select(DatasetVersionRow).where(
                DatasetVersionRow.name == name, DatasetVersionRow.sha256 == row["sha256"]
            )
        ).first()
        if found is not None:
            return found
        at = now_ms()
        if conn.execute(select(Dataset.name).where(Dataset.name == name)).first() is None:
            conn.execute(
                insert(Dataset).values(
                    name=name, description=description, created_at=at, updated_at=at
                )
            )
        else:
            values: dict[str, Any] = {"updated_at": at}
            if description:
                values["description"] = description
            conn.execute(update(Dataset).where(Dataset.name == name).values(**values))
        latest = conn.execute(
            select(func.max(DatasetVersionRow.version)).where(DatasetVersionRow.name == name)
        ).scalar()
        values = {**row, "version": (latest or 0) + 1, "created_at": at}
        conn.execute(insert(DatasetVersionRow).values(**values))
        return conn.execute(
            select(DatasetVersionRow).where(
                DatasetVersionRow.name == name, DatasetVersionRow.version == values["version"]
            )
        ).one()

    return _from_row(store.transaction_retrying_conflicts(work))


def _from_row(row: Any) -> DatasetVersion:
    return DatasetVersion(
        name=row.name,
        version=row.version,
        sha256=row.sha256,
        schema=json.loads(row.schema_json),
        num_rows=row.num_rows,
        profile=Profile.from_json(row.profile_json),
        created_at=row.created_at,
        description=row.description,
        num_bytes=row.num_bytes,
        artifact_key=row.artifact_key,
        created_by=row.created_by,
    )


def _find_by_sha(name: str, sha256: str) -> DatasetVersion | None:
    from sqlalchemy import select

    with get_store().read() as conn:
        row = conn.execute(
            select(DatasetVersionRow).where(
                DatasetVersionRow.name == name, DatasetVersionRow.sha256 == sha256
            )
        ).first()
    return None if row is None else _from_row(row)


def get_version(ref: str | DatasetVersion) -> DatasetVersion:
    """The metadata of ``name@3``, ``name@latest`` or ``name`` (the latest version).

    Raises:
        NotFound: no such dataset or version (the message lists what exists).
    """
    from sqlalchemy import select

    if isinstance(ref, DatasetVersion):
        return ref
    name, number = parse_ref(ref)
    query = select(DatasetVersionRow).where(DatasetVersionRow.name == name)
    query = query.order_by(DatasetVersionRow.version.desc()).limit(1)
    if number is not None:
        query = select(DatasetVersionRow).where(
            DatasetVersionRow.name == name, DatasetVersionRow.version == number
        )
    with get_store().read() as conn:
        row = conn.execute(query).first()
        if row is None:
            names = [r[0] for r in conn.execute(select(Dataset.name))]
            latest = conn.execute(
                select(DatasetVersionRow.version)
                .where(DatasetVersionRow.name == name)
                .order_by(DatasetVersionRow.version.desc())
            ).first()
    if row is not None:
        return _from_row(row)
    if name not in names:
        raise NotFound(
            f"dataset {name!r} does not exist."
            + did_you_mean(name, names)
            + " Register it with mloop.data.register(name, df) or list datasets with mloop.data.list()."
        )
    raise NotFound(
        f"dataset {name!r} has no version {number}; its latest is {latest[0] if latest else 'none'}. "
        f"Use '{name}@latest' or a number up to that."
    )


def load(ref: str | DatasetVersion, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of a dataset version as a DataFrame, checked against its sha256.

    Inside an active tracked run, records ``dataset_version --input_of--> run``.

    Raises:
        NotFound: unknown dataset or version; InvalidInput: unknown columns.
        IntegrityError: the stored file no longer matches its checksum.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    version = get_version(ref)
    if columns is not None:
        unknown = [c for c in columns if c not in version.columns]
        if unknown:
            raise InvalidInput(
                f"columns {unknown} are not in {version.key}."
                + did_you_mean(unknown[0], version.columns)
                + f" Its columns: {', '.join(version.columns)}."
            )
    data = get_artifacts().get_bytes(version.artifact_key)
    table = pq.read_table(pa.BufferReader(data), columns=columns)
    record_read(version.lineage_node())
    return to_frame(table)


def list_datasets() -> list[DatasetVersion]:
    """The latest version of every dataset, by name."""
    from sqlalchemy import func, select

    latest = select(V.name, func.max(V.version).label("version")).group_by(V.name).subquery()
    query = (
        select(V)
        .join(latest, (V.name == latest.c.name) & (V.version == latest.c.version))
        .order_by(V.name)
    )
    with get_store().read() as conn:
        return [_from_row(row) for row in conn.execute(query)]


def versions(name: str) -> list[DatasetVersion]:
    """Every version of dataset ``name``, oldest first.

    Raises:
        NotFound: the dataset does not exist.
    """
    from sqlalchemy import select

    check_name(name)
    with get_store().read() as conn:
        rows = conn.execute(select(V).where(V.name == name).order_by(V.version)).all()
    if not rows:
        get_version(name)  # raises NotFound with suggestions
    return [_from_row(row) for row in rows]
