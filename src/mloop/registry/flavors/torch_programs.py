"""PyTorch models stored as programs, not as weights plus Python code: TorchScript
(``torch.jit.script``/``trace``) and exported programs (``torch.export``).

    mloop.log_model(torch.jit.script(net), "model", input_example=X)
    mloop.log_model(torch.export.export(net, (x,)), "model", input_example=X)

Both load as the ``pytorch`` flavor's :class:`~mloop.registry.flavors.pytorch.TorchModel`
(CPU, batched, tensor signature). What is trusted, and why (decision 0154):

- **TorchScript** (``model.torchscript``) is read by ``torch.jit.load``: its code is
  TorchScript, compiled by PyTorch's own compiler (no Python runs), and its constants are
  read by TorchScript's C++ unpickler, which builds tensors and TorchScript classes only
  and cannot import a Python module. It is treated like an ONNX graph: data.
- **Exported programs** (``model.pt2``) are read by ``torch.export.load``, which calls
  ``torch.load(weights_only=False)`` and ``pickle.loads`` for some payloads, resolves any
  ``torch.<attribute path>`` named in the graph as a call target (``torch.os.system``
  exists), and parses shape expressions with sympy's ``eval``-based parser. So the
  archive is checked before it is loaded: every pickled payload must load with the
  weights-only unpickler, custom and opaque objects are refused, call targets must be
  ``torch.ops.*`` operators or ``_operator.*``, and shape expressions must be plain
  sympy constructors. Even then it is treated as code: a host with
  ``[models] allow_code = false`` refuses it.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.registry.flavors import trust
from mloop.registry.flavors.base import ModelFiles, Saved
from mloop.registry.flavors.pytorch import TorchModel, signature_of, spec_of

TORCHSCRIPT_FILE = "model.torchscript"
EXPORTED_FILE = "model.pt2"
_SYMPY = {
    "Symbol",
    "Integer",
    "Rational",
    "Float",
    "Add",
    "Mul",
    "Pow",
    "Mod",
    "Max",
    "Min",
    "FloorDiv",
    "CeilDiv",
    "CleanDiv",
    "PythonMod",
    "IntTrueDiv",
    "FloatTrueDiv",
    "TruncToInt",
}
_SYMPY_WORDS = {"True", "False", "positive", "integer", "nonnegative", "real", "finite"}
_UNSUPPORTED_DIRS = ("data/aotinductor/", "data/executorch/", "data/mtia", "xl_model_weights/")


def form_of(model: Any) -> str | None:
    """``torchscript`` or ``exported`` for a PyTorch program, else None (no import)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if isinstance(model, torch.jit.ScriptModule):
        return "torchscript"
    if isinstance(model, torch.export.ExportedProgram):
        return "exported"
    return None


def save(model: Any, example: Any, label: str) -> Saved:
    """The program's own archive, checked by loading it back as a fresh process would."""
    import torch

    buffer = io.BytesIO()
    form = form_of(model)
    if form == "torchscript":
        torch.jit.save(model, buffer)
        name = TORCHSCRIPT_FILE
    else:
        torch.export.save(model, buffer)
        name = EXPORTED_FILE
    data = buffer.getvalue()
    meta: dict[str, Any] = {
        "form": form,
        "model_file": name,
        "columns": [str(c) for c in getattr(example, "columns", [])],
    }
    predictor = TorchModel(_module(form, data, label), meta["columns"], None, label)
    signature = None
    if example is not None:
        predictor.spec = spec_of(predictor._tensor(example))
        meta["tensor_spec"] = predictor.spec
        signature = signature_of(example, predictor)
    return Saved({name: data}, meta, ("torch",), predictor, signature)


def load(files: ModelFiles, meta: dict[str, Any], label: str) -> TorchModel:
    """The program read back (an exported program only after :func:`check_exported`)."""
    form = str(meta["form"])
    if form == "exported" and not trust.code_allowed():
        raise InvalidInput(
            f"{label} is a PyTorch exported program, which mloop treats as code, and this "
            f"host refuses code models ([models] allow_code = false or {trust.CODE_ENV}=false); "
            "log the model as TorchScript (torch.jit.script) to serve it here."
        )
    data = files.read(str(meta["model_file"]))
    module = _module(form, data, label)
    return TorchModel(module, list(meta.get("columns") or []), meta.get("tensor_spec"), label)


def _module(form: str | None, data: bytes, label: str) -> Any:
    import torch

    try:
        if form == "torchscript":
            return torch.jit.load(io.BytesIO(data), map_location="cpu").eval()
        check_exported(data, label)
        return torch.export.load(io.BytesIO(data)).module()
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput(
            f"{label}: its PyTorch {form} file cannot be loaded ({type(exc).__name__}: {exc}); "
            "log the model again with this torch version."
        ) from None


def check_exported(data: bytes, label: str) -> None:
    """Refuse an exported-program archive holding anything but tensors, torch operators
    and plain shape expressions (see the module docstring).

    Raises:
        InvalidInput: naming the first part of the archive that is refused.
    """
    import torch

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InvalidInput(f"{label}: its model.pt2 is not a PyTorch archive.") from None
    names = archive.namelist()
    root = names[0].split("/", 1)[0] + "/" if names else ""

    def refuse(what: str) -> InvalidInput:
        return InvalidInput(
            f"{label}: its exported program holds {what}, which mloop does not load (it could "
            "run code); export the model again from plain tensors and torch operators, or log "
            "it as TorchScript."
        )

    def read(name: str) -> bytes:
        return archive.read(root + name)

    if f"{root}archive_format" not in names or read("archive_format") != b"pt2":
        raise refuse("an archive in an older format")
    for name in names:
        inner = name[len(root) :]
        if inner.startswith(_UNSUPPORTED_DIRS):
            raise refuse(f"compiled code ({inner})")
        if inner.startswith("data/sample_inputs/") or _pickled(archive, root, inner):
            try:
                torch.load(io.BytesIO(archive.read(name)), weights_only=True)
            except Exception:
                raise refuse(
                    f"a pickled payload with objects other than tensors ({inner})"
                ) from None
        if inner.startswith("models/") and inner.endswith(".json"):
            _check_graph(json.loads(archive.read(name)), refuse)


def _pickled(archive: zipfile.ZipFile, root: str, inner: str) -> bool:
    """Whether a weights or constants payload is stored pickled (per its config)."""
    if not inner.startswith(("data/weights/", "data/constants/")) or inner.endswith(".json"):
        return False
    folder, file = inner.rsplit("/", 1)
    if file.startswith(("custom_obj_", "opaque_obj_")):
        return True  # weights_only refuses them: custom objects are Python pickles
    for config in (n for n in archive.namelist() if n.startswith(f"{root}{folder}/")):
        if config.endswith("_config.json"):
            entries = json.loads(archive.read(config)).get("config", {}).values()
            if any(e.get("path_name") == file and e.get("use_pickle") for e in entries):
                return True
    return False


def _check_graph(node: Any, refuse: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "target" and isinstance(value, str):
                if not value.startswith(("torch.ops.", "_operator.")):
                    raise refuse(f"a call to {value!r}")
            elif key == "expr_str" and isinstance(value, str):
                _check_expression(value, refuse)
            else:
                _check_graph(value, refuse)
    elif isinstance(node, list):
        for item in node:
            _check_graph(item, refuse)


def _check_expression(text: str, refuse: Any) -> None:
    """Only sympy constructors, numbers, quoted symbol names and keyword flags."""
    bare = re.sub(r"'[A-Za-z_][A-Za-z0-9_]*'", "", text)
    if "__" in text or re.search(r"[^A-Za-z0-9_\s(),.=+\-*/]", bare):
        raise refuse(f"the shape expression {text!r}")
    for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", bare):
        if word not in _SYMPY and word not in _SYMPY_WORDS:
            raise refuse(f"the shape expression {text!r}")
