"""Rendering Outbox rows into Telegram messages, in the recipient's language.

`render(row, *, locale) -> Rendered` is called by the sender at send time. It reads only the
row (kind, stage, payload): no database, no clock. Every plan or user text is HTML-escaped;
every sentence goes through `bot.i18n.gettext` with the explicit locale.

The shape:

    Rendered(text, reply_markup=None, assignment_id=None)
    Rendered.parts -> list[Rendered]   # the messages to send, in order

`text` is the whole message; `parts` is what to send: `[self]` unless the text is longer than
one Telegram message (a digest), then several parts cut by `bot.telegram.limits.split_html`
at line breaks, each well-formed HTML under 4096 characters and numbered "(1/3)", with the
keyboard (if any) on the last part. `assignment_id` tells the sender which assignment the
message is about (recorded in SentMessage so replies and button presses reach it).

Kinds and the payload keys they read (written by `schedules.enqueue` / `schedules.digest`):

- reminder, ack_chase, overdue, escalation, periodic: plan, plan_title, ref, title, target,
  due, days, unit, units [{name, role}], role, status, acknowledged, audience, stage; escalation
  to leaders / coordinators also `chased` [{kind, stage, at, to, audience, sent}] (the
  liaison's own 督办 does not list it); periodic also `period_end`.
- chase (manual /remind): the same item keys where known, plus optional `note` (the
  coordinator's words, plain text) and `by` (their name).
- escalation_batch (督办汇总, one per leader or coordinator, plan and day; see
  `schedules.enqueue`): plan, plan_title, date, audience, total, counts {due, ack}, more,
  follow_up, items [{id, ref, title, unit, status, ladder ("due" | "ack"), days, due, stage,
  chased {n, at, kind, to [names]}}] ranked worst first.
- overdue_batch (逾期事项清单, one per flooded liaison, plan and day; see `schedules.enqueue`):
  the same keys with audience "liaisons", counts {overdue, escalation} and items without
  `chased` but with `kind` ("overdue" | "escalation"); every item is listed (more = 0).
  Rendered by the same code as escalation_batch.
- digest: see `schedules.digest`.
- notice: {"text": ready, already-escaped HTML}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import format_date, format_datetime, format_percent, gettext, ngettext
from bot.storage.models import Outbox
from bot.telegram.limits import MAX_TEXT, SAFE_TEXT, split_html, utf16_len
from bot.telegram.render import days_text, esc, status_label

ZONE = ZoneInfo("Asia/Shanghai")
NOTICE = "notice"


@dataclass(frozen=True)
class Rendered:
    """One outbox row as Telegram message(s); see the module docstring."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    assignment_id: int | None = None

    @property
    def parts(self) -> list[Rendered]:
        if utf16_len(self.text) <= MAX_TEXT:
            return [self]
        chunks = split_html(self.text, limit=SAFE_TEXT)
        total = len(chunks)
        out: list[Rendered] = []
        for index, chunk in enumerate(chunks, start=1):
            last = index == total
            out.append(
                Rendered(
                    f"{chunk}\n<i>({index}/{total})</i>",
                    self.reply_markup if last else None,
                    self.assignment_id,
                )
            )
        return out


def render(row: Outbox, *, locale: str) -> Rendered:
    """The message of an Outbox row in `locale`; raises LookupError for an unknown kind."""
    renderer = _RENDERERS.get(row.kind)
    if renderer is None:
        raise LookupError(f"no renderer for outbox kind {row.kind!r}")
    return renderer(row, dict(row.payload or {}), locale)


# --- pieces -----------------------------------------------------------------------------------


def _date(value: str | None, locale: str) -> str:
    if not value:
        return "—"
    return format_date(date.fromisoformat(value), locale=locale)


def _instant(value: str | None, locale: str) -> str:
    if not value:
        return "—"
    return format_datetime(datetime.fromisoformat(value), locale=locale, zone=ZONE)


def _heading(icon: str, label: str, p: dict[str, Any]) -> str:
    plan = p.get("plan_title") or p.get("plan") or ""
    return f"{icon} <b>{esc(label)}</b>" + (f" · {esc(plan)}" if plan else "")


def _item_line(p: dict[str, Any]) -> str:
    ref = p.get("ref") or ""
    title = p.get("title") or ""
    return f"<b>{esc(ref)}</b> {esc(title)}".strip()


def _units(p: dict[str, Any], locale: str) -> str:
    units = p.get("units") or []
    names = []
    for u in units:
        name = esc(u.get("name", ""))
        lead = u.get("role") == "lead" and len(units) > 1
        names.append(gettext("{name} (lead)", locale=locale).format(name=name) if lead else name)
    return gettext(", ", locale=locale).join(names) if names else esc(p.get("unit", ""))


def _field(label: str, value: str, locale: str) -> str:
    return gettext("{label}: {value}", locale=locale).format(label=label, value=value)


def _target(p: dict[str, Any], locale: str) -> list[str]:
    target = p.get("target") or ""
    if not target:
        return []
    return [_field(gettext("Target", locale=locale), esc(_short(target, 300)), locale)]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _keyboard(p: dict[str, Any], row: Outbox, locale: str, *, snooze: bool = False):
    if row.assignment_id is None:
        return None
    from bot.telegram.keyboards import assignment_keyboard

    return assignment_keyboard(
        row.assignment_id,
        acknowledged=bool(p.get("acknowledged", True)),
        locale=locale,
        snooze=snooze,
    )


def _days_overdue(n: int, locale: str) -> str:
    return ngettext("%(n)s day overdue", "%(n)s days overdue", n, locale=locale) % {"n": n}


# --- kinds ------------------------------------------------------------------------------------


def _reminder(row: Outbox, p: dict[str, Any], locale: str) -> Rendered:
    days = int(p.get("days", 0))
    lines = [
        _heading("⏰", gettext("Reminder", locale=locale), p),
        _item_line(p),
        *_target(p, locale),
        _field(
            gettext("Due", locale=locale),
            f"{_date(p.get('due'), locale)} ({esc(days_text(days, locale))})",
            locale,
        ),
        _field(gettext("Responsible units", locale=locale), _units(p, locale), locale),
        "",
        gettext(
            "Please report progress with the buttons below, or reply to this message.",
            locale=locale,
        ),
    ]
    snooze = days >= 1 and not str(row.key).endswith(":snoozed")
    return Rendered("\n".join(lines), _keyboard(p, row, locale, snooze=snooze), row.assignment_id)


def _ack_chase(row: Outbox, p: dict[str, Any], locale: str) -> Rendered:
    n = int(p.get("days", 0))
    lines = [
        _heading("📌", gettext("Please acknowledge", locale=locale), p),
        _item_line(p),
        *_target(p, locale),
        _field(gettext("Due", locale=locale), _date(p.get("due"), locale), locale),
        "",
        ngettext(
            "%(unit)s was assigned this item %(n)s working day ago and has not acknowledged it "
            "yet. Please press “Acknowledge” below.",
            "%(unit)s was assigned this item %(n)s working days ago and has not acknowledged it "
            "yet. Please press “Acknowledge” below.",
            n,
            locale=locale,
        )
        % {"unit": esc(p.get("unit", "")), "n": n},
    ]
    return Rendered("\n".join(lines), _keyboard(p, row, locale), row.assignment_id)


def _overdue(row: Outbox, p: dict[str, Any], locale: str) -> Rendered:
    n = int(p.get("days", 0))
    lines = [
        _heading("⚠️", gettext("Overdue notice", locale=locale), p),
        _item_line(p),
        *_target(p, locale),
        _field(
            gettext("Due", locale=locale),
            f"{_date(p.get('due'), locale)} ({esc(_days_overdue(n, locale))})",
            locale,
        ),
        _field(gettext("Responsible unit", locale=locale), esc(p.get("unit", "")), locale),
        "",
        gettext(
            "Please report progress, or request an extension if the date cannot be met.",
            locale=locale,
        ),
    ]
    return Rendered("\n".join(lines), _keyboard(p, row, locale), row.assignment_id)


def _chased_lines(p: dict[str, Any], locale: str) -> list[str]:
    chased = [c for c in p.get("chased") or [] if c.get("audience") in ("liaisons", "", None)]
    if not chased:
        return [gettext("No earlier reminders were delivered.", locale=locale)]
    labels = _kind_labels(locale)
    lines = [gettext("Chased before:", locale=locale)]
    for c in chased[-8:]:
        who = esc(c.get("to") or gettext("liaison", locale=locale))
        what = labels.get(c.get("kind", ""), esc(c.get("kind", "")))
        lines.append(f"• {_instant(c.get('at'), locale)} {what} → {who}")
    return lines


def _kind_labels(locale: str) -> dict[str, str]:
    return {
        "reminder": gettext("reminder", locale=locale),
        "ack_chase": gettext("acknowledgement chase", locale=locale),
        "overdue": gettext("overdue notice", locale=locale),
        "escalation": gettext("supervision notice", locale=locale),
        "chase": gettext("chase", locale=locale),
    }


def _escalation(row: Outbox, p: dict[str, Any], locale: str) -> Rendered:
    audience = p.get("audience", "")
    n = int(p.get("days", 0))
    unit = esc(p.get("unit", ""))
    if str(p.get("stage", row.stage)).startswith("ack"):
        lines = [
            _heading("🚨", gettext("Not acknowledged", locale=locale), p),
            _item_line(p),
            _field(gettext("Due", locale=locale), _date(p.get("due"), locale), locale),
            "",
            ngettext(
                "%(unit)s has not acknowledged this item %(n)s working day after it was assigned.",
                "%(unit)s has not acknowledged this item %(n)s working days after it was "
                "assigned.",
                n,
                locale=locale,
            )
            % {"unit": unit, "n": n},
            *_chased_lines(p, locale),
        ]
        return Rendered("\n".join(lines), None, row.assignment_id)
    lines = [
        _heading("🚨", gettext("Supervision notice", locale=locale), p),
        _item_line(p),
        *_target(p, locale),
        _field(
            gettext("Due", locale=locale),
            f"{_date(p.get('due'), locale)} ({esc(_days_overdue(n, locale))})",
            locale,
        ),
        _field(gettext("Responsible unit", locale=locale), unit, locale),
        _field(
            gettext("Status", locale=locale),
            esc(status_label(str(p.get("status", "")), locale)),
            locale,
        ),
        "",
    ]
    if audience == "liaisons":
        lines.append(
            gettext(
                "This item has been escalated to your unit's leader and the plan's "
                "coordinators. Please report progress now.",
                locale=locale,
            )
        )
        return Rendered("\n".join(lines), _keyboard(p, row, locale), row.assignment_id)
    lines += _chased_lines(p, locale)
    return Rendered("\n".join(lines), None, row.assignment_id)


def _chased_brief(c: dict[str, Any] | None, locale: str) -> str:
    c = c or {}
    n = int(c.get("n") or 0)
    if not n:
        return gettext("No earlier reminders were delivered.", locale=locale)
    what = _kind_labels(locale).get(c.get("kind", ""), esc(c.get("kind", "")))
    names = c.get("to") or []
    who = gettext(", ", locale=locale).join(esc(x) for x in names) or gettext(
        "liaison", locale=locale
    )
    return ngettext(
        "Chased %(n)s time, last: %(when)s %(what)s → %(who)s",
        "Chased %(n)s times, last: %(when)s %(what)s → %(who)s",
        n,
        locale=locale,
    ) % {"n": n, "when": _instant(c.get("at"), locale), "what": what, "who": who}


def _listed_item(i: dict[str, Any], units: bool, locale: str) -> str:
    """One line of a liaison's 逾期事项清单: ref, title, due date, days overdue (· 督办)."""
    item = f"<b>{esc(i.get('ref', ''))}</b> {esc(_short(i.get('title', ''), 60))}"
    due, how = _date(i.get("due"), locale), esc(_days_overdue(int(i.get("days", 0)), locale))
    if units:  # a liaison of several units
        line = gettext("{item} — {unit}, due {due}, {how}", locale=locale).format(
            item=item, unit=esc(i.get("unit", "")), due=due, how=how
        )
    else:
        line = gettext("{item} — due {due}, {how}", locale=locale).format(
            item=item, due=due, how=how
        )
    if i.get("kind") == "escalation":
        line += " · " + esc(gettext("under supervision", locale=locale))
    return line


def _escalation_batch(row: Outbox, p: dict[str, Any], locale: str) -> Rendered:
    """督办汇总 (escalation_batch): the items escalated today to this leader or coordinator;
    逾期事项清单 (overdue_batch): a liaison's overdue items of the day, in one message instead
    of one each. Worst first, in both."""
    listing = row.kind == "overdue_batch"
    total = int(p.get("total", 0))
    counts = p.get("counts") or {}
    items = p.get("items") or []
    if listing:
        label = gettext("Overdue items", locale=locale)
        if p.get("follow_up"):
            label = gettext("Overdue items (follow-up)", locale=locale)
        summary = ngettext(
            "%(n)s item is overdue. Please report progress on each of them.",
            "%(n)s items are overdue. Please report progress on each of them.",
            total,
            locale=locale,
        )
        units = len({i.get("unit") for i in items}) > 1
        lines = [
            _heading("⚠️", label, p),
            esc(_date(p.get("date"), locale)) + " · " + summary % {"n": total},
            "",
        ]
        lines += [f"{n}. {_listed_item(i, units, locale)}" for n, i in enumerate(items, 1)]
        lines += [
            "",
            esc(gettext("Use /my to see them and report on each, or /task REF.", locale=locale)),
        ]
        return Rendered("\n".join(lines), None, None)
    label = gettext("Supervision summary", locale=locale)
    if p.get("follow_up"):
        label = gettext("Supervision summary (follow-up)", locale=locale)
    lines = [
        _heading("🚨", label, p),
        esc(_date(p.get("date"), locale))
        + " · "
        + ngettext(
            "%(n)s item escalated today", "%(n)s items escalated today", total, locale=locale
        )
        % {"n": total},
    ]
    sections = (
        ("due", gettext("Overdue ({n})", locale=locale)),
        ("ack", gettext("Not acknowledged in time ({n})", locale=locale)),
    )
    rank = 0
    for ladder, title in sections:
        chosen = [i for i in items if i.get("ladder", "due") == ladder]
        if not chosen:
            continue
        lines += ["", f"<b>{esc(title.format(n=counts.get(ladder, len(chosen))))}</b>"]
        for i in chosen:
            rank += 1
            days = int(i.get("days", 0))
            if ladder == "due":
                how = _days_overdue(days, locale)
            else:
                how = ngettext(
                    "not acknowledged %(n)s working day after assignment",
                    "not acknowledged %(n)s working days after assignment",
                    days,
                    locale=locale,
                ) % {"n": days}
            item = f"<b>{esc(i.get('ref', ''))}</b> {esc(_short(i.get('title', ''), 60))}"
            lines.append(
                f"{rank}. "
                + gettext("{item} — {unit}, {how}", locale=locale).format(
                    item=item, unit=esc(i.get("unit", "")), how=esc(how)
                )
            )
            lines.append("    " + _chased_brief(i.get("chased"), locale))
    more = int(p.get("more", 0))
    if more:
        lines.append(
            ngettext("…and %(n)s more", "…and %(n)s more", more, locale=locale) % {"n": more}
        )
    lines += [
        "",
        esc(gettext("Send /task REF for the details of an item.", locale=locale)),
    ]
    return Rendered("\n".join(lines), None, None)


def _periodic(row: Outbox, p: dict[str, Any], locale: str) -> Rendered:
    lines = [
        _heading("🗓", gettext("Periodic report due", locale=locale), p),
        _item_line(p),
        *_target(p, locale),
        _field(gettext("Period ends", locale=locale), _date(p.get("period_end"), locale), locale),
        "",
        gettext(
            "This is a recurring duty. Please report what was done in this period: reply to "
            "this message, or use the buttons below.",
            locale=locale,
        ),
    ]
    return Rendered("\n".join(lines), _keyboard(p, row, locale), row.assignment_id)


def _chase(row: Outbox, p: dict[str, Any], locale: str) -> Rendered:
    lines = [_heading("📣", gettext("Chase from the coordinator", locale=locale), p)]
    if p.get("ref") or p.get("title"):
        lines.append(_item_line(p))
    if p.get("due"):
        days = p.get("days")
        due = _date(p.get("due"), locale)
        if isinstance(days, int):
            due += f" ({esc(days_text(days, locale))})"
        lines.append(_field(gettext("Due", locale=locale), due, locale))
    if p.get("unit"):
        lines.append(_field(gettext("Responsible unit", locale=locale), esc(p["unit"]), locale))
    if p.get("note"):
        lines += ["", f"“{esc(p['note'])}”" + (f" — {esc(p['by'])}" if p.get("by") else "")]
    lines += ["", gettext("Please report progress with the buttons below.", locale=locale)]
    return Rendered("\n".join(lines), _keyboard(p, row, locale), row.assignment_id)


def _decision(row: Outbox, p: dict[str, Any], locale: str) -> Rendered:
    """What waits for the coordinator's decision (bot.services.decision_push), with the
    办结 / 退回 and 批准 / 驳回 buttons of /pending."""
    from bot.services.decision_push import decision_of
    from bot.telegram.coordinator.pending_render import pending_keyboard, pending_text

    # news, not a backlog: no "waiting N days" on a notice sent the moment it arrives
    decisions = [replace(decision_of(i), since=None) for i in p.get("items", [])]
    text = pending_text(decisions, page=0, now=row.created_at, locale=locale)
    return Rendered(text, pending_keyboard(decisions, page=0, locale=locale), None)


def _notice(row: Outbox, p: dict[str, Any], locale: str) -> Rendered:
    return Rendered(str(p.get("text", "")), None, row.assignment_id)


# --- the digest -------------------------------------------------------------------------------


def _rate(pair: list[int] | None, locale: str) -> str:
    num, den = (pair or [0, 0])[:2]
    if not den:
        return "—"
    return f"{format_percent(num / den, locale=locale)} ({num}/{den})"


def _digest_items(title: str, items: list[dict], more: int, line, locale: str) -> list[str]:
    if not items:
        return []
    lines = [f"<b>{esc(title)}</b>"]
    lines += [line(i) for i in items]
    if more:
        lines.append(
            ngettext("…and %(n)s more", "…and %(n)s more", more, locale=locale) % {"n": more}
        )
    return lines


def _digest(row: Outbox, p: dict[str, Any], locale: str) -> Rendered:
    week_start = p.get("week_start")
    lines = [
        "📊 <b>"
        + esc(gettext("Weekly digest", locale=locale))
        + "</b> · "
        + esc(gettext("week of {date}", locale=locale).format(date=_date(week_start, locale)))
    ]
    plans = p.get("plans") or []
    if not plans:
        lines += ["", gettext("Nothing to report this week.", locale=locale)]

    def item(i: dict) -> str:
        return f"• <b>{esc(i.get('ref', ''))}</b> {esc(_short(i.get('title', ''), 60))} — " + esc(
            i.get("unit", "")
        )

    def late(i: dict) -> str:
        return f"{item(i)}, {esc(_days_overdue(int(i.get('days', 0)), locale))}"

    def soon(i: dict) -> str:
        return (
            f"{item(i)}, {_date(i.get('due'), locale)} "
            f"({esc(days_text(int(i.get('days', 0)), locale))})"
        )

    for plan in plans:
        more = plan.get("more") or {}
        totals = plan.get("totals") or {}
        lines += ["", f"<b>{esc(plan.get('code', ''))}</b> {esc(plan.get('title', ''))}"]
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
            items = plan.get(name) or []
            if items:
                empty = False
            lines += _digest_items(
                title.format(n=totals.get(name, len(items))),
                items,
                int(more.get(name, 0)),
                line,
                locale,
            )
        if empty:
            lines.append(gettext("No changes and nothing due soon.", locale=locale))
        card = plan.get("scorecard") or []
        if card:
            lines.append("<b>🏅 " + esc(gettext("Unit scorecard", locale=locale)) + "</b>")
            for r in card:
                mark = "👉 " if r.get("mine") else ""
                lines.append(
                    gettext(
                        "{rank}. {mark}{unit}: red {red} (overdue {overdue}) · on-time "
                        "completion {on_time} · timely acknowledgement {ack}",
                        locale=locale,
                    ).format(
                        rank=r.get("rank", ""),
                        mark=mark,
                        unit=esc(r.get("unit", "")),
                        overdue=r.get("overdue", 0),
                        red=r.get("red", r.get("overdue", 0)),
                        on_time=_rate(r.get("on_time"), locale),
                        ack=_rate(r.get("ack"), locale),
                    )
                )
    return Rendered("\n".join(lines), None, None)


_RENDERERS: dict[str, Callable[[Outbox, dict[str, Any], str], Rendered]] = {
    "reminder": _reminder,
    "ack_chase": _ack_chase,
    "overdue": _overdue,
    "escalation": _escalation,
    "escalation_batch": _escalation_batch,
    "overdue_batch": _escalation_batch,  # a liaison's 逾期事项清单: the same code
    "periodic": _periodic,
    "chase": _chase,
    "digest": _digest,
    NOTICE: _notice,
    "decision": _decision,
}
