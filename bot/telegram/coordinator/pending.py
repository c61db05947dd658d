"""/pending: everything waiting for the coordinator's decision, grouped by plan, paged, with
办结 / 退回 and 批准 / 驳回 buttons. 办结 and 批准 go through the acts' own buttons
(bot.telegram.coordinator.actions, CoordAct); 退回 and 驳回 ask for the reason in one reply
to the question (any other text is handled as usual), then decide exactly as /return and
/deny do (the liaison is told)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, ForceReply, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.core.status import TransitionError
from bot.i18n import gettext
from bot.services import coordination as co
from bot.services.errors import ServiceError
from bot.services.pending import pending_decisions
from bot.services.scope import PlanScope
from bot.storage.models import Person, Plan
from bot.telegram.coordinator import pending_render
from bot.telegram.coordinator.actions import perform
from bot.telegram.coordinator.callbacks import PendingPage, ReasonAsk
from bot.telegram.coordinator.pending_render import pending_keyboard, pending_text
from bot.telegram.coordinator.texts import refusal_line
from bot.telegram.filters import IsCoordinator
from bot.telegram.render import esc


class AwaitReason(StatesGroup):
    reason = State()


def ask_reason_text(action: str, ref: str, unit: str, locale: str) -> str:
    p = {"ref": esc(ref), "unit": esc(unit)}
    if action == co.RETURN:
        text = gettext(
            "Reply with the reason for returning %(ref)s of %(unit)s; the unit gets it as "
            "written.",
            locale=locale,
        )
    else:
        text = gettext(
            "Reply with the reason for denying the extension of %(ref)s for %(unit)s; the unit "
            "gets it as written.",
            locale=locale,
        )
    return text % p


async def show(
    session: AsyncSession, plan_scope: PlanScope, clock: Clock, locale: str, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    decisions = await pending_decisions(session, plan_scope)
    size = pending_render.PAGE_SIZE
    pages = max(1, (len(decisions) + size - 1) // size)
    page = min(max(page, 0), pages - 1)
    now = clock.now()
    return (
        pending_text(decisions, page=page, now=now, locale=locale),
        pending_keyboard(decisions, page=page, locale=locale),
    )


async def pending_cmd(
    message: Message, session: AsyncSession, plan_scope: PlanScope, clock: Clock, locale: str
) -> None:
    text, markup = await show(session, plan_scope, clock, locale, 0)
    await message.answer(text, reply_markup=markup)


async def pending_page(
    query: CallbackQuery,
    callback_data: PendingPage,
    session: AsyncSession,
    plan_scope: PlanScope,
    clock: Clock,
    locale: str,
) -> None:
    text, markup = await show(session, plan_scope, clock, locale, callback_data.page)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
    await query.answer()


async def ask_reason(
    query: CallbackQuery,
    callback_data: ReasonAsk,
    session: AsyncSession,
    roles: Roles,
    state: FSMContext,
    settings: Settings,
    locale: str,
) -> None:
    action = callback_data.action
    try:
        if action not in co.NEEDS_REASON:
            raise ServiceError("unknown_action", action=action)
        c = await co.candidate_by_id(session, callback_data.assignment_id)
        if not roles.coordinates(c.plan_id):
            plan = await session.get(Plan, c.plan_id)
            raise ServiceError("not_your_plan", plan=plan.code if plan else "")
        if not co.pending_for(action, c):
            raise await co.not_pending_error(session, c, action)
    except ServiceError as exc:
        await query.answer(
            refusal_line(exc, locale=locale, zone=settings.clock.zone), show_alert=True
        )
        return
    if isinstance(query.message, Message):
        prompt = await query.message.answer(
            ask_reason_text(action, c.ref, c.unit_name, locale),
            reply_markup=ForceReply(selective=True),
        )
        await state.set_state(AwaitReason.reason)
        await state.set_data(
            {"action": action, "assignment_id": c.assignment_id, "prompt": prompt.message_id}
        )
    await query.answer()


async def take_reason(
    message: Message,
    state: FSMContext,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
    person: Person | None = None,
) -> None:
    data = await state.get_data()
    replied = message.reply_to_message
    if replied is None or replied.message_id != data.get("prompt"):
        # only a reply to the question is the reason: any other text is handled as usual,
        # so a coordinator who moved on never returns or denies by accident
        raise SkipHandler
    await state.clear()
    try:
        line = await perform(
            bot,
            session,
            action=data["action"],
            assignment_id=data["assignment_id"],
            person=person,
            roles=roles,
            settings=settings,
            clock=clock,
            locale=locale,
            reason=message.text or "",
        )
    except (ServiceError, TransitionError) as exc:
        await session.rollback()
        await message.answer(refusal_line(exc, locale=locale, zone=settings.clock.zone))
        return
    await message.answer(line)


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsCoordinator())
    router.callback_query.filter(IsCoordinator())
    router.message.register(pending_cmd, Command("pending"))
    router.callback_query.register(pending_page, PendingPage.filter())
    router.callback_query.register(ask_reason, ReasonAsk.filter())
    router.message.register(
        take_reason, StateFilter(AwaitReason.reason), F.text, ~F.text.startswith("/")
    )


__all__ = ["AwaitReason", "ask_reason_text", "setup"]
