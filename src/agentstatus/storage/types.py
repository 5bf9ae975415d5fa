"""The database handles the layers above storage may hold, without importing SQLAlchemy.

Services open transactions (`engine.begin()`) and pass the connection to the repositories
of this package, which hold every SQL statement; these aliases let them name the types.
The exceptions are those a caller above storage has a reason to tell apart.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, Row
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError

__all__ = [
    "Connection",
    "DBAPIError",
    "DataError",
    "Engine",
    "IntegrityError",
    "OperationalError",
    "Row",
]
