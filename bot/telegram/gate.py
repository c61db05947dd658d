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


async def stranger(message: Message) -> None:
    await message.answer(access_note())


async def stranger_in_group(message: Message) -> None:
    return None


async def stranger_button(callback: CallbackQuery) -> None:
    await callback.answer(access_note(), show_alert=True)


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsStranger())
    router.callback_query.filter(IsStranger())
    router.message.register(
        stranger, F.chat.type == ChatType.PRIVATE, ~CommandStart(deep_link=True)
    )
    router.message.register(stranger_in_group, F.chat.type != ChatType.PRIVATE)
    router.callback_query.register(stranger_button)
