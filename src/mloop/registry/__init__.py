"""The model registry: registered models, versions, aliases, promotion and model files.

info = mloop.log_model(clf, "model", registered_model_name="delays", input_example=X[:5])
mloop.registry.set_alias("delays", "champion", info.registered_model_version.version)
model = mloop.load_model("models:/delays@champion")
"""

from mloop.registry.autolog import autolog
from mloop.registry.client import Client
from mloop.registry.entities import ModelInfo, ModelVersion, RegisteredModel
from mloop.registry.models import (
    LoadedModel,
    load_model,
    log_model,
    model_metadata,
    parse_uri,
    register_model,
    resolve_uri,
)
from mloop.registry.promote import promote
from mloop.registry.signature import ColSpec, Signature, infer_signature
from mloop.registry.versions import (
    delete_alias,
    get_model,
    get_version,
    list_models,
    list_versions,
    set_alias,
    set_version_tag,
    update_version,
    version_number,
)

__all__ = [
    "Client",
    "ColSpec",
    "LoadedModel",
    "ModelInfo",
    "ModelVersion",
    "RegisteredModel",
    "Signature",
    "autolog",
    "delete_alias",
    "get_model",
    "get_version",
    "infer_signature",
    "list_models",
    "list_versions",
    "load_model",
    "log_model",
    "model_metadata",
    "parse_uri",
    "promote",
    "register_model",
    "resolve_uri",
    "set_alias",
    "set_version_tag",
    "update_version",
    "version_number",
]
