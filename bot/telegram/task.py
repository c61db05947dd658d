"""/task REF: an item's card (full text, milestones and targets, each unit's status, recent
history); for the item's liaison it carries the report buttons and answers replies. The same
card opens from a button of a list (OpenTask, e.g. /find)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.i18n import gettext
from bot.services.assignments import task_detail
from bot.services.errors import ServiceError
from bot.telegram.callbacks import OpenTask
from bot.telegram.common import moment, send_card
from bot.telegram.errors import error_line
from bot.telegram.filters import IsRegistered
from bot.telegram.keyboards import assignment_keyboard
from bot.telegram.parsing import parse_single
from bot.telegram.render import co_units_folded, task_card


async def send_task(
    bot: Bot,
    chat_id: int,
    session,
    *,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
    ref: str | None = None,
    task_id: int | None = None,
    expand: bool = False,
) -> None:
    """Send an item's card (by ref or id) and commit. ServiceError when it is not to be seen.
    A card with co-operating units shown as counts gets a button to list them all."""
    m = moment(settings, clock)
    detail = await task_detail(
        session,
        ref=ref,
        task_id=task_id,
        roles=roles,
        today=m.today,
        now=m.now,
        policy=m.policy,
    )
    current = detail.current
    rows: list[list[InlineKeyboardButton]] = []
    if current is not None:
        rows = assignment_keyboard(
            current.assignment_id, acknowledged=current.acknowledged, locale=locale
        ).inline_keyboard
    if not expand and co_units_folded(detail):
        data = OpenTask(task_id=detail.task.id or 0, expand=True).pack()
        label = gettext("List every co-operating unit", locale=locale)
        rows = [*rows, [InlineKeyboardButton(text=label, callback_data=data)]]
    keyboard = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
    await send_card(
        bot,
        chat_id,
        task_card(detail, locale=locale, zone=settings.clock.zone, expand=expand),
        session=session,
        at=m.now,
        assignment_id=current.assignment_id if current else None,
        reply_markup=keyboard,
    )
    await session.commit()


async def show_task(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    try:
        ref = parse_single(command.args, "task_usage")
        await send_task(
            bot,
            message.chat.id,
            session,
            settings=settings,
            clock=clock,
            roles=roles,
            locale=locale,
            ref=ref,
        )
    except ServiceError as exc:
        await message.answer(error_line(exc, locale))


async def open_task(
    callback: CallbackQuery,
    callback_data: OpenTask,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    try:
        await send_task(
            bot,
            chat_id,
            session,
            settings=settings,
            clock=clock,
            roles=roles,
            locale=locale,
            task_id=callback_data.task_id,
            expand=callback_data.expand,
        )
    except ServiceError as exc:
        await callback.answer(error_line(exc, locale), show_alert=True)
        return
    await callback.answer()


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.register(show_task, Command("task"), IsRegistered())
    router.callback_query.register(open_task, OpenTask.filter(), IsRegistered())
