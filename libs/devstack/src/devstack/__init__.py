"""The local stack: what `make run` and the tests start so nothing needs installing by hand."""
