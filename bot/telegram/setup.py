"""The dispatcher: dependencies as workflow data, middlewares, the error handler and every
feature's router, in order: gate (strangers) → liaison side → coordinator → reminders →
fallback."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext
from bot.storage.db import SessionMaker
from bot.telegram import (
    access,
    continuation,
    coordinator,
    fallback,
    find,
    gate,
    invite,
    lang,
    my,
    reminders,
    replies,
    report,
    start,
    task,
)
from bot.telegram import help as help_
from bot.telegram.middlewares import DbSessionMiddleware, LocaleMiddleware, PersonMiddleware

log = logging.getLogger(__name__)

# continuation before replies: the rest of a long note Telegram split stays a note
LIAISON_SIDE = (start, help_, lang, my, task, find, continuation, replies, report, invite, access)


def build_dispatcher(
    *,
    settings: Settings,
    clock: Clock,
    session_maker: SessionMaker,
    directory: Any,
    i18n: I18n,
    scheduler: Any = None,
    extra_routers: list[Router] | None = None,
    plan_parser: Any = None,
) -> Dispatcher:
    """A fresh Dispatcher with fresh routers (a Router joins only one Dispatcher).
    `plan_parser` runs /import parses out of process (bot.services.parse_runner.ProcessParser;
    one is made when none is given)."""
    if plan_parser is None:
        from bot.services.parse_runner import ProcessParser

        plan_parser = ProcessParser()
    dp = Dispatcher(
        storage=MemoryStorage(),
        settings=settings,
        clock=clock,
        session_maker=session_maker,
        directory=directory,
        scheduler=scheduler,
        plan_parser=plan_parser,
    )
    dp.update.outer_middleware(DbSessionMiddleware(session_maker))
    dp.update.outer_middleware(PersonMiddleware())
    dp.update.outer_middleware(LocaleMiddleware(i18n, settings.default_locale))
    dp.errors.register(on_error)

    dp.include_router(gate.router())
    for module in LIAISON_SIDE:
        dp.include_router(module.router())
    for extra in coordinator.routers():
        dp.include_router(extra)
    dp.include_router(reminders.router())
    for extra in extra_routers or []:
        dp.include_router(extra)
    dp.include_router(fallback.router())
    return dp


async def on_error(event: ErrorEvent, **data: Any) -> bool:
    """Log the exception with its update; apologise in the user's language; keep running."""
    update = event.update
    log.error(
        "handler failed on update %s: %r\n%s",
        update.update_id,
        event.exception,
        update.model_dump_json(exclude_none=True)[:2000],
        exc_info=event.exception,
    )
    locale = data.get("locale") or (data.get("settings", None) and data["settings"].default_locale)
    text = gettext(
        "Sorry, something went wrong. Please try again later.", locale=locale or "zh_CN"
    )
    try:
        if update.message is not None:
            await update.message.answer(text)
        elif update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
    except Exception:
        log.warning("could not send the apology for update %s", update.update_id)
    return True
