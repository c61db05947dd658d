"""What the pictures say, in the reader's language: a `Ranking` (bot.services.ranking) as a
`CardView`, a `Trend` (bot.services.trend) as a `TrendView`. The numbers and their order are
the ranking's own; only the words are added here."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from babel.dates import format_skeleton

from bot.core.ranking import RankedUnit, most_overdue
from bot.core.stats import Rate
from bot.i18n import format_datetime, format_number, format_percent, gettext
from bot.services.ranking import PlanRef, Ranking
from bot.services.trend import Period, Trend, period_start
from bot.telegram.charts.scorecard import CardRow, CardView
from bot.telegram.charts.trend import TrendView

MAX_CODES = 5  # plan codes named in a title before "…"
CAPTION_LIMIT = 1000  # Telegram takes 1024 (UTF-16 units; CJK characters are one each)


def percent(rate: Rate, locale: str) -> str:
    return format_percent(rate.value, locale=locale) if rate.denominator else "—"


def plans_title(plans: list[PlanRef], locale: str) -> str:
    """ "SR 上饶市实施意见" for one plan; "全部计划 · SR、LN、JK" for several."""
    if len(plans) == 1:
        return f"{plans[0].code} {plans[0].title}"
    sep = "、" if locale == "zh_CN" else ", "
    codes = sep.join(p.code for p in plans[:MAX_CODES]) + ("…" if len(plans) > MAX_CODES else "")
    label = gettext("all plans", locale=locale)
    return f"{label} · {codes}" if codes else label


def period_label(today: date, period: Period, locale: str) -> str:
    start = period_start(today, period)
    if period == "month":
        return format_skeleton("yMMMM", start, locale=locale)
    year, week, _ = today.isocalendar()
    end = start + timedelta(days=6)
    return gettext("Week %(week)s, %(year)s · %(start)s – %(end)s", locale=locale) % {
        "week": week,
        "year": year,
        "start": format_skeleton("MMMd", start, locale=locale),
        "end": format_skeleton("MMMd", end, locale=locale),
    }


def as_of(at: datetime, zone: tzinfo, locale: str) -> str:
    return gettext("As of %(time)s", locale=locale) % {
        "time": format_datetime(at, locale=locale, zone=zone, style="short")
    }


def card_row(row: RankedUnit, locale: str, mine: int | None = None) -> CardRow:
    return CardRow(
        rank=str(row.rank) if row.rank is not None else "—",
        name=row.name,
        on_time=row.on_time.value,
        on_time_text=percent(row.on_time, locale),
        ack_text=percent(row.acknowledgement, locale),
        overdue=row.overdue,
        light=row.light.value,
        mine=row.unit_id == mine,
    )


def headline(ranking: Ranking, locale: str) -> str:
    """The headline numbers: rates over the scope, overdue items, units."""
    return gettext(
        "On time %(on_time)s · acknowledged in time %(ack)s · overdue %(overdue)s · "
        "%(units)s units",
        locale=locale,
    ) % {
        "on_time": percent(ranking.on_time, locale),
        "ack": percent(ranking.acknowledgement, locale),
        "overdue": format_number(ranking.overdue, locale=locale),
        "units": format_number(len(ranking.rows), locale=locale),
    }


def card_view(
    ranking: Ranking,
    *,
    period: Period,
    zone: tzinfo,
    locale: str,
    title: str | None = None,
    mine: int | None = None,
) -> CardView:
    """The scorecard of `ranking`; `mine`: the unit to highlight."""
    notes = [
        gettext(
            "Ranked by on-time completion, then timely acknowledgement, then fewer overdue",
            locale=locale,
        )
    ]
    if any(not row.ranked for row in ranking.rows):
        notes.append(gettext("— : nothing due yet, not ranked", locale=locale))
    return CardView(
        title=gettext("Unit scorecard · %(plans)s", locale=locale)
        % {"plans": title or plans_title(ranking.plans, locale)},
        subtitle=period_label(ranking.today, period, locale),
        summary=headline(ranking, locale),
        headers=(
            gettext("Rank", locale=locale),
            gettext("Unit", locale=locale),
            gettext("On time", locale=locale),
            gettext("Acked in time", locale=locale),
            gettext("Overdue", locale=locale),
        ),
        rows=[card_row(row, locale, mine) for row in ranking.rows],
        footer=as_of(ranking.at, zone, locale),
        hidden=gettext("⋯ {n} more units ⋯", locale=locale),
        waiting=gettext("+ {n} units with nothing due yet", locale=locale),
        empty=gettext("No assignments here yet.", locale=locale),
        notes=notes,
    )


def most_overdue_line(ranking: Ranking, locale: str) -> str | None:
    """ "Most overdue: A (5), B (3), C (2)": the three units with the most overdue items."""
    behind = most_overdue(ranking.rows, 3)
    if not behind:
        return None
    sep = "、" if locale == "zh_CN" else ", "
    return gettext("Most overdue: %(units)s", locale=locale) % {
        "units": sep.join(f"{row.name} ({row.overdue})" for row in behind)
    }


def week_change(closed: int, overdue: int, locale: str) -> str:
    """This week's change: items closed and items newly overdue in the last 7 days."""
    return gettext("This week: %(closed)s closed · %(overdue)s newly overdue", locale=locale) % {
        "closed": format_number(closed, locale=locale),
        "overdue": format_number(overdue, locale=locale),
    }


def digest_headline(
    ranking: Ranking, *, closed_week: int, overdue_week: int, locale: str
) -> list[str]:
    """The weekly digest's headline (plain text lines): the totals over the recipient's plans,
    this week's change and the three most overdue units. The photo's caption and the top of
    the digest's text are both this, so they say the same numbers."""
    lines = [headline(ranking, locale), week_change(closed_week, overdue_week, locale)]
    behind = most_overdue_line(ranking, locale)
    if behind:
        lines.append(behind)
    return lines


def card_title_line(
    ranking: Ranking, *, period: Period, locale: str, title: str | None = None
) -> str:
    return (
        gettext("Unit scorecard · %(plans)s", locale=locale)
        % {"plans": title or plans_title(ranking.plans, locale)}
        + " · "
        + period_label(ranking.today, period, locale)
    )


def caption(
    ranking: Ranking,
    *,
    period: Period,
    locale: str,
    title: str | None = None,
    lines: list[str] | None = None,
) -> str:
    """A photo's caption (plain text, under Telegram's 1024 characters): the scope, then
    `lines` (default: the headline numbers and the three units with the most overdue
    items)."""
    if lines is None:
        lines = [headline(ranking, locale)]
        behind = most_overdue_line(ranking, locale)
        if behind:
            lines.append(behind)
    text = "\n".join([card_title_line(ranking, period=period, locale=locale, title=title), *lines])
    return text if len(text) <= CAPTION_LIMIT else text[: CAPTION_LIMIT - 1] + "…"


def trend_view(
    trend: Trend,
    plans: list[PlanRef],
    *,
    at: datetime,
    zone: tzinfo,
    locale: str,
    title: str | None = None,
) -> TrendView:
    skeleton = "yMMM" if trend.period == "month" else "Md"
    per = (
        gettext("per month", locale=locale)
        if trend.period == "month"
        else gettext("per week", locale=locale)
    )
    since = (
        gettext("since %(date)s", locale=locale)
        % {"date": format_skeleton("yMMMd", trend.since, locale=locale)}
        if trend.since
        else ""
    )
    return TrendView(
        title=gettext("Trend · %(plans)s", locale=locale)
        % {"plans": title or plans_title(plans, locale)},
        subtitle=" · ".join(part for part in (per, since) if part),
        labels=[format_skeleton(skeleton, p.start, locale=locale) for p in trend.points],
        closed=[p.closed for p in trend.points],
        overdue=[p.overdue for p in trend.points],
        closed_label=gettext("Closed (total)", locale=locale),
        overdue_label=gettext("Overdue", locale=locale),
        footer=as_of(at, zone, locale),
        empty=gettext("No assignments here yet.", locale=locale),
    )
