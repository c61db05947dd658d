"""/plans (the plans loaded, with their counts; the withdrawn ones marked at the end) and
/units (units with their liaisons; units without a liaison are flagged and listed first),
paginated."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.services import plan_withdraw, stats
from bot.services.coordination import allowed_plans
from bot.telegram.coordinator import render
from bot.telegram.coordinator.callbacks import UnitsPage
from bot.telegram.filters import IsCoordinator


async def units_page(
    session: AsyncSession,
    *,
    roles: Roles,
    settings: Settings,
    clock: Clock,
    locale: str,
    page: int = 0,
) -> tuple[str, InlineKeyboardMarkup | None]:
    when = stats.When(clock.now(), settings.clock.zone)
    units = await stats.unit_overview(session, when=when, plan_ids=allowed_plans(roles))
    if not units:
        return render.plans_text([], locale=locale), None
    pages = max(1, -(-len(units) // render.PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = units[page * render.PAGE_SIZE : (page + 1) * render.PAGE_SIZE]
    text = render.units_text(shown, page=page, pages=pages, locale=locale)
    if pages == 1:
        return text, None
    builder = InlineKeyboardBuilder()
    if page > 0:
        builder.button(text="◀", callback_data=UnitsPage(page=page - 1))
    if page < pages - 1:
        builder.button(text="▶", callback_data=UnitsPage(page=page + 1))
    return text, builder.as_markup()


async def plans_cmd(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    when = stats.When(clock.now(), settings.clock.zone)
    allowed = allowed_plans(roles)
    plans = await stats.plan_lines(session, when=when, plan_ids=allowed)
    withdrawn = [
        p
        for p in await plan_withdraw.withdrawn_plans(session)
        if allowed is None or p.id in allowed
    ]
    text = render.plans_text(plans, locale=locale)
    if withdrawn:
        text += "\n\n" + render.withdrawn_text(withdrawn, zone=settings.clock.zone, locale=locale)
    await message.answer(text)


async def units_cmd(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    text, keyboard = await units_page(
        session, roles=roles, settings=settings, clock=clock, locale=locale
    )
    await message.answer(text, reply_markup=keyboard)


async def units_cb(
    query: CallbackQuery,
    callback_data: UnitsPage,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    text, keyboard = await units_page(
        session,
        roles=roles,
        settings=settings,
        clock=clock,
        locale=locale,
        page=callback_data.page,
    )
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=keyboard)
        except Exception:
            await query.message.answer(text, reply_markup=keyboard)
    await query.answer()


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsCoordinator())
    router.callback_query.filter(IsCoordinator())
    router.message.register(plans_cmd, Command("plans"))
    router.message.register(units_cmd, Command("units"))
    router.callback_query.register(units_cb, UnitsPage.filter())
