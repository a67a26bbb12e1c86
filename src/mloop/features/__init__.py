"""Feature store: definitions as code, point-in-time training sets, online serving.

>>> from mloop import features as fs
>>> origin = fs.Entity("origin", join_keys=["origin"])
>>> weather = fs.FeatureView(
...     "weather", entity=origin, source=weather_df, timestamp="time_hour", ttl="3h",
...     transforms=[fs.delta("pressure", "3h", name="pressure_change_3h")],
... )
>>> store = fs.FeatureStore()
>>> store.apply([origin, weather])
>>> train = store.get_training_set(flights, features=["weather:temp", "weather:pressure_change_3h"])

One point-in-time implementation (DuckDB ASOF JOIN over Parquet) serves training sets;
materialization copies the same feature rows to the online store (SQLite or Redis).
"""

from __future__ import annotations

from mloop.features.entity import Entity
from mloop.features.feature_view import Feature, FeatureView
from mloop.features.on_demand import OnDemandFeatureView
from mloop.features.online import OnlineStore, open_online_store
from mloop.features.online_read import OnlineResponse
from mloop.features.service import FeatureService
from mloop.features.store import FeatureStore
from mloop.features.training_set import TrainingSet, training_set_of
from mloop.features.transforms import delta, expression, lag, window_agg

__all__ = [
    "Entity",
    "Feature",
    "FeatureService",
    "FeatureStore",
    "FeatureView",
    "OnDemandFeatureView",
    "OnlineResponse",
    "OnlineStore",
    "TrainingSet",
    "delta",
    "expression",
    "lag",
    "open_online_store",
    "training_set_of",
    "window_agg",
]
