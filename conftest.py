pytest_plugins = ["devstack.testing.pytest_plugin", "devstack.contracts.documented_problems"]
