"""Test support: the pytest fixtures, tokens, the public API driven as a portal would, and the
Lambda runtime and X-Ray daemon played in-process."""
