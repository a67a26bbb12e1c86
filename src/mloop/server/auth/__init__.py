"""Authentication and authorization of ``mloop server``: accounts, tokens, workspaces, roles.

The request dependencies (:func:`read`, :func:`write`, :func:`admin`) authenticate a
request, check its role and scopes, and run the request as that principal
(docs/decisions/0181-server-auth.md).
"""

from mloop.server.auth.deps import AuthState, admin, read, scope, write

__all__ = ["AuthState", "admin", "read", "scope", "write"]
