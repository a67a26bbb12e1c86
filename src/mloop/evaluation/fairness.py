"""Group fairness of a binary classifier over a sensitive column.

Per group: selection rate (share predicted positive), TPR, FPR and accuracy. Summaries,
as Fairlearn defines them: demographic parity difference (max − min selection rate) and
ratio (min / max), equalized odds difference (the larger of the TPR and FPR gaps).

>>> f = fairness(model, df, target="late", sensitive="origin")
>>> f.by_group[["group", "selection_rate", "tpr"]]
>>> f.demographic_parity_difference
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput, did_you_mean
from mloop.evaluation import _inputs
from mloop.evaluation._plain import plain
from mloop.evaluation.metrics import FAIRNESS_SUMMARIES
from mloop.evaluation.slices import Slice, codes

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["SUMMARIES", "FairnessResult", "fairness"]

SUMMARIES = FAIRNESS_SUMMARIES


@dataclass
class FairnessResult:
    """Per-group rates and the summaries; a NaN summary has its reason in ``undefined``."""

    sensitive: str
    by_group: pd.DataFrame
    demographic_parity_difference: float
    demographic_parity_ratio: float
    equalized_odds_difference: float
    undefined: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self, name: str) -> float:
        if name not in SUMMARIES:
            raise InvalidInput(
                f"fairness summary {name!r} is unknown."
                + did_you_mean(name, SUMMARIES)
                + f" Use one of {', '.join(SUMMARIES)}."
            )
        value: float = getattr(self, name)
        return value

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "sensitive": self.sensitive,
                "by_group": self.by_group.to_dict(orient="records"),
                **{name: getattr(self, name) for name in SUMMARIES},
                "undefined": self.undefined,
                "notes": self.notes,
            }
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FairnessResult:
        import pandas as pd

        def number(key: str) -> float:
            value = data.get(key)
            return float("nan") if value is None else float(value)

        return cls(
            sensitive=data["sensitive"],
            by_group=pd.DataFrame(data.get("by_group") or []),
            demographic_parity_difference=number("demographic_parity_difference"),
            demographic_parity_ratio=number("demographic_parity_ratio"),
            equalized_odds_difference=number("equalized_odds_difference"),
            undefined=dict(data.get("undefined") or {}),
            notes=list(data.get("notes") or []),
        )


def fairness(
    model: Any,
    data: Any,
    *,
    target: str,
    sensitive: str | tuple[str, ...],
    threshold: float | None = None,
    pos_label: Any = None,
    predictions: Any = None,
) -> FairnessResult:
    """Fairness of ``model`` (or of given ``predictions``) over the ``sensitive`` column(s).

    A tuple of columns measures their intersection (e.g. ``("origin", "carrier")``).

    Example:
        >>> fairness(None, df, target="y", sensitive="group", predictions=df["y_hat"])

    Args:
        model: a fitted model, a loaded model or a model URI (``None`` with ``predictions``).
        data: a DataFrame, dataset reference or Parquet/CSV path.
        target: the label column.
        sensitive: the column, or columns, whose groups are compared.
        threshold: the probability threshold of the positive class.
        pos_label: the positive class.
        predictions: predicted labels, one per row, instead of a model.

    Raises:
        InvalidInput: both or neither of ``model`` and ``predictions``; predictions of
            another length; labels that are not binary; a missing target or sensitive
            column.
        NotFound: a model URI, dataset or file that does not exist.
    """
    import numpy as np

    frame, _ = _inputs.load_frame(data)
    target = _inputs.check_target(frame, target)
    spec = (sensitive,) if isinstance(sensitive, str) else tuple(sensitive)
    _inputs.check_columns(frame, list(spec), "sensitive")
    y = frame[target]
    if predictions is not None:
        if model is not None:
            raise InvalidInput("pass either a model or predictions=, not both.")
        labels = np.asarray(predictions).reshape(-1)
        if len(labels) != len(frame):
            raise InvalidInput(
                f"predictions has {len(labels):,} values for {len(frame):,} rows; give one per row."
            )
        classes = list(dict.fromkeys([*sorted(y.unique().tolist()), *np.unique(labels).tolist()]))
        if len(classes) > 2:
            raise InvalidInput(
                f"fairness is measured for binary classification; the labels are {classes[:5]}."
            )
        classes = _inputs._binary_classes(classes, pos_label)
        positive = _inputs._pos_label(pos_label, classes)
    else:
        if model is None:
            raise InvalidInput("fairness needs a model or predictions=.")
        resolved = _inputs.resolve_model(model)
        X = _inputs.features(frame, target, resolved)
        preds, positive = _inputs.predict_classification(resolved, X, y, pos_label, threshold)
        if len(preds.classes) != 2:
            raise InvalidInput(
                f"fairness is measured for binary classification; the target has {len(preds.classes)} classes."
            )
        labels = preds.labels
    return fairness_of(frame, y, labels, positive, spec)


def fairness_of(
    frame: pd.DataFrame,
    y: pd.Series,
    labels: np.ndarray,
    positive: Any,
    spec: tuple[str, ...],
) -> FairnessResult:
    """The fairness table of predicted ``labels`` against ``y``, grouped by ``spec``."""
    import numpy as np
    import pandas as pd

    groups, names = codes(frame, Slice(spec))
    k = len(names)
    is_pos = y.to_numpy() == positive
    said_pos = np.asarray(labels) == positive

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(groups, weights=mask.astype(float), minlength=k)

    n = np.bincount(groups, minlength=k).astype(float)
    tp, fp = count(is_pos & said_pos), count(~is_pos & said_pos)
    fn, tn = count(is_pos & ~said_pos), count(~is_pos & ~said_pos)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame(
            {
                "group": names,
                "count": n.astype(int),
                "positives": (tp + fn).astype(int),
                "selection_rate": (tp + fp) / n,
                "tpr": np.where(tp + fn > 0, tp / (tp + fn), np.nan),
                "fpr": np.where(fp + tn > 0, fp / (fp + tn), np.nan),
                "accuracy": (tp + tn) / n,
            }
        )
    undefined: dict[str, str] = {}
    notes: list[str] = []
    name = " × ".join(spec)
    rates = table["selection_rate"].to_numpy()
    if k < 2:
        reason = f"{name!r} has one group only ({names[0] if names else 'none'}); fairness compares groups"
        for summary in SUMMARIES:
            undefined[summary] = reason
        return FairnessResult(name, table, np.nan, np.nan, np.nan, undefined, notes)
    dpd = float(rates.max() - rates.min())
    if rates.max() > 0:
        dpr = float(rates.min() / rates.max())
    else:
        dpr = float("nan")
        undefined["demographic_parity_ratio"] = "no group has a positive prediction"
    gaps = []
    for rate in ("tpr", "fpr"):
        values = table[rate].to_numpy()
        defined = ~np.isnan(values)
        if defined.sum() < 2:
            continue
        if not defined.all():
            missing = ", ".join(str(g) for g in table.loc[~defined, "group"])
            what = "positive" if rate == "tpr" else "negative"
            notes.append(f"{rate} is undefined for {missing} (no {what} rows); left out of the gap")
        gaps.append(float(values[defined].max() - values[defined].min()))
    if gaps:
        eod = max(gaps)
    else:
        eod = float("nan")
        undefined["equalized_odds_difference"] = (
            "fewer than two groups have both positive and negative rows"
        )
    return FairnessResult(name, table, dpd, dpr, eod, undefined, notes)
