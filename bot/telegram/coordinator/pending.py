"""/pending: everything waiting for the coordinator's decision, grouped by plan, paged, with
办结 / 退回 and 批准 / 驳回 buttons. 办结 and 批准 go through the acts' own buttons
(bot.telegram.coordinator.actions, CoordAct); 退回 and 驳回 ask for the reason in one reply,
then decide exactly as /return and /deny do (the liaison is told)."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, ForceReply, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.core.status import TransitionError
from bot.i18n import format_date, gettext, ngettext
from bot.services import coordination as co
from bot.services.errors import ServiceError
from bot.services.pending import COMPLETION, Decision, pending_decisions, waited_days
from bot.services.scope import PlanScope
from bot.storage.models import Person, Plan
from bot.telegram.coordinator.actions import perform
from bot.telegram.coordinator.callbacks import CoordAct, PendingPage, ReasonAsk
from bot.telegram.coordinator.texts import error_line
from bot.telegram.filters import IsCoordinator
from bot.telegram.render import esc

PAGE_SIZE = 8  # items a page: two buttons each, the text well under Telegram's limit


class AwaitReason(StatesGroup):
    reason = State()


def waited_text(days: int | None, locale: str) -> str:
    if days is None:
        return ""
    if days == 0:
        return gettext("since today", locale=locale)
    return ngettext("waiting %(n)s day", "waiting %(n)s days", days, locale=locale) % {"n": days}


def decision_line(d: Decision, *, now: datetime, locale: str) -> str:
    p = {"ref": esc(d.ref), "unit": esc(d.unit_name)}
    if d.kind == COMPLETION:
        line = gettext("%(ref)s · %(unit)s: reported done, waiting for 办结", locale=locale) % p
    else:
        p["date"] = format_date(d.requested_to, locale=locale) if d.requested_to else ""
        line = gettext("%(ref)s · %(unit)s: asks to extend to %(date)s", locale=locale) % p
    waited = waited_text(waited_days(d.since, now), locale)
    return f"• {line}" + (f" · {waited}" if waited else "")


def pending_text(
    decisions: list[Decision], *, page: int, now: datetime, locale: str
) -> str:
    if not decisions:
        return gettext("Nothing waits for your decision.", locale=locale)
    pages = (len(decisions) + PAGE_SIZE - 1) // PAGE_SIZE
    shown = decisions[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [
        gettext("🗂 Waiting for your decision: %(n)s", locale=locale) % {"n": len(decisions)}
    ]
    plan = None
    for d in shown:
        if d.plan_code != plan:
            plan = d.plan_code
            lines += ["", f"<b>{esc(plan)}</b>"]
        lines.append(decision_line(d, now=now, locale=locale))
    if pages > 1:
        lines += ["", gettext("Page %(page)s of %(pages)s", locale=locale)
                  % {"page": page + 1, "pages": pages}]  # fmt: skip
    return "\n".join(lines)


def pending_keyboard(
    decisions: list[Decision], *, page: int, locale: str
) -> InlineKeyboardMarkup | None:
    if not decisions:
        return None
    builder = InlineKeyboardBuilder()
    shown = decisions[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    widths: list[int] = []
    for d in shown:
        p = {"ref": d.ref, "unit": d.unit_name}
        if d.kind == COMPLETION:
            yes = gettext("✅ 办结 %(ref)s · %(unit)s", locale=locale) % p
            no = gettext("↩️ 退回", locale=locale)
            yes_act, no_act = co.CONFIRM, co.RETURN
        else:
            yes = gettext("✅ 批准 %(ref)s · %(unit)s", locale=locale) % p
            no = gettext("❌ 驳回", locale=locale)
            yes_act, no_act = co.APPROVE, co.DENY
        target = d.assignment_id
        builder.button(text=yes, callback_data=CoordAct(action=yes_act, assignment_id=target))
        builder.button(text=no, callback_data=ReasonAsk(action=no_act, assignment_id=target))
        widths.append(2)
    pages = (len(decisions) + PAGE_SIZE - 1) // PAGE_SIZE
    if pages > 1:
        nav = 0
        if page > 0:
            builder.button(text="◀️", callback_data=PendingPage(page=page - 1))
            nav += 1
        if page + 1 < pages:
            builder.button(text="▶️", callback_data=PendingPage(page=page + 1))
            nav += 1
        widths.append(nav)
    builder.adjust(*widths)
    return builder.as_markup()


def ask_reason_text(action: str, ref: str, unit: str, locale: str) -> str:
    p = {"ref": esc(ref), "unit": esc(unit)}
    if action == co.RETURN:
        text = gettext(
            "Reply with the reason for returning %(ref)s of %(unit)s; the unit gets it as "
            "written.", locale=locale,
        )  # fmt: skip
    else:
        text = gettext(
            "Reply with the reason for denying the extension of %(ref)s for %(unit)s; the unit "
            "gets it as written.", locale=locale,
        )  # fmt: skip
    return text % p


def router() -> Router:
    r = Router(name="coordinator-pending")
    r.message.filter(IsCoordinator())
    r.callback_query.filter(IsCoordinator())

    async def show(session: AsyncSession, roles: Roles, clock: Clock, locale: str,
                   page: int) -> tuple[str, InlineKeyboardMarkup | None]:  # fmt: skip
        decisions = await pending_decisions(session, PlanScope(roles))
        pages = max(1, (len(decisions) + PAGE_SIZE - 1) // PAGE_SIZE)
        page = min(max(page, 0), pages - 1)
        now = clock.now()
        return (
            pending_text(decisions, page=page, now=now, locale=locale),
            pending_keyboard(decisions, page=page, locale=locale),
        )

    @r.message(Command("pending"))
    async def pending_cmd(
        message: Message, session: AsyncSession, roles: Roles, clock: Clock, locale: str
    ) -> None:
        text, markup = await show(session, roles, clock, locale, 0)
        await message.answer(text, reply_markup=markup)

    @r.callback_query(PendingPage.filter())
    async def pending_page(
        query: CallbackQuery, callback_data: PendingPage, session: AsyncSession, roles: Roles,
        clock: Clock, locale: str,
    ) -> None:  # fmt: skip
        text, markup = await show(session, roles, clock, locale, callback_data.page)
        if isinstance(query.message, Message):
            await query.message.edit_text(text, reply_markup=markup)
        await query.answer()

    @r.callback_query(ReasonAsk.filter())
    async def ask_reason(
        query: CallbackQuery, callback_data: ReasonAsk, session: AsyncSession, roles: Roles,
        state: FSMContext, locale: str,
    ) -> None:  # fmt: skip
        action = callback_data.action
        try:
            if action not in co.NEEDS_REASON:
                raise ServiceError("unknown_action", action=action)
            c = await co.candidate_by_id(session, callback_data.assignment_id)
            if not roles.coordinates(c.plan_id):
                plan = await session.get(Plan, c.plan_id)
                raise ServiceError("not_your_plan", plan=plan.code if plan else "")
            if not co.pending_for(action, c):
                raise ServiceError(f"nothing_pending_{action}", ref=c.ref)
        except ServiceError as exc:
            await query.answer(error_line(exc, locale), show_alert=True)
            return
        await state.set_state(AwaitReason.reason)
        await state.update_data(action=action, assignment_id=c.assignment_id)
        if isinstance(query.message, Message):
            await query.message.answer(
                ask_reason_text(action, c.ref, c.unit_name, locale),
                reply_markup=ForceReply(selective=True),
            )
        await query.answer()

    @r.message(StateFilter(AwaitReason.reason), F.text, ~F.text.startswith("/"))
    async def take_reason(
        message: Message, state: FSMContext, bot: Bot, session: AsyncSession,
        settings: Settings, clock: Clock, roles: Roles, locale: str,
        person: Person | None = None,
    ) -> None:  # fmt: skip
        data = await state.get_data()
        await state.clear()
        try:
            line = await perform(
                bot, session, action=data["action"], assignment_id=data["assignment_id"],
                person=person, roles=roles, settings=settings, clock=clock, locale=locale,
                reason=message.text or "",
            )  # fmt: skip
        except (ServiceError, TransitionError) as exc:
            await session.rollback()
            await message.answer(error_line(exc, locale))
            return
        await message.answer(line)

    return r


__all__ = ["PAGE_SIZE", "decision_line", "pending_keyboard", "pending_text", "router"]
