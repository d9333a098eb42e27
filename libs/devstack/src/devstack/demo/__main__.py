"""`python -m devstack.demo` (make demo): fill a running stack with the demo world."""

import asyncio

from devstack.demo.fill import main

raise SystemExit(asyncio.run(main()))
