"""Contract tools: the committed OpenAPI and GraphQL files, the clients generated from them, and
the checks that keep them true (documented problems, breaking changes)."""
