"""The scaffold: a new service written from the template, wired into the workspace."""
