"""/lang zh|en: in a private chat, the person's language for every later message (replies and
reminders); in a group, by a coordinator, the group's own language (bot.storage.chats): the
digest, notices and answers in that group use it, whoever subscribed or asks there."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.core.roles import Roles
from bot.i18n import gettext
from bot.services.errors import ServiceError
from bot.services.people import set_locale
from bot.storage.chats import set_chat_locale
from bot.storage.models import Person
from bot.telegram.errors import error_line
from bot.telegram.filters import IsRegistered
from bot.telegram.parsing import parse_lang

GROUPS = F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})


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


async def change_group_language(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    roles: Roles,
    locale: str,
    person: Person | None = None,
) -> None:
    if not roles.coordinator:
        await message.answer(
            gettext("Only a coordinator can choose this group's language.", locale=locale)
        )
        return
    try:
        chosen = parse_lang(command.args)
    except ServiceError as exc:
        await message.answer(error_line(exc, locale))
        return
    await set_chat_locale(
        session, message.chat.id, chosen, by=person.id if person else None, at=clock.now()
    )
    await session.commit()
    await message.answer(
        gettext(
            "From now on I will write to this group in English: the weekly digest and notices "
            "too.",
            locale=chosen,
        )
    )


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.register(change_group_language, Command("lang"), GROUPS, IsRegistered())
    router.message.register(change_language, Command("lang"), IsRegistered())
