"""How a cached node output is written: a safe format per kind of value, pickle last.

=====================  ===============  =======================================
value                  artifact suffix  format
=====================  ===============  =======================================
plain data             ``.json``        JSON (dicts with text keys, lists, text,
                                        numbers, booleans, None; exact types)
DataFrame, Series      ``.arrow``       Arrow IPC file (Feather v2), when every
                                        column and the index have a type it keeps
numpy array / scalar   ``.npy``         ``numpy.save`` without pickle
                       ``.scalar.npy``
scikit-learn estimator ``.skops``       skops
anything else          ``.pkl``         pickle (loaded only from a signed entry:
                                        :mod:`mloop.pipelines.signing`)
=====================  ===============  =======================================

A value goes to the first format that gives it back exactly (same type, dtypes, index),
so reading the cache never changes what a node receives. The suffix names the format, so
the files can be read by other tools (pandas, pyarrow, DuckDB, numpy) and the decoder never
guesses.
See docs/decisions/0131-pipelines-cache-formats-and-signatures.md.
"""

from __future__ import annotations

import io
import json
import pickle
import sys
from typing import Any

from mloop.core.errors import InvalidInput

__all__ = ["FORMATS", "PICKLE", "decode", "encode", "format_of"]

JSON, ARROW, NPY, SCALAR, SKOPS, PICKLE = (
    ".json",
    ".arrow",
    ".npy",
    ".scalar.npy",
    ".skops",
    ".pkl",
)
FORMATS = (JSON, ARROW, SCALAR, NPY, SKOPS, PICKLE)  # longest suffix first: .scalar.npy
_SERIES = b"mloop.series"  # schema metadata key: the file holds a Series (and its name)
_NUMPY_KINDS = "biufcmMSU"  # no objects ("O") or records ("V"): those need pickle


def encode(value: Any, what: str) -> tuple[str, bytes]:
    """``(suffix, bytes)`` of ``value`` in the first format that keeps it exactly."""
    if _is_plain(value):
        return JSON, json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    module = type(value).__module__
    if module.startswith("pandas"):
        data = _arrow(value)
        if data is not None:
            return ARROW, data
    elif module == "numpy":
        found = _numpy(value)
        if found is not None:
            return found
    elif _is_estimator(value):
        data = _skops(value)
        if data is not None:
            return SKOPS, data
    return PICKLE, dumps(value, what)


def dumps(value: Any, what: str) -> bytes:
    """``value`` pickled (the last resort of ``encode``, and what ``hash_value`` hashes)."""
    try:
        return pickle.dumps(value, protocol=5)
    except Exception as exc:
        raise InvalidInput(
            f"{what} cannot be stored in the cache ({type(value).__name__}: {exc}); return a "
            "picklable value, or run with cache=False (--no-cache)."
        ) from None


def format_of(artifact: str) -> str:
    """The format (suffix) an artifact key names; ``""`` for an unknown one."""
    return next((suffix for suffix in FORMATS if artifact.endswith(suffix)), "")


def decode(suffix: str, data: bytes) -> Any:
    """The value back from bytes written by :func:`encode` with ``suffix``.

    Pickle and skops bytes must come from a signed, verified cache entry: the caller
    checks the signature (:func:`mloop.pipelines.cache.verified`) before asking.
    """
    if suffix == JSON:
        return json.loads(data)
    if suffix == ARROW:
        return _from_arrow(data)
    if suffix in (NPY, SCALAR):
        import numpy as np

        array = np.load(io.BytesIO(data), allow_pickle=False)
        return array[()] if suffix == SCALAR else array
    if suffix == SKOPS:
        import skops.io as sio

        return sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    if suffix == PICKLE:
        return pickle.loads(data)
    raise InvalidInput(f"cache artifact format {suffix!r} is unknown; clear the cache entry.")


# -- plain data -----------------------------------------------------------------------------


def _is_plain(value: Any, depth: int = 0) -> bool:
    """JSON gives back exactly these: exact dict/list/str/int/float/bool/None, text keys."""
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return True
    if depth > 50:
        return False
    if kind is list:
        return all(_is_plain(v, depth + 1) for v in value)
    if kind is dict:
        return all(type(k) is str and _is_plain(v, depth + 1) for k, v in value.items())
    return False


# -- pandas ---------------------------------------------------------------------------------


def _arrow(value: Any) -> bytes | None:
    """Arrow IPC bytes of a DataFrame or Series whose types come back exactly, else None.

    Arrow IPC rather than Parquet: no encoding or compression, so writing and reading a
    1M x 20 frame costs about what pickle does (decision 0131 has the figures).
    """
    import pandas as pd

    if type(value) is pd.Series:
        name = value.name
        if not (name is None or type(name) in (str, int)):
            return None
        frame = value.to_frame(name="value")
        series_name: Any = json.dumps({"name": name}).encode()
    elif type(value) is pd.DataFrame:
        frame, series_name = value, None
        columns = frame.columns
        if type(columns) is not pd.Index or not all(type(c) is str for c in columns):
            return None
        if not columns.is_unique:
            return None
    else:
        return None
    if frame.attrs or not _keeps_index(frame.index):
        return None
    if not all(_keeps_dtype(dtype) for dtype in frame.dtypes):
        return None
    import pyarrow as pa
    import pyarrow.feather as feather

    try:
        table = pa.Table.from_pandas(frame, preserve_index=None)
    except (pa.ArrowException, ValueError, TypeError):
        return None
    if series_name is not None:
        table = table.replace_schema_metadata({**table.schema.metadata, _SERIES: series_name})
    sink = io.BytesIO()
    feather.write_feather(table, sink, compression="uncompressed")
    return sink.getvalue()


def _keeps_index(index: Any) -> bool:
    import pandas as pd

    if type(index) is pd.RangeIndex:
        return True
    if type(index) is pd.MultiIndex:
        named = all(name is None or type(name) is str for name in index.names)
        return named and all(_keeps_dtype(level.dtype) for level in index.levels)
    if getattr(index, "freq", None) is not None:  # a DatetimeIndex's freq is not stored
        return False
    named = index.name is None or type(index.name) is str
    return named and _keeps_dtype(index.dtype)


def _keeps_dtype(dtype: Any) -> bool:
    """Types that come back exactly (the round-trip tests check each one)."""
    import numpy as np
    import pandas as pd

    if isinstance(dtype, np.dtype):
        if dtype.kind in "biuf":
            return dtype.itemsize > 2 or dtype.kind in "biu"  # float16 comes back float32
        if dtype.kind in "mM":
            return np.datetime_data(dtype)[0] in ("ns", "us")  # s and ms come back as ms
        return False
    if isinstance(dtype, pd.CategoricalDtype):
        return _keeps_dtype(dtype.categories.dtype)
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"  # python storage comes back as pyarrow
    if isinstance(dtype, pd.DatetimeTZDtype):
        return dtype.unit in ("ns", "us")
    return isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.name in _MASKED


_MASKED = {
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "Float32",
    "Float64",
    "boolean",
}


def _from_arrow(data: bytes) -> Any:
    import pyarrow.feather as feather

    table = feather.read_table(io.BytesIO(data))
    frame = table.to_pandas()
    series = (table.schema.metadata or {}).get(_SERIES)
    if series is None:
        return frame
    return frame["value"].rename(json.loads(series)["name"])


# -- numpy and scikit-learn -----------------------------------------------------------------


def _numpy(value: Any) -> tuple[str, bytes] | None:
    import numpy as np

    if type(value) is np.ndarray and value.dtype.kind in _NUMPY_KINDS:
        array, suffix = value, NPY
    elif isinstance(value, np.generic) and value.dtype.kind in _NUMPY_KINDS:
        array, suffix = np.asarray(value), SCALAR
    else:
        return None
    if array.dtype.names is not None or array.dtype.hasobject:
        return None
    sink = io.BytesIO()
    np.save(sink, array, allow_pickle=False)
    return suffix, sink.getvalue()


def _is_estimator(value: Any) -> bool:
    base = sys.modules.get("sklearn.base")  # an estimator's class has imported it
    return base is not None and isinstance(value, base.BaseEstimator)


def _skops(value: Any) -> bytes | None:
    """skops bytes, or None when skops cannot write it or could not load it back."""
    import skops.io as sio

    try:
        data: bytes = sio.dumps(value)
        names = sio.get_untrusted_types(data=data)
    except Exception:  # an attribute skops cannot write: pickle, signed
        return None
    # skops stores functions and classes by name: a lambda or a local one would not load
    return data if all(_importable(name) for name in names) else None


def _importable(name: str) -> bool:
    """Whether a dotted name (``package.module.Class.attr``) resolves by importing."""
    import importlib

    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                found = getattr(found, attr)
        except AttributeError:
            return False
        return True
    return False
