"""/task REF: an item's card (full text, milestones and targets, each unit's status, recent
history); for the item's liaison it carries the report buttons and answers replies."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.services.assignments import task_detail
from bot.services.errors import ServiceError
from bot.telegram.common import error_line, moment, send_card
from bot.telegram.filters import IsRegistered
from bot.telegram.keyboards import assignment_keyboard
from bot.telegram.parsing import parse_single
from bot.telegram.render import task_card


def router() -> Router:
    r = Router(name="task")

    @r.message(Command("task"), IsRegistered())
    async def show_task(
        message: Message, command: CommandObject, bot: Bot, session, settings: Settings,
        clock: Clock, roles: Roles, locale: str,
    ) -> None:  # fmt: skip
        m = moment(settings, clock)
        try:
            ref = parse_single(command.args, "task_usage")
            detail = await task_detail(
                session, ref=ref, roles=roles, today=m.today, now=m.now, policy=m.policy
            )
        except ServiceError as exc:
            await message.answer(error_line(exc, locale))
            return
        current = detail.current
        keyboard = None
        if current is not None:
            keyboard = assignment_keyboard(
                current.assignment_id, acknowledged=current.acknowledged, locale=locale
            )
        await send_card(
            bot, message.chat.id, task_card(detail, locale=locale, zone=settings.zone),
            session=session, at=m.now,
            assignment_id=current.assignment_id if current else None, reply_markup=keyboard,
        )  # fmt: skip
        await session.commit()

    return r
