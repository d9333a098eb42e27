from core.database.migrations import run_service_migrations
from svc_merchants.repositories.schema_model import Base

run_service_migrations(Base.metadata)
