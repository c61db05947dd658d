"""/confirm REF [UNIT] (办结), /return REF [UNIT] reason (退回), /approve REF [UNIT] and
/deny REF [UNIT] reason (extensions), /remind REF [UNIT] [note] (催办 now, through the Outbox).

When an item is pending for several units (or milestones) and the command names none, the
coordinator picks with inline buttons (ids only); /return and /deny carry a reason that a
button cannot, so they ask for the unit in words instead. The unit's liaisons are told the
outcome of 办结 / 退回 / approve / deny directly, each in their own language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.core.status import TransitionError
from bot.i18n import format_date
from bot.services import coordination as co
from bot.services.assignments import local_date
from bot.services.errors import ServiceError
from bot.storage.models import Person
from bot.telegram.coordinator.callbacks import CoordAct
from bot.telegram.coordinator.parsing import parse_ref_args
from bot.telegram.coordinator.texts import (
    chase_line,
    choose_line,
    liaison_notice,
    name_unit_line,
    outcome_line,
    refusal_line,
)
from bot.telegram.filters import IsCoordinator
from bot.telegram.limits import split_html
from bot.telegram.render import esc

log = logging.getLogger(__name__)

COMMANDS = ("confirm", "return", "approve", "deny", "remind")


def choice_keyboard(
    action: str, candidates: list[co.Candidate], locale: str
) -> InlineKeyboardMarkup:
    """One button per pending assignment: unit, and the due date when milestones differ."""
    several_dues = len({c.due for c in candidates}) > 1
    builder = InlineKeyboardBuilder()
    for c in candidates[:20]:
        label = c.unit_name + (f" · {format_date(c.due, locale=locale)}" if several_dues else "")
        builder.button(
            text=label, callback_data=CoordAct(action=action, assignment_id=c.assignment_id)
        )
    builder.adjust(1)
    return builder.as_markup()


@dataclass(frozen=True)
class Notified:
    told: int  # liaisons who got every part of the notice
    liaisons: int  # the unit's active liaisons


async def notify_liaisons(
    bot: Bot, session: AsyncSession, outcome: co.ActOutcome, *, default_locale: str
) -> Notified:
    """Tell the unit's liaisons, each in their locale, the notice split under Telegram's limit.
    A liaison counts as told only when every part was sent; a failure (a blocked chat, a
    refused or unbuildable text, the network) is logged, never fatal: the act is committed."""
    people = await co.liaisons(session, outcome.candidate.unit_id)
    told = 0
    for person in people:
        try:
            text = liaison_notice(
                outcome.action,
                outcome.candidate.ref,
                outcome.candidate.title,
                locale=person.locale or default_locale,
                reason=outcome.reason,
                due=outcome.due_after,
            )
            for part in split_html(text):
                await bot.send_message(person.telegram_id, part)  # type: ignore[arg-type]
            told += 1
        except Exception as exc:  # one liaison's failure must not hide the others
            # Telegram's own description is safe to log; a network error's text may carry the
            # request URL, and with it the bot token: only its kind is logged.
            reason = exc if isinstance(exc, TelegramAPIError) else type(exc).__name__
            log.warning(
                "could not tell liaison %s about %s: %s", person.id, outcome.action, reason
            )
    return Notified(told=told, liaisons=len(people))


async def perform(
    bot: Bot,
    session: AsyncSession,
    *,
    action: str,
    assignment_id: int,
    person: Person | None,
    roles: Roles,
    settings: Settings,
    clock: Clock,
    locale: str,
    reason: str = "",
) -> str:
    """Do one act on one assignment, commit, tell the unit; the coordinator's answer line."""
    now = clock.now()
    today = local_date(now, settings.clock.zone)
    if action == co.REMIND:
        chased = await co.chase(
            session,
            assignment_id=assignment_id,
            person=person,
            roles=roles,
            at=now,
            today=today,
            default_locale=settings.bot.default_locale,
            note=reason,
        )
        await session.commit()
        return chase_line(
            chased.candidate.ref, chased.candidate.unit_name, chased.queued, locale=locale
        )
    outcome = await co.act(
        session,
        assignment_id=assignment_id,
        action=action,
        person=person,
        roles=roles,
        at=now,
        today=today,
        reason=reason,
    )
    await session.commit()
    notified = await notify_liaisons(
        bot, session, outcome, default_locale=settings.bot.default_locale
    )
    return outcome_line(
        action,
        outcome.candidate.ref,
        outcome.candidate.unit_name,
        locale=locale,
        due=outcome.due_after,
        told=notified.told,
        liaisons=notified.liaisons,
    )


async def act_cmd(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    directory: Any,
    locale: str,
    person: Person | None = None,
) -> None:
    action = command.command.lower()
    try:
        args = parse_ref_args(command.args, f"{action}_usage")
        targets = await co.targets_for(
            session,
            directory,
            roles,
            action=action,
            ref=args.ref,
            rest=args.rest,
            text=args.text,
        )
        if len(targets.candidates) > 1:
            if action in co.NEEDS_REASON:
                units = [c.unit_name for c in targets.candidates]
                await message.answer(name_unit_line(action, targets.ref, units, locale=locale))
                return
            await message.answer(
                choose_line(action, targets.ref, locale=locale),
                reply_markup=choice_keyboard(action, targets.candidates, locale),
            )
            return
        line = await perform(
            bot,
            session,
            action=action,
            assignment_id=targets.candidates[0].assignment_id,
            person=person,
            roles=roles,
            settings=settings,
            clock=clock,
            locale=locale,
            reason=targets.reason,
        )
    except (ServiceError, TransitionError) as exc:
        await session.rollback()
        await message.answer(refusal_line(exc, locale=locale, zone=settings.clock.zone))
        return
    await message.answer(line)


async def act_cb(
    query: CallbackQuery,
    callback_data: CoordAct,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
    person: Person | None = None,
) -> None:
    if callback_data.action not in (co.CONFIRM, co.APPROVE, co.REMIND):
        await query.answer()
        return
    try:
        line = await perform(
            bot,
            session,
            action=callback_data.action,
            assignment_id=callback_data.assignment_id,
            person=person,
            roles=roles,
            settings=settings,
            clock=clock,
            locale=locale,
        )
    except (ServiceError, TransitionError) as exc:
        await session.rollback()
        await query.answer(
            refusal_line(exc, locale=locale, zone=settings.clock.zone), show_alert=True
        )
        return
    if isinstance(query.message, Message):
        await query.message.answer(line)
    await query.answer()


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsCoordinator())
    router.callback_query.filter(IsCoordinator())
    router.message.register(act_cmd, Command(*COMMANDS))
    router.callback_query.register(act_cb, CoordAct.filter())


__all__ = [
    "COMMANDS",
    "Notified",
    "choice_keyboard",
    "esc",
    "notify_liaisons",
    "perform",
    "setup",
]
