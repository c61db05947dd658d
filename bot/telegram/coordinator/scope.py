"""Reading a coordinator command's optional PLAN|UNIT argument into a scope."""

from __future__ import annotations

from typing import Any

from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.roles import Roles
from bot.services.coordination import ScopeChoice, resolve_scope
from bot.services.errors import ServiceError
from bot.telegram.coordinator.parsing import parse_optional
from bot.telegram.errors import error_line


async def scope_or_explain(
    message: Message,
    args: str | None,
    *,
    session: AsyncSession,
    directory: Any,
    roles: Roles,
    locale: str,
) -> ScopeChoice | None:
    """The scope `args` names (all plans when empty); None after answering why it names none
    (unknown plan or unit, an ambiguous unit, a plan the coordinator does not coordinate)."""
    try:
        return await resolve_scope(session, directory, roles, parse_optional(args))
    except ServiceError as exc:
        await message.answer(error_line(exc, locale))
        return None
