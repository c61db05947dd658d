"""/start: with an invitation token it binds the sender to the invited role; without one it
greets a registered person (strangers never get here: see gate.py)."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.services import people
from bot.services.errors import ServiceError
from bot.storage.models import Person, Plan, Unit
from bot.telegram.commands import register_commands
from bot.telegram.errors import error_line
from bot.telegram.gate import access_note
from bot.telegram.render import esc

log = logging.getLogger(__name__)


def role_summary(roles: Roles, unit_names: list[str], plan_codes: list[str]) -> list[str]:
    lines: list[str] = []
    if roles.coordinator_all:
        lines.append(_("You coordinate all plans."))
    elif roles.coordinator_plan_ids:
        lines.append(_("You coordinate plans %(plans)s.") % {"plans": esc(", ".join(plan_codes))})
    if roles.liaison:
        lines.append(
            _("You are the liaison of %(units)s.") % {"units": esc("、".join(unit_names))}
        )
    if roles.leader:
        lines.append(_("You receive escalations and the weekly digest as a leader."))
    return lines


async def start_with_token(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session,
    clock: Clock,
    settings: Settings,
    locale: str,
) -> None:
    user = message.from_user
    assert user is not None
    try:
        redeemed = await people.redeem_invite(
            session,
            (command.args or "").strip(),
            telegram_id=user.id,
            at=clock.now(),
            telegram_name=user.full_name,
            username=user.username or "",
        )
    except ServiceError as exc:
        await session.rollback()
        await message.answer(error_line(exc, locale))
        return
    await session.commit()
    person = redeemed.person
    role = redeemed.membership.role
    name = esc(person.name or user.full_name)
    if role == "liaison" and redeemed.unit is not None:
        text = _(
            "Welcome, %(name)s! You are now the liaison of %(unit)s. Send /my to see "
            "your unit's items; reminders will arrive here."
        ) % {"name": name, "unit": esc(redeemed.unit.name)}
    elif role == "leader":
        target = (
            redeemed.unit.name if redeemed.unit else (redeemed.plan.title if redeemed.plan else "")
        )
        text = _(
            "Welcome, %(name)s! You are now a leader for %(target)s: escalations and "
            "the weekly digest will arrive here."
        ) % {"name": name, "target": esc(target)}
    else:
        scope = esc(redeemed.plan.code) if redeemed.plan else _("all plans")
        text = _(
            "Welcome, %(name)s! You are now a coordinator of %(scope)s. Send /help for "
            "your commands."
        ) % {"name": name, "scope": scope}
        try:
            await register_commands(
                bot,
                default_locale=settings.bot.default_locale,
                coordinator_chat_ids=[user.id],
            )
        except Exception:
            log.warning("could not set the coordinator menu for %s", user.id)
    await message.answer(text)


async def start_plain(message: Message, person: Person | None, roles: Roles, session) -> None:
    if person is None or not roles.registered:
        await message.answer(access_note())
        return
    unit_names = [
        u.name
        for u in [await session.get(Unit, uid) for uid in sorted(roles.liaison_unit_ids)]
        if u is not None
    ]
    plan_codes = [
        p.code
        for p in [await session.get(Plan, pid) for pid in sorted(roles.coordinator_plan_ids)]
        if p is not None
    ]
    lines = [_("Welcome back, %(name)s.") % {"name": esc(person.name or "")}]
    lines += role_summary(roles, unit_names, plan_codes)
    lines.append(_("Send /help to see what you can do."))
    await message.answer("\n".join(lines))


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(start_with_token, CommandStart(deep_link=True))
    router.message.register(start_plain, CommandStart())
