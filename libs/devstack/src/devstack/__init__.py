"""Developer tooling, one package per job: the local stack (devstack.stack), test support
(devstack.testing), contract tools (devstack.contracts), the demo (devstack.demo) and the
scaffold for a new service (devstack.scaffold)."""
