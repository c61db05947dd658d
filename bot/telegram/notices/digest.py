"""The weekly digest (周报): per plan, what was completed, what is (newly) overdue, what is due
soon, and the unit scorecard."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.notices import DigestItem, DigestNotice
from bot.i18n import format_percent, gettext, ngettext
from bot.storage.models import Outbox
from bot.telegram.notices.common import Context, Rendered, day, days_overdue, short
from bot.telegram.render import days_text, esc


def _rate(pair: tuple[int, int], locale: str) -> str:
    num, den = pair
    if not den:
        return "—"
    return f"{format_percent(num / den, locale=locale)} ({num}/{den})"


def _section(
    title: str,
    items: Sequence[DigestItem],
    more: int,
    line: Callable[[DigestItem], str],
    locale: str,
) -> list[str]:
    if not items:
        return []
    lines = [f"<b>{esc(title)}</b>"]
    lines += [line(i) for i in items]
    if more:
        lines.append(
            ngettext("…and %(n)s more", "…and %(n)s more", more, locale=locale) % {"n": more}
        )
    return lines


def digest(row: Outbox, n: DigestNotice, ctx: Context) -> Rendered:
    locale = ctx.locale
    lines = [
        "📊 <b>"
        + esc(gettext("Weekly digest", locale=locale))
        + "</b> · "
        + esc(gettext("week of {date}", locale=locale).format(date=day(n.week_start, locale)))
    ]
    if not n.plans:
        lines += ["", gettext("Nothing to report this week.", locale=locale)]

    def item(i: DigestItem) -> str:
        return f"• <b>{esc(i.ref)}</b> {esc(short(i.title, 60))} — " + esc(i.unit)

    def late(i: DigestItem) -> str:
        return f"{item(i)}, {esc(days_overdue(i.days, locale))}"

    def soon(i: DigestItem) -> str:
        return f"{item(i)}, {day(i.due, locale)} ({esc(days_text(i.days, locale))})"

    for plan in n.plans:
        lines += ["", f"<b>{esc(plan.code)}</b> {esc(plan.title)}"]
        sections = [
            (
                "✅ " + gettext("Completed in the last 7 days ({n})", locale=locale),
                "completed",
                item,
            ),
            ("🆕 " + gettext("Newly overdue ({n})", locale=locale), "newly_overdue", late),
            ("🔴 " + gettext("Still overdue ({n})", locale=locale), "overdue", late),
            (
                "📅 " + gettext("Due in the next 14 days ({n})", locale=locale),
                "due_soon",
                soon,
            ),
        ]
        empty = True
        for title, name, line in sections:
            items = plan.lists.get(name, ())
            if items:
                empty = False
            lines += _section(
                title.format(n=plan.totals.get(name, len(items))),
                items,
                plan.more.get(name, 0),
                line,
                locale,
            )
        if empty:
            lines.append(gettext("No changes and nothing due soon.", locale=locale))
        if plan.scorecard:
            lines.append("<b>🏅 " + esc(gettext("Unit scorecard", locale=locale)) + "</b>")
            for r in plan.scorecard:
                lines.append(
                    gettext(
                        "{rank}. {mark}{unit}: red {red} (overdue {overdue}) · on-time "
                        "completion {on_time} · timely acknowledgement {ack}",
                        locale=locale,
                    ).format(
                        rank=r.rank,
                        mark="👉 " if r.mine else "",
                        unit=esc(r.unit),
                        overdue=r.overdue,
                        red=r.red,
                        on_time=_rate(r.on_time, locale),
                        ack=_rate(r.ack, locale),
                    )
                )
    return Rendered("\n".join(lines), None, None)
