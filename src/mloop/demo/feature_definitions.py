"""Step 2: the feature definitions, applied to the feature store.

- entity ``origin`` — view ``weather``: the hourly weather at the airport (from the clean
  weather), with ``pressure_change_3h`` (the change since three hours earlier; a falling
  barometer announces storms); ttl 3 h, so a stale reading is never served as current;
- entity ``carrier`` — view ``carrier_delays``: the carrier's mean departure delay and
  number of departed flights over the previous 7 days, from the flights whose delay was
  known before the event (``flight_events.known_at``);
- entity ``tailnum`` — view ``planes`` (static): the plane's year of manufacture and seats;
- the feature service ``delay_model`` bundles them for training and serving.

>>> applied = apply_features()
>>> sorted((a.name, a.version) for a in applied if a.kind == "feature_view")
[('carrier_delays', 1), ('planes', 1), ('weather', 1)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.demo.scenario import SERVICE, WEATHER

if TYPE_CHECKING:
    from mloop.features import FeatureStore
    from mloop.features.registry import Applied

HOURLY_VIEWS = ["weather"]  # materialized every replayed hour
DAILY_VIEWS = ["carrier_delays"]  # materialized once per replayed day, like a nightly batch job
STATIC_VIEWS = ["planes"]


def definitions(datasets: dict[str, str]) -> list[Any]:
    """Entities, views and the service, reading the registered dataset versions given."""
    from mloop import features as fs

    origin = fs.Entity("origin", join_keys=["origin"], description="departure airport")
    carrier = fs.Entity("carrier", join_keys=["carrier"], description="airline")
    tailnum = fs.Entity("tailnum", join_keys=["tailnum"], description="aircraft")
    weather = fs.FeatureView(
        "weather",
        entity=origin,
        source=f"dataset:{datasets['weather.clean']}",
        timestamp="time_hour",
        ttl="3h",
        features=[*WEATHER, "pressure_change_3h"],
        transforms=[fs.delta("pressure", "3h", name="pressure_change_3h")],
    )
    carrier_delays = fs.FeatureView(
        "carrier_delays",
        entity=carrier,
        source=f"dataset:{datasets['flight_events']}",
        timestamp="known_at",
        features=["dep_delay_mean_7d", "flights_7d"],
        transforms=[
            fs.window_agg("dep_delay", "mean", "7d", name="dep_delay_mean_7d"),
            fs.window_agg("dep_delay", "count", "7d", name="flights_7d"),
        ],
    )
    planes = fs.FeatureView(
        "planes",
        entity=tailnum,
        source=f"dataset:{datasets['planes']}",
        features=["plane_year", "seats"],
        transforms=[fs.expression("year", name="plane_year")],
    )
    service = fs.FeatureService(
        SERVICE,
        features=[
            "weather:*",
            "carrier_delays:dep_delay_mean_7d",
            "carrier_delays:flights_7d",
            "planes:plane_year",
            "planes:seats",
        ],
    )
    return [origin, carrier, tailnum, weather, carrier_delays, planes, service]


def apply_features(datasets: dict[str, str], store: FeatureStore | None = None) -> list[Applied]:
    """Apply the definitions (an unchanged definition keeps its version)."""
    from mloop.features import FeatureStore

    own = store is None
    feature_store = store if store is not None else FeatureStore()
    try:
        return feature_store.apply(definitions(datasets))
    finally:
        if own:
            feature_store.close()
