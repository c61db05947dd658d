"""The gate: anyone without a role gets a polite note on how to get access, and nothing else.

Included first, so no other router sees a stranger's message or button press. `/start TOKEN`
passes through to the start router (that is how strangers become liaisons). In groups the
gate stays silent.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.telegram.filters import IsStranger


def access_note() -> str:
    return _(
        "Hello! This is 督办助手, the task supervision assistant. It is open to invited "
        "liaisons, coordinators and leaders only. Please ask the coordinator at your plan's "
        "lead office for an invitation link."
    )


def router() -> Router:
    r = Router(name="gate")
    r.message.filter(IsStranger())
    r.callback_query.filter(IsStranger())

    @r.message(F.chat.type == ChatType.PRIVATE, ~CommandStart(deep_link=True))
    async def stranger(message: Message) -> None:
        await message.answer(access_note())

    @r.message(F.chat.type != ChatType.PRIVATE)
    async def stranger_in_group(message: Message) -> None:
        return None

    @r.callback_query()
    async def stranger_button(callback: CallbackQuery) -> None:
        await callback.answer(access_note(), show_alert=True)

    return r
