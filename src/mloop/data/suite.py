"""Suites: named, versioned lists of checks, written in Python or YAML, run in one pass.

>>> suite = Suite("weather", [checks.not_null("pressure"), checks.between("wind_speed", 0, 150)])
>>> result = suite.validate(df, quarantine=True)
>>> len(result.clean) + len(result.quarantined) == len(df)
True
>>> Suite.from_yaml(suite.to_yaml()) == suite
True

The YAML form::

    suite: weather
    description: hourly weather at the NYC airports
    checks:
      - check: not_null
        column: pressure
        mostly: 0.9
        severity: warn
      - check: between
        column: wind_speed
        min: 0
        max: 150
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.core.hashing import sha256_text
from mloop.core.log import get_logger
from mloop.data import _evaluate
from mloop.data import quarantine as quarantining
from mloop.data._kernels import plain
from mloop.data._parquet import read_frame
from mloop.data._records import load_suite, save_result, save_suite
from mloop.data.checks import Check, from_dict
from mloop.data.datasets import DatasetVersion, check_name, get_version, load, parse_ref
from mloop.data.result import SAMPLES, CheckResult, ValidationResult

if TYPE_CHECKING:
    import pandas as pd


__all__ = ["Suite"]


class Suite:
    """A named list of checks. ``version`` is set once the suite is stored.

    Args:
        name: letters, digits, ``_``, ``-`` or ``.`` (``"weather"``).
        checks: checks from :mod:`mloop.data.checks`, or their dict form (as in YAML).
        description: what the suite is for.

    Raises:
        InvalidInput: the name is not valid, or an item is not a check (a dict names the
            check type or argument that is wrong).
    """

    def __init__(
        self, name: str, checks: Iterable[Check | dict[str, Any]] = (), description: str = ""
    ) -> None:
        try:
            check_name(name)
        except InvalidInput:
            raise InvalidInput(
                f"suite name {name!r} is not valid; use letters, digits, '_', '-' or '.' (e.g. 'weather')."
            ) from None
        self.name = name
        self.description = description
        self.checks: list[Check] = [
            c if isinstance(c, Check) else from_dict(c, f"suite {name!r}, check {i + 1}")
            for i, c in enumerate(checks)
        ]
        for i, check in enumerate(self.checks):
            if not isinstance(check, Check):
                raise InvalidInput(
                    f"suite {name!r}: item {i + 1} is a {type(check).__name__}, not a check."
                )
        names = [c.name for c in self.checks]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise InvalidInput(
                f"suite {name!r} has several checks named {duplicated[0]!r}; give them distinct names with name=..."
            )
        self.version: int | None = None

    def __repr__(self) -> str:
        version = f"@{self.version}" if self.version else ""
        return f"Suite({self.name}{version}, {len(self.checks)} checks)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Suite) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __getitem__(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check

        names = [c.name for c in self.checks]
        raise NotFound(f"suite {self.name!r} has no check {name!r}." + did_you_mean(name, names))

    def without(self, *names: str) -> Suite:
        """A copy without the named checks (e.g. after reviewing a suggested suite)."""
        for name in names:
            self[name]  # raises NotFound for a name that is not there
        return Suite(self.name, [c for c in self.checks if c.name not in names], self.description)

    def with_checks(self, *checks: Check) -> Suite:
        """A copy with more checks."""
        return Suite(self.name, [*self.checks, *checks], self.description)

    # -- serialisation ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"suite": self.name}
        if self.description:
            data["description"] = self.description
        data["checks"] = [check.to_dict() for check in self.checks]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "suite") -> Suite:
        if not isinstance(data, dict) or "suite" not in data:
            raise InvalidInput(f"{where}: a suite needs 'suite: <name>' and a 'checks:' list.")
        unknown = [k for k in data if k not in ("suite", "description", "checks")]
        if unknown:
            raise InvalidInput(
                f"{where}: unknown key {unknown[0]!r}; a suite has suite, description and checks."
            )
        checks = data.get("checks") or []
        if not isinstance(checks, list):
            raise InvalidInput(
                f"{where}: 'checks' must be a list of checks, each starting with '- check: <type>'."
            )
        built = [from_dict(c, f"{where}, check {i + 1}") for i, c in enumerate(checks)]
        return cls(str(data["suite"]), built, str(data.get("description") or ""))

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The suite as YAML (also written to ``path`` when given)."""
        import yaml

        text = yaml.safe_dump(
            self.to_dict(), sort_keys=False, allow_unicode=True, default_flow_style=None
        )
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_yaml(cls, source: str | Path) -> Suite:
        """A suite from YAML text or a ``.yaml``/``.yml`` file.

        Raises:
            InvalidInput: malformed YAML (with line and column), or a bad suite or check.
        """
        import yaml

        where = "suite YAML"
        text = str(source)
        if isinstance(source, Path) or (
            isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml"))
        ):
            path = Path(source)
            if not path.is_file():
                raise NotFound(f"suite file {str(path)!r} does not exist; check the path.")
            text, where = path.read_text(), str(path)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            position = (
                f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            )
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise InvalidInput(
                f"{where} is not valid YAML{position}: {problem}. Check the indentation and that each "
                "check starts with '- check: <type>'."
            ) from None
        return cls.from_dict(data, where)

    @property
    def sha256(self) -> str:
        return sha256_text(json.dumps(self.to_dict(), sort_keys=True, default=str))

    # -- storage ----------------------------------------------------------------------------

    def save(self) -> int:
        """Store this definition in the metadata store and return its version (same content, same version)."""
        self.version = save_suite(self.name, self.to_dict(), self.sha256, self.description)
        return self.version

    @classmethod
    def load(cls, ref: str) -> Suite:
        """A stored suite: ``name`` (latest) or ``name@2``.

        Raises:
            InvalidInput: ``ref`` is not ``name`` or ``name@<number>``.
            NotFound: no suite (or no such version) is stored under that name.
        """
        name, number = parse_ref(ref)
        definition, version = load_suite(name, number)
        suite = cls.from_dict(definition, f"stored suite {name}@{version}")
        suite.version = version
        return suite

    # -- validation -------------------------------------------------------------------------

    def validate(
        self,
        data: Any,
        *,
        quarantine: bool | str = False,
        save: bool | None = None,
        allow_empty: bool = False,
        now: Any = None,
    ) -> ValidationResult:
        """Run every check on ``data`` in one vectorised pass.

        ``data`` is a DataFrame, an Arrow table, a dataset reference (``"weather@3"``) or
        version, or a Parquet/CSV path. With ``quarantine=True`` (or a dataset name), rows
        failing a failed error-level check go to ``result.quarantined`` and to a new
        version of the quarantine dataset (``<suite>.quarantine`` unless named), the rest to
        ``result.clean``. ``save`` stores the result linked to the dataset version (by
        default when the suite can be stored). ``now`` fixes the clock of freshness checks.

        Raises:
            InvalidInput: the data is empty (pass ``allow_empty=True``) or of an unsupported kind.
        """
        start = time.perf_counter()
        frame, source = _frame(data, None if quarantine else self.columns_read())
        if len(frame) == 0 and not allow_empty:
            raise InvalidInput(
                f"suite {self.name!r}: the data has no rows, so no row can be checked. Pass "
                "allow_empty=True to accept empty data (value checks then pass; add a row_count check)."
            )
        outcomes = _evaluate.evaluate(self.checks, frame, now)
        results = [
            _check_result(check, outcome, frame)
            for check, outcome in zip(self.checks, outcomes, strict=True)
        ]
        result = ValidationResult(
            suite=self.name,
            suite_version=self.version,
            num_rows=len(frame),
            checks=results,
            seconds=0.0,
            created_at=now_ms(),
            dataset=None if source is None else source.key,
        )
        if quarantine:
            failing = [
                (c.name, _row_mask(c, len(frame)))
                for c in results
                if not c.success and c.severity == "error"
            ]
            failing = [(name, mask) for name, mask in failing if mask is not None]
            result.clean, result.quarantined = quarantining.split(frame, failing)
            target = quarantine if isinstance(quarantine, str) else f"{self.name}.quarantine"
            result.quarantine_version = quarantining.store(result.quarantined, target, source)
        result.seconds = time.perf_counter() - start
        if self._should_save(save):
            self.save()
            result.suite_version = self.version

            save_result(result, None if source is None else (source.name, source.version))
        return result

    def columns_read(self) -> list[str] | None:
        """The columns the checks look at, or None when one of them may look at any column."""
        if any(c.kind in ("expression", "custom") for c in self.checks):
            return None
        names = list(dict.fromkeys(name for check in self.checks for name in check.columns))
        return names or None

    def _should_save(self, save: bool | None) -> bool:
        if save is False:
            return False
        try:
            self.to_dict()
        except InvalidInput:
            if save:
                raise

            get_logger("mloop.data").warning(
                "suite %r has a custom check that cannot be stored by name; the result is not saved",
                self.name,
            )
            return False
        return True


def _frame(data: Any, columns: list[str] | None) -> tuple[pd.DataFrame, DatasetVersion | None]:
    """The data to validate as a DataFrame; files and dataset versions are read for ``columns`` only."""
    import pandas as pd
    import pyarrow as pa

    if isinstance(data, pd.DataFrame):
        return data, None
    if isinstance(data, pa.Table):
        return data.to_pandas(), None
    if isinstance(data, os.PathLike) or (
        isinstance(data, str) and (os.sep in data or data.endswith((".parquet", ".csv")))
    ):
        return read_frame(data, columns), None
    if isinstance(data, str):
        data = get_version(data)
    if isinstance(data, DatasetVersion):
        if columns is not None and not all(c in data.columns for c in columns):
            columns = None  # read everything, so that the missing column's message lists them
        return load(data, columns=columns), data
    raise InvalidInput(
        f"cannot validate a {type(data).__name__}; give a pandas DataFrame, a pyarrow Table, a dataset "
        "reference such as 'weather@3', or a Parquet/CSV path."
    )


def _check_result(check: Check, outcome: Any, frame: pd.DataFrame) -> Any:
    import numpy as np

    rows = len(frame)
    positions = None
    if outcome.error is not None or (
        not check.row_level and outcome.passed is False and check.kind in ("column", "dtype")
    ):
        # the check could not run, or the schema is wrong: no row can be shown to pass
        failed, success = rows, False
        positions = np.arange(rows)
    elif check.row_level and outcome.passed is None:
        failed = outcome.failed
        success = failed <= (1.0 - check.mostly + 1e-9) * rows
        positions = outcome.positions
    else:
        failed, success = 0, bool(outcome.passed)
    samples = []
    if positions is not None and outcome.error is None and check.row_level:
        samples = _samples(
            frame, positions[:SAMPLES], list(check.columns) or [str(c) for c in frame.columns[:20]]
        )
    return CheckResult(
        name=check.name,
        kind=check.kind,
        column=check.column,
        severity=check.severity,
        success=success,
        failed_count=failed,
        failed_fraction=failed / rows if rows else 0.0,
        samples=samples,
        message=outcome.message,
        observed=outcome.observed,
        error=outcome.error,
        seconds=outcome.seconds,
        mostly=check.mostly,
        positions=positions,
        index=frame.index if positions is not None else None,
    )


def _samples(frame: pd.DataFrame, positions: Any, columns: list[str]) -> list[dict[str, Any]]:
    """Failing rows as ``{"index": label, "values": {column: value}}``, taken column by column."""
    labels = _plain_list(frame.index.take(positions))
    values = {name: _plain_list(frame[name].array.take(positions)) for name in columns}
    return [
        {"index": label, "values": {name: values[name][i] for name in columns}}
        for i, label in enumerate(labels)
    ]


def _plain_list(values: Any) -> list[Any]:
    """JSON-friendly Python values (``tolist`` first: Python numbers need no conversion)."""
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    return [
        v if type(v) in (int, str, bool) or (type(v) is float and v == v) else plain(v)
        for v in items
    ]


def _row_mask(check: Any, rows: int) -> Any:
    import numpy as np

    if check.positions is None:
        return None
    mask = np.zeros(rows, dtype=bool)
    mask[check.positions] = True
    return mask
