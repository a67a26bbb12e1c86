"""Data quality of a stream: a Suite and an anomaly detector on windows of records.

>>> quality = streams.StreamQuality(
...     "transactions", suite=suite, detector=data.RobustDetector().fit(reference),
...     window=1000, max_anomaly_rate=0.02,
... )
>>> for closed in quality.observe(batch):          # a DataFrame indexed by record id
...     closed.flagged["tx-981"]                     # ['anomaly: score 41 > 6.2; amount = 9e+04 ...']

Records are gathered into windows of ``window`` records. When a window is full, the suite
validates it and the detector flags its strangest records; the outcome is **one stored
validation result** (the same row as a batch ``suite.validate``, listed by
``mloop.data.results(suite=name)``) with the detector as one more check (kind
``anomaly``) whose samples are the flagged records and why. The window's numbers
(``quality.anomaly_rate``, ``quality.anomalies``, ``quality.failed_checks``) are judged by
monitoring's alert rules, so an anomaly rate above a bound fires (and later resolves) an
alert like any monitoring window. Flags do not drop records: the ingestion checks of the
runner (``suite=``) do that. Decision: docs/decisions/0163-streams-quality-windows.md.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.core.ids import new_id
from mloop.core.log import get_logger
from mloop.data import CheckResult, Detector, Flag, Suite, ValidationResult, save_result
from mloop.monitoring import AlertRule, Window
from mloop.monitoring.alerts import evaluate_rules
from mloop.monitoring.report import DatasetDrift, DriftReport

if TYPE_CHECKING:
    import pandas as pd

_log = get_logger("mloop.streams")
SAMPLES = 50  # flagged records kept in a stored result (all of them are on the live window)


@dataclass
class QualityWindow:
    """What one window of a stream showed: checks, anomalies, flagged records and alerts."""

    number: int
    start: int  # epoch ms: the first record's time (event time with ``timestamp=``)
    end: int
    rows: int
    result: ValidationResult  # stored like a batch result (``result.id``)
    anomalies: int
    flagged: dict[str, list[str]] = field(default_factory=dict)  # record id -> reasons
    alerts: list[dict[str, Any]] = field(default_factory=list)  # notifications sent

    @property
    def anomaly_rate(self) -> float:
        return self.anomalies / self.rows if self.rows else 0.0

    @property
    def failed_checks(self) -> list[str]:
        return [c.name for c in self.result.checks if not c.success and c.kind != "anomaly"]


class StreamQuality:
    """Windows of a stream judged by a suite and a detector (see the module docstring)."""

    def __init__(
        self,
        name: str,
        *,
        suite: Suite | None = None,
        detector: Detector | None = None,
        window: int = 1000,
        max_anomaly_rate: float | None = None,
        alerts: Sequence[AlertRule] = (),
        notifiers: Sequence[Any] = (),
        subject: str | None = None,
        timestamp: str | None = None,
        adapt: bool = False,
        save: bool = True,
    ) -> None:
        if suite is None and detector is None:
            raise InvalidInput(
                f"stream quality {name!r}: give a suite=, a detector= or both to judge windows."
            )
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise InvalidInput(
                f"stream quality {name!r}: window={window!r} must be a positive number of records."
            )
        if detector is not None and detector.threshold is None:
            raise InvalidInput(
                f"stream quality {name!r}: the detector is not fitted; call "
                "detector.fit(reference) first (the reference sets what normal looks like)."
            )
        rules = list(alerts)
        if max_anomaly_rate is not None:
            if not 0.0 <= max_anomaly_rate < 1.0:
                raise InvalidInput(
                    f"stream quality {name!r}: max_anomaly_rate={max_anomaly_rate!r} must be "
                    "a share in [0, 1), e.g. 0.02."
                )
            rules.append(
                AlertRule(f"{name}: anomaly rate", "quality.anomaly_rate", max_anomaly_rate, op=">")
            )
        self.name = name
        self.suite = suite if suite is not None else Suite(name)
        self.detector = detector
        self.window = window
        self.rules = rules
        self.notifiers = list(notifiers)
        self.subject = subject or name  # the name alerts are kept under (a model, a stream)
        self.timestamp = timestamp
        self.adapt = adapt
        self.save = save
        self.windows = 0
        self._frames: list[pd.DataFrame] = []
        self._rows = 0
        self._recent: deque[Window] = deque(maxlen=max((r.n for r in rules), default=1))
        if save:
            self.suite.save()

    @property
    def pending(self) -> int:
        """Records waiting for their window to fill."""
        return self._rows

    def observe(self, records: pd.DataFrame) -> list[QualityWindow]:
        """Add records (a DataFrame indexed by record id); return the windows this closed."""
        closed: list[QualityWindow] = []
        if records.empty:
            return closed
        stamp = int(time.time() * 1000)
        if self.timestamp is None:
            records = records.assign(_mloop_seen_ms=stamp)
        self._frames.append(records)
        self._rows += len(records)
        while self._rows >= self.window:
            closed.append(self._close(self.window))
        return closed

    def flush(self) -> QualityWindow | None:
        """Close the partial window (at the end of a run); None when nothing is pending."""
        return self._close(self._rows) if self._rows else None

    # -- one window ----------------------------------------------------------------------

    def _close(self, size: int) -> QualityWindow:
        import pandas as pd

        frame = pd.concat(self._frames) if len(self._frames) > 1 else self._frames[0]
        window, rest = frame.iloc[:size], frame.iloc[size:]
        self._frames = [rest] if len(rest) else []
        self._rows = len(rest)
        start, end = self._span(window)
        data = window.drop(columns=["_mloop_seen_ms"], errors="ignore")
        result = self.suite.validate(data, save=False, allow_empty=True)
        flagged: dict[str, list[str]] = {}
        for check in result.checks:
            if check.success and not check.failed_count:
                continue
            if check.positions is None or check.error is not None:
                continue
            column = check.column
            for key, position in zip(
                check.failing_index.tolist(), check.positions.tolist(), strict=True
            ):
                value = (
                    ""
                    if column is None
                    else f" ({column} = {_plain(data[column].iat[position])!r})"
                )
                flagged.setdefault(str(key), []).append(f"check {check.name}{value}")
        anomalies = 0
        if self.detector is not None:
            flags = self.detector.flag(data)
            anomalies = len(flags)
            for flag in flags:
                flagged.setdefault(str(flag.index), []).append("anomaly: " + _why(flag))
            result.checks.append(self._anomaly_check(flags, len(data)))
            if self.adapt:
                self.detector.update(data)
        self.windows += 1
        if self.save:
            save_result(result)
        closed = QualityWindow(
            number=self.windows,
            start=start,
            end=end,
            rows=len(data),
            result=result,
            anomalies=anomalies,
            flagged=flagged,
        )
        if self.rules:
            self._recent.append(self._monitoring_window(closed))
            closed.alerts = evaluate_rules(
                self.subject, self.rules, list(self._recent), self.notifiers
            )
        return closed

    def _span(self, window: pd.DataFrame) -> tuple[int, int]:
        import pandas as pd

        if self.timestamp is None:
            seen = window["_mloop_seen_ms"]
            return int(seen.min()), int(seen.max()) + 1
        if self.timestamp not in window.columns:
            raise InvalidInput(
                f"stream quality {self.name!r}: the records have no timestamp column "
                f"{self.timestamp!r}; name an event-time column or leave timestamp=None."
            )
        stamps = pd.to_datetime(window[self.timestamp], utc=True)
        low, high = stamps.min(), stamps.max()
        if pd.isna(low):
            now = int(time.time() * 1000)
            return now, now + 1
        return int(low.value // 1_000_000), int(high.value // 1_000_000) + 1

    def _anomaly_check(self, flags: list[Flag], rows: int) -> CheckResult:
        """The detector's verdict as one more check of the window's result."""
        assert self.detector is not None
        rate = len(flags) / rows if rows else 0.0
        bound = next((r.threshold for r in self.rules if r.metric == "quality.anomaly_rate"), None)
        detector = type(self.detector).__name__
        return CheckResult(
            name=f"anomaly({detector})",
            kind="anomaly",
            column=None,
            severity="warn",
            success=bound is None or rate <= bound,
            failed_count=len(flags),
            failed_fraction=rate,
            samples=[
                {
                    "index": flag.index,
                    "values": {c.feature: c.value for c in flag.features},
                    "why": _why(flag),
                }
                for flag in flags[:SAMPLES]
            ],
            message=(
                f"{len(flags)} of {rows} records score above the detector's threshold "
                f"{self.detector.threshold:.4g}"
                + ("" if bound is None else f" (bound on the rate: {bound:g})")
            ),
            observed={"anomaly_rate": rate, "threshold": self.detector.threshold},
        )

    def _monitoring_window(self, closed: QualityWindow) -> Window:
        """The window as monitoring's alert rules read it (numbers under ``quality.``)."""
        return Window(
            id=closed.result.id or new_id(),
            model_name=self.subject,
            model_version="stream",
            start=closed.start,
            end=closed.end,
            num_rows=closed.rows,
            drift=DriftReport(
                features={},
                dataset=DatasetDrift(0, 0, 0.0, 0.0, 1.0, False),
                findings=[],
                reference_rows=0,
                current_rows=closed.rows,
            ),
            quality={
                "suite": self.suite.name,
                "result_id": closed.result.id,
                "failed": closed.failed_checks,
                "anomalies": closed.anomalies,
                "anomaly_rate": closed.anomaly_rate,
            },
        )


def _why(flag: Flag) -> str:
    """``score 41.2 > 6.2; amount = 9e+04 (typical 31.5)``: the flag without its row label."""
    parts = [
        f"{c.feature} = {_number(c.value)} (typical {_number(c.expected)})" for c in flag.features
    ]
    return f"score {flag.score:.3g} > {flag.threshold:.3g}; " + ", ".join(parts)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _number(value: float | None) -> str:
    return "null" if value is None else f"{value:.4g}"
