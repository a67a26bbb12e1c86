"""Logging models into runs and loading them back by URI.

info = mloop.log_model(clf, "model", registered_model_name="delays", input_example=X[:5])
model = mloop.load_model("models:/delays@champion")   # or models:/delays/3, runs:/<id>/model
model.predict(frame)
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, NotFound
from mloop.registry import flavors, versions
from mloop.registry.entities import ModelInfo, ModelVersion
from mloop.registry.flavors import environment
from mloop.registry.signature import Signature, infer_signature
from mloop.store import get_artifacts
from mloop.tracking import active_run, start_run
from mloop.tracking.runs import artifact_prefix

if TYPE_CHECKING:
    import pandas as pd

META_FILE = "MLmodel.json"
_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))$")
_RUNS_URI = re.compile(r"^runs:/(?P<run_id>[0-9a-f]{32})/(?P<path>.+)$")


def log_model(
    model: Any,
    name: str = "model",
    registered_model_name: str | None = None,
    input_example: Any = None,
    signature: Signature | dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    description: str = "",
    artifacts: dict[str, str | os.PathLike[str]] | None = None,
    flavor: str | None = None,
    code: str | os.PathLike[str] | None = None,
    init_args: dict[str, Any] | None = None,
) -> ModelInfo:
    """Save ``model`` in the active run's artifacts and optionally register a version.

    ``model`` is a model object, or the path of a ``.py`` file defining a class with
    ``predict`` (a model from code, with its ``artifacts``: ``{name: file or folder}``).
    The signature is inferred from ``input_example`` (inputs, and outputs by calling
    ``predict`` on it) unless given. The versions of the packages the model needs and
    the Python version are recorded. ``flavor="onnx"`` converts a scikit-learn model to
    ONNX (its difference to scikit-learn on ``input_example`` is in ``info.conversion``).
    A PyTorch module is stored as its weights plus ``code``, the file defining its class,
    built with ``init_args`` at load time.

    Args:
        model: the model object, or the path of a ``.py`` file (a model from code).
        name: its folder in the run's artifacts (``runs:/<run_id>/<name>``).
        registered_model_name: also register it as a new version of this model.
        input_example: a few input rows: stored, and used to infer the signature.
        signature: the signature, instead of inferring it.
        metadata: free-form values stored with the model.
        description: the description of the registered version.
        artifacts: ``{name: file or folder}`` a model from code reads.
        flavor: force a flavor (``"onnx"`` converts a scikit-learn model).
        code: the ``.py`` file defining a PyTorch module's class.
        init_args: the arguments that build that class at load time.

    Raises:
        InvalidInput: ``name`` is not a relative path; the model is of no known kind or
            does not fit ``flavor``; ``artifacts``, ``code`` or ``init_args`` do not go
            with its flavor; it holds types mloop does not trust (see
            docs/decisions/0151-model-loading-trust.md); the registered name is not valid.
        NotFound: a file of ``artifacts`` or ``code`` does not exist.
    """
    if (
        not isinstance(name, str)
        or not name.strip()
        or name.startswith("/")
        or ".." in name.split("/")
    ):
        raise InvalidInput(
            f"model artifact name {name!r} is not valid; use a relative name such as 'model'."
        )
    flavor = flavors.flavor_of(model, flavor)
    saved = flavors.save(
        model, flavor, f"model {name!r}", artifacts, input_example, code, init_args
    )
    run = active_run() or start_run()
    run_id = run.info.run_id
    sig = _signature(saved.predictor, input_example, signature or saved.signature)
    meta = {
        "flavor": flavor,
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
        **saved.meta,
        "signature": sig.to_dict() if sig else None,
        "input_example": _example(input_example),
        "run_id": run_id,
        "artifact_path": name,
        "created_at": now_ms(),
        **environment.record(saved.packages),
        "metadata": metadata or {},
    }
    folder = f"{artifact_prefix(run_id)}/{name.strip('/')}"
    store = get_artifacts()
    for file_name, content in saved.files.items():
        key = f"{folder}/{file_name}"
        if isinstance(content, bytes):
            store.put_bytes(key, content)
        elif content.is_dir():
            store.put_dir(key, content)
        else:
            store.put_file(key, content)
    store.put_bytes(f"{folder}/{META_FILE}", json.dumps(meta, indent=2, default=str).encode())
    version = None
    if registered_model_name:
        version = versions.create_version(
            registered_model_name,
            folder,
            flavor,
            run_id,
            meta["signature"],
            description=description,
        )
    return ModelInfo(
        run_id,
        name,
        f"runs:/{run_id}/{name}",
        flavor,
        meta["signature"],
        version,
        saved.meta.get("conversion"),
    )


def register_model(model_uri: str, name: str, description: str = "") -> ModelVersion:
    """Register the model at ``runs:/<run_id>/<path>`` as a new version of ``name``.

    Raises:
        InvalidInput: ``model_uri`` is not a ``runs:/`` URI, or ``name`` is not a valid
            model name (empty, or with ``/`` or ``@``).
        NotFound: no model was logged at ``model_uri``.
    """
    folder, run_id = _folder_of(model_uri)
    meta = _read_meta(folder)
    return versions.create_version(
        name, folder, meta["flavor"], run_id, meta.get("signature"), description
    )


def _signature(
    model: Any, example: Any, given: Signature | dict[str, Any] | None
) -> Signature | None:
    if isinstance(given, Signature):
        return given
    if isinstance(given, dict):
        return Signature.from_dict(given)
    if example is None:
        return None
    try:
        outputs = model.predict(example)
    except Exception:  # the example may not be directly predictable (e.g. needs enrichment)
        outputs = None
    return infer_signature(example, outputs)


def _example(example: Any) -> Any:
    if example is None:
        return None
    import pandas as pd

    frame = example if isinstance(example, pd.DataFrame) else None
    if frame is None:
        try:
            frame = pd.DataFrame(example)
        except Exception:
            return None
    return json.loads(frame.head(5).to_json(orient="split", index=False, date_format="iso"))


# -- loading ---------------------------------------------------------------------------


@dataclass
class LoadedModel:
    """A loaded model: ``predict`` (and ``predict_proba`` when the model has it), plus metadata.

    Other attributes are those of the underlying model object (``.native``).
    """

    native: Any
    flavor: str
    signature: Signature | None
    metadata: dict[str, Any]
    uri: str
    version: ModelVersion | None = None

    def predict(self, data: pd.DataFrame) -> Any:
        return self.native.predict(data)

    def __getattr__(self, name: str) -> Any:
        if name == "native":  # not yet set during unpickling
            raise AttributeError(name)
        return getattr(self.native, name)


def parse_uri(uri: str) -> tuple[str, str | None, str | None]:
    """``(kind, a, b)``: ``("models", name, version_or_alias)`` or ``("runs", run_id, path)``."""
    match = _MODELS_URI.match(uri)
    if match:
        return "models", match["name"], match["alias"] or match["version"]
    match = _RUNS_URI.match(uri)
    if match:
        return "runs", match["run_id"], match["path"].strip("/")
    raise InvalidInput(
        f"model URI {uri!r} is not valid; use models:/<name>@<alias>, models:/<name>/<version> "
        "or runs:/<run_id>/<artifact path>."
    )


def resolve_uri(uri: str) -> tuple[str, ModelVersion | None]:
    """The artifact folder of a model URI, and the registry version it names (if any)."""
    kind, first, second = parse_uri(uri)
    if kind == "models":
        assert first is not None and second is not None
        version = versions.get_version(first, second)
        return version.source, version
    folder, _ = _folder_of(uri)
    return folder, None


def _folder_of(uri: str) -> tuple[str, str]:
    kind, run_id, path = parse_uri(uri)
    if kind != "runs":
        raise InvalidInput(f"{uri!r} is not a runs:/ URI; give runs:/<run_id>/<artifact path>.")
    assert run_id is not None and path is not None
    return f"{artifact_prefix(run_id)}/{path}", run_id


def _read_meta(folder: str) -> dict[str, Any]:
    artifacts = get_artifacts()
    try:
        raw = artifacts.get_bytes(f"{folder}/{META_FILE}")
    except NotFound:
        raise NotFound(
            f"no model was logged at {folder!r}; check the run id and artifact path."
        ) from None
    meta: dict[str, Any] = json.loads(raw)
    return meta


def model_metadata(model_uri: str) -> dict[str, Any]:
    """What was recorded with a model at log time (flavor, signature, the Python version
    and ``library_versions``...), read without loading the model.

    Raises:
        InvalidInput: the URI is malformed.
        NotFound: the model, version, alias or run folder does not exist.

    >>> mloop.registry.model_metadata("models:/delays@champion")["library_versions"]["numpy"]
    '2.4.6'
    """
    folder, _ = resolve_uri(model_uri)
    return _read_meta(folder)


def load_model(model_uri: str) -> LoadedModel:
    """Load a model by URI; its files' checksums are verified before anything is unpacked.

    Args:
        model_uri: ``models:/<name>@<alias>``, ``models:/<name>/<version>``,
            ``models:/<name>/latest`` or ``runs:/<run_id>/<artifact path>``.

    Raises:
        InvalidInput: the URI is malformed; the model holds types mloop does not trust
            (docs/decisions/0151-model-loading-trust.md); its flavor is unknown to this mloop.
        NotFound: the model, version, alias or run folder does not exist.
        IntegrityError: a file's checksum differs from the one recorded when it was logged.
    """
    folder, version = resolve_uri(model_uri)
    meta = _read_meta(folder)
    files = flavors.ModelFiles(get_artifacts(), folder)
    native = flavors.load(meta["flavor"], files, meta, f"model {model_uri}")
    signature = Signature.from_dict(meta["signature"]) if meta.get("signature") else None
    return LoadedModel(native, meta["flavor"], signature, meta, model_uri, version)
