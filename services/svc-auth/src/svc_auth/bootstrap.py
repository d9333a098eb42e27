"""Start-up tasks that must be idempotent: the bootstrap admin."""

from __future__ import annotations

import logging

from svc_auth.components import AuthComponents

logger = logging.getLogger(__name__)


async def ensure_bootstrap_admin(parts: AuthComponents) -> bool:
    """Create or promote BOOTSTRAP_ADMIN_EMAIL when both it and the password are set."""
    email = parts.settings.bootstrap_admin_email
    password = parts.settings.bootstrap_admin_password
    if not email or password is None:
        return False
    async with parts.runtime.unit_of_work() as uow:
        await parts.accounts(uow.session).ensure_admin(
            email=email, password=password.get_secret_value(), display_name="Platform admin"
        )
    logger.info("bootstrap admin ensured")
    return True
