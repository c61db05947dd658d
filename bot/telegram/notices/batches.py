"""督办汇总 (escalation_batch) and 逾期事项清单 (overdue_batch): several items in one message."""

from __future__ import annotations

from bot.core.notices import BatchItem, BatchNotice, ChasedBrief, OutboxKind
from bot.core.plan_names import plan_label
from bot.i18n import gettext, ngettext
from bot.services.ranking import from_block
from bot.storage.models import Outbox
from bot.telegram.charts.views import caption
from bot.telegram.notices.common import (
    Context,
    Rendered,
    day,
    days_overdue,
    heading,
    instant,
    kind_labels,
    short,
)
from bot.telegram.render import esc


def _chased_brief(c: ChasedBrief | None, ctx: Context) -> str:
    locale = ctx.locale
    c = c or ChasedBrief()
    if not c.n:
        return gettext("No earlier reminders were delivered.", locale=locale)
    what = kind_labels(locale).get(c.kind, esc(c.kind))
    who = gettext(", ", locale=locale).join(esc(x) for x in c.to) or gettext(
        "liaison", locale=locale
    )
    return ngettext(
        "Chased %(n)s time, last: %(when)s %(what)s → %(who)s",
        "Chased %(n)s times, last: %(when)s %(what)s → %(who)s",
        c.n,
        locale=locale,
    ) % {"n": c.n, "when": instant(c.at, ctx), "what": what, "who": who}


def _listed_item(i: BatchItem, units: bool, locale: str) -> str:
    """One line of a liaison's 逾期事项清单: ref, title, due date, days overdue (· 督办)."""
    item = f"<b>{esc(i.ref)}</b> {esc(short(i.title, 60))}"
    due, how = day(i.due, locale), esc(days_overdue(i.days, locale))
    if units:  # a liaison of several units
        line = gettext("{item} — {unit}, due {due}, {how}", locale=locale).format(
            item=item, unit=esc(i.unit), due=due, how=how
        )
    else:
        line = gettext("{item} — due {due}, {how}", locale=locale).format(
            item=item, due=due, how=how
        )
    if i.kind == OutboxKind.ESCALATION:
        line += " · " + esc(gettext("under supervision", locale=locale))
    return line


def _overdue_list(n: BatchNotice, ctx: Context) -> Rendered:
    locale = ctx.locale
    label = gettext("Overdue items", locale=locale)
    if n.follow_up:
        label = gettext("Overdue items (follow-up)", locale=locale)
    summary = ngettext(
        "%(n)s item is overdue. Please report progress on each of them.",
        "%(n)s items are overdue. Please report progress on each of them.",
        n.total,
        locale=locale,
    )
    units = len({i.unit for i in n.items}) > 1
    lines = [
        heading("⚠️", label, plan_label(n.plan, n.plan_title)),
        esc(day(n.date, locale)) + " · " + summary % {"n": n.total},
        "",
    ]
    lines += [f"{k}. {_listed_item(i, units, locale)}" for k, i in enumerate(n.items, 1)]
    lines += [
        "",
        esc(gettext("Use /my to see them and report on each, or /task REF.", locale=locale)),
    ]
    return Rendered("\n".join(lines), None, None)


def escalation_batch(row: Outbox, n: BatchNotice, ctx: Context) -> Rendered:
    """督办汇总 (escalation_batch): the items escalated today to this leader or coordinator;
    逾期事项清单 (overdue_batch): a liaison's overdue items of the day, in one message instead
    of one each. Worst first, in both. A leader's 督办汇总 carries the plan's ranking: the
    scorecard picture goes first (`Rendered.photo`)."""
    if row.kind == OutboxKind.OVERDUE_BATCH:
        return _overdue_list(n, ctx)
    locale = ctx.locale
    label = gettext("Supervision summary", locale=locale)
    if n.follow_up:
        label = gettext("Supervision summary (follow-up)", locale=locale)
    lines = [
        heading("🚨", label, plan_label(n.plan, n.plan_title)),
        esc(day(n.date, locale))
        + " · "
        + ngettext(
            "%(n)s item escalated today", "%(n)s items escalated today", n.total, locale=locale
        )
        % {"n": n.total},
    ]
    sections = (
        ("due", gettext("Overdue ({n})", locale=locale)),
        ("ack", gettext("Not acknowledged in time ({n})", locale=locale)),
    )
    rank = 0
    for ladder, title in sections:
        chosen = [i for i in n.items if i.ladder == ladder]
        if not chosen:
            continue
        lines += ["", f"<b>{esc(title.format(n=n.counts.get(ladder, len(chosen))))}</b>"]
        for i in chosen:
            rank += 1
            if ladder == "due":
                how = days_overdue(i.days, locale)
            else:
                how = ngettext(
                    "not acknowledged %(n)s working day after assignment",
                    "not acknowledged %(n)s working days after assignment",
                    i.days,
                    locale=locale,
                ) % {"n": i.days}
            item = f"<b>{esc(i.ref)}</b> {esc(short(i.title, 60))}"
            lines.append(
                f"{rank}. "
                + gettext("{item} — {unit}, {how}", locale=locale).format(
                    item=item, unit=esc(i.unit), how=esc(how)
                )
            )
            lines.append("    " + _chased_brief(i.chased, ctx))
    if n.more:
        lines.append(
            ngettext("…and %(n)s more", "…and %(n)s more", n.more, locale=locale) % {"n": n.more}
        )
    lines += [
        "",
        esc(gettext("Send /task REF for the details of an item.", locale=locale)),
    ]
    photo = None
    if n.ranking is not None and n.ranking.rows:  # a leader's: the plan's scorecard first
        photo = caption(from_block(n.ranking, ctx.zone), period="week", locale=locale)
    return Rendered("\n".join(lines), None, None, photo=photo)
