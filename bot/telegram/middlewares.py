"""Outer middlewares on the update observer, in this order:

1. `DbSessionMiddleware`: one AsyncSession per update (`session`), rolled back on an exception.
2. `PersonMiddleware`: the sender's `person` (or None) and `roles`.
3. `LocaleMiddleware`: the reader's `locale` (person's choice, else Telegram's language_code
   mapped zh*→zh_CN, en*→en, else DEFAULT_LOCALE) and aiogram's i18n context for `_()`.

They run on the update observer (not per event type) so that the error handler sees the same
`locale` and `person` in its data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.middleware import I18nMiddleware

from bot.core.roles import NOBODY
from bot.i18n import normalize_locale
from bot.services.people import person_by_telegram_id, roles_of
from bot.storage.db import SessionMaker

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    def __init__(self, session_maker: SessionMaker) -> None:
        self.session_maker = session_maker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.session_maker() as session:
            data["session"] = session
            try:
                return await handler(event, data)
            except BaseException:
                await session.rollback()
                raise


class PersonMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        person = None
        roles = NOBODY
        if user is not None and not user.is_bot:
            session = data["session"]
            person = await person_by_telegram_id(session, user.id)
            if person is not None:
                stale = not person.active or (not person.name and user.full_name)
                if stale:
                    person.active = True  # they write again: they unblocked the bot
                    person.name = person.name or user.full_name
                    session.add(person)
                    await session.commit()
                roles = await roles_of(session, person)
        data["person"] = person
        data["roles"] = roles
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """aiogram's I18nMiddleware choosing the person's locale, else their Telegram language."""

    def __init__(self, i18n: I18n, default_locale: str) -> None:
        super().__init__(i18n=i18n)
        self.default_locale = default_locale

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        person = data.get("person")
        if person is not None and person.locale:
            locale = normalize_locale(person.locale, self.default_locale)
        else:
            user: User | None = data.get("event_from_user")
            code = user.language_code if user is not None else None
            locale = normalize_locale(code, self.default_locale)
        data["locale"] = locale
        return locale
