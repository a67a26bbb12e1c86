"""Who is acting: the name that runs, audit entries and registry changes record.

Embedded, the actor is the configured user (``MLOOP_USER``, else the login name). Inside
``mloop server`` each request runs :func:`acting_as` the principal its token authenticated,
so what the stores record is never a self-declared name.

>>> with acting_as(Principal("ada", workspace="fraud", role="editor")):
...     current_actor()
'ada'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from mloop.core.config import get_settings

__all__ = ["Principal", "acting_as", "current_actor", "current_principal"]


@dataclass(frozen=True)
class Principal:
    """An authenticated user or service account, with its role in one workspace."""

    name: str
    workspace: str = "default"
    role: str = "admin"  # viewer, editor or admin in ``workspace``
    scopes: frozenset[str] = field(default_factory=frozenset)
    kind: str = "user"  # user or service


_current: ContextVar[Principal | None] = ContextVar("mloop_principal", default=None)


def current_principal() -> Principal | None:
    """The principal set by :func:`acting_as` in this thread or task, if any."""
    return _current.get()


def current_actor() -> str:
    """The name to record as the actor: the current principal's, else the configured user."""
    principal = _current.get()
    return principal.name if principal is not None else get_settings().user


@contextmanager
def acting_as(principal: Principal) -> Iterator[Principal]:
    """Record ``principal`` as the actor of everything done inside the block."""
    token = _current.set(principal)
    try:
        yield principal
    finally:
        _current.reset(token)
