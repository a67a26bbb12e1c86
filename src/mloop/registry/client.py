"""``mloop.Client``: tracking and registry by id, with MLflow's client method names."""

from __future__ import annotations

from typing import Any

from mloop.core.errors import InvalidInput
from mloop.registry import versions
from mloop.registry.entities import ModelVersion, RegisteredModel
from mloop.tracking.client import TrackingClient


class Client(TrackingClient):
    """Everything the tracking client does, plus the model registry.

    >>> client = mloop.Client()
    >>> client.set_registered_model_alias("delays", "champion", 3)
    >>> client.get_model_version_by_alias("delays", "champion").version
    3
    """

    def get_registered_model(self, name: str) -> RegisteredModel:
        return versions.get_model(name)

    def search_registered_models(self) -> list[RegisteredModel]:
        return versions.list_models()

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return versions.get_version(name, int(version))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return versions.get_version(name, alias)

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        versions.set_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        versions.delete_alias(name, alias)

    def search_model_versions(self, filter_string: str = "") -> list[ModelVersion]:
        """Versions filtered by ``name='x'`` and/or ``run_id='y'`` (joined with ``and``)."""
        criteria = _simple_filter(filter_string)
        unknown = set(criteria) - {"name", "run_id"}
        if unknown:
            raise InvalidInput(
                f"search_model_versions filters on name and run_id, not {sorted(unknown)}."
            )
        return versions.list_versions(name=criteria.get("name"), run_id=criteria.get("run_id"))

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        versions.set_version_tag(name, version, key, value)

    def update_model_version(self, name: str, version: int | str, description: str) -> ModelVersion:
        return versions.update_version(name, version, description=description)


def _simple_filter(filter_string: str) -> dict[str, str]:
    criteria: dict[str, str] = {}
    for part in filter(
        None, (p.strip() for p in filter_string.replace(" AND ", " and ").split(" and "))
    ):
        key, sep, value = part.partition("=")
        value = value.strip()
        if not sep or len(value) < 2 or value[0] not in "'\"" or value[-1] != value[0]:
            raise InvalidInput(
                f"search_model_versions filter {part!r} is not valid; use name='delays' and run_id='...'."
            )
        criteria[key.strip()] = value[1:-1]
    return criteria
