"""``/api/v1/auth``: log in (user and password → a short-lived token), who am I, tokens.

Login attempts are limited per user and per client address (429 with ``Retry-After``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mloop.core.principal import Principal
from mloop.server.auth import AuthState, accounts, read, tokens
from mloop.server.auth.errors import Forbidden, Unauthenticated

router = APIRouter(prefix="/api/v1", tags=["auth"])
Reader = Annotated[Principal, Depends(read)]
LOGIN_TOKEN_MS = 12 * 3_600_000


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class NewToken(BaseModel):
    scopes: list[str] = Field(default_factory=lambda: list(tokens.DEFAULT_SCOPES))
    expires: str | None = Field(None, description="e.g. 30m, 12h, 90d; none: never")
    description: str = Field("", max_length=500)


def _token_json(info: tokens.TokenInfo) -> dict[str, Any]:
    return {**info.__dict__, "scopes": sorted(info.scopes)}


@router.post("/auth/login")
async def login(body: Login, request: Request) -> dict[str, Any]:
    """A token valid for 12 hours for a user's name and password."""
    state: AuthState = request.app.state.mloop_auth
    address = request.client.host if request.client else "unknown"
    state.limiter.check(body.username, address)
    ok = await run_in_threadpool(
        accounts.verify_password, state.store, body.username, body.password
    )
    if not ok:
        raise Unauthenticated("user name or password is wrong.")
    account = await run_in_threadpool(accounts.get, state.store, body.username)
    scopes = ("read", "write", "admin") if account.is_admin else ("read", "write")
    secret, info = await run_in_threadpool(
        tokens.create, state.store, body.username, scopes, LOGIN_TOKEN_MS, "login"
    )
    return {"token": secret, "expires_at": info.expires_at, "scopes": sorted(info.scopes)}


@router.get("/auth/whoami")
def whoami(principal: Reader) -> dict[str, Any]:
    """The authenticated principal: name, workspace, role, scopes and kind."""
    return {
        "name": principal.name,
        "workspace": principal.workspace,
        "role": principal.role,
        "scopes": sorted(principal.scopes),
        "kind": principal.kind,
    }


@router.post("/auth/tokens", status_code=201)
def create_token(body: NewToken, request: Request, principal: Reader) -> dict[str, Any]:
    """A new token for the caller, with at most the caller's scopes; shown once."""
    state: AuthState = request.app.state.mloop_auth
    wanted = tokens.check_scopes(body.scopes)
    if state.required and not wanted <= principal.scopes:
        raise Forbidden(
            f"scopes {sorted(wanted - principal.scopes)} exceed those of the token in use."
        )
    expires = tokens.parse_duration(body.expires) if body.expires else None
    secret, info = tokens.create(state.store, principal.name, wanted, expires, body.description)
    return {"token": secret, **_token_json(info)}


@router.get("/auth/tokens")
def list_tokens(request: Request, principal: Reader) -> dict[str, Any]:
    """The caller's tokens (never their secrets)."""
    state: AuthState = request.app.state.mloop_auth
    return {"tokens": [_token_json(t) for t in tokens.list_tokens(state.store, principal.name)]}


@router.delete("/auth/tokens/{token_id}")
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**62)], request: Request, principal: Reader
) -> dict[str, Any]:
    """Revoke one of the caller's tokens; it fails from the next request on."""
    state: AuthState = request.app.state.mloop_auth
    tokens.revoke(state.store, token_id, user=principal.name)
    return {"id": token_id, "revoked": True}
