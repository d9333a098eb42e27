"""The demo: the world `make demo` builds in a running stack."""
