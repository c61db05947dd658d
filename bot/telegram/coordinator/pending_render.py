"""The text and buttons of what waits for a coordinator's decision: /pending's pages and the
notice pushed when a liaison reports 已完成 or 申请延期 (bot.telegram.notices, kind "decision").
One line per decision, grouped by plan; 办结 / 批准 are the acts' own buttons (CoordAct), 退回 /
驳回 ask for a reason (ReasonAsk)."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import format_date, gettext, ngettext
from bot.services import coordination as co
from bot.services.pending import COMPLETION, Decision, waited_days
from bot.telegram.coordinator.callbacks import CoordAct, PendingPage, ReasonAsk
from bot.telegram.render import echo, esc

PAGE_SIZE = 8  # items a page: two buttons each, the text well under Telegram's limit
NOTE_MAX = 200  # characters of a liaison's note quoted under a decision


def waited_text(days: int | None, locale: str) -> str:
    if days is None:
        return ""
    if days == 0:
        return gettext("since today", locale=locale)
    return ngettext("waiting %(n)s day", "waiting %(n)s days", days, locale=locale) % {"n": days}


def decision_line(d: Decision, *, now: datetime, locale: str) -> str:
    p = {"ref": esc(d.ref), "unit": esc(d.unit_name)}
    if d.kind == COMPLETION:
        line = gettext("%(ref)s · %(unit)s: reported done, waiting for 办结", locale=locale) % p
    else:
        p["date"] = format_date(d.requested_to, locale=locale) if d.requested_to else ""
        line = gettext("%(ref)s · %(unit)s: asks to extend to %(date)s", locale=locale) % p
    waited = waited_text(waited_days(d.since, now), locale)
    line = f"• {line}" + (f" · {waited}" if waited else "")
    return line + (f"\n  “{echo(d.note, NOTE_MAX)}”" if d.note else "")


def pending_text(decisions: list[Decision], *, page: int, now: datetime, locale: str) -> str:
    if not decisions:
        return gettext("Nothing waits for your decision.", locale=locale)
    pages = (len(decisions) + PAGE_SIZE - 1) // PAGE_SIZE
    shown = decisions[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [gettext("🗂 Waiting for your decision: %(n)s", locale=locale) % {"n": len(decisions)}]
    plan = None
    for d in shown:
        if d.plan_code != plan:
            plan = d.plan_code
            lines += ["", f"<b>{esc(plan)}</b>"]
        lines.append(decision_line(d, now=now, locale=locale))
    if pages > 1:
        lines += [
            "",
            gettext("Page %(page)s of %(pages)s", locale=locale)
            % {"page": page + 1, "pages": pages},
        ]
    return "\n".join(lines)


def pending_keyboard(
    decisions: list[Decision], *, page: int, locale: str
) -> InlineKeyboardMarkup | None:
    if not decisions:
        return None
    builder = InlineKeyboardBuilder()
    shown = decisions[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    widths: list[int] = []
    for d in shown:
        p = {"ref": d.ref, "unit": d.unit_name}
        if d.kind == COMPLETION:
            yes = gettext("✅ 办结 %(ref)s · %(unit)s", locale=locale) % p
            no = gettext("↩️ 退回", locale=locale)
            yes_act, no_act = co.CONFIRM, co.RETURN
        else:
            yes = gettext("✅ 批准 %(ref)s · %(unit)s", locale=locale) % p
            no = gettext("❌ 驳回", locale=locale)
            yes_act, no_act = co.APPROVE, co.DENY
        target = d.assignment_id
        builder.button(text=yes, callback_data=CoordAct(action=yes_act, assignment_id=target))
        builder.button(text=no, callback_data=ReasonAsk(action=no_act, assignment_id=target))
        widths.append(2)
    pages = (len(decisions) + PAGE_SIZE - 1) // PAGE_SIZE
    if pages > 1:
        nav = 0
        if page > 0:
            builder.button(text="◀️", callback_data=PendingPage(page=page - 1))
            nav += 1
        if page + 1 < pages:
            builder.button(text="▶️", callback_data=PendingPage(page=page + 1))
            nav += 1
        widths.append(nav)
    builder.adjust(*widths)
    return builder.as_markup()
