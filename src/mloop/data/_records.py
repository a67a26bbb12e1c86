"""Suites and validation results in the metadata store."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import NotFound, did_you_mean
from mloop.core.ids import new_id
from mloop.core.principal import current_actor
from mloop.data.datasets import parse_ref
from mloop.data.result import ValidationResult
from mloop.store import get_store
from mloop.store.lineage import Node, add_edges
from mloop.store.schema.data import DataSuite, QualityResult

if TYPE_CHECKING:
    from sqlalchemy import Connection


def save_suite(name: str, definition: dict[str, Any], sha256: str, description: str) -> int:
    """Store a suite definition; the same definition again keeps its version number."""
    from sqlalchemy import func, insert, select

    def work(conn: Connection) -> int:
        found = conn.execute(
            select(DataSuite.version).where(DataSuite.name == name, DataSuite.sha256 == sha256)
        ).first()
        if found is not None:
            return int(found[0])
        latest = conn.execute(
            select(func.max(DataSuite.version)).where(DataSuite.name == name)
        ).scalar()
        version = (latest or 0) + 1
        conn.execute(
            insert(DataSuite).values(
                name=name,
                version=version,
                sha256=sha256,
                definition=json.dumps(definition),
                description=description,
                created_by=current_actor(),
                created_at=now_ms(),
            )
        )
        return version

    return get_store().transaction_retrying_conflicts(work)


def load_suite(name: str, version: int | None) -> tuple[dict[str, Any], int]:
    """The stored definition of a suite version (the latest when ``version`` is None)."""
    from sqlalchemy import select

    query = select(DataSuite).where(DataSuite.name == name)
    query = (
        query.where(DataSuite.version == version)
        if version is not None
        else query.order_by(DataSuite.version.desc())
    )
    with get_store().read() as conn:
        row = conn.execute(query.limit(1)).first()
        names = (
            []
            if row is not None
            else [r[0] for r in conn.execute(select(DataSuite.name).distinct())]
        )
    if row is None:
        if name in names:
            raise NotFound(f"suite {name!r} has no version {version}; use '{name}@latest'.")
        raise NotFound(
            f"suite {name!r} is not stored."
            + did_you_mean(name, names)
            + " Save it with suite.save() or list suites with mloop.data.suites()."
        )
    return json.loads(row.definition), int(row.version)


def list_suites() -> list[dict[str, Any]]:
    """The latest version of every stored suite."""
    from sqlalchemy import func, select

    latest = (
        select(DataSuite.name, func.max(DataSuite.version).label("version"))
        .group_by(DataSuite.name)
        .subquery()
    )
    query = (
        select(DataSuite)
        .join(latest, (DataSuite.name == latest.c.name) & (DataSuite.version == latest.c.version))
        .order_by(DataSuite.name)
    )
    with get_store().read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "name": row.name,
            "version": row.version,
            "checks": len(json.loads(row.definition).get("checks", [])),
            "description": row.description,
            "created_at": row.created_at,
        }
        for row in rows
    ]


def save_result(result: ValidationResult, dataset: tuple[str, int] | None) -> None:
    """Store a validation result and link it to its dataset version (lineage)."""
    from sqlalchemy import insert

    assert result.suite_version is not None
    result.id = new_id()
    details = result.to_dict()
    row = {
        "id": result.id,
        "suite_name": result.suite,
        "suite_version": result.suite_version,
        "dataset_name": dataset[0] if dataset else None,
        "dataset_version": dataset[1] if dataset else None,
        "success": result.success,
        "num_rows": result.num_rows,
        "failed_errors": len(result.errors),
        "failed_warnings": len(result.warnings),
        "quarantined_rows": details["quarantined_rows"],
        "quarantine_dataset": details["quarantine_dataset"],
        "duration_s": result.seconds,
        "details": json.dumps(details, default=str),
        "created_at": result.created_at,
    }
    store = get_store()
    store.transaction(lambda conn: conn.execute(insert(QualityResult).values(**row)))
    node = Node("quality_result", result.id)
    edges: list[tuple[Node, str, Node, dict[str, Any] | None]] = []
    if dataset is not None:
        edges.append(
            (Node("dataset_version", f"{dataset[0]}@{dataset[1]}"), "validated_by", node, None)
        )
    if result.quarantine_version is not None:
        edges.append((node, "quarantined_to", result.quarantine_version.lineage_node(), None))
    if edges:
        add_edges(store, edges)


def get_result(result_id: str) -> ValidationResult:
    from sqlalchemy import select

    with get_store().read() as conn:
        row = conn.execute(select(QualityResult).where(QualityResult.id == result_id)).first()
    if row is None:
        raise NotFound(
            f"validation result {result_id!r} does not exist; list them with mloop.data.results()."
        )
    return ValidationResult.from_dict(json.loads(row.details))


def list_results(
    dataset: str | None = None, suite: str | None = None, limit: int = 100
) -> list[ValidationResult]:
    """Stored results, newest first, for a dataset (``name`` or ``name@3``) and/or a suite."""
    from sqlalchemy import select

    query = (
        select(QualityResult.details)
        .order_by(QualityResult.created_at.desc(), QualityResult.id)
        .limit(limit)
    )
    if dataset is not None:
        name, number = parse_ref(dataset)
        query = query.where(QualityResult.dataset_name == name)
        if number is not None:
            query = query.where(QualityResult.dataset_version == number)
    if suite is not None:
        query = query.where(QualityResult.suite_name == suite)
    with get_store().read() as conn:
        return [ValidationResult.from_dict(json.loads(row[0])) for row in conn.execute(query)]
