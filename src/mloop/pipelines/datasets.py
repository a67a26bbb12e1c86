"""Deprecated: the catalog entries moved to :mod:`mloop.pipelines.catalog_entries`.

This module keeps the old import path working for one release, with a DeprecationWarning.
"""

from __future__ import annotations

import warnings

from mloop.pipelines.catalog_entries import *  # noqa: F403  (the deprecated path's names)
from mloop.pipelines.catalog_entries import __all__ as __all__

warnings.warn(
    "mloop.pipelines.datasets is now mloop.pipelines.catalog_entries (it holds catalog "
    "entries, not datasets); import from there, or from mloop.pipelines.",
    DeprecationWarning,
    stacklevel=2,
)
