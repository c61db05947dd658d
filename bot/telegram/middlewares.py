"""Outer middlewares on the update observer, in this order:

1. `DbSessionMiddleware`: one AsyncSession per update (`session`), rolled back on an exception.
   While the update is handled, `CommitBeforeAnswer` (a middleware of the Bot's requests, not
   of the dispatcher) sees that session: nothing is said to a user before the update's
   writes are committed.
2. `PersonMiddleware`: the sender's `person` (or None) and `roles`; for a coordinator also
   `plan_scope` (bot.services.scope.PlanScope: the plans and units they reach), resolved
   once here so that coordinator handlers take it as an argument (None for anyone else).
3. `LocaleMiddleware`: the reader's `locale` (in a group with a language of its own, that;
   else the person's choice, else Telegram's language_code mapped zh*→zh_CN, en*→en, else
   DEFAULT_LOCALE) and aiogram's i18n context for `_()`.

They run on the update observer (not per event type) so that the error handler sees the same
`locale` and `person` in its data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.enums import ChatType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Chat, TelegramObject, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.middleware import I18nMiddleware

from bot.core.roles import NOBODY
from bot.i18n import normalize_locale
from bot.services.people import person_by_telegram_id, roles_of
from bot.services.scope import PlanScope
from bot.storage.chats import chat_locale
from bot.storage.db import SessionMaker
from bot.storage.writes import TrackedSession, has_uncommitted_writes

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

log = logging.getLogger(__name__)

# the session of the update being handled, and the task handling it
_UPDATE_SESSION: ContextVar[tuple[Any, asyncio.Task[Any] | None] | None] = ContextVar(
    "update_session", default=None
)


class DbSessionMiddleware(BaseMiddleware):
    def __init__(self, session_maker: SessionMaker) -> None:
        self.session_maker = session_maker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.session_maker(sync_session_class=TrackedSession) as session:
            data["session"] = session
            token = _UPDATE_SESSION.set((session, asyncio.current_task()))
            try:
                return await handler(event, data)
            except BaseException:
                await session.rollback()
                raise
            finally:
                _UPDATE_SESSION.reset(token)


class AnsweredBeforeCommit(RuntimeError):
    """A Bot API call left while its update's writes were not committed (strict mode)."""


class CommitBeforeAnswer(BaseRequestMiddleware):
    """No Bot API call made while handling an update leaves before that update's writes are
    committed: telling someone "recorded" about a change that a crash or a failed send could
    still undo is the bug this prevents. Handlers commit before they answer; should one not,
    its writes are committed here first and a warning names the call. `strict` raises
    `AnsweredBeforeCommit` instead (tests), so every such path fails loudly."""

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        current = _UPDATE_SESSION.get()
        # only the task handling the update (tasks it started may outlive its session)
        if current is not None and current[1] is asyncio.current_task():
            session = current[0]
            if has_uncommitted_writes(session):
                name = type(method).__name__
                if self.strict:
                    raise AnsweredBeforeCommit(f"{name} before the update's writes were committed")
                log.warning(
                    "%s was sent before the update's writes were committed; committing them first",
                    name,
                )
                await session.commit()
        return await make_request(bot, method)


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
        data["plan_scope"] = PlanScope(roles) if roles.coordinator else None
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """aiogram's I18nMiddleware choosing the person's locale, else their Telegram language."""

    def __init__(self, i18n: I18n, default_locale: str) -> None:
        super().__init__(i18n=i18n)
        self.default_locale = default_locale

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        person = data.get("person")
        chat: Chat | None = data.get("event_chat")
        group = None
        if chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
            group = await chat_locale(data["session"], chat.id)  # the group's own (/lang)
        if group:
            locale = normalize_locale(group, self.default_locale)
        elif person is not None and person.locale:
            locale = normalize_locale(person.locale, self.default_locale)
        else:
            user: User | None = data.get("event_from_user")
            code = user.language_code if user is not None else None
            locale = normalize_locale(code, self.default_locale)
        data["locale"] = locale
        return locale
