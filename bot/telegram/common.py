"""Small helpers every liaison-side handler uses: the instant and local date of an update,
sending a card in parts and remembering what it is about."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup, Message

from bot.clock import Clock
from bot.config import Settings
from bot.core.lights import LightPolicy
from bot.services.assignments import local_date, remember_message

log = logging.getLogger(__name__)

T = TypeVar("T")

# what a Bot API call raises when the answer did not get through
SEND_ERRORS = (TelegramAPIError, aiohttp.ClientError, TimeoutError, OSError)


@dataclass(frozen=True)
class Moment:
    now: datetime
    today: date
    policy: LightPolicy


def moment(settings: Settings, clock: Clock) -> Moment:
    now = clock.now()
    return Moment(
        now=now,
        today=local_date(now, settings.clock.zone),
        policy=LightPolicy.from_settings(settings.lights),
    )


async def send_card(
    bot: Bot,
    chat_id: int,
    parts: list[str],
    *,
    session: Any,
    at: datetime,
    assignment_id: int | None = None,
    kind: str = "task",
    reply_markup: InlineKeyboardMarkup | None = None,
) -> list[Message]:
    """Send `parts` (keyboard on the last one); when the card is about one assignment,
    remember every part so that replies to any of them reach it. The caller commits."""
    sent: list[Message] = []
    for i, part in enumerate(parts):
        markup = reply_markup if i == len(parts) - 1 else None
        sent.append(await bot.send_message(chat_id, part, reply_markup=markup))
    if assignment_id is not None:
        for message in sent:
            await remember_message(
                session,
                chat_id=chat_id,
                message_id=message.message_id,
                assignment_id=assignment_id,
                kind=kind,
                at=at,
            )
    return sent


async def tell_after_commit(send: Awaitable[T], *, what: str) -> T | None:
    """Await a Bot API call that tells a user about a change already committed. A failure is
    logged, never raised: it cannot undo the change, and no apology asks them to try again
    (which would record it twice). `what` names the change in the log line."""
    try:
        return await send
    except SEND_ERRORS as exc:
        log.warning("%s is stored; telling the user failed: %s: %s", what, type(exc).__name__, exc)
        return None
