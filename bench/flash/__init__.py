"""`make bench-flash`: a flash sale on one campaign, the platform's claim statements under
pgbench with a simulated client round trip, today's design beside the platform's own.

    make bench-flash          # or: PYTHONPATH=bench .venv/bin/python -m flash [--help]

What is measured and how: bench/README.md, "Flash sale". The modules: `pgbench` (scripts
from statements, running and reading pgbench), `designs` (what a claim path is to the bench),
`today` (the baseline's statements, frozen), `idempotency` (core's key statements),
`world` (campaigns and counts), `exactness`, `run` (the measurements), `report` (the table),
`server` (the database).
"""
