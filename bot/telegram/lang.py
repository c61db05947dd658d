"""/lang zh|en: the person's language for every later message (replies and reminders)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.i18n import gettext
from bot.services.errors import ServiceError
from bot.services.people import set_locale
from bot.storage.models import Person
from bot.telegram.errors import error_line
from bot.telegram.filters import IsRegistered
from bot.telegram.parsing import parse_lang


async def change_language(
    message: Message, command: CommandObject, person: Person, session, locale: str
) -> None:
    try:
        chosen = parse_lang(command.args)
    except ServiceError as exc:
        await message.answer(error_line(exc, locale))
        return
    await set_locale(session, person, chosen)
    await session.commit()
    # answer in the new language at once: this update's context still holds the old one
    await message.answer(gettext("From now on I will write to you in English.", locale=chosen))


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.register(change_language, Command("lang"), IsRegistered())
