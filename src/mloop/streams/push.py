"""The push path: each entity's latest streamed feature row written to the online store.

Feast's ``push`` equivalent for streams: the rows go where materialization puts them
(the view's applied version, encoded the same way), so ``get_online_features`` and
``Enrich`` serve them at once, and a write never replaces a newer row with an older one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.features import FeatureStore
from mloop.features.online.codec import encode_key, encode_values
from mloop.features.online_read import namespace
from mloop.streams.windows import micros

if TYPE_CHECKING:
    import pandas as pd


def push(store: FeatureStore, view: str, latest: pd.DataFrame) -> int:
    """Write ``latest`` (keys, event time, features of view ``view``) online; return rows kept.

    Raises:
        NotFound: the view is not applied.
        InvalidInput: a feature of the view is missing from ``latest``.
    """
    import pandas as pd

    heads = {d.name: d.version for d in store.list_definitions("feature_view")}
    if view not in heads:
        raise NotFound(f"feature view {view!r} is not applied." + did_you_mean(view, heads))
    definition = store.get_definition("feature_view", view)
    features = definition.feature_names
    missing = [f for f in features if f not in latest.columns]
    if missing:
        raise InvalidInput(
            f"pushing to feature view {view!r}: the rows lack feature(s) {missing}; a streamed "
            "view declares only its window aggregates, e.g. features=['amount_sum_10m']."
        )
    if latest.empty:
        return 0
    keys = list(definition.entity.join_keys)
    stamps = pd.to_datetime(latest[definition.timestamp], utc=True)
    times = micros(stamps).tolist()
    key_columns = [latest[k].tolist() for k in keys]
    value_columns = [
        latest[f].astype(object).where(latest[f].notna(), None).tolist() for f in features
    ]
    rows = []
    for i, ts in enumerate(times):
        key = encode_key([column[i] for column in key_columns])
        if key is not None:
            rows.append((key, ts, encode_values([column[i] for column in value_columns])))
    kept: int = store.online.write(namespace(view, heads[view]), rows)
    return kept
