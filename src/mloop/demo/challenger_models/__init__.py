"""The demo's challenger models as code files (logged with ``mloop.log_model(path)``):
``delay_xgb.py`` wraps an XGBoost booster, ``delay_mlp.py`` a PyTorch MLP, each with the
encoding of the request's fields it needs. They are stored as source plus artifacts
(the booster's UBJSON, the MLP's safetensors and the encoding's JSON), never pickled."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
XGB_FILE = FOLDER / "delay_xgb.py"
MLP_FILE = FOLDER / "delay_mlp.py"
