"""The dispatcher: dependencies as workflow data, middlewares, the error handler and every
feature's router, in order: gate (strangers) → liaison side → coordinator → reminders →
fallback."""

from __future__ import annotations

import importlib
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
from bot.telegram import fallback, gate, invite, lang, my, report, start, task
from bot.telegram import help as help_
from bot.telegram.middlewares import DbSessionMiddleware, LocaleMiddleware, PersonMiddleware

log = logging.getLogger(__name__)

LIAISON_SIDE = (start, help_, lang, my, task, report, invite)


def optional_routers(module_name: str, attribute: str) -> list[Router]:
    """Routers of a feature that may not exist yet (built in parallel): a missing module or
    factory, or an ImportError inside it, is logged, not fatal. Any other error is raised."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            log.warning("%s is not available; its commands are off", module_name)
            return []
        raise
    factory = getattr(module, attribute, None)
    if factory is None:
        log.warning("%s has no %s() yet; its commands are off", module_name, attribute)
        return []
    try:
        made = factory()
    except ImportError:
        # a feature whose own modules are incomplete: the rest of the bot still serves
        log.exception("%s.%s() failed to import; its commands are off", module_name, attribute)
        return []
    return list(made) if isinstance(made, list | tuple) else [made]


def build_dispatcher(
    *,
    settings: Settings,
    clock: Clock,
    session_maker: SessionMaker,
    directory: Any,
    i18n: I18n,
    scheduler: Any = None,
    extra_routers: list[Router] | None = None,
) -> Dispatcher:
    """A fresh Dispatcher with fresh routers (a Router joins only one Dispatcher)."""
    dp = Dispatcher(
        storage=MemoryStorage(),
        settings=settings,
        clock=clock,
        session_maker=session_maker,
        directory=directory,
        scheduler=scheduler,
    )
    dp.update.outer_middleware(DbSessionMiddleware(session_maker))
    dp.update.outer_middleware(PersonMiddleware())
    dp.update.outer_middleware(LocaleMiddleware(i18n, settings.default_locale))
    dp.errors.register(on_error)

    dp.include_router(gate.router())
    for module in LIAISON_SIDE:
        dp.include_router(module.router())
    for extra in optional_routers("bot.telegram.coordinator", "routers"):
        dp.include_router(extra)
    for extra in optional_routers("bot.telegram.reminders", "router"):
        dp.include_router(extra)
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
