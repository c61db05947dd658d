"""/scorecard [PLAN|all] [week|month]: the unit scorecard as a picture, for coordinators and
leaders, with buttons to switch the plan, the period and to the trend; /status's 📊 button
sends the picture of its scope. Each handler: parse → bot.services.ranking / trend → draw
(bot.telegram.charts, in a thread) → sendPhoto. Without a CJK font the ranking goes out as
text (never a picture of empty boxes).

Module-level handlers, registered by `setup(router)`.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.core.policy import Policy
from bot.core.roles import Roles
from bot.core.workdays import is_working_day
from bot.i18n import gettext
from bot.services import ranking, trend
from bot.services.errors import ServiceError
from bot.services.stats import Scope
from bot.services.trend import Period
from bot.telegram.charts import Pictures
from bot.telegram.charts.views import caption, card_view, trend_view
from bot.telegram.coordinator import render
from bot.telegram.coordinator.callbacks import CHART_CARD, CHART_TREND, ScorecardCb
from bot.telegram.coordinator.status import ack_window
from bot.telegram.errors import error_line
from bot.telegram.render import esc

PERIOD_WORDS: dict[str, Period] = {
    "week": "week",
    "weekly": "week",
    "周": "week",
    "本周": "week",
    "周报": "week",
    "month": "month",
    "monthly": "month",
    "月": "month",
    "本月": "month",
    "月报": "month",
}
ALL_WORDS = {"all", "全部", "所有", "*"}
MAX_PLAN_BUTTONS = 7


def parse_args(args: str | None) -> tuple[str | None, Period]:
    """(plan code or None for every plan, period) of `/scorecard [PLAN|all] [week|month]`,
    in either order."""
    code: str | None = None
    period: Period = "week"
    for word in (args or "").split():
        key = word.strip().lower()
        if key in PERIOD_WORDS:
            period = PERIOD_WORDS[key]
        elif key in ALL_WORDS:
            code = None
        else:
            code = word.strip()
    return code, period


def _period(code: str) -> Period:
    return "month" if code == "m" else "week"


def keyboard(cb: ScorecardCb, plans: list[ranking.PlanRef], locale: str) -> InlineKeyboardMarkup:
    """Plans (every plan reached first), then period and chart; the current choice marked."""
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []

    def mark(label: str, on: bool) -> str:
        return f"• {label}" if on else label

    if len(plans) > 1 or cb.unit:
        row = [(0, gettext("All", locale=locale))]
        row += [(p.plan_id, p.code) for p in plans[:MAX_PLAN_BUTTONS]]
        for plan_id, label in row:
            builder.button(
                text=mark(label, cb.plan == plan_id and not cb.unit),
                callback_data=ScorecardCb(plan=plan_id, period=cb.period, chart=cb.chart),
            )
        sizes += [4] * (len(row) // 4) + ([len(row) % 4] if len(row) % 4 else [])
    for code, label in (
        ("w", gettext("Week", locale=locale)),
        ("m", gettext("Month", locale=locale)),
    ):
        builder.button(
            text=mark(label, cb.period == code),
            callback_data=ScorecardCb(plan=cb.plan, unit=cb.unit, period=code, chart=cb.chart),
        )
    other = CHART_TREND if cb.chart == CHART_CARD else CHART_CARD
    builder.button(
        text="📈 " + gettext("Trend", locale=locale)
        if other == CHART_TREND
        else "📊 " + gettext("Ranking", locale=locale),
        callback_data=ScorecardCb(plan=cb.plan, unit=cb.unit, period=cb.period, chart=other),
    )
    builder.adjust(*sizes, 3)
    return builder.as_markup()


def ranking_text(result: ranking.Ranking, title: str, locale: str, mine: int | None) -> str:
    """The same ranking as text (no CJK font for pictures)."""
    rows = result.rows[: render.PAGE_SIZE]
    pages = max(1, -(-len(result.rows) // render.PAGE_SIZE))
    return render.ranking_page(
        rows, page=0, pages=pages, scope_label=title, locale=locale, mine=mine
    )


async def send_scorecard(
    message: Message,
    cb: ScorecardCb,
    *,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    pictures: Pictures,
    policy: Policy,
    locale: str,
    plan_code: str | None = None,
) -> None:
    """Resolve the scope, compute, draw and send one picture (or its text)."""
    try:
        chosen = await ranking.card_scope(
            session, roles, plan_code=plan_code, plan_id=cb.plan or None, unit_id=cb.unit or None
        )
    except ServiceError as exc:
        await message.answer(error_line(exc, locale))
        return
    cb = ScorecardCb(
        plan=chosen.plan_id or 0, unit=chosen.unit_id or 0, period=cb.period, chart=cb.chart
    )
    period = _period(cb.period)
    at = clock.now()
    zone = settings.clock.zone
    result = await ranking.unit_ranking(
        session,
        scope=chosen.scope,
        at=at,
        zone=zone,
        ack_window=ack_window(policy),
        is_working_day=is_working_day,
    )
    reached = await ranking.scope_plans(
        session, Scope(plan_ids=await ranking.scorecard_plan_ids(session, roles))
    )
    markup = keyboard(cb, reached, locale)
    # titled by the plans of the scope; a unit's own row (a /status UNIT scope) is marked
    png: bytes | None
    if cb.chart == CHART_TREND:
        history = await trend.trend(session, scope=chosen.scope, at=at, zone=zone, period=period)
        png = await pictures.trend(
            trend_view(history, result.plans, at=at, zone=zone, locale=locale)
        )
    else:
        view = card_view(result, period=period, zone=zone, locale=locale, mine=chosen.unit_id)
        png = await pictures.scorecard(view)
    if png is None:  # no CJK font: the ranking as text, never a picture of boxes
        label = result.plans[0].code if len(result.plans) == 1 else None
        text = ranking_text(
            result, label or gettext("all plans", locale=locale), locale, chosen.unit_id
        )
        await message.answer(text, reply_markup=markup)
        return
    name = "trend.png" if cb.chart == CHART_TREND else "scorecard.png"
    await message.answer_photo(
        BufferedInputFile(png, filename=name),
        caption=esc(caption(result, period=period, locale=locale)),
        reply_markup=markup,
    )


def not_for_you(locale: str) -> str:
    return gettext("/scorecard is for coordinators and leaders.", locale=locale)


async def scorecard_cmd(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    pictures: Pictures,
    policy: Policy,
    locale: str,
) -> None:
    if not (roles.coordinator or roles.leader):
        await message.answer(not_for_you(locale))
        return
    code, period = parse_args(command.args)
    await send_scorecard(
        message,
        ScorecardCb(period="m" if period == "month" else "w"),
        session=session,
        settings=settings,
        clock=clock,
        roles=roles,
        pictures=pictures,
        policy=policy,
        locale=locale,
        plan_code=code,
    )


async def scorecard_button(
    query: CallbackQuery,
    callback_data: ScorecardCb,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    pictures: Pictures,
    policy: Policy,
    locale: str,
) -> None:
    if not (roles.coordinator or roles.leader):
        await query.answer(not_for_you(locale), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await send_scorecard(
            query.message,
            callback_data,
            session=session,
            settings=settings,
            clock=clock,
            roles=roles,
            pictures=pictures,
            policy=policy,
            locale=locale,
        )


def setup(router: Router) -> None:
    """Register this feature's handlers on `router` (bot.telegram.setup)."""
    router.message.register(scorecard_cmd, Command("scorecard"))
    router.callback_query.register(scorecard_button, ScorecardCb.filter())
