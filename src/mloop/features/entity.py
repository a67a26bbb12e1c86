"""Entity: the thing features describe (an airport, a carrier, a plane), named by its join keys."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mloop.core.errors import InvalidInput

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_name(value: str, what: str) -> str:
    """A definition name: letters, digits and underscores, not starting with a digit."""
    if not isinstance(value, str) or not NAME.match(value):
        raise InvalidInput(
            f"{what} name {value!r} is not valid; use letters, digits and underscores "
            "(e.g. 'origin_weather')."
        )
    return value


@dataclass(frozen=True)
class Entity:
    """An entity with one or more join keys (compound keys allowed).

    >>> origin = Entity("origin", join_keys=["origin"])
    >>> route = Entity("route", join_keys=["origin", "dest"])

    Raises:
        InvalidInput: a name or join key that is not letters, digits and underscores, or
            a join key given twice (no join key: the entity's name is its key).
    """

    name: str
    join_keys: Sequence[str] = field(default=())
    description: str = ""

    def __post_init__(self) -> None:
        check_name(self.name, "entity")
        keys = [self.join_keys] if isinstance(self.join_keys, str) else list(self.join_keys or [])
        if not keys:
            keys = [self.name]
        for key in keys:
            check_name(key, f"join key of entity '{self.name}'")
        if len(set(keys)) != len(keys):
            raise InvalidInput(f"entity '{self.name}' repeats a join key in {keys}.")
        object.__setattr__(self, "join_keys", tuple(keys))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "join_keys": list(self.join_keys),
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entity:
        return cls(
            data["name"], join_keys=data["join_keys"], description=data.get("description", "")
        )
