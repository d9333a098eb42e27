"""The scenarios of `make bench`, one module per kind."""
