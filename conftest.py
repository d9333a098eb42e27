pytest_plugins = ["devstack.pytest_plugin", "devstack.documented_problems"]
