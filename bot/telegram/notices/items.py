"""One item's notices: reminder, acknowledgement chase, overdue notice, 督办, report request,
manual chase; and the ready-made ones (notice, decision)."""

from __future__ import annotations

from dataclasses import replace

from bot.core.notices import Audience, DecisionNotice, ItemNotice, TextNotice
from bot.i18n import gettext, ngettext
from bot.storage.models import Outbox
from bot.telegram.notices.common import (
    Context,
    Rendered,
    day,
    days_overdue,
    instant,
    item_heading,
    kind_labels,
    short,
)
from bot.telegram.render import days_text, esc, status_label


def _item_line(n: ItemNotice) -> str:
    return f"<b>{esc(n.ref)}</b> {esc(n.title)}".strip()


def _units(n: ItemNotice, locale: str) -> str:
    names = []
    for u in n.units:
        name = esc(u.name)
        lead = u.role == "lead" and len(n.units) > 1
        names.append(gettext("{name} (lead)", locale=locale).format(name=name) if lead else name)
    return gettext(", ", locale=locale).join(names) if names else esc(n.unit)


def _field(label: str, value: str, locale: str) -> str:
    return gettext("{label}: {value}", locale=locale).format(label=label, value=value)


def _target(n: ItemNotice, locale: str) -> list[str]:
    if not n.target:
        return []
    return [_field(gettext("Target", locale=locale), esc(short(n.target, 300)), locale)]


def _keyboard(n: ItemNotice, row: Outbox, locale: str, *, snooze: bool = False):
    if row.assignment_id is None:
        return None
    from bot.telegram.keyboards import assignment_keyboard

    return assignment_keyboard(
        row.assignment_id, acknowledged=n.acknowledged, locale=locale, snooze=snooze
    )


def reminder(row: Outbox, n: ItemNotice, ctx: Context) -> Rendered:
    locale = ctx.locale
    days = n.days or 0
    lines = [
        item_heading("⏰", gettext("Reminder", locale=locale), n),
        _item_line(n),
        *_target(n, locale),
        _field(
            gettext("Due", locale=locale),
            f"{day(n.due, locale)} ({esc(days_text(days, locale))})",
            locale,
        ),
        _field(gettext("Responsible units", locale=locale), _units(n, locale), locale),
        "",
        gettext(
            "Please report progress with the buttons below, or reply to this message.",
            locale=locale,
        ),
    ]
    snooze = days >= 1 and not str(row.key).endswith(":snoozed")
    return Rendered("\n".join(lines), _keyboard(n, row, locale, snooze=snooze), row.assignment_id)


def ack_chase(row: Outbox, n: ItemNotice, ctx: Context) -> Rendered:
    locale = ctx.locale
    days = n.days or 0
    lines = [
        item_heading("📌", gettext("Please acknowledge", locale=locale), n),
        _item_line(n),
        *_target(n, locale),
        _field(gettext("Due", locale=locale), day(n.due, locale), locale),
        "",
        ngettext(
            "%(unit)s was assigned this item %(n)s working day ago and has not acknowledged it "
            "yet. Please press “Acknowledge” below.",
            "%(unit)s was assigned this item %(n)s working days ago and has not acknowledged it "
            "yet. Please press “Acknowledge” below.",
            days,
            locale=locale,
        )
        % {"unit": esc(n.unit), "n": days},
    ]
    return Rendered("\n".join(lines), _keyboard(n, row, locale), row.assignment_id)


def overdue(row: Outbox, n: ItemNotice, ctx: Context) -> Rendered:
    locale = ctx.locale
    days = n.days or 0
    lines = [
        item_heading("⚠️", gettext("Overdue notice", locale=locale), n),
        _item_line(n),
        *_target(n, locale),
        _field(
            gettext("Due", locale=locale),
            f"{day(n.due, locale)} ({esc(days_overdue(days, locale))})",
            locale,
        ),
        _field(gettext("Responsible unit", locale=locale), esc(n.unit), locale),
        "",
        gettext(
            "Please report progress, or request an extension if the date cannot be met.",
            locale=locale,
        ),
    ]
    return Rendered("\n".join(lines), _keyboard(n, row, locale), row.assignment_id)


def _chased_lines(n: ItemNotice, ctx: Context) -> list[str]:
    locale = ctx.locale
    chased = [c for c in n.chased or () if c.of_liaisons]
    if not chased:
        return [gettext("No earlier reminders were delivered.", locale=locale)]
    labels = kind_labels(locale)
    lines = [gettext("Chased before:", locale=locale)]
    for c in chased[-8:]:
        who = esc(c.to or gettext("liaison", locale=locale))
        what = labels.get(c.kind, esc(c.kind))
        lines.append(f"• {instant(c.at, ctx)} {what} → {who}")
    return lines


def escalation(row: Outbox, n: ItemNotice, ctx: Context) -> Rendered:
    locale = ctx.locale
    days = n.days or 0
    unit = esc(n.unit)
    if (n.stage or row.stage).startswith("ack"):
        lines = [
            item_heading("🚨", gettext("Not acknowledged", locale=locale), n),
            _item_line(n),
            _field(gettext("Due", locale=locale), day(n.due, locale), locale),
            "",
            ngettext(
                "%(unit)s has not acknowledged this item %(n)s working day after it was assigned.",
                "%(unit)s has not acknowledged this item %(n)s working days after it was "
                "assigned.",
                days,
                locale=locale,
            )
            % {"unit": unit, "n": days},
            *_chased_lines(n, ctx),
        ]
        return Rendered("\n".join(lines), None, row.assignment_id)
    lines = [
        item_heading("🚨", gettext("Supervision notice", locale=locale), n),
        _item_line(n),
        *_target(n, locale),
        _field(
            gettext("Due", locale=locale),
            f"{day(n.due, locale)} ({esc(days_overdue(days, locale))})",
            locale,
        ),
        _field(gettext("Responsible unit", locale=locale), unit, locale),
        _field(gettext("Status", locale=locale), esc(status_label(n.status, locale)), locale),
        "",
    ]
    if n.audience == Audience.LIAISONS:
        lines.append(
            gettext(
                "This item has been escalated to your unit's leader and the plan's "
                "coordinators. Please report progress now.",
                locale=locale,
            )
        )
        return Rendered("\n".join(lines), _keyboard(n, row, locale), row.assignment_id)
    lines += _chased_lines(n, ctx)
    return Rendered("\n".join(lines), None, row.assignment_id)


def periodic(row: Outbox, n: ItemNotice, ctx: Context) -> Rendered:
    locale = ctx.locale
    lines = [
        item_heading("🗓", gettext("Periodic report due", locale=locale), n),
        _item_line(n),
        *_target(n, locale),
        _field(gettext("Period ends", locale=locale), day(n.period_end, locale), locale),
        "",
        gettext(
            "This is a recurring duty. Please report what was done in this period: reply to "
            "this message, or use the buttons below.",
            locale=locale,
        ),
    ]
    return Rendered("\n".join(lines), _keyboard(n, row, locale), row.assignment_id)


def chase(row: Outbox, n: ItemNotice, ctx: Context) -> Rendered:
    locale = ctx.locale
    lines = [item_heading("📣", gettext("Chase from the coordinator", locale=locale), n)]
    if n.ref or n.title:
        lines.append(_item_line(n))
    if n.due:
        due = day(n.due, locale)
        if n.days is not None:
            due += f" ({esc(days_text(n.days, locale))})"
        lines.append(_field(gettext("Due", locale=locale), due, locale))
    if n.unit:
        lines.append(_field(gettext("Responsible unit", locale=locale), esc(n.unit), locale))
    if n.note:
        lines += ["", f"“{esc(n.note)}”" + (f" — {esc(n.by)}" if n.by else "")]
    lines += ["", gettext("Please report progress with the buttons below.", locale=locale)]
    return Rendered("\n".join(lines), _keyboard(n, row, locale), row.assignment_id)


def decision(row: Outbox, n: DecisionNotice, ctx: Context) -> Rendered:
    """What waits for the coordinator's decision (bot.services.decision_push), with the
    办结 / 退回 and 批准 / 驳回 buttons of /pending."""
    from bot.services.decision_push import decision_of
    from bot.telegram.coordinator.pending_render import pending_keyboard, pending_text

    # news, not a backlog: no "waiting N days" on a notice sent the moment it arrives
    decisions = [replace(decision_of(i), since=None) for i in n.items]
    text = pending_text(decisions, page=0, now=row.created_at, locale=ctx.locale)
    return Rendered(text, pending_keyboard(decisions, page=0, locale=ctx.locale), None)


def notice(row: Outbox, n: TextNotice, ctx: Context) -> Rendered:
    return Rendered(n.text, None, row.assignment_id)
