"""/withdraw CODE: take a plan out of the ledger (撤回), after a confirmation button.

The command only asks (plan, title, how many active assignments, what happens); the 撤回 button
does it (bot.services.plan_withdraw: one transaction, its pending messages cancelled, its file
moved to tasks_data/withdrawn, history kept). Only a coordinator of the plan (or of all plans)
may; the button checks again, since a client can send any callback data. Bringing a plan back
is the operator's (`python -m bot restore CODE`, or its file put back in tasks_data/plans).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.core.history import ACTOR_COORDINATOR
from bot.core.roles import Roles
from bot.i18n import gettext
from bot.services import plan_withdraw
from bot.services.errors import ServiceError
from bot.services.plan_upload import existing_plan
from bot.storage import models
from bot.storage.models import Person
from bot.telegram.coordinator.callbacks import PlanWithdraw
from bot.telegram.errors import error_line
from bot.telegram.filters import IsCoordinator
from bot.telegram.render import esc

CONFIRM, CANCEL = "y", "n"


def ask_text(code: str, title: str, assignments: int, *, locale: str) -> str:
    return gettext(
        "Withdraw plan <b>%(code)s</b> %(title)s?\n"
        "Its %(assignments)s active assignments are archived at once: nothing of it is "
        "reminded, chased, listed or counted any more, and the messages waiting to be sent "
        "for it are cancelled. Its history stays, and the operator can bring it back as it "
        "was (<code>python -m bot restore %(code)s</code>).",
        locale=locale,
    ) % {"code": esc(code), "title": esc(title), "assignments": assignments}


def ask_keyboard(plan_id: int, code: str, *, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=gettext("Withdraw %(code)s", locale=locale) % {"code": code},
        callback_data=PlanWithdraw(plan_id=plan_id, act=CONFIRM),
    )
    builder.button(
        text=gettext("Keep it", locale=locale),
        callback_data=PlanWithdraw(plan_id=plan_id, act=CANCEL),
    )
    builder.adjust(2)
    return builder.as_markup()


def done_text(done: plan_withdraw.Withdrawal, *, locale: str) -> str:
    a = done.archive
    return gettext(
        "Plan <b>%(code)s</b> is withdrawn: %(items)s items and %(assignments)s assignments "
        "archived, %(cancelled)s waiting messages cancelled. Its history is kept.",
        locale=locale,
    ) % {
        "code": esc(a.code),
        "items": a.items,
        "assignments": a.assignments,
        "cancelled": a.outbox,
    }


def usage(locale: str) -> str:
    return gettext("Usage: /withdraw CODE, for example /withdraw SR", locale=locale)


def kept_text(locale: str) -> str:
    return gettext("Nothing was withdrawn.", locale=locale)


async def _plan(session: AsyncSession, code: str) -> models.Plan | None:
    from sqlalchemy import func
    from sqlmodel import select

    found = await session.exec(
        select(models.Plan).where(func.upper(models.Plan.code) == code.strip().upper())
    )
    return found.first()


async def withdraw_cmd(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    roles: Roles,
    locale: str,
) -> None:
    words = (command.args or "").split()
    if len(words) != 1:
        await message.answer(usage(locale))
        return
    plan = await _plan(session, words[0])
    if plan is None or plan.id is None:
        await message.answer(error_line(ServiceError("unknown_plan", plan=words[0]), locale))
        return
    if not roles.coordinates(plan.id):
        await message.answer(error_line(ServiceError("not_your_plan", plan=plan.code), locale))
        return
    if plan.archived_at is not None:
        await message.answer(
            error_line(ServiceError("plan_already_withdrawn", plan=plan.code), locale)
        )
        return
    found = await existing_plan(session, plan.code)
    assignments = found.assignments if found else 0
    await message.answer(
        ask_text(plan.code, plan.title, assignments, locale=locale),
        reply_markup=ask_keyboard(plan.id, plan.code, locale=locale),
    )


async def withdraw_cb(
    query: CallbackQuery,
    callback_data: PlanWithdraw,
    session: AsyncSession,
    session_maker: object,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
    person: Person | None = None,
) -> None:
    target = query.message if isinstance(query.message, Message) else None
    if callback_data.act != CONFIRM:
        if target is not None:
            await target.edit_text(kept_text(locale), reply_markup=None)
        await query.answer()
        return
    plan = await session.get(models.Plan, callback_data.plan_id)
    try:
        if plan is None:
            raise ServiceError("unknown_plan", plan=str(callback_data.plan_id))
        if not roles.coordinates(callback_data.plan_id):
            raise ServiceError("not_your_plan", plan=plan.code)
        done = await plan_withdraw.withdraw(
            session_maker,
            plan.code,
            at=clock.now(),
            tasks_data=settings.data.tasks_data,
            actor_id=person.id if person else None,
            actor_label=(person.name if person and person.name else ACTOR_COORDINATOR),
        )
    except ServiceError as exc:
        await query.answer(error_line(exc, locale), show_alert=True)
        if target is not None:
            await target.edit_reply_markup(reply_markup=None)
        return
    if target is not None:
        await target.edit_text(done_text(done, locale=locale), reply_markup=None)
    await query.answer()


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsCoordinator())
    router.callback_query.filter(IsCoordinator())
    router.message.register(withdraw_cmd, Command("withdraw"))
    router.callback_query.register(withdraw_cb, PlanWithdraw.filter())
