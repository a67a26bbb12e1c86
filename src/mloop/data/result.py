"""What a validation found: one :class:`CheckResult` per check, gathered in a :class:`ValidationResult`.

>>> result = suite.validate(df)
>>> result.success, [c.name for c in result.checks if not c.success]
(False, ['between(wind_speed)'])
>>> result["between(wind_speed)"].samples[0]
{'index': 1009, 'values': {'wind_speed': 1048.36058}}
>>> result.raise_for_errors()
Traceback (most recent call last):
mloop.data.result.DataCheckFailed: 1 error-level check of suite 'weather' failed on 13,035 rows: ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.core import display
from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.data._report import render

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mloop.data.datasets import DatasetVersion

__all__ = ["CheckResult", "DataCheckFailed", "ValidationResult"]

SAMPLES = 20


class DataCheckFailed(InvalidInput):
    """Error-level data checks failed; ``result`` is the whole :class:`ValidationResult`."""

    def __init__(self, message: str, result: ValidationResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class CheckResult:
    """The verdict of one check: how many rows failed, examples, and how long it took."""

    name: str
    kind: str
    column: str | None
    severity: str
    success: bool
    failed_count: int
    failed_fraction: float
    samples: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    observed: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    mostly: float = 1.0
    positions: np.ndarray | None = field(default=None, repr=False, compare=False)
    index: pd.Index | None = field(default=None, repr=False, compare=False)

    @property
    def failing_index(self) -> pd.Index:
        """The index labels of every failing row (kept on results returned by ``validate``).

        Raises:
            InvalidInput: the result was read back from the store, which keeps only samples.
        """
        import pandas as pd

        if self.failed_count == 0:
            return pd.Index([])
        if self.positions is None or self.index is None:
            raise InvalidInput(
                f"check {self.name!r}: the full failing index is kept only on the result returned by "
                f"validate(); stored results keep up to {SAMPLES} samples. Validate the data again."
            )
        return self.index[self.positions]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "column": self.column,
            "severity": self.severity,
            "success": self.success,
            "failed_count": self.failed_count,
            "failed_fraction": self.failed_fraction,
            "mostly": self.mostly,
            "message": self.message,
            "observed": self.observed,
            "error": self.error,
            "seconds": round(self.seconds, 6),
            "samples": self.samples,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        known.pop("positions", None)
        known.pop("index", None)
        return cls(**known)

    def describe(self) -> str:
        """One line for people: name, column, what failed."""
        where = f" on column {self.column!r}" if self.column else ""
        detail = self.error or self.message
        noun = "row" if self.failed_count == 1 else "rows"
        share = (
            f"{self.failed_count:,} {noun} ({self.failed_fraction:.3%})"
            if self.failed_count
            else ""
        )
        example = ""
        if self.samples:
            first = self.samples[0]
            example = f"; e.g. row {first['index']!r}: {first['values']}"
        return f"{self.name}{where}: {share + ' — ' if share else ''}{detail}{example}"


@dataclass
class ValidationResult:
    """Every check's verdict on one data set, with the clean and quarantined rows when asked."""

    suite: str
    suite_version: int | None
    num_rows: int
    checks: list[CheckResult]
    seconds: float
    created_at: int
    dataset: str | None = None
    id: str | None = None
    clean: pd.DataFrame | None = field(default=None, repr=False)
    quarantined: pd.DataFrame | None = field(default=None, repr=False)
    quarantine_version: DatasetVersion | None = field(default=None, repr=False)
    stored_quarantine: tuple[int, str | None] | None = field(default=None, repr=False)

    @property
    def success(self) -> bool:
        """True when no error-level check failed (warnings do not count)."""
        return not self.errors

    @property
    def errors(self) -> list[CheckResult]:
        """Failed error-level checks."""
        return [c for c in self.checks if not c.success and c.severity == "error"]

    @property
    def warnings(self) -> list[CheckResult]:
        """Failed warn-level checks."""
        return [c for c in self.checks if not c.success and c.severity == "warn"]

    def __getitem__(self, name: str) -> CheckResult:
        for check in self.checks:
            if check.name == name:
                return check
        names = [c.name for c in self.checks]
        raise NotFound(
            f"no check named {name!r} in this result."
            + did_you_mean(name, names)
            + f" Checks: {names}."
        )

    @property
    def quarantined_rows(self) -> int:
        """How many rows were quarantined (also on results read back from the store)."""
        if self.quarantined is not None:
            return len(self.quarantined)
        return self.stored_quarantine[0] if self.stored_quarantine else 0

    @property
    def quarantine_dataset(self) -> str | None:
        """The quarantine dataset version (``name@N``) that holds the quarantined rows."""
        if self.quarantine_version is not None:
            return self.quarantine_version.key
        return self.stored_quarantine[1] if self.stored_quarantine else None

    def raise_for_errors(self) -> ValidationResult:
        """Raise one :class:`DataCheckFailed` listing every failed error-level check; else return self."""
        errors = self.errors
        if not errors:
            return self
        on = f" on {self.dataset}" if self.dataset else f" on {self.num_rows:,} rows"
        noun = "check" if len(errors) == 1 else "checks"
        lines = [f"{len(errors)} error-level {noun} of suite {self.suite!r} failed{on}:"]
        lines += [f"  - {check.describe()}" for check in errors]
        lines.append(
            "Fix the data, quarantine the failing rows with validate(df, quarantine=True), "
            "or change the checks (severity='warn', mostly=...)."
        )
        raise DataCheckFailed("\n".join(lines), self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "suite": self.suite,
            "suite_version": self.suite_version,
            "dataset": self.dataset,
            "success": self.success,
            "num_rows": self.num_rows,
            "seconds": round(self.seconds, 6),
            "created_at": self.created_at,
            "quarantined_rows": self.quarantined_rows,
            "quarantine_dataset": self.quarantine_dataset,
            "checks": [check.to_dict() for check in self.checks],
        }

    def to_json(self, path: str | Path | None = None, indent: int | None = 2) -> str:
        """The result as JSON (also written to ``path`` when given)."""
        text = json.dumps(self.to_dict(), indent=indent, default=str)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationResult:
        return cls(
            suite=data["suite"],
            suite_version=data.get("suite_version"),
            num_rows=int(data["num_rows"]),
            checks=[CheckResult.from_dict(c) for c in data.get("checks", [])],
            seconds=float(data.get("seconds", 0.0)),
            created_at=int(data.get("created_at", 0)),
            dataset=data.get("dataset"),
            id=data.get("id"),
            stored_quarantine=(
                int(data.get("quarantined_rows") or 0),
                data.get("quarantine_dataset"),
            ),
        )

    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained HTML report (written to ``path`` when given)."""
        html = render(self)
        if path is not None:
            Path(path).write_text(html)
        return html

    def _repr_html_(self) -> str:
        """The verdict and one row per check, for notebooks (the full report: ``to_html``)."""
        verdict = display.badge("passed", "ok") if self.success else display.badge("failed", "fail")
        head = {
            "result": verdict,
            "rows": self.num_rows,
            "checks": len(self.checks),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "quarantined rows": self.quarantined_rows if self.quarantined_rows else None,
            "quarantine": self.quarantine_dataset,
        }
        rows = [
            (
                c.name,
                c.column,
                c.severity,
                display.badge("ok", "ok")
                if c.success
                else display.badge("failed", "fail" if c.severity == "error" else "warn"),
                c.failed_count,
                display.percent(c.failed_fraction),
                c.error or c.message,
            )
            for c in sorted(self.checks, key=lambda c: (c.success, c.severity != "error"))
        ]
        columns = ("check", "column", "severity", "status", "failed rows", "failed", "detail")
        title = f"Validation of {self.dataset or 'a frame'} by suite {self.suite!r}"
        return display.block(
            title,
            display.facts(head),
            display.table(columns, rows),
            note="Failed checks first. The full report: result.to_html(path).",
        )

    def summary(self) -> list[dict[str, Any]]:
        """One row per check, for tables."""
        return [
            {
                "check": c.name,
                "column": c.column,
                "severity": c.severity,
                "success": c.success,
                "failed": c.failed_count,
                "fraction": c.failed_fraction,
                "detail": c.error or c.message,
            }
            for c in self.checks
        ]
