"""Reminder buttons and digest subscriptions.

- 稍后提醒 (snooze) on a reminder: the same reminder again at the next working morning's window
  opening, once per stage, never later than the due date (bot.services.snooze).
- `/subscribe [CODE]` and `/unsubscribe` in a group, by a coordinator: the group receives the
  weekly digest (of one plan, or of every plan) (bot.services.subscriptions).

The reminder policy comes from the dispatcher's data (`policy`), loaded once at start-up.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.core.policy import Policy
from bot.core.roles import Roles
from bot.i18n import format_datetime, gettext
from bot.services.snooze import SnoozeOutcome, snooze_reminder
from bot.services.subscriptions import digest_plan, subscribe_chat, unsubscribe_chat
from bot.telegram.filters import IsCoordinator
from bot.telegram.render import echo, esc


class Snooze(CallbackData, prefix="sz"):
    """The 稍后提醒 button of a reminder (the message itself tells which stage)."""

    assignment_id: int


def snooze_button(assignment_id: int, *, locale: str) -> InlineKeyboardButton:
    """Used by `bot.telegram.keyboards.assignment_keyboard(..., snooze=True)`."""
    return InlineKeyboardButton(
        text=gettext("Remind me later", locale=locale),
        callback_data=Snooze(assignment_id=assignment_id).pack(),
    )


def snooze_answer(outcome: SnoozeOutcome, *, locale: str, policy: Policy) -> str:
    if outcome.code == "snoozed" and outcome.not_before is not None:
        when = format_datetime(outcome.not_before, locale=locale, zone=policy.zone)
        return gettext("OK, I will remind you again on {when}.", locale=locale).format(when=when)
    texts = {
        "already": gettext("This reminder was already deferred once.", locale=locale),
        "past_due": gettext(
            "The next working morning is after the due date: this reminder cannot be deferred.",
            locale=locale,
        ),
        "finished": gettext("This item is already reported as done.", locale=locale),
        "disabled": gettext("Deferring reminders is switched off.", locale=locale),
    }
    return texts.get(outcome.code, gettext("Only a reminder can be deferred.", locale=locale))


async def on_snooze(
    query: CallbackQuery,
    callback_data: Snooze,
    session: AsyncSession,
    clock: Clock,
    policy: Policy,
    locale: str,
    roles: Roles,
) -> None:
    message = query.message
    if message is None or not roles.liaison:
        await query.answer(_("Only a reminder can be deferred."), show_alert=True)
        return
    outcome = await snooze_reminder(
        session,
        chat_id=message.chat.id,
        message_id=message.message_id,
        assignment_id=callback_data.assignment_id,
        at=clock.now(),
        policy=policy,
    )
    await session.commit()
    await query.answer(
        snooze_answer(outcome, locale=locale, policy=policy),
        show_alert=outcome.code != "snoozed",
    )


async def on_subscribe(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    code = (command.args or "").strip().upper()
    chosen = await digest_plan(session, roles, code)
    if chosen.code == "unknown":
        await message.answer(_("No plan with code {code}.").format(code=echo(code, 32)))
        return
    if chosen.code == "which":
        await message.answer(_("Which plan? Send /subscribe CODE."))
        return
    plan = chosen.plan
    if chosen.code == "not_yours" and plan is not None:
        await message.answer(_("You do not coordinate plan {code}.").format(code=esc(plan.code)))
        return
    await subscribe_chat(
        session,
        chat_id=message.chat.id,
        title=message.chat.title or "",
        locale=locale,
        plan_id=plan.id if plan else None,
        at=clock.now(),
    )
    await session.commit()
    if plan is None:
        await message.answer(_("This group will receive the weekly digest of every plan."))
    else:
        await message.answer(
            _("This group will receive the weekly digest of {code}.").format(code=esc(plan.code))
        )


async def on_unsubscribe(message: Message, session: AsyncSession) -> None:
    removed = await unsubscribe_chat(session, chat_id=message.chat.id)
    await session.commit()
    if removed:
        await message.answer(_("This group will no longer receive the weekly digest."))
    else:
        await message.answer(_("This group is not subscribed."))


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.callback_query.register(on_snooze, Snooze.filter())
    groups = F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})
    router.message.register(on_subscribe, Command("subscribe"), groups, IsCoordinator())
    router.message.register(on_unsubscribe, Command("unsubscribe"), groups, IsCoordinator())
