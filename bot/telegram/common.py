"""Small helpers every liaison-side handler uses: the instant and local date of an update,
error lines, sending a card in parts and remembering what it is about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup, Message

from bot.clock import Clock
from bot.config import Settings
from bot.core.lights import LightPolicy
from bot.core.status import TransitionError
from bot.services.assignments import local_date, remember_message
from bot.services.errors import ServiceError
from bot.telegram.render import error_text


@dataclass(frozen=True)
class Moment:
    now: datetime
    today: date
    policy: LightPolicy


def moment(settings: Settings, clock: Clock) -> Moment:
    now = clock.now()
    return Moment(now=now, today=local_date(now, settings.zone),
                  policy=LightPolicy.from_settings(settings))  # fmt: skip


def error_line(exc: ServiceError | TransitionError, locale: str) -> str:
    return error_text(exc.code, dict(exc.params), locale=locale)


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
                session, chat_id=chat_id, message_id=message.message_id,
                assignment_id=assignment_id, kind=kind, at=at,
            )  # fmt: skip
    return sent
