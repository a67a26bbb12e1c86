"""Identifiers: 32 hex characters, like MLflow's run ids, so tools that parse them keep working."""

from __future__ import annotations

import uuid


def new_id() -> str:
    """A fresh random identifier (uuid4 as 32 lowercase hex characters)."""
    return uuid.uuid4().hex
