"""The ``mloop`` logger, configured once from the ``log_level`` setting."""

from __future__ import annotations

import logging

_configured = False


def get_logger(name: str = "mloop") -> logging.Logger:
    """A logger under the ``mloop`` namespace (``mloop.tracking``, ``mloop.store``...)."""
    global _configured
    if not _configured:
        _configured = True
        from mloop.core.config import get_settings

        root = logging.getLogger("mloop")
        try:
            root.setLevel(get_settings().log_level.upper())
        except (ValueError, Exception):  # a bad level must not stop the program
            root.setLevel(logging.WARNING)
        if not root.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
            )
            root.addHandler(handler)
    return logging.getLogger(name if name.startswith("mloop") else f"mloop.{name}")
