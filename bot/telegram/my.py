"""/my: the liaison's open items, red / yellow / green first, paginated with inline buttons;
each item's button opens its card with the report buttons."""

from __future__ import annotations

import contextlib

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.services.assignments import my_assignments, task_detail
from bot.services.errors import ServiceError
from bot.telegram.callbacks import MyPage, OpenAssignment
from bot.telegram.common import moment, send_card
from bot.telegram.errors import error_line
from bot.telegram.filters import IsRegistered
from bot.telegram.keyboards import assignment_keyboard, my_keyboard
from bot.telegram.render import my_list, task_card


async def _page(session, settings: Settings, clock: Clock, roles: Roles, page: int, locale: str):
    m = moment(settings, clock)
    result = await my_assignments(
        session,
        unit_ids=sorted(roles.liaison_unit_ids),
        today=m.today,
        now=m.now,
        policy=m.policy,
        page=page,
    )
    text = my_list(result, locale=locale)
    keyboard = my_keyboard(
        [(row.assignment_id, row.light, row.ref) for row in result.items],
        page=result.page,
        pages=result.pages,
        locale=locale,
    )
    return text, keyboard


async def show_my(
    message: Message, session, settings: Settings, clock: Clock, roles: Roles, locale: str
) -> None:
    if not roles.liaison:
        await message.answer(
            _("You are not the liaison of any unit, so you have no items of your own.")
        )
        return
    text, keyboard = await _page(session, settings, clock, roles, 0, locale)
    await message.answer(text, reply_markup=keyboard)


async def turn_page(
    callback: CallbackQuery,
    callback_data: MyPage,
    session,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    text, keyboard = await _page(session, settings, clock, roles, callback_data.page, locale)
    if callback.message is not None:
        with contextlib.suppress(TelegramBadRequest):  # "message is not modified"
            await callback.message.edit_text(text, reply_markup=keyboard)  # type: ignore[union-attr]
    await callback.answer()


async def open_item(
    callback: CallbackQuery,
    callback_data: OpenAssignment,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    m = moment(settings, clock)
    from bot.storage.models import Assignment, Milestone

    assignment = await session.get(Assignment, callback_data.assignment_id)
    milestone = await session.get(Milestone, assignment.milestone_id) if assignment else None
    if assignment is None or milestone is None:
        await callback.answer(
            error_line(ServiceError("unknown_assignment"), locale), show_alert=True
        )
        return
    try:
        detail = await task_detail(
            session,
            task_id=milestone.task_id,
            roles=roles,
            today=m.today,
            now=m.now,
            policy=m.policy,
        )
    except ServiceError as exc:
        await callback.answer(error_line(exc, locale), show_alert=True)
        return
    focus = next((a for a in detail.mine if a.assignment_id == assignment.id), None)
    keyboard = None
    if focus is not None:
        keyboard = assignment_keyboard(
            focus.assignment_id, acknowledged=focus.acknowledged, locale=locale
        )
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    await send_card(
        bot,
        chat_id,
        task_card(detail, locale=locale, zone=settings.clock.zone, focus=focus),
        session=session,
        at=m.now,
        assignment_id=focus.assignment_id if focus else None,
        reply_markup=keyboard,
    )
    await session.commit()
    await callback.answer()


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsRegistered())
    router.callback_query.filter(IsRegistered())
    router.message.register(show_my, Command("my"))
    router.callback_query.register(turn_page, MyPage.filter())
    router.callback_query.register(open_item, OpenAssignment.filter())
