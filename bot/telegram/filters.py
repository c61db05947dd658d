"""Role filters. They read `roles` (bot.core.roles.Roles) that the middleware put in the
handler data, so they cost no query."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.core.roles import NOBODY, Roles


def _roles(data: dict[str, Any]) -> Roles:
    roles = data.get("roles")
    return roles if isinstance(roles, Roles) else NOBODY


class IsCoordinator(Filter):
    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        return _roles(data).coordinator


class IsLiaison(Filter):
    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        return _roles(data).liaison


class IsRegistered(Filter):
    """Anyone with a role; strangers get only the access note."""

    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        return _roles(data).registered


class IsStranger(Filter):
    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        return not _roles(data).registered
