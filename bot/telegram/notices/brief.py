"""The liaison's brief (今日待办, kind brief): the day's stages in one message, most urgent
first, grouped by section and plan; buttons open an item, a whole section (paged, by
`bot.telegram.brief`) and 全部签收. Kept under one Telegram message: `brief.max_lines` item
lines (policy, stored in the payload), the rest counted per section."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.brief import sections, to_acknowledge
from bot.core.notices import BriefItem, BriefNotice
from bot.core.plan_names import plan_label
from bot.i18n import gettext, ngettext
from bot.storage.models import Outbox
from bot.telegram.notices.common import Context, Rendered, day, days_overdue
from bot.telegram.render import days_text, esc

ICONS = {"od": "🔴", "d0": "🟠", "d1": "🟠", "d7": "🟡", "d30": "🟢", "ack": "📌", "per": "🗓"}
MAX_LINES = 20  # item lines listed when no policy says
ITEM_BUTTONS = 6  # the most urgent items get a button of their own


def section_label(section: str, locale: str) -> str:
    labels = {
        "od": gettext("Overdue", locale=locale),
        "d0": gettext("Due today", locale=locale),
        "d1": gettext("Due tomorrow", locale=locale),
        "d7": gettext("Due within 7 days", locale=locale),
        "d30": gettext("Due within 30 days", locale=locale),
        "ack": gettext("Waiting for acknowledgement", locale=locale),
        "per": gettext("Periodic reports", locale=locale),
    }
    return labels.get(section, section)


def item_days(item: BriefItem, locale: str) -> str:
    """ "逾期 5 天" / "还剩 3 天" / "已 4 个工作日未签收" / "周期截至 12月31日"."""
    if item.section == "od":
        text = days_overdue(item.days, locale)
        if item.escalated:
            text += gettext(", escalated", locale=locale)
        return text
    if item.section == "ack":
        return ngettext(
            "not acknowledged for %(n)s working day",
            "not acknowledged for %(n)s working days",
            item.days,
            locale=locale,
        ) % {"n": item.days}
    if item.section == "per":
        return gettext("period ends {date}", locale=locale).format(date=day(item.due, locale))
    return days_text(item.days, locale)


def item_line(item: BriefItem, locale: str) -> str:
    line = f"<b>{esc(item.ref)}</b> {esc(item.title)} · {esc(item_days(item, locale))}"
    if item.also:  # the item's other milestones due or late too
        more = len(item.also)
        line += esc(
            ngettext(" (+%(n)s milestone)", " (+%(n)s milestones)", more, locale=locale)
            % {"n": more}
        )
    return line


def _counts(groups: dict[str, list[BriefItem]], locale: str) -> str:
    return " · ".join(f"{section_label(s, locale)} {len(found)}" for s, found in groups.items())


def brief_text(n: BriefNotice, locale: str, max_lines: int = MAX_LINES) -> str:
    groups = sections(n.items)
    label = gettext("Today's brief", locale=locale)
    if n.follow_up:
        label = gettext("Due today (update)", locale=locale)
    total = len(n.items)
    plans = {(i.plan, i.plan_title) for i in n.items}
    several_plans = len(plans) > 1
    head = f"☀️ <b>{esc(label)}</b> · {esc(day(n.date, locale))}"
    if len(plans) == 1:  # one plan: named once, at the top
        head += " · " + esc(plan_label(*next(iter(plans))))
    lines = [
        head,
        esc(
            ngettext("%(n)s item: ", "%(n)s items: ", total, locale=locale) % {"n": total}
            + _counts(groups, locale)
        ),
    ]
    # every section gets its share of the lines (its most urgent items); what a section does
    # not use goes to the next ones
    budget = max_lines
    for index, (section, found) in enumerate(groups.items()):
        lines += ["", f"{ICONS.get(section, '•')} <b>{esc(section_label(section, locale))}</b>"]
        share = max(3, -(-budget // (len(groups) - index)))
        shown = found[: min(share, max(budget, 0))] if budget > 0 else []
        budget -= len(shown)
        plan = None
        for item in sorted(shown, key=lambda i: (i.plan, i.rank())) if several_plans else shown:
            if several_plans and item.plan != plan:
                plan = item.plan
                lines.append(f"<i>{esc(plan_label(item.plan, item.plan_title))}</i>")
            lines.append(item_line(item, locale))
        if len(found) > len(shown):
            more = len(found) - len(shown)
            lines.append(
                esc(ngettext("…and %(n)s more", "…and %(n)s more", more, locale=locale))
                % {"n": more}
            )
    lines += [
        "",
        esc(
            gettext(
                "Open an item or a group with the buttons below to report progress.",
                locale=locale,
            )
        ),
    ]
    return "\n".join(lines)


def brief_keyboard(row_id: int | None, n: BriefNotice, locale: str) -> InlineKeyboardMarkup | None:
    from bot.telegram.callbacks import BriefAck, BriefGroup, OpenAssignment

    rows: list[list[InlineKeyboardButton]] = []
    items = [
        InlineKeyboardButton(
            text=f"{ICONS.get(i.section, '')} {i.ref}".strip(),
            callback_data=OpenAssignment(assignment_id=i.id).pack(),
        )
        for i in n.items[:ITEM_BUTTONS]
    ]
    rows += [items[k : k + 3] for k in range(0, len(items), 3)]
    if row_id is not None:
        groups = [
            InlineKeyboardButton(
                text=f"{section_label(s, locale)} {len(found)} ›",
                callback_data=BriefGroup(brief=row_id, s=s, p=0).pack(),
            )
            for s, found in sections(n.items).items()
        ]
        rows += [groups[k : k + 2] for k in range(0, len(groups), 2)]
        waiting = len(to_acknowledge(n.items))
        if waiting:
            text = gettext("Acknowledge all ({n})", locale=locale).format(n=waiting)
            rows.append(
                [InlineKeyboardButton(text=text, callback_data=BriefAck(brief=row_id).pack())]
            )
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def brief(row: Outbox, n: BriefNotice, ctx: Context) -> Rendered:
    text = brief_text(n, ctx.locale, n.lines)
    return Rendered(text, brief_keyboard(row.id, n, ctx.locale), None)
