"""The push path: feature rows computed elsewhere (a stream) written to the online store.

Feast's ``push`` equivalent: the rows go where materialization puts them (the view's
applied version, encoded the same way), so ``get_online_features`` and serving's
``Enrich`` serve them at once, and a write never replaces a newer row with an older one.
Called as :meth:`mloop.features.FeatureStore.push`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mloop.core.errors import InvalidInput
from mloop.features.feature_view import FeatureView
from mloop.features.online.codec import encode_key, encode_values
from mloop.features.online_read import namespace

if TYPE_CHECKING:
    import pandas as pd

    from mloop.features.online import OnlineStore


def push_rows(online: OnlineStore, view: FeatureView, version: int, rows: pd.DataFrame) -> int:
    """Write ``rows`` (join keys, the view's timestamp, its features) under the view's
    applied ``version``; return the rows kept (a row older than the stored one is not).

    Raises:
        InvalidInput: a join key, the timestamp or a feature of the view is missing.
    """
    import pandas as pd

    keys = list(view.entity.join_keys)
    features = view.feature_names
    needed = [*keys, view.timestamp or "", *features]
    missing = [c for c in needed if c not in rows.columns]
    if missing:
        raise InvalidInput(
            f"pushing to feature view {view.name!r}: the rows lack column(s) {missing}; give "
            f"the join keys {keys}, the timestamp {view.timestamp!r} and the features "
            f"{features} (a streamed view declares only its window aggregates)."
        )
    if rows.empty:
        return 0
    stamps = pd.to_datetime(rows[view.timestamp], utc=True)
    naive = stamps.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    times = naive.to_numpy().view("int64").tolist()
    key_columns = [rows[k].tolist() for k in keys]
    value_columns = [rows[f].astype(object).where(rows[f].notna(), None).tolist() for f in features]
    encoded = []
    for i, ts in enumerate(times):
        key = encode_key([column[i] for column in key_columns])
        if key is not None:
            encoded.append((key, ts, encode_values([column[i] for column in value_columns])))
    kept: int = online.write(namespace(view.name, version), encoded)
    return kept
