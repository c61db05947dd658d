"""Reminder buttons and digest subscriptions.

- 稍后提醒 (snooze) on a reminder: the same reminder again at the next working morning's window
  opening, once per stage, never later than the due date. Stored as a new Outbox row keyed
  f"{original key}:snoozed" with `not_before`, so the unique key makes "once" hold through
  double taps and restarts, and the sender delivers it like any other row.
- `/subscribe [CODE]` and `/unsubscribe` in a group, by a coordinator: the group receives the
  weekly digest (of one plan, or of every plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.core.workdays import next_working_morning
from bot.i18n import format_datetime, gettext
from bot.storage.db import insert_unless_exists
from bot.storage.models import CLOSED, DONE_REPORTED, Assignment, ChatSubscription, Outbox, Plan
from bot.telegram.filters import IsCoordinator
from bot.telegram.render import echo, esc
from schedules.policy import Policy, load_policy

SNOOZED_SUFFIX = ":snoozed"


class Snooze(CallbackData, prefix="sz"):
    """The 稍后提醒 button of a reminder (the message itself tells which stage)."""

    assignment_id: int


def snooze_button(assignment_id: int, *, locale: str) -> InlineKeyboardButton:
    """Used by `bot.telegram.keyboards.assignment_keyboard(..., snooze=True)`."""
    return InlineKeyboardButton(
        text=gettext("Remind me later", locale=locale),
        callback_data=Snooze(assignment_id=assignment_id).pack(),
    )


@lru_cache(maxsize=4)
def _policy(path: Path | None, timezone: str) -> Policy:
    return load_policy(path, timezone=timezone)


def policy_of(settings: Settings) -> Policy:
    return _policy(settings.policy_file, settings.timezone)


# --- snooze ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnoozeOutcome:
    code: str  # snoozed | already | past_due | not_reminder | finished | disabled
    not_before: datetime | None = None


async def snooze_reminder(
    session: AsyncSession,
    *,
    chat_id: int,
    message_id: int,
    assignment_id: int,
    at: datetime,
    policy: Policy,
) -> SnoozeOutcome:
    """Defer the reminder shown in message (`chat_id`, `message_id`) to the next working
    morning. The caller commits."""
    if not policy.snooze_enabled:
        return SnoozeOutcome("disabled")
    found = await session.exec(
        select(Outbox).where(
            Outbox.chat_id == chat_id,
            Outbox.message_id == message_id,
            Outbox.assignment_id == assignment_id,
        )
    )
    row = found.first()
    if row is None or row.kind != "reminder":
        return SnoozeOutcome("not_reminder")
    if row.key.endswith(SNOOZED_SUFFIX):
        return SnoozeOutcome("already")
    assignment = await session.get(Assignment, assignment_id)
    if assignment is None or assignment.status in (DONE_REPORTED, CLOSED):
        return SnoozeOutcome("finished")
    target = next_working_morning(at, policy.window)
    due = assignment.due
    payload_due = (row.payload or {}).get("due")
    if payload_due:
        due = min(due, date.fromisoformat(payload_due))
    if target.astimezone(policy.zone).date() > due:
        return SnoozeOutcome("past_due")
    dialect = (await session.connection()).dialect.name
    table = Outbox.__table__  # type: ignore[attr-defined]
    stmt = insert_unless_exists(table, dialect, key=["key"]).values(
        key=row.key + SNOOZED_SUFFIX,
        kind=row.kind,
        chat_id=row.chat_id,
        person_id=row.person_id,
        assignment_id=row.assignment_id,
        stage=row.stage,
        locale=row.locale,
        payload=dict(row.payload or {}),
        created_at=at,
        not_before=target,
    )
    result = await session.exec(stmt)  # type: ignore[call-overload]
    if not result.rowcount:
        return SnoozeOutcome("already")
    return SnoozeOutcome("snoozed", target)


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


# --- subscriptions ----------------------------------------------------------------------------


async def subscribe_chat(
    session: AsyncSession,
    *,
    chat_id: int,
    title: str,
    locale: str | None,
    plan_id: int | None,
    at: datetime,
) -> ChatSubscription:
    found = await session.exec(select(ChatSubscription).where(ChatSubscription.chat_id == chat_id))
    sub = found.first()
    if sub is None:
        sub = ChatSubscription(chat_id=chat_id, created_at=at)
    sub.title, sub.locale, sub.plan_id, sub.active = title, locale, plan_id, True
    session.add(sub)
    return sub


async def unsubscribe_chat(session: AsyncSession, *, chat_id: int) -> bool:
    found = await session.exec(
        select(ChatSubscription).where(
            ChatSubscription.chat_id == chat_id, col(ChatSubscription.active).is_(True)
        )
    )
    sub = found.first()
    if sub is None:
        return False
    sub.active = False
    session.add(sub)
    return True


async def on_snooze(
    query: CallbackQuery,
    callback_data: Snooze,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    locale: str,
    roles: Roles,
) -> None:
    message = query.message
    if message is None or not roles.liaison:
        await query.answer(_("Only a reminder can be deferred."), show_alert=True)
        return
    policy = policy_of(settings)
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
    plan: Plan | None = None
    if code:
        plan = (await session.exec(select(Plan).where(Plan.code == code))).first()
        if plan is None:
            await message.answer(_("No plan with code {code}.").format(code=echo(code, 32)))
            return
    elif not roles.coordinator_all:
        if len(roles.coordinator_plan_ids) == 1:
            plan = await session.get(Plan, next(iter(roles.coordinator_plan_ids)))
        else:
            await message.answer(_("Which plan? Send /subscribe CODE."))
            return
    if plan is not None and not roles.coordinates(plan.id or 0):
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
