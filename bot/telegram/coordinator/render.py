"""Rendering of the coordinator's messages (HTML parse mode), one function per message kind.

Locales are explicit (as in bot.telegram.render) so that the benchmark and tests render
outside an update. Plan and user text goes through `esc`; numbers, dates and rates through
bot.i18n in the reader's locale. `/status` fits one screen: at most `TOP_UNITS` unit lines and
`TOP_ITEMS` items, each item line shortened.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.lights import LIGHT_EMOJI, Light
from bot.core.ranking import RankedUnit
from bot.core.stats import (
    BUCKET_AWAITING,
    BUCKET_CLOSED,
    BUCKET_IN_PROGRESS,
    BUCKET_NOT_STARTED,
    Rate,
)
from bot.i18n import format_date, format_number, format_percent, gettext, ngettext
from bot.services.stats import OverdueGroup, OverdueItem, PlanLine, StatusReport, UnitOverview
from bot.telegram.render import esc, short

TOP_UNITS = 5
TOP_ITEMS = 10
TITLE_CHARS = 18
PAGE_SIZE = 15
GROUP_PAGE_SIZE = 8  # /overdue: items a page, each with its late units
UNITS_SHOWN = 6  # late units named under an item; the rest are counted


def rate_text(rate: Rate, locale: str) -> str:
    """“62.5% (5/8)”, or “—” when nothing counts yet."""
    if rate.denominator == 0:
        return "—"
    pct = format_percent(rate.value, locale=locale)
    return f"{pct} ({format_number(rate.numerator, locale=locale)}/" + (
        f"{format_number(rate.denominator, locale=locale)})"
    )


def _n(value: int, locale: str) -> str:
    return format_number(value, locale=locale)


def late_text(days: int, locale: str) -> str:
    return ngettext("%(n)s day late", "%(n)s days late", days, locale=locale) % {
        "n": format_number(days, locale=locale)
    }


def overdue_line(item: OverdueItem, locale: str) -> str:
    return (
        f"🔴 <b>{esc(item.ref)}</b> {esc(short(item.title, TITLE_CHARS))} · "
        f"{esc(item.unit_name)} · {late_text(item.days_late, locale)}"
    )


def status_text(report: StatusReport, *, scope_label: str, locale: str) -> str:
    """The /status screen."""
    t = report.totals
    head = gettext("<b>Status: %(scope)s</b> (%(date)s)", locale=locale) % {
        "scope": esc(scope_label),
        "date": format_date(report.today, locale=locale),
    }
    if t.total == 0:
        return head + "\n" + gettext("No assignments here yet.", locale=locale)
    b = t.buckets
    lines = [
        head,
        gettext("Assignments: %(total)s", locale=locale) % {"total": _n(t.total, locale)},
        gettext(
            "Closed %(closed)s · awaiting confirmation %(awaiting)s · in progress %(doing)s · "
            "not started %(todo)s",
            locale=locale,
        )
        % {
            "closed": _n(b[BUCKET_CLOSED], locale),
            "awaiting": _n(b[BUCKET_AWAITING], locale),
            "doing": _n(b[BUCKET_IN_PROGRESS], locale),
            "todo": _n(b[BUCKET_NOT_STARTED], locale),
        },
        gettext("Overdue: %(n)s", locale=locale) % {"n": _n(t.overdue, locale)},
        " ".join(
            f"{LIGHT_EMOJI[light]} {_n(t.lights[light.value], locale)}"
            for light in (Light.RED, Light.YELLOW, Light.GREEN, Light.GREY)
        ),
        "",
        gettext("Completion rate: %(rate)s", locale=locale)
        % {"rate": rate_text(t.completion, locale)},
        gettext("On-time completion rate: %(rate)s", locale=locale)
        % {"rate": rate_text(t.on_time, locale)},
        gettext("Acknowledgement rate: %(rate)s", locale=locale)
        % {"rate": rate_text(t.acknowledgement, locale)},
    ]
    worst = report.units_by_overdue(TOP_UNITS)
    if worst:
        lines += ["", gettext("<b>Overdue by unit</b>", locale=locale)]
        lines += [
            gettext("%(unit)s: %(n)s", locale=locale)
            % {"unit": esc(u.name), "n": _n(u.overdue, locale)}
            for u in worst
        ]
        more = len(report.units_by_overdue()) - len(worst)
        if more > 0:
            lines.append(
                ngettext("…and %(n)s more unit", "…and %(n)s more units", more, locale=locale)
                % {"n": _n(more, locale)}
            )
    if report.most_overdue:
        lines += ["", gettext("<b>Most overdue</b>", locale=locale)]
        lines += [overdue_line(item, locale) for item in report.most_overdue[:TOP_ITEMS]]
    return "\n".join(lines)


def overdue_page(
    items: list[OverdueItem], *, total: int, page: int, pages: int, scope_label: str, locale: str
) -> str:
    head = gettext("<b>Overdue: %(scope)s</b> (%(n)s)", locale=locale) % {
        "scope": esc(scope_label),
        "n": _n(total, locale),
    }
    if not items:
        return head + "\n" + gettext("Nothing is overdue.", locale=locale)
    lines = [head, *(overdue_line(item, locale) for item in items)]
    if pages > 1:
        lines.append(page_footer(page, pages, locale))
    return "\n".join(lines)


def overdue_group_lines(group: OverdueGroup, locale: str) -> list[str]:
    """An item and its late units, the most late first: two lines however many units."""
    shown = group.units[:UNITS_SHOWN]
    units = " · ".join(
        f"{esc(u.unit_name)} {format_number(u.days_late, locale=locale)}" for u in shown
    )
    rest = len(group.units) - len(shown)
    if rest:
        units += " · " + ngettext("%(n)s more unit", "%(n)s more units", rest, locale=locale) % {
            "n": rest
        }
    head = ngettext("%(n)s unit late", "%(n)s units late", len(group.units), locale=locale) % {
        "n": len(group.units)
    }
    return [
        f"🔴 <b>{esc(group.ref)}</b> {esc(short(group.title, TITLE_CHARS))} · "
        f"{late_text(group.days_late, locale)} · {esc(head)}",
        "    " + gettext("days late: %(units)s", locale=locale) % {"units": units},
    ]


def overdue_groups_page(
    groups: list[OverdueGroup],
    *,
    items: int,
    late: int,
    page: int,
    pages: int,
    scope_label: str,
    locale: str,
) -> str:
    """/overdue: one entry per item with its late units; `items` items, `late` assignments."""
    head = gettext("<b>Overdue: %(scope)s</b> (%(n)s)", locale=locale) % {
        "scope": esc(scope_label),
        "n": _n(late, locale),
    }
    if not groups:
        return head + "\n" + gettext("Nothing is overdue.", locale=locale)
    lines = [
        head,
        ngettext("%(n)s item with late units", "%(n)s items with late units", items, locale=locale)
        % {"n": _n(items, locale)},
    ]
    for group in groups:
        lines += overdue_group_lines(group, locale)
    if pages > 1:
        lines.append(page_footer(page, pages, locale))
    return "\n".join(lines)


def page_footer(page: int, pages: int, locale: str) -> str:
    return gettext("Page %(page)s of %(pages)s", locale=locale) % {
        "page": page + 1,
        "pages": pages,
    }


def ranking_page(
    rows: list[RankedUnit],
    *,
    page: int,
    pages: int,
    scope_label: str,
    locale: str,
    mine: int | None = None,
) -> str:
    """A page of the units ranked (bot.core.ranking): rank, light, 按时办结率, 及时签收率,
    overdue; the same list as the scorecard picture."""
    head = gettext("<b>Units ranked: %(scope)s</b>", locale=locale) % {"scope": esc(scope_label)}
    lines = [head]
    for row in rows:
        rank = str(row.rank) if row.rank is not None else "—"
        mark = "👉 " if row.unit_id == mine else ""
        lines.append(
            f"{rank}. {LIGHT_EMOJI[row.light]} {mark}{esc(row.name)}: "
            + gettext(
                "on time %(on_time)s · acknowledged in time %(ack)s · overdue %(overdue)s",
                locale=locale,
            )
            % {
                "on_time": rate_text(row.on_time, locale),
                "ack": rate_text(row.acknowledgement, locale),
                "overdue": _n(row.overdue, locale),
            }
        )
    if len(lines) == 1:
        lines.append(gettext("No assignments here yet.", locale=locale))
    lines.append(
        gettext(
            "Ranked by on-time completion, then timely acknowledgement, then fewer overdue",
            locale=locale,
        )
    )
    if pages > 1:
        lines.append(page_footer(page, pages, locale))
    return "\n".join(lines)


def plans_text(plans: list[PlanLine], *, locale: str) -> str:
    if not plans:
        return gettext("No plans are loaded. Upload one with /import.", locale=locale)
    lines = [gettext("<b>Plans</b>", locale=locale)]
    for p in plans:
        lines.append(
            f"<b>{esc(p.code)}</b> {esc(short(p.title, 40))}\n  "
            + gettext(
                "%(start)s – %(end)s · %(tasks)s items · %(total)s assignments · "
                "closed %(closed)s · overdue %(overdue)s",
                locale=locale,
            )
            % {
                "start": format_date(p.period_start, locale=locale),
                "end": format_date(p.period_end, locale=locale),
                "tasks": _n(p.tasks, locale),
                "total": _n(p.total, locale),
                "closed": _n(p.closed, locale),
                "overdue": _n(p.overdue, locale),
            }
        )
    lines.append(gettext("Details: /status CODE", locale=locale))
    return "\n".join(lines)


def withdrawn_text(plans: list[Any], *, zone: ZoneInfo, locale: str) -> str:
    """The withdrawn plans (bot.storage.withdraw.PlanRow), marked, with when."""
    lines = [gettext("<b>Withdrawn</b> (archived, history kept)", locale=locale)]
    for p in plans:
        when = format_date(p.archived_at.astimezone(zone).date(), locale=locale)
        lines.append(
            gettext("%(code)s %(title)s · withdrawn %(date)s", locale=locale)
            % {"code": esc(p.code), "title": esc(short(p.title, 40)), "date": when}
        )
    return "\n".join(lines)


def units_text(units: list[UnitOverview], *, page: int, pages: int, locale: str) -> str:
    missing = sum(1 for u in units if u.liaisons == 0)
    lines = [gettext("<b>Units</b>", locale=locale)]
    for u in units:
        flag = "⚠️ " if u.liaisons == 0 else ""
        name = u.label or u.short_name or u.name
        who = (
            gettext("no liaison", locale=locale)
            if u.liaisons == 0
            else ngettext("%(n)s liaison", "%(n)s liaisons", u.liaisons, locale=locale)
            % {"n": u.liaisons}
        )
        lines.append(
            f"{flag}{esc(name)}: "
            + gettext("%(who)s · open %(open)s · overdue %(overdue)s", locale=locale)
            % {"who": who, "open": _n(u.open, locale), "overdue": _n(u.overdue, locale)}
        )
    if missing:
        lines.append(
            gettext(
                "⚠️ marks units without a liaison: invite one with /invite UNIT.", locale=locale
            )
        )
    if pages > 1:
        lines.append(page_footer(page, pages, locale))
    return "\n".join(lines)


def unit_header(name: str, liaison_names: list[str], *, locale: str) -> str:
    if liaison_names:
        sep = "、" if locale == "zh_CN" else ", "
        who = sep.join(esc(n) for n in liaison_names)
    else:
        who = gettext("no liaison yet (/invite UNIT)", locale=locale)
    return gettext("<b>%(unit)s</b> · liaisons: %(who)s", locale=locale) % {
        "unit": esc(name),
        "who": who,
    }


def due_text(day: date, locale: str) -> str:
    return format_date(day, locale=locale)
