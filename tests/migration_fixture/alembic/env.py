from sqlalchemy import MetaData

from core.database.migrations import run_service_migrations

run_service_migrations(MetaData(schema="shop"))
