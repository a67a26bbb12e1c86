"""API keys of a standalone gateway, from its configuration (values read from the environment).

``mloop server`` passes its own ``authenticate`` (tokens with the ``gateway`` scope); a
standalone ``mloop gateway`` uses the ``api_keys`` of its YAML file::

    api_keys:
      - {env: GATEWAY_KEY_ADA, user: ada, workspace: fraud}
"""

from __future__ import annotations

import hmac
import os

from mloop.core.errors import ConfigError
from mloop.core.principal import Principal
from mloop.genai.gateway.config import GatewayConfig
from mloop.genai.gateway.errors import AuthenticationFailed
from mloop.genai.gateway.http import Authenticate

__all__ = ["config_authenticator"]


def config_authenticator(config: GatewayConfig) -> Authenticate | None:
    """``authenticate(token)`` over the configured keys, or None when there are none."""
    if not config.api_keys:
        return None
    keys: list[tuple[bytes, Principal]] = []
    for key in config.api_keys:
        value = os.environ.get(key.env)
        if not value:
            raise ConfigError(
                f"api_keys: the key of user {key.user!r} is read from ${key.env}, which is not set. "
                "Export it (a long random string), or remove the entry."
            )
        principal = Principal(
            key.user, workspace=key.workspace, role=key.role, scopes=frozenset({"gateway"})
        )
        keys.append((value.encode(), principal))

    def authenticate(token: str) -> Principal:
        given = token.encode()
        found = None
        for value, principal in keys:  # compare with every key, in constant time each
            if hmac.compare_digest(value, given):
                found = principal
        if found is None:
            raise AuthenticationFailed("The API key is not valid for this gateway.")
        return found

    return authenticate
