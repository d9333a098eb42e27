"""svc-merchants's domain: plain dataclasses, no web or database types."""
