"""The registry through an mloop server (``tracking_uri``): the remote side of :mod:`.versions`.

Each function of :mod:`.versions` called without an explicit store hands over here when a
server is configured, and the server's JSON becomes the same entities
(docs/decisions/0183-remote-client-seam.md).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mloop.registry.entities import ModelVersion, RegisteredModel
from mloop.store import get_remote
from mloop.store.remote import RemoteStore


def remote() -> RemoteStore | None:
    """The configured server's client, or None when the stores are local."""
    return get_remote()


def _version(data: dict[str, Any]) -> ModelVersion:
    return ModelVersion(**{**data, "aliases": tuple(data.get("aliases", ()))})


def _model(data: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(**data)


def _name(name: str) -> str:
    return quote(str(name), safe="")


def create_version(
    server: RemoteStore,
    name: str,
    source: str,
    flavor: str,
    run_id: str | None,
    signature: dict[str, Any] | None,
    description: str,
    tags: dict[str, str] | None,
) -> ModelVersion:
    body = {
        "source": source,
        "flavor": flavor,
        "run_id": run_id,
        "signature": signature,
        "description": description,
        "tags": tags or {},
    }
    return _version(server.request("POST", f"/api/v1/models/{_name(name)}/versions", json=body))


def get_version(server: RemoteStore, name: str, version: int | str) -> ModelVersion:
    url = f"/api/v1/models/{_name(name)}/versions/{_name(str(version))}"
    return _version(server.request("GET", url))


def list_versions(server: RemoteStore, name: str | None, run_id: str | None) -> list[ModelVersion]:
    names = [name] if name is not None else [m.name for m in list_models(server)]
    found = [
        _version(v)
        for model in names
        for v in server.request("GET", f"/api/v1/models/{_name(model)}/versions")["versions"]
    ]
    return [v for v in found if run_id is None or v.run_id == run_id]


def get_model(server: RemoteStore, name: str) -> RegisteredModel:
    return _model(server.request("GET", f"/api/v1/models/{_name(name)}"))


def list_models(server: RemoteStore) -> list[RegisteredModel]:
    return [_model(m) for m in server.request("GET", "/api/v1/models")["models"]]


def set_alias(
    server: RemoteStore, name: str, alias: str, version: int | str, reason: str
) -> ModelVersion:
    number = get_version(server, name, version).version if not str(version).isdigit() else version
    body = {"version": int(number), "reason": reason}
    url = f"/api/v1/models/{_name(name)}/aliases/{_name(alias)}"
    return _version(server.request("PUT", url, json=body))


def delete_alias(server: RemoteStore, name: str, alias: str) -> None:
    server.request("DELETE", f"/api/v1/models/{_name(name)}/aliases/{_name(alias)}")


def set_version_tag(
    server: RemoteStore, name: str, version: int | str, key: str, value: Any
) -> None:
    number = get_version(server, name, version).version
    url = f"/api/v1/models/{_name(name)}/versions/{number}/tags/{_name(key)}"
    server.request("PUT", url, json={"value": str(value)})


def update_version(
    server: RemoteStore,
    name: str,
    version: int | str,
    description: str | None,
    status: str | None,
    reason: str,
) -> ModelVersion:
    number = get_version(server, name, version).version
    body = {"description": description, "status": status, "reason": reason}
    return _version(
        server.request("PATCH", f"/api/v1/models/{_name(name)}/versions/{number}", json=body)
    )
