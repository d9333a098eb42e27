"""The PostgreSQL version RDS runs for the platform.

The CDK app deploys it (constructs/database.py), and the tests' server must run its major
version (tests/infra/test_postgres_version.py): what changes between majors, such as what a
CREATEROLE user may do with the roles it creates, then shows in the tests first. No CDK
import here, so tests and tools read it cheaply.
"""

from __future__ import annotations

# A full version: RDS creates no instance from a bare major version any more; minor
# upgrades then come by themselves (auto_minor_version_upgrade).
RDS_POSTGRES_VERSION = "16.13"
RDS_POSTGRES_MAJOR_VERSION = int(RDS_POSTGRES_VERSION.split(".")[0])
