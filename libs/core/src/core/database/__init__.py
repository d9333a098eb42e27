"""PostgreSQL access: the engine, sessions, the unit of work and per-service metadata."""

from core.database.engine import Database
from core.database.metadata import service_metadata
from core.database.unit_of_work import UnitOfWork

__all__ = ["Database", "UnitOfWork", "service_metadata"]
