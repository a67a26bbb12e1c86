"""The card-transaction stream: generated payments with documented fraud and fault patterns,
checked by a suite, featurized by streaming windows, scored by an anomaly detector, and
the detector's precision and recall measured on each injected pattern.

>>> from mloop.demo.cards import run_cards
>>> report = run_cards(20_000, seed=0)
>>> report.table()        # one row per pattern: injected, flagged, precision, recall

The patterns (:data:`PATTERNS`) are injected into ordinary traffic (2,000 accounts,
200 merchants, log-normal amounts, a message sent within 3 s of its event time):

- ``burst``: one account makes 12–30 small payments within 3 minutes (card testing);
- ``impossible_amount``: an amount no card allows (0, negative, or 60,000 to 1,000,000);
- ``unseen_merchant``: a merchant id never seen in the reference traffic;
- ``clock_skew``: an event time 2–12 hours off the time the message was sent (a terminal
  with a wrong clock).

The pipeline is the stream's: micro-batches (in arrival order) → the ingestion checks
(``amount`` in range, ``skew_s`` within 10 minutes: failures are set aside, as the runner
dead-letters them) → per-account window features over event time (``tx_count_10m``,
``amount_sum_10m`` by :class:`~mloop.streams.WindowAggregator`) → a
:class:`~mloop.streams.StreamQuality` with the whole suite (plus the warn-level
``in_set(merchant)``) and a :class:`~mloop.data.RobustDetector` fitted on the reference
day. A flag is attributed to a pattern by its reason (which check failed, or the
detector's most anomalous feature), so precision is measured per pattern too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop import features as fs
from mloop.core.errors import InvalidInput
from mloop.data import RobustDetector, Suite, checks
from mloop.streams import StreamQuality, WindowAggregator

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PATTERNS = {
    "burst": "one account makes 12-30 small payments within 3 minutes (card testing)",
    "impossible_amount": "an amount no card allows: 0, negative, or 60,000 to 1,000,000",
    "unseen_merchant": "a merchant id never seen in the reference traffic",
    "clock_skew": "an event time 2-12 hours off the time the message was sent",
}
ACCOUNTS, MERCHANTS = 2_000, 200
DETECTED_BY = {  # the reason of a flag -> the pattern it points to
    "check between(amount)": "impossible_amount",
    "check between(skew_s)": "clock_skew",
    "check in_set(merchant)": "unseen_merchant",
    "anomaly: amount": "impossible_amount",
    "anomaly: tx_count_10m": "burst",
    "anomaly: amount_sum_10m": "burst",
}


def generate(n: int, seed: int = 0, start: str = "2026-03-02", inject: bool = True) -> pd.DataFrame:
    """``n`` payments of one day in arrival order (``sent_at``), with a ``pattern`` column
    (``normal`` or a key of :data:`PATTERNS`) that the pipeline never reads."""
    import numpy as np
    import pandas as pd

    if n < 1_000:
        raise InvalidInput(f"n={n} is too small for the patterns to stand out; give n >= 1000.")
    rng = np.random.default_rng(seed)
    day = pd.Timestamp(start, tz="UTC").value // 1_000  # epoch microseconds
    popularity = 1.0 / np.arange(1, MERCHANTS + 1)  # Zipf: a few merchants take most payments
    frame = pd.DataFrame(
        {
            "account": rng.integers(0, ACCOUNTS, n).astype(str),
            "merchant": rng.choice(MERCHANTS, n, p=popularity / popularity.sum()).astype(str),
            "amount": np.clip(rng.lognormal(3.2, 0.9, n), 1.0, 5_000.0).round(2),
            "ts_us": day + rng.integers(0, 86_400_000_000, n),
            "pattern": "normal",
        }
    )
    frame["account"] = "acct-" + frame["account"]
    frame["merchant"] = "m-" + frame["merchant"]
    frame["sent_us"] = frame["ts_us"] + rng.integers(50_000, 3_000_000, n)
    if inject:
        frame = _inject(frame, rng, day)
    frame = frame.sort_values("sent_us", kind="stable", ignore_index=True)
    frame.insert(0, "request_id", [f"tx-{seed}-{i}" for i in range(len(frame))])
    frame["ts"] = pd.to_datetime(frame.pop("ts_us"), unit="us", utc=True)
    frame["sent_at"] = pd.to_datetime(frame.pop("sent_us"), unit="us", utc=True)
    return frame


def _inject(frame: pd.DataFrame, rng: np.random.Generator, day: int) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    n = len(frame)
    rows = rng.permutation(n)
    # impossible amounts, unseen merchants, clock skew: 0.2%, 0.3%, 0.3% of the records
    amounts, merchants, skewed = np.split(rows[: n * 8 // 1000], [n * 2 // 1000, n * 5 // 1000])
    kind = rng.integers(0, 3, len(amounts))  # 0: zero, 1: negative, 2: over 60,000
    original = frame.loc[amounts, "amount"].to_numpy()
    huge = rng.uniform(60_000, 1_000_000, len(amounts))
    frame.loc[amounts, "amount"] = np.select([kind == 0, kind == 1], [0.0, -original], huge).round(
        2
    )
    frame.loc[amounts, "pattern"] = "impossible_amount"
    frame.loc[merchants, "merchant"] = [f"m-new-{i}" for i in range(len(merchants))]
    frame.loc[merchants, "pattern"] = "unseen_merchant"
    hours = rng.uniform(2, 12, len(skewed)) * np.where(rng.random(len(skewed)) < 0.5, -1, 1)
    frame.loc[skewed, "ts_us"] = frame.loc[skewed, "ts_us"] + (hours * 3.6e9).astype("int64")
    frame.loc[skewed, "pattern"] = "clock_skew"
    bursts = []  # one burst per 2,500 records: 12-30 payments of one account in 3 minutes
    for b in range(max(1, n // 2_500)):
        size = int(rng.integers(12, 31))
        begin = day + int(rng.integers(3_600, 82_800)) * 1_000_000
        ts = begin + np.sort(rng.integers(0, 180_000_000, size))
        bursts.append(
            pd.DataFrame(
                {
                    "account": f"acct-burst-{b}",
                    "merchant": rng.choice([f"m-{i}" for i in range(20)], size),
                    "amount": rng.uniform(1.0, 5.0, size).round(2),
                    "ts_us": ts,
                    "pattern": "burst",
                    "sent_us": ts + rng.integers(50_000, 3_000_000, size),
                }
            )
        )
    return pd.concat([frame, *bursts], ignore_index=True)


def card_view(reference: pd.DataFrame) -> fs.FeatureView:
    """Per-account windows over event time: payments and amount in the last 10 minutes."""
    return fs.FeatureView(
        "card_windows",
        entity=fs.Entity("account", join_keys=["account"]),
        source=reference[["account", "ts", "amount"]],
        timestamp="ts",
        features=["tx_count_10m", "amount_sum_10m"],
        transforms=[
            fs.window_agg(None, "count", "10m", name="tx_count_10m"),
            fs.window_agg("amount", "sum", "10m", name="amount_sum_10m"),
        ],
    )


def suite(reference: pd.DataFrame) -> tuple[Suite, Suite]:
    """(ingestion checks that set records aside, the quality suite of the windows)."""
    ingestion = [
        checks.between("amount", 0.01, 50_000),
        checks.between("skew_s", -600, 600),
    ]
    known = sorted(reference["merchant"].unique())
    merchant = checks.in_set("merchant", known, severity="warn")
    return Suite("cards-ingest", ingestion), Suite("cards", [*ingestion, merchant])


@dataclass
class CardsReport:
    """What the pipeline flagged, against what was injected."""

    records: int
    truth: dict[str, str]  # record id -> pattern
    attributed: dict[str, str]  # flagged record id -> the pattern its reason points to
    by_detector: set[str] = field(default_factory=set)
    windows: int = 0
    alerts: int = 0
    set_aside: int = 0

    def table(self) -> list[dict[str, Any]]:
        """Per pattern: injected, flagged (any reason), precision and recall; then the
        detector alone, and the false-positive rate on normal records."""
        rows = []
        for pattern in PATTERNS:
            true = {k for k, p in self.truth.items() if p == pattern}
            said = {k for k, p in self.attributed.items() if p == pattern}
            hits = sum(1 for k in true if k in self.attributed)
            found = sum(1 for k in true if k in self.by_detector)
            rows.append(
                {
                    "pattern": pattern,
                    "injected": len(true),
                    "attributed": len(said),
                    "precision": _share(len(said & true), len(said)),
                    "recall": _share(hits, len(true)),
                    "detector_recall": _share(found, len(true)),
                }
            )
        normal = [k for k, p in self.truth.items() if p == "normal"]
        false = sum(1 for k in normal if k in self.attributed)
        rows.append(
            {
                "pattern": "normal",
                "injected": len(normal),
                "attributed": false,
                "precision": None,
                "recall": None,
                "detector_recall": None,
                "false_positive_rate": _share(false, len(normal), 5),
            }
        )
        return rows


def run_cards(
    n: int = 20_000,
    seed: int = 0,
    batch: int = 500,
    window: int = 2_000,
    quantile: float = 0.999,
    save: bool = True,
) -> CardsReport:
    """Generate a reference day and a stream day, run the stream pipeline, measure it."""
    import numpy as np

    reference = generate(n, seed + 1_000, start="2026-03-01", inject=False)  # same rates
    view = card_view(reference)
    ingestion, quality_suite = suite(reference)
    warmup = WindowAggregator(view, allowed_lateness="5m", id_column="request_id")
    ref = reference.join(warmup.update(reference).rows[["tx_count_10m", "amount_sum_10m"]])
    detector = RobustDetector(
        features=["amount", "tx_count_10m", "amount_sum_10m"], quantile=quantile
    ).fit(ref)
    quality = StreamQuality(
        "cards", suite=quality_suite, detector=detector, window=window,
        max_anomaly_rate=0.05, subject="cards", timestamp="sent_at", save=save,
    )  # fmt: skip
    stream = generate(n, seed)
    truth = dict(zip(stream["request_id"], stream.pop("pattern"), strict=True))
    stream["skew_s"] = (stream["sent_at"] - stream["ts"]).dt.total_seconds()
    windows = WindowAggregator(view, allowed_lateness="5m", id_column="request_id")
    report = CardsReport(records=len(stream), truth=truth, attributed={})
    closed = []
    for begin in range(0, len(stream), batch):
        part = stream.iloc[begin : begin + batch].set_index("request_id", drop=False)
        checked = ingestion.validate(part, save=False)
        failing = np.zeros(len(part), bool)
        for check in checked.errors:
            failing[check.positions] = True
        report.set_aside += int(failing.sum())
        accepted = part[~failing].reset_index(drop=True)
        update = windows.update(accepted)
        computed = _rows_by_id(update.rows, accepted, update.late)  # late events: no row
        part = part.join(computed[["tx_count_10m", "amount_sum_10m"]])
        closed += quality.observe(part.drop(columns=["request_id"]))
    last = quality.flush()
    closed += [last] if last is not None else []
    for quality_window in closed:
        for key, reasons in quality_window.flagged.items():
            report.attributed[key] = _attribute(reasons)
            if any(r.startswith("anomaly:") for r in reasons):
                report.by_detector.add(key)
    report.windows = len(closed)
    report.alerts = sum(1 for w in closed for a in w.alerts if a["status"] == "firing")
    return report


def _share(part: int, whole: int, digits: int = 3) -> float | None:
    return round(part / whole, digits) if whole else None


def _rows_by_id(rows: pd.DataFrame, accepted: pd.DataFrame, late: pd.DataFrame) -> pd.DataFrame:
    """The window rows of the accepted, non-late events, indexed by their request id."""
    ids = accepted["request_id"]
    kept = ids[~ids.isin(late["request_id"])].to_numpy()
    return rows.set_index(kept)


def _attribute(reasons: list[str]) -> str:
    """The pattern a flag's reasons point to: a failed check first, else the detector's
    most anomalous feature (``anomaly: score ... ; tx_count_10m = 14 ...``)."""
    votes: Counter[str] = Counter()
    for reason in reasons:
        head = reason.split(" (")[0]
        if reason.startswith("anomaly:"):
            feature = reason.split("; ", 1)[1].split(" = ")[0]
            head = f"anomaly: {feature}"
        pattern = DETECTED_BY.get(head)
        if pattern is not None:
            votes[pattern] += 2 if head.startswith("check") else 1
    return votes.most_common(1)[0][0] if votes else "unknown"
