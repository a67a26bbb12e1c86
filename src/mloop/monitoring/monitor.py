"""``Monitor``: watch a model in production, window by window.

>>> monitor = Monitor("delays", suite="flights", kpis={"delay_rate": lambda w: w.prediction.mean()},
...                   alerts=[AlertRule("drift", "drift.share", 0.3, k=2, n=3)],
...                   notifiers=[LogNotifier()])
>>> windows = monitor.run(start="2026-01-01", end="2026-02-01", every="1D")  # from the prediction log
>>> monitor.refresh_labels()                  # labels arrived: metrics, KPIs, root cause
>>> monitor.report("monitoring.html")

Each window is profiled on the reference's bins, compared with the reference (drift of
the inputs, and of the prediction and label), checked with the model's data suite,
scored once labels are known, ranked for root cause, stored, and judged by the alert
rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mloop import data
from mloop.core.errors import InvalidInput
from mloop.monitoring import _scoring, _store
from mloop.monitoring._dashboard import render_monitor
from mloop.monitoring._frames import (
    LABEL,
    by_version,
    join_labels,
    time_bounds,
    to_ms,
    version_of,
    window_frame,
)
from mloop.monitoring._labels import clean_labels
from mloop.monitoring._names import check_model
from mloop.monitoring.alerts import AlertRule, evaluate_rules
from mloop.monitoring.defaults import DriftDefaults
from mloop.monitoring.drift import drift
from mloop.monitoring.reference import Reference
from mloop.monitoring.references import get_reference
from mloop.monitoring.window import Window
from mloop.registry import get_version
from mloop.store.predictions import read_feedback, read_predictions

if TYPE_CHECKING:
    import pandas as pd

    from mloop.monitoring.report import DriftReport

__all__ = ["Monitor"]


class Monitor:
    """Windows, drift, quality, accuracy with late labels, KPIs and alerts of one model.

    Args:
        model: the registered model name.
        alias: the version to assume when rows do not say (``champion``).
        suite: the data suite run on each window (a :class:`mloop.data.Suite` or the name
            of a stored one).
        kpis: ``{name: fn}`` with ``fn(window_rows)`` or ``fn(y_true, y_pred, data)``.
        alerts: :class:`AlertRule` s judged after each window.
        notifiers: where fired and resolved alerts go (see :mod:`mloop.monitoring.notifiers`).
        stats: a drift statistic per column overriding the default (``{"temp": "psi"}``;
            see :func:`mloop.monitoring.drift`).
        thresholds: a drift threshold per column overriding the statistic's default.
        config: other drift defaults (:class:`DriftDefaults`).
        min_slice_rows: the smallest slice ranked for root cause.
        store_profiles: keep each window's profile (needed to merge windows later).
    """

    def __init__(
        self,
        model: str,
        *,
        alias: str = "champion",
        suite: Any = None,
        kpis: Mapping[str, Callable[..., Any]] | None = None,
        alerts: Sequence[AlertRule] = (),
        notifiers: Sequence[Any] = (),
        stats: Mapping[str, str] | None = None,
        thresholds: Mapping[str, float] | None = None,
        config: DriftDefaults | None = None,
        min_slice_rows: int = 30,
        store_profiles: bool = True,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise InvalidInput(f"Monitor needs a registered model name, not {model!r}.")
        for rule in alerts:
            if not isinstance(rule, AlertRule):
                raise InvalidInput(
                    f"alerts must be AlertRule objects, not {type(rule).__name__}; e.g. "
                    "AlertRule('drift', 'drift.share', 0.3)."
                )
        for name, fn in (kpis or {}).items():
            if not callable(getattr(fn, "fn", fn)):
                raise InvalidInput(f"KPI {name!r} is a {type(fn).__name__}; give a function.")
        self.model = model
        self.alias = alias
        self.suite = suite
        self.kpis = dict(kpis or {})
        self.alerts = list(alerts)
        self.notifiers = list(notifiers)
        self.stats = dict(stats or {})
        self.thresholds = dict(thresholds or {})
        self.config = config
        self.min_slice_rows = min_slice_rows
        self.store_profiles = store_profiles
        self._references: dict[int, Reference] = {}

    def __repr__(self) -> str:
        return f"Monitor({self.model!r}, alerts={[r.name for r in self.alerts]})"

    # -- references -----------------------------------------------------------------------

    def reference(self, version: int | str | None = None) -> Reference:
        """The reference of ``version`` (default: the version the alias points to)."""
        number = get_version(self.model, version if version is not None else self.alias).version
        if number not in self._references:
            self._references[number] = get_reference(self.model, number)
        return self._references[number]

    # -- windows --------------------------------------------------------------------------

    def observe(
        self,
        rows: pd.DataFrame,
        *,
        start: Any = None,
        end: Any = None,
        version: int | str | None = None,
        labels: Any = None,
    ) -> Window:
        """Summarise, compare, check, score and store one window of one model version.

        ``rows`` are prediction-log rows (:func:`mloop.store.predictions.read_predictions`)
        or a plain frame of the model's features with ``prediction`` (and ``label``).
        Labels come from ``labels`` (request id + label, or one per row), a ``label``
        column, or the recorded feedback of the rows' request ids.

        Raises:
            InvalidInput: the rows hold several model versions (use :meth:`run`) or have
                no time range and no ``start``/``end``.
            NotFound: the version has no reference (``set_reference`` makes one).
        """
        frame = window_frame(rows)
        versions = version_of(frame)
        if len(versions) > 1 and version is None:
            raise InvalidInput(
                f"the rows hold model versions {versions}; observe one version at a time "
                "(Monitor.run splits the prediction log by version)."
            )
        chosen: int | str | None = (
            version if version is not None else (versions[0] if versions else None)
        )
        reference = self.reference(chosen)
        bounds = time_bounds(frame)
        start_ms = to_ms(start) if start is not None else (bounds[0] if bounds else None)
        end_ms = to_ms(end) if end is not None else (bounds[1] if bounds else None)
        if start_ms is None or end_ms is None:
            raise InvalidInput(
                "the window's period is unknown: the rows have no ts column; pass start= and end=."
            )
        if labels is not None:
            frame = join_labels(frame, labels)
        elif LABEL not in frame.columns and "request_id" in frame.columns:
            frame = self._with_feedback(frame, start_ms)
        window = self._window(frame, reference, start_ms, end_ms)
        return window

    def run(
        self,
        start: Any,
        end: Any,
        every: str | None = "1D",
        rows: int | None = None,
    ) -> list[Window]:
        """Windows of the prediction log over ``[start, end)``: by time (``every``) or ``rows``.

        Each version served in a period gets its own window. Periods without predictions
        give no window.

        Raises:
            NotFound: the model is not registered (the message suggests the nearest names),
                or a version served has no reference.
            InvalidInput: ``end`` not after ``start``, ``rows`` not a positive number, or
                ``every`` not a positive duration.
        """
        import pandas as pd

        check_model(self.model)
        start_ms, end_ms = to_ms(start), to_ms(end)
        if end_ms <= start_ms:
            raise InvalidInput(f"end {end!r} must be after start {start!r}.")
        windows: list[Window] = []
        if rows is not None:
            if not isinstance(rows, int) or rows < 1:
                raise InvalidInput(f"rows = {rows!r} must be a positive number of rows per window.")
            log = read_predictions(self.model, start_ms, end_ms)
            for version, part in by_version(log):
                for first in range(0, len(part), rows):
                    chunk = part.iloc[first : first + rows]
                    windows.append(self.observe(chunk, version=version))
            return sorted(windows, key=lambda w: (w.start, w.model_version))
        try:
            step = pd.Timedelta(str(every))
        except (TypeError, ValueError):
            raise InvalidInput(
                f"every = {every!r} is not a duration; use e.g. '1h', '1D' or '7D'."
            ) from None
        if step <= pd.Timedelta(0):
            raise InvalidInput(f"every = {every!r} must be a positive duration.")
        step_ms = int(step.value // 1_000_000)
        for low in range(start_ms, end_ms, step_ms):
            high = min(low + step_ms, end_ms)
            log = read_predictions(self.model, low, high)
            for version, part in by_version(log):
                windows.append(self.observe(part, start=low, end=high, version=version))
        return windows

    def refresh_labels(self, start: Any = None, end: Any = None) -> list[Window]:
        """Re-score stored windows whose labels were incomplete, from the prediction log.

        Returns the windows whose number of labelled rows changed.
        """
        changed = []
        stored = _store.list_windows(
            self.model, None if start is None else to_ms(start), None if end is None else to_ms(end)
        )
        if not stored:
            check_model(self.model)
        for window in stored:
            if window.labelled_rows >= window.num_rows:
                continue
            log = read_predictions(
                self.model, window.start, window.end, version=window.model_version
            )
            if log.empty:
                continue
            frame = self._with_feedback(window_frame(log), window.start)
            reference = self.reference(int(window.model_version))
            frame, skipped = clean_labels(frame, reference.task, reference.classes)
            before = window.labelled_rows, window.skipped_labels
            window.skipped_labels = skipped
            _scoring.score(window, frame, reference, self.kpis, self.min_slice_rows)
            if (window.labelled_rows, window.skipped_labels) != before:
                _store.update_window(window)
                changed.append(window)
        for version in sorted({w.model_version for w in changed}):
            self._judge(version)
        return changed

    def rows(self, window: Window, labelled: bool = True) -> pd.DataFrame:
        """The window's rows from the prediction log (features, outputs, ``label``).

        With ``labelled`` only rows whose label has arrived. Empty when the window was
        observed from a frame that never went through the prediction log. Labels outside
        the model's label domain count as not arrived (see ``Window.skipped_labels``).
        """
        log = read_predictions(self.model, window.start, window.end, version=window.model_version)
        frame = window_frame(log)
        if not log.empty:
            frame = self._with_feedback(frame, window.start)
            reference = self.reference(int(window.model_version))
            frame, _ = clean_labels(frame, reference.task, reference.classes)
        if labelled:
            if LABEL not in frame.columns:
                return frame.iloc[:0].assign(**{LABEL: []})
            frame = frame[frame[LABEL].notna()]
        return frame.reset_index(drop=True)

    def windows(
        self, start: Any = None, end: Any = None, version: int | str | None = None
    ) -> list[Window]:
        """Stored windows of this model starting in ``[start, end)``, oldest first.

        Raises:
            NotFound: the model is not registered (the message suggests the nearest names).
        """
        found = _store.list_windows(
            self.model,
            None if start is None else to_ms(start),
            None if end is None else to_ms(end),
            None if version is None else str(version),
        )
        if not found:
            check_model(self.model)
        return found

    def drift(
        self, start: Any = None, end: Any = None, version: int | str | None = None
    ) -> DriftReport:
        """Drift of a whole period: its windows' profiles merged, against the reference."""
        windows = [w for w in self.windows(start, end, version) if w.profile_key]
        if not windows:
            raise InvalidInput(
                f"model {self.model!r} has no stored window profiles in that period; "
                "observe some windows first (store_profiles=True)."
            )
        versions = {w.model_version for w in windows}
        if len(versions) > 1:
            raise InvalidInput(
                f"the period has windows of versions {sorted(versions)}; pass version= to pick one."
            )
        reference = self.reference(int(next(iter(versions))))
        merged = data.merge(*(w.profile() for w in windows))
        return drift(
            reference.profile,
            merged,
            columns=[c for c in reference.features if c in reference.profile],
            importance=reference.importance if any_weight(reference) else None,
            title=f"Drift of {self.model} over {len(windows)} windows",
            **self._overrides(reference.features),
        )

    def report(self, path: Any = None, start: Any = None, end: Any = None) -> str:
        """The HTML report of the period (drift over time, histograms, metrics, alerts, retraining)."""
        from pathlib import Path

        html = render_monitor(self.model, self.windows(start, end))
        if path is not None:
            Path(path).write_text(html)
        return html

    # -- one window -----------------------------------------------------------------------

    def _with_feedback(self, frame: pd.DataFrame, since: int) -> pd.DataFrame:
        """Join the labels observed since the window began (a label cannot precede its prediction)."""
        feedback = read_feedback(self.model, start=since)
        if feedback.empty:
            return frame
        return join_labels(frame, feedback)

    def _overrides(self, columns: list[str]) -> dict[str, Any]:
        stats = {k: v for k, v in self.stats.items() if k in columns}
        thresholds = {k: v for k, v in self.thresholds.items() if k in columns}
        return {"stats": stats or None, "thresholds": thresholds or None, "config": self.config}

    def _window(self, frame: pd.DataFrame, reference: Reference, start: int, end: int) -> Window:
        frame, skipped = clean_labels(frame, reference.task, reference.classes)
        labelled = LABEL in frame.columns and reference.label is not None
        features = reference.features
        outputs = [c for c in reference.outputs if c in reference.profile]
        if labelled and frame[LABEL].notna().any():
            outputs = [*outputs, LABEL]
        present = [c for c in [*features, *outputs] if c in frame.columns]
        feature_drift = drift(
            reference.profile,
            frame[[c for c in features if c in frame.columns]],
            columns=features,
            importance=reference.importance if any_weight(reference) else None,
            title=f"Drift of {self.model} version {reference.model_version}",
            **self._overrides(features),
        )
        output_drift = drift(
            reference.profile,
            frame[[c for c in outputs if c in frame.columns]],
            columns=outputs,
            title=f"Prediction drift of {self.model} version {reference.model_version}",
            **self._overrides(outputs),
        )
        window = Window(
            id="",
            model_name=self.model,
            model_version=str(reference.model_version),
            start=start,
            end=end,
            num_rows=len(frame),
            drift=feature_drift,
            output_drift=output_drift,
            baseline=dict(reference.metrics),
            quality=_scoring.quality(self.suite, frame, features, feature_drift),
            latency=_scoring.latency(frame),
            skipped_labels=skipped,
        )
        _scoring.score(window, frame, reference, self.kpis, self.min_slice_rows)
        profile = (
            data.profile(frame[present], like=reference.profile)
            if self.store_profiles and present and len(frame)
            else None
        )
        _store.save_window(window, profile)
        self._judge(window.model_version)
        return window

    def _judge(self, version: str) -> list[dict[str, Any]]:
        if not self.alerts:
            return []
        depth = max(rule.n for rule in self.alerts)
        recent = _store.list_windows(self.model, version=version, limit=depth, newest=True)
        return evaluate_rules(self.model, self.alerts, recent, self.notifiers)


def any_weight(reference: Reference) -> bool:
    return bool(reference.importance) and any(v > 0 for v in (reference.importance or {}).values())
