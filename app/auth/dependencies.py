"""FastAPI dependencies that admit only signed-in agents or admins.

Contract stub: the accounts work replaces the bodies; routes already depend
on these names.
"""

from __future__ import annotations

from app.api.errors import ApiError, Problem
from app.db.models import User


async def require_agent() -> User:
    """The signed-in agent or admin, else 401."""
    raise ApiError(Problem.NOT_AUTHENTICATED, "sign in as an agent first")


async def require_admin() -> User:
    """The signed-in admin, else 401 (not signed in) or 403 (an agent)."""
    raise ApiError(Problem.NOT_AUTHENTICATED, "sign in as an admin first")
