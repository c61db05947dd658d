"""/invite and /revoke (coordinators): one-time deep links `/start TOKEN` that bind whoever
opens them as a unit's liaison, a leader or a coordinator."""

from __future__ import annotations

import contextlib
from datetime import datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.core.scope import Grant
from bot.i18n import format_date
from bot.services import people
from bot.services.access import withdraw_invite
from bot.services.errors import ServiceError
from bot.services.lookup import plan_by_code
from bot.services.scope import PlanScope
from bot.storage.models import Person, Plan, Unit
from bot.telegram.callbacks import InvitePick, invite_pick
from bot.telegram.errors import error_line
from bot.telegram.filters import IsCoordinator, IsRegistered
from bot.telegram.parsing import parse_invite, parse_single
from bot.telegram.render import esc


async def _target(
    session, directory, reach: PlanScope, role: str, target: str, name: str
) -> tuple[Unit | None, Plan | None, str]:
    """The unit or plan an invitation names; a unit name is looked up among the units of the
    coordinator's plans. Returns (unit, plan, name). Codes: unknown_unit, ambiguous_unit,
    unit_out_of_scope."""
    if role == "coordinator":
        plan = await plan_by_code(session, target) if target else None
        if target and plan is None:
            name = f"{target} {name}".strip()  # "/invite coordinator 王五": a name, no plan
        return None, plan, name
    if role == "leader":
        plan = await plan_by_code(session, target)
        if plan is not None:
            return None, plan, name
    return await reach.resolve_unit(session, directory, target), None, name


async def _issue(
    message: Message,
    bot: Bot,
    session,
    settings: Settings,
    *,
    role: str,
    at: datetime,
    unit: Unit | None,
    plan: Plan | None,
    name: str,
    person: Person,
    plan_scope: PlanScope,
    locale: str,
) -> None:
    """Check it against the coordinator's plans (every path that invites comes here), create
    the invitation, commit, and send the link. Codes: not_your_plan, unit_out_of_scope."""
    grant = Grant(role, unit.id if unit else None, plan.id if plan else None)
    label = unit.name if unit else plan.code if plan else ""
    await plan_scope.require_grant(session, grant, label=label)
    invite = await people.create_invite(
        session,
        role=role,
        at=at,
        ttl_days=settings.bot.invite_ttl_days,
        unit_id=unit.id if unit else None,
        plan_id=plan.id if plan else None,
        name=name,
        created_by=person,
    )
    await session.commit()
    if role == "liaison":
        what = _("Invitation for the liaison of %(unit)s") % {"unit": esc(unit.name)}  # type: ignore[union-attr]
    elif role == "leader":
        target = unit.name if unit else plan.title  # type: ignore[union-attr]
        what = _("Invitation for a leader of %(target)s") % {"target": esc(target)}
    else:
        what = _("Invitation for a coordinator of %(scope)s") % {
            "scope": esc(plan.code) if plan else _("all plans")
        }
    if name:
        what += _(" (%(name)s)") % {"name": esc(name)}
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={invite.token}"
    until = format_date(invite.expires_at.astimezone(settings.clock.zone).date(), locale=locale)
    lines = [
        what,
        _("Valid once, until %(date)s. Send this link to the person:") % {"date": until},
        link,
        _("Or they can send the bot: %(command)s")
        % {"command": f"<code>/start {invite.token}</code>"},
        _("To withdraw it: %(command)s") % {"command": f"<code>/revoke {invite.token}</code>"},
    ]
    await message.answer("\n".join(lines), disable_web_page_preview=True)


def _pick_keyboard(
    units: list[tuple[int, str]], role: str, name: str
) -> InlineKeyboardMarkup | None:
    rows = []
    for unit_id, unit_name in units:
        data = invite_pick(role, unit_id, name)
        if data is not None:
            rows.append([InlineKeyboardButton(text=unit_name, callback_data=data.pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def not_allowed(message: Message, locale: str) -> None:
    await message.answer(error_line(ServiceError("not_coordinator"), locale))


async def invite(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    directory,
    person: Person,
    plan_scope: PlanScope,
    locale: str,
) -> None:
    now = clock.now()
    try:
        args = parse_invite(command.args)
        unit, plan, name = await _target(
            session, directory, plan_scope, args.role, args.target, args.name
        )
        await _issue(
            message,
            bot,
            session,
            settings,
            role=args.role,
            at=now,
            unit=unit,
            plan=plan,
            name=name,
            person=person,
            plan_scope=plan_scope,
            locale=locale,
        )
    except ServiceError as exc:
        await session.rollback()
        keyboard = None
        if exc.code == "ambiguous_unit":
            keyboard = _pick_keyboard(exc.params["units"], args.role, args.name)
        await message.answer(error_line(exc, locale), reply_markup=keyboard)


async def pick_unit(
    callback: CallbackQuery,
    callback_data: InvitePick,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    person: Person,
    plan_scope: PlanScope,
    locale: str,
) -> None:
    unit = await session.get(Unit, callback_data.unit_id)
    if unit is None or callback_data.role not in ("liaison", "leader"):
        await callback.answer(
            error_line(ServiceError("unknown_unit", unit="?"), locale), show_alert=True
        )
        return
    grant = Grant(callback_data.role, unit.id, None)
    try:  # the ids came from the client: checked before anything is shown
        await plan_scope.require_grant(session, grant, label=unit.name)
    except ServiceError as exc:
        await callback.answer(error_line(exc, locale), show_alert=True)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        with contextlib.suppress(TelegramBadRequest):
            await callback.message.edit_reply_markup(reply_markup=None)
        await _issue(
            callback.message,
            bot,
            session,
            settings,
            role=callback_data.role,
            at=clock.now(),
            unit=unit,
            plan=None,
            name=callback_data.name,
            person=person,
            plan_scope=plan_scope,
            locale=locale,
        )


async def revoke(
    message: Message,
    command: CommandObject,
    session,
    clock: Clock,
    plan_scope: PlanScope,
    locale: str,
) -> None:
    try:
        token = parse_single(command.args, "revoke_usage")
        await withdraw_invite(session, plan_scope, token, at=clock.now())
    except ServiceError as exc:
        await session.rollback()
        await message.answer(error_line(exc, locale))
        return
    await session.commit()
    await message.answer(_("The invitation is withdrawn; its link no longer works."))


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.register(
        not_allowed, Command("invite", "revoke"), IsRegistered(), ~IsCoordinator()
    )
    router.message.register(invite, Command("invite"), IsCoordinator())
    router.callback_query.register(pick_unit, InvitePick.filter(), IsCoordinator())
    router.message.register(revoke, Command("revoke"), IsCoordinator())
