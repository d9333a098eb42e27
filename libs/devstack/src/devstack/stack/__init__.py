"""The local stack: embedded PostgreSQL and DynamoDB, migrations, one gateway for every service,
and the commands `python -m devstack` runs."""
