"""/status [PLAN|UNIT] and its detail pages (all overdue items, units ranked), /overdue [UNIT],
/unit NAME. Each handler: parse → bot.services.stats → render."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.core.lights import LightPolicy
from bot.core.policy import Policy
from bot.core.roles import Roles
from bot.core.workdays import is_working_day
from bot.i18n import gettext
from bot.services import ranking, stats
from bot.services.coordination import ScopeChoice, liaisons, scope_from_ids
from bot.services.errors import ServiceError
from bot.services.scope import PlanScope
from bot.telegram.coordinator import render
from bot.telegram.coordinator.callbacks import (
    VIEW_OVERDUE,
    VIEW_SUMMARY,
    VIEW_UNIT,
    VIEW_UNITS,
    ScorecardCb,
    StatusView,
)
from bot.telegram.coordinator.parsing import (
    parse_required,
    parse_scope_token,
    scope_token,
)
from bot.telegram.coordinator.scope import scope_or_explain, unit_choice_keyboard
from bot.telegram.coordinator.texts import all_plans_label
from bot.telegram.errors import error_line
from bot.telegram.filters import IsCoordinator


def ack_window(policy: Policy) -> int:
    """Working days a unit has to 签收 for 及时签收率: the reminder policy's chase threshold, so
    /status and the weekly digest count the same thing."""
    return policy.for_plan(None).ack_chase_after


def _label(choice: ScopeChoice, locale: str) -> str:
    return choice.label if choice.label is not None else all_plans_label(locale)


def _token(choice: ScopeChoice) -> str:
    return scope_token(choice.plan_id, choice.unit_id)


def status_keyboard(choice: ScopeChoice, locale: str) -> InlineKeyboardMarkup:
    token = _token(choice)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=gettext("All overdue", locale=locale),
        callback_data=StatusView(view=VIEW_OVERDUE, scope=token, page=0),
    )
    builder.button(
        text=gettext("Units ranked", locale=locale),
        callback_data=StatusView(view=VIEW_UNITS, scope=token, page=0),
    )
    builder.button(  # the picture of the same scope (bot.telegram.scorecard)
        text="📊 " + gettext("Scorecard", locale=locale),
        callback_data=ScorecardCb(plan=choice.plan_id or 0, unit=choice.unit_id or 0),
    )
    builder.adjust(2, 1)
    return builder.as_markup()


def pager(view: str, token: str, page: int, pages: int, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    count = 0
    if page > 0:
        builder.button(text="◀", callback_data=StatusView(view=view, scope=token, page=page - 1))
        count += 1
    if page < pages - 1:
        builder.button(text="▶", callback_data=StatusView(view=view, scope=token, page=page + 1))
        count += 1
    builder.button(
        text=gettext("Back to summary", locale=locale),
        callback_data=StatusView(view=VIEW_SUMMARY, scope=token, page=0),
    )
    builder.adjust(*([count] if count else []), 1)
    return builder.as_markup()


async def status_screen(
    session: AsyncSession,
    choice: ScopeChoice,
    *,
    settings: Settings,
    policy: Policy,
    at: datetime,
    locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """The /status message for a scope: the aggregate queries and the rendering (what the
    benchmark times)."""
    report = await stats.status_report(
        session,
        scope=choice.scope,
        at=at,
        zone=settings.clock.zone,
        policy=LightPolicy.from_settings(settings.lights),
        ack_window=ack_window(policy),
        is_working_day=is_working_day,
        top_items=render.TOP_ITEMS,
    )
    text = render.status_text(report, scope_label=_label(choice, locale), locale=locale)
    return text, status_keyboard(choice, locale)


async def overdue_screen(
    session: AsyncSession,
    choice: ScopeChoice,
    *,
    settings: Settings,
    at: datetime,
    locale: str,
    page: int = 0,
) -> tuple[str, InlineKeyboardMarkup]:
    when = stats.When(at, settings.clock.zone)
    items = await stats.count_overdue_tasks(session, scope=choice.scope, when=when)
    late = await stats.count_overdue(session, scope=choice.scope, when=when)
    size = render.GROUP_PAGE_SIZE
    pages = max(1, -(-items // size))
    page = min(max(page, 0), pages - 1)
    groups = await stats.overdue_groups(
        session, scope=choice.scope, when=when, offset=page * size, limit=size
    )
    text = render.overdue_groups_page(
        groups,
        items=items,
        late=late,
        page=page,
        pages=pages,
        scope_label=_label(choice, locale),
        locale=locale,
    )
    return text, pager(VIEW_OVERDUE, _token(choice), page, pages, locale)


async def units_screen(
    session: AsyncSession,
    choice: ScopeChoice,
    *,
    settings: Settings,
    policy: Policy,
    at: datetime,
    locale: str,
    page: int = 0,
) -> tuple[str, InlineKeyboardMarkup]:
    result = await ranking.unit_ranking(
        session,
        scope=choice.scope,
        at=at,
        zone=settings.clock.zone,
        ack_window=ack_window(policy),
        is_working_day=is_working_day,
    )
    rows = result.rows
    pages = max(1, -(-len(rows) // render.PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = rows[page * render.PAGE_SIZE : (page + 1) * render.PAGE_SIZE]
    text = render.ranking_page(
        shown,
        page=page,
        pages=pages,
        scope_label=_label(choice, locale),
        locale=locale,
        mine=choice.unit_id,
    )
    return text, pager(VIEW_UNITS, _token(choice), page, pages, locale)


async def status_cmd(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    policy: Policy,
    clock: Clock,
    roles: Roles,
    directory: Any,
    locale: str,
) -> None:
    choice = await scope_or_explain(
        message,
        command.args,
        session=session,
        directory=directory,
        roles=roles,
        locale=locale,
        view=VIEW_SUMMARY,
    )
    if choice is None:
        return
    text, keyboard = await status_screen(
        session,
        choice,
        settings=settings,
        policy=policy,
        at=clock.now(),
        locale=locale,
    )
    await message.answer(text, reply_markup=keyboard)


async def overdue_cmd(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    directory: Any,
    locale: str,
) -> None:
    choice = await scope_or_explain(
        message,
        command.args,
        session=session,
        directory=directory,
        roles=roles,
        locale=locale,
        view=VIEW_OVERDUE,
    )
    if choice is None:
        return
    text, keyboard = await overdue_screen(
        session, choice, settings=settings, at=clock.now(), locale=locale
    )
    await message.answer(text, reply_markup=keyboard)


async def unit_cmd(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    policy: Policy,
    clock: Clock,
    roles: Roles,
    plan_scope: PlanScope,
    directory: Any,
    locale: str,
) -> None:
    try:
        name = parse_required(command.args, "unit_usage")
        # a unit the coordinator's plans involve (a plan code is read as a unit name here)
        unit = await plan_scope.resolve_unit(session, directory, name)
        choice = await scope_from_ids(session, roles, None, unit.id)
    except ServiceError as exc:
        await message.answer(
            error_line(exc, locale), reply_markup=unit_choice_keyboard(exc, VIEW_UNIT)
        )
        return
    text, keyboard = await unit_screen(
        session, choice, settings=settings, policy=policy, at=clock.now(), locale=locale
    )
    await message.answer(text, reply_markup=keyboard)


async def unit_screen(
    session: AsyncSession,
    choice: ScopeChoice,
    *,
    settings: Settings,
    policy: Policy,
    at: datetime,
    locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """/unit NAME: who the unit's liaisons are, above its /status summary."""
    assert choice.unit_id is not None
    people = await liaisons(session, choice.unit_id)
    head = render.unit_header(
        _label(choice, locale), [p.name or p.username for p in people], locale=locale
    )
    text, keyboard = await status_screen(
        session, choice, settings=settings, policy=policy, at=at, locale=locale
    )
    return head + "\n\n" + text, keyboard


async def view_cb(
    query: CallbackQuery,
    callback_data: StatusView,
    session: AsyncSession,
    settings: Settings,
    policy: Policy,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    plan_id, unit_id = parse_scope_token(callback_data.scope)
    try:
        choice = await scope_from_ids(session, roles, plan_id, unit_id)
    except ServiceError as exc:
        await query.answer(error_line(exc, locale), show_alert=True)
        return
    now = clock.now()
    if callback_data.view == VIEW_OVERDUE:
        text, keyboard = await overdue_screen(
            session,
            choice,
            settings=settings,
            at=now,
            locale=locale,
            page=callback_data.page,
        )
    elif callback_data.view == VIEW_UNIT and choice.unit_id is not None:
        text, keyboard = await unit_screen(
            session, choice, settings=settings, policy=policy, at=now, locale=locale
        )
    elif callback_data.view == VIEW_UNITS:
        text, keyboard = await units_screen(
            session,
            choice,
            settings=settings,
            policy=policy,
            at=now,
            locale=locale,
            page=callback_data.page,
        )
    else:
        text, keyboard = await status_screen(
            session,
            choice,
            settings=settings,
            policy=policy,
            at=now,
            locale=locale,
        )
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=keyboard)
        except Exception:  # unchanged text or an old message: send it anew
            await query.message.answer(text, reply_markup=keyboard)
    await query.answer()


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsCoordinator())
    router.callback_query.filter(IsCoordinator())
    router.message.register(status_cmd, Command("status"))
    router.message.register(overdue_cmd, Command("overdue"))
    router.message.register(unit_cmd, Command("unit"))
    router.callback_query.register(view_cb, StatusView.filter())
