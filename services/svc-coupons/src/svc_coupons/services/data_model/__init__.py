"""svc-coupons's domain: plain dataclasses, no web or database types."""
