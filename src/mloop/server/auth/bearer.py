"""The server's tokens for servers without FastAPI dependencies: the gateway, ``mloop serve``,
the feature server.

:class:`TokenChecker` turns a bearer token into a :class:`Principal` that has a given scope
(``read`` is satisfied by ``write`` and ``admin``, ``write`` by ``admin``; ``gateway`` and
``feedback`` only by themselves). The principal's workspace is ``default`` when its user is
a member there, else the first workspace (by name) the user belongs to. Each check reads
the token store, so a revoked token is refused at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from mloop.core.principal import Principal
from mloop.server.auth import accounts, tokens
from mloop.server.auth.errors import Forbidden, Unauthenticated
from mloop.store.schema.auth import AuthMember

if TYPE_CHECKING:
    from mloop.store.db import MetadataStore

__all__ = ["TokenChecker", "bearer"]

_IMPLIED = {"read": {"read", "write", "admin"}, "write": {"write", "admin"}}
_HOW = {
    "gateway": "mloop tokens create --user NAME --scope gateway",
    "feedback": "mloop tokens create --user NAME --scope feedback",
}


def bearer(authorization: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header (Unauthenticated if none)."""
    kind, _, value = authorization.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        raise Unauthenticated(
            "this server needs a token: send 'Authorization: Bearer <token>' (create one with "
            "`mloop tokens create --user NAME`)."
        )
    return value.strip()


class TokenChecker:
    """``check(token, scope) -> Principal`` over the tokens of ``store``."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    def workspace_of(self, user: str) -> tuple[str, str] | None:
        """(workspace, role) of ``user`` for calls that name no workspace, or None."""
        role = accounts.role_in(self.store, user, accounts.DEFAULT_WORKSPACE)
        if role is not None:
            return accounts.DEFAULT_WORKSPACE, role
        with self.store.read() as conn:
            row = conn.execute(
                select(AuthMember.workspace, AuthMember.role)
                .where(AuthMember.user == user)
                .order_by(AuthMember.workspace)
                .limit(1)
            ).first()
        return (str(row.workspace), str(row.role)) if row is not None else None

    def check(self, secret: str, scope: str) -> Principal:
        """The bearer of ``secret`` if its token has ``scope``; else Unauthenticated/Forbidden."""
        who = tokens.authenticate(self.store, secret)
        if not who.scopes & _IMPLIED.get(scope, {scope}):
            how = _HOW.get(scope, f"mloop tokens create --user NAME --scope {scope}")
            raise Forbidden(
                f"token {who.token_id} has scopes {sorted(who.scopes)}; this route needs "
                f"{scope!r} ({how})."
            )
        membership = self.workspace_of(who.user)
        if membership is None:
            raise Forbidden(f"user {who.user!r} is not a member of any workspace.")
        workspace, role = membership
        return Principal(who.user, workspace, role, who.scopes, who.kind)

    def header(self, authorization: str, scope: str) -> Principal:
        """:meth:`check` of the token in an ``Authorization`` header."""
        return self.check(bearer(authorization), scope)
