"""Checking who calls: access-token verification and the principal it yields.

Signing lives in svc-auth alone; every service verifies locally with the public keys.
"""

from core.auth.principal import Membership, Principal, is_same_party

__all__ = ["Membership", "Principal", "is_same_party"]
