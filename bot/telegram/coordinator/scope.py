"""Reading a coordinator command's optional PLAN|UNIT argument into a scope."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.roles import Roles
from bot.services.coordination import ScopeChoice, resolve_scope
from bot.services.errors import ServiceError
from bot.telegram.coordinator.callbacks import StatusView
from bot.telegram.coordinator.parsing import parse_optional, scope_token
from bot.telegram.errors import error_line


async def scope_or_explain(
    message: Message,
    args: str | None,
    *,
    session: AsyncSession,
    directory: Any,
    roles: Roles,
    locale: str,
    view: str | None = None,
) -> ScopeChoice | None:
    """The scope `args` names (all plans when empty); None after answering why it names none
    (unknown plan or unit, an ambiguous unit, a plan the coordinator does not coordinate).
    An ambiguous unit gets one button per unit with its full name, opening `view` of it."""
    try:
        return await resolve_scope(session, directory, roles, parse_optional(args))
    except ServiceError as exc:
        keyboard = unit_choice_keyboard(exc, view) if view else None
        await message.answer(error_line(exc, locale), reply_markup=keyboard)
        return None


def unit_choice_keyboard(exc: ServiceError, view: str) -> InlineKeyboardMarkup | None:
    """For an ambiguous_unit error: a button per unit (full name) opening `view` of it
    (bot.telegram.coordinator.status: summary, overdue, or /unit's page)."""
    units = exc.params.get("units") if exc.code == "ambiguous_unit" else None
    if not units:
        return None
    builder = InlineKeyboardBuilder()
    for unit_id, name in units:
        builder.button(
            text=name, callback_data=StatusView(view=view, scope=scope_token(None, unit_id))
        )
    builder.adjust(1)
    return builder.as_markup()
