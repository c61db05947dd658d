"""The last router: what nobody else handled gets one line saying what to do instead."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.services.errors import ServiceError
from bot.telegram.errors import error_line
from bot.telegram.filters import IsRegistered


async def reply_elsewhere(message: Message, locale: str) -> None:
    await message.answer(error_line(ServiceError("not_about_assignment"), locale))


async def unknown_command(message: Message) -> None:
    await message.answer(_("I do not know that command. Send /help for the list."))


async def plain_text(message: Message) -> None:
    await message.answer(
        _("To add a note, reply to a message about the item. Send /help for the commands.")
    )


async def file_without_reply(message: Message) -> None:
    # they did send a file: say how to attach it to an item, not to send one
    await message.answer(
        _(
            "To attach this file to an item, send it as a reply to the reminder or to the "
            "item's message (long-press the message and choose Reply). No such message at "
            "hand? Send /task REF (for example /task SR-12), then reply to the card with "
            "the file."
        )
    )


async def other_content(message: Message, locale: str) -> None:
    await message.answer(error_line(ServiceError("unsupported_upload"), locale))


async def stale_button(callback: CallbackQuery) -> None:
    await callback.answer(_("This button no longer works. Send /my for your items."))


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsRegistered(), F.chat.type == ChatType.PRIVATE)
    router.message.register(reply_elsewhere, F.reply_to_message, ~F.text.startswith("/"))
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(plain_text, F.text)
    router.message.register(
        file_without_reply,
        F.photo | F.document | F.video | F.audio | F.voice | F.video_note | F.animation,
        ~F.reply_to_message,
    )
    router.message.register(other_content)
    router.callback_query.register(stale_button, IsRegistered())
