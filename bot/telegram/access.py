"""/revoke_access (alias /remove): a coordinator ends a liaison's, leader's or coordinator's
access within their plans. Choose the person by unit or plan and name, or from buttons;
confirm with a button. Every button's ids are checked against the sender's scope again."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.services import access
from bot.services.errors import ServiceError
from bot.services.people import person_by_telegram_id, roles_of
from bot.services.scope import PlanScope
from bot.storage.models import Person
from bot.telegram import access_view as view
from bot.telegram.commands import clear_coordinator_commands
from bot.telegram.errors import error_line, error_text
from bot.telegram.filters import IsCoordinator
from bot.telegram.parsing import normalize

COMMANDS = ("revoke_access", "remove")


async def _show(
    target: Message, found: access.Found, *, page: int, locale: str, edit: bool = False
) -> None:
    """The choice `found` offers: units to pick, one confirmation, or a page of people."""
    if found.units:
        text, markup = view.units_text(locale), view.units_keyboard(found.units)
    elif not found.members:
        text = error_text("nobody_removable", {}, locale=locale) + "\n" + view.usage(locale)
        markup = None
    elif len(found.members) == 1 and (found.by_name or found.unit_id or found.plan_id):
        m = found.members[0]
        text, markup = view.confirm_text(m, locale=locale), view.confirm_keyboard(m, locale=locale)
    else:
        text = view.list_text(
            found.members, where=found.where, page=page, pages=not found.by_name, locale=locale
        )
        markup = view.list_keyboard(
            found.members,
            page=page,
            unit_id=found.unit_id,
            plan_id=found.plan_id,
            pages=not found.by_name,
            locale=locale,
        )
    await _send(target, text, markup, edit=edit)


async def _send(
    target: Message, text: str, markup: InlineKeyboardMarkup | None, *, edit: bool
) -> None:
    if edit:
        try:
            await target.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest:  # too old to edit, or unchanged: send it anew
            pass
    await target.answer(text, reply_markup=markup)


async def _after_removal(bot: Bot, session: AsyncSession, ended: access.Ended) -> None:
    """A person who coordinates nothing any more loses the coordinator's command menu."""
    telegram_id = ended.member.telegram_id
    if ended.member.role != "coordinator" or telegram_id is None:
        return
    person = await person_by_telegram_id(session, telegram_id)
    if not (await roles_of(session, person)).coordinator:
        await clear_coordinator_commands(bot, telegram_id)


async def in_a_group(message: Message, locale: str) -> None:
    """Names and roles are not for a group's eyes."""
    await message.answer(view.private_only(locale))


async def revoke_access(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    directory: Any,
    person: Person,
    plan_scope: PlanScope,
    locale: str,
) -> None:
    text = normalize(command.args or "")
    try:
        found = await access.find_removable(session, directory, plan_scope, by=person, text=text)
    except ServiceError as exc:
        await message.answer(error_line(exc, locale))
        return
    await _show(message, found, page=0, locale=locale)


async def list_page(
    query: CallbackQuery,
    callback_data: view.AccessList,
    session: AsyncSession,
    person: Person,
    plan_scope: PlanScope,
    locale: str,
) -> None:
    try:
        found = await access.removable_page(
            session,
            plan_scope,
            by=person,
            unit_id=callback_data.unit_id or None,
            plan_id=callback_data.plan_id or None,
        )
    except ServiceError as exc:
        await query.answer(error_line(exc, locale), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _show(query.message, found, page=callback_data.page, locale=locale, edit=True)


async def pick(
    query: CallbackQuery,
    callback_data: view.AccessPick,
    session: AsyncSession,
    person: Person,
    plan_scope: PlanScope,
    locale: str,
) -> None:
    try:
        m = await access.removal_candidate(
            session, plan_scope, callback_data.membership_id, by=person
        )
    except ServiceError as exc:
        await query.answer(error_line(exc, locale), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _send(
            query.message,
            view.confirm_text(m, locale=locale),
            view.confirm_keyboard(m, locale=locale),
            edit=True,
        )


async def confirm(
    query: CallbackQuery,
    callback_data: view.AccessConfirm,
    bot: Bot,
    session: AsyncSession,
    clock: Clock,
    person: Person,
    plan_scope: PlanScope,
    locale: str,
) -> None:
    try:
        ended = await access.end_membership(
            session, plan_scope, callback_data.membership_id, by=person, at=clock.now()
        )
    except ServiceError as exc:
        await session.rollback()
        await query.answer(error_line(exc, locale), show_alert=True)
        return
    await session.commit()
    await query.answer()
    if isinstance(query.message, Message):
        await _send(query.message, view.ended_text(ended, locale=locale), None, edit=True)
    await _after_removal(bot, session, ended)


async def cancel(query: CallbackQuery, locale: str) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _send(query.message, view.cancelled_text(locale), None, edit=True)


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsCoordinator())
    router.callback_query.filter(IsCoordinator())
    router.message.register(in_a_group, Command(*COMMANDS), F.chat.type != ChatType.PRIVATE)
    router.message.register(revoke_access, Command(*COMMANDS))
    router.callback_query.register(list_page, view.AccessList.filter())
    router.callback_query.register(pick, view.AccessPick.filter())
    router.callback_query.register(confirm, view.AccessConfirm.filter())
    router.callback_query.register(cancel, view.AccessCancel.filter())
