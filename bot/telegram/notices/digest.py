"""The weekly digest (周报): the headline (totals over the recipient's plans, this week's
change, the three most overdue units), then per plan what was completed, what is (newly)
overdue and what is due soon, then the units' ranking over the recipient's plans.

The headline is also the caption of the scorecard picture sent before the text
(`Rendered.photo`, drawn from the same ranking by `bot.telegram.notices.picture_view`): one
function (`bot.telegram.charts.views.digest_headline`), so photo and text say the same; the
text is complete on its own (a recipient who cannot load pictures misses nothing)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.notices import DigestItem, DigestNotice, ScoreRow
from bot.i18n import format_percent, gettext, ngettext
from bot.services.ranking import Ranking, from_block
from bot.storage.models import Outbox
from bot.telegram.charts.views import caption, digest_headline, plans_title
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


def _score_line(r: ScoreRow, mine: bool, locale: str) -> str:
    return gettext(
        "{rank}. {mark}{unit}: red {red} (overdue {overdue}) · on-time "
        "completion {on_time} · timely acknowledgement {ack}",
        locale=locale,
    ).format(
        rank=r.rank if r.rank is not None else "—",
        mark="👉 " if mine else "",
        unit=esc(r.unit),
        overdue=r.overdue,
        red=r.red,
        on_time=_rate(r.on_time, locale),
        ack=_rate(r.ack, locale),
    )


def digest_ranking(n: DigestNotice, ctx: Context) -> Ranking | None:
    """The ranking the digest's picture, headline and scorecard show (None: none frozen)."""
    if n.ranking is None:
        return None
    return from_block(n.ranking, ctx.zone)


def digest_caption(n: DigestNotice, ctx: Context) -> str | None:
    """The picture's caption: the scope and the week, then the digest's headline."""
    ranking = digest_ranking(n, ctx)
    if ranking is None or n.ranking is None or not ranking.rows:
        return None
    lines = digest_headline(
        ranking,
        closed_week=n.ranking.closed_week,
        overdue_week=n.ranking.overdue_week,
        locale=ctx.locale,
    )
    return caption(ranking, period="week", locale=ctx.locale, lines=lines)


def digest(row: Outbox, n: DigestNotice, ctx: Context) -> Rendered:
    locale = ctx.locale
    lines = [
        "📊 <b>"
        + esc(gettext("Weekly digest", locale=locale))
        + "</b> · "
        + esc(gettext("week of {date}", locale=locale).format(date=day(n.week_start, locale)))
    ]
    ranking = digest_ranking(n, ctx)
    if ranking is not None and n.ranking is not None and ranking.rows:
        headline = digest_headline(
            ranking,
            closed_week=n.ranking.closed_week,
            overdue_week=n.ranking.overdue_week,
            locale=locale,
        )
        lines += [f"<b>{esc(headline[0])}</b>", *(esc(line) for line in headline[1:])]
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
        if plan.scorecard:  # a row planned by an earlier release: one ranking per plan
            lines.append("<b>🏅 " + esc(gettext("Unit scorecard", locale=locale)) + "</b>")
            lines += [_score_line(r, r.mine, locale) for r in plan.scorecard]
    if ranking is not None and ranking.rows and n.ranking is not None:
        mine = set(n.unit_ids or ())
        title = plans_title(ranking.plans, locale)
        lines += [
            "",
            "<b>🏅 " + esc(gettext("Unit scorecard", locale=locale)) + f"</b> · {esc(title)}",
        ]
        lines += [_score_line(r, r.unit_id in mine, locale) for r in n.ranking.rows]
    return Rendered("\n".join(lines), None, None, photo=digest_caption(n, ctx))
