"""One way to reach Ray: the configured cluster (``ray_address``) or a local Ray.

Every part that runs work on Ray (the pipeline runner, tuning, batch scoring) calls
:func:`ensure_ray`, so a process connects once and every part shares that connection.
"""

from __future__ import annotations

import os
from typing import Any

from mloop.core.config import get_settings
from mloop.core.errors import ConfigError


def ensure_ray(num_cpus: int | None = None, address: str | None = None) -> Any:
    """The ``ray`` module, initialised for this process (no-op when it already is).

    ``address`` defaults to the ``ray_address`` setting; when both are empty a local Ray
    starts with ``num_cpus`` (default: every core) and no dashboard.

    >>> ray = ensure_ray()
    >>> ray.get(ray.remote(lambda: 1).remote())
    1
    """
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "running on Ray needs Ray; install it with pip install 'mloop[ray]'."
        ) from None
    if not ray.is_initialized():
        address = get_settings().ray_address if address is None else address
        if address:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        else:
            ray.init(
                num_cpus=num_cpus or os.cpu_count() or 1,
                include_dashboard=False,
                log_to_driver=False,
                ignore_reinit_error=True,
            )
    return ray
