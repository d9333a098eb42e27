"""`python -m devstack.contracts write|check|breaking` (make contracts, make contracts-breaking)."""

from devstack.contracts.files import main

raise SystemExit(main())
