"""The dispatcher: dependencies as workflow data, middlewares, the error handler and every
feature's router, in order: gate (strangers) → liaison side → coordinator → reminders →
fallback.

Each feature module keeps its handlers at module level (importable and testable alone) and
registers them with `setup(router)`; `feature_router` gives each a fresh Router of its own
name (a Router joins only one Dispatcher)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from aiogram import Dispatcher, Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.config import Settings
from bot.core.policy import Policy
from bot.i18n import gettext
from bot.storage.db import SessionMaker
from bot.telegram import (
    access,
    brief,
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
    scorecard,
    start,
    task,
)
from bot.telegram import help as help_
from bot.telegram.fsm_storage import DatabaseStorage
from bot.telegram.middlewares import DbSessionMiddleware, LocaleMiddleware, PersonMiddleware

if TYPE_CHECKING:
    from bot.core.policy import Policy

log = logging.getLogger(__name__)

Setup = Callable[[Router], None]

# continuation before replies: the rest of a long note Telegram split stays a note
LIAISON_SIDE: tuple[tuple[str, Setup], ...] = (
    ("start", start.setup),
    ("help", help_.setup),
    ("lang", lang.setup),
    ("my", my.setup),
    ("brief", brief.setup),
    ("task", task.setup),
    ("find", find.setup),
    ("scorecard", scorecard.setup),
    ("continuation", continuation.setup),
    ("replies", replies.setup),
    ("report", report.setup),
    ("invite", invite.setup),
    ("access", access.setup),
)


def feature_router(name: str, setup: Setup) -> Router:
    """A fresh Router named `name` with one feature's handlers."""
    router = Router(name=name)
    setup(router)
    return router


def feature_routers() -> list[Router]:
    """Every feature's router, in dispatch order, without the extra routers tests add."""
    features = [("gate", gate.setup), *LIAISON_SIDE, *coordinator.FEATURES]
    features.append(("reminders", reminders.setup))
    return [feature_router(name, setup) for name, setup in features]


def build_dispatcher(
    *,
    settings: Settings,
    policy: Policy,
    tz: tzinfo,
    clock: Clock,
    session_maker: SessionMaker,
    directory: Any,
    i18n: I18n,
    scheduler: Any = None,
    extra_routers: list[Router] | None = None,
    plan_parser: Any = None,
    pictures: Any = None,
    plan_loader: Any = None,
) -> Dispatcher:
    """A fresh Dispatcher with fresh routers (a Router joins only one Dispatcher).
    `policy` and `tz` are the deployment's (bot.app.build_app loads them once); handlers
    receive them, and `settings`, `clock`, `session_maker`, as keyword arguments.
    `plan_parser` runs /import parses out of process (bot.services.parse_runner.ProcessParser;
    one is made when none is given); `plan_loader` writes and loads a confirmed upload in a
    worker thread (bot.services.plan_loading.load_runner; None: on the event loop). `pictures`
    draws the scorecards
    (bot.telegram.charts.Pictures; one with the CHART_FONT setting when none is given)."""
    if plan_parser is None:
        from bot.services.parse_runner import ProcessParser

        plan_parser = ProcessParser()
    if pictures is None:
        from bot.telegram.charts import Pictures

        pictures = Pictures(settings.bot.chart_font)
    dp = Dispatcher(
        storage=DatabaseStorage(session_maker),
        settings=settings,
        policy=policy,
        tz=tz,
        clock=clock,
        session_maker=session_maker,
        directory=directory,
        scheduler=scheduler,
        plan_parser=plan_parser,
        pictures=pictures,
        plan_loader=plan_loader,
    )
    dp.update.outer_middleware(DbSessionMiddleware(session_maker))
    dp.update.outer_middleware(PersonMiddleware())
    dp.update.outer_middleware(LocaleMiddleware(i18n, settings.bot.default_locale))
    dp.errors.register(on_error)

    for router in feature_routers():
        dp.include_router(router)
    for extra in extra_routers or []:
        dp.include_router(extra)
    dp.include_router(feature_router("fallback", fallback.setup))
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
    settings = data.get("settings")
    locale = data.get("locale") or (settings and settings.bot.default_locale)
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
