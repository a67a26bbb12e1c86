"""ORM tables of the metadata store, one module per part of mloop.

Tables are declared here and created only by the Alembic migrations in
``mloop/store/migrations`` (a test checks that both agree). Hot paths use the
tables through SQLAlchemy Core (``Model.__table__``) for batch speed.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

# A 64-bit auto-increment key that is SQLite's rowid alias on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base shared by every table of the metadata store."""

    metadata = MetaData(naming_convention=NAMING)


def load_all() -> MetaData:
    """Import every schema module so that ``Base.metadata`` holds all tables."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return Base.metadata
