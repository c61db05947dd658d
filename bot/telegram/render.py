"""Rendering of the liaison side: one function per message kind, HTML parse mode.

Every piece of user or plan text goes through `esc` (html.escape); dates and numbers through
bot.i18n in the reader's locale. Functions take the locale explicitly so that scheduler jobs
can render the same lines outside an update. Long texts are split by bot.telegram.limits.
"""

from __future__ import annotations

import html
from collections import Counter
from datetime import date, tzinfo

from bot.core.history import (
    ACTOR_COORDINATOR,
    ACTOR_IMPORT,
    ACTOR_SYSTEM,
    MACHINE_ACTORS,
    DueChange,
    read_due_change,
)
from bot.core.lights import LIGHT_EMOJI, Light
from bot.core.status import BLOCKED, CLOSED, DONE_REPORTED, IN_PROGRESS, NOT_STARTED, Action
from bot.i18n import format_date, format_datetime, gettext, ngettext
from bot.services.assignments import AssignmentRow, HistoryRow, Page, ReportOutcome, TaskDetail
from bot.telegram.limits import split_html

TEXT_PREVIEW = 1200  # characters of a task's full text on its card
CO_UNITS_SHOWN = 5  # co-operating units of a milestone listed one by one; more become counts
STATUS_ORDER = (NOT_STARTED, IN_PROGRESS, BLOCKED, DONE_REPORTED, CLOSED)


def _date_or_dash(day: date | None, locale: str) -> str:
    """A date in the locale's short form; "—" when there is none."""
    return format_date(day, locale=locale) if day is not None else "—"


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


ECHO_MAX = 300  # characters of what someone typed that an answer quotes back


def echo(value: object, limit: int = ECHO_MAX) -> str:
    """Something a person typed, quoted back in an answer: escaped for HTML and cut to
    `limit` characters, so that the answer always parses and fits one message."""
    text = str(value)
    return esc(text if len(text) <= limit else text[: limit - 1] + "…")


def status_label(status: str, locale: str) -> str:
    labels = {
        NOT_STARTED: gettext("Not started", locale=locale),
        IN_PROGRESS: gettext("In progress", locale=locale),
        BLOCKED: gettext("Blocked", locale=locale),
        DONE_REPORTED: gettext("Done, awaiting confirmation", locale=locale),
        CLOSED: gettext("Closed", locale=locale),
    }
    return labels.get(status, status)


def role_label(role: str, locale: str) -> str:
    if role == "lead":
        return gettext("lead", locale=locale)
    return gettext("co-operating", locale=locale)


def days_text(days_left: int, locale: str) -> str:
    """“3 days left”, “due today”, “5 days late”."""
    if days_left == 0:
        return gettext("due today", locale=locale)
    if days_left > 0:
        return ngettext("%(n)s day left", "%(n)s days left", days_left, locale=locale) % {
            "n": days_left
        }
    late = -days_left
    return ngettext("%(n)s day late", "%(n)s days late", late, locale=locale) % {"n": late}


def progress_text(progress: int | None) -> str:
    return f" {progress}%" if progress is not None else ""


def light_mark(light: Light | str) -> str:
    return LIGHT_EMOJI.get(Light(light), "")


# --- /my -----------------------------------------------------------------------------------


def light_group_label(light: Light | str, locale: str) -> str:
    labels = {
        Light.RED: gettext("overdue or far behind", locale=locale),
        Light.YELLOW: gettext("needs attention", locale=locale),
        Light.GREEN: gettext("on track", locale=locale),
        Light.GREY: gettext("closed", locale=locale),
    }
    return labels[Light(light)]


def my_list(page: Page, *, locale: str) -> str:
    if page.total == 0:
        return gettext("You have no open items. New assignments will arrive here.", locale=locale)
    head = gettext("<b>My items</b> (%(total)s open)", locale=locale) % {"total": page.total}
    counts = " ".join(
        f"{LIGHT_EMOJI[light]}{page.counts[light]}"
        for light in (Light.RED, Light.YELLOW, Light.GREEN)
        if page.counts.get(light)
    )
    lines = [f"{head}  {counts}".rstrip()]
    plan, light = None, None
    for row in page.items:
        if row.plan_code != plan:
            plan, light = row.plan_code, None
            lines += ["", f"<b>{esc(plan)}</b>"]
        if row.light != light:
            light = row.light
            lines.append(f"{light_mark(light)} <i>{esc(light_group_label(light, locale))}</i>")
        lines.append(
            my_line(
                row, locale=locale, more=page.more.get(row.assignment_id, 0), unit=page.units > 1
            )
        )
    if page.pages > 1:
        lines.append("")
        lines.append(
            gettext("Page %(page)s of %(pages)s", locale=locale)
            % {"page": page.page + 1, "pages": page.pages}
        )
    lines.append(gettext("Tap an item to open it and report.", locale=locale))
    return "\n".join(lines)


def my_line(row: AssignmentRow, *, locale: str, more: int = 0, unit: bool = False) -> str:
    """One item on one line: ref, short title, days left or late, status, what else waits."""
    parts = [days_text(row.days_left, locale), status_label(row.status, locale)]
    parts[-1] += progress_text(row.progress)
    if not row.acknowledged:
        parts.append(gettext("not acknowledged", locale=locale))
    if more:
        parts.append(
            ngettext("%(n)s more milestone", "%(n)s more milestones", more, locale=locale)
            % {"n": more}
        )
    who = f"{esc(row.unit_short)} · " if unit else ""
    return f"  <b>{esc(row.ref)}</b> {esc(short(row.title, 24))} · {who}" + " · ".join(
        esc(p) for p in parts
    )


def short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- /task -----------------------------------------------------------------------------------


def co_units_folded(detail: TaskDetail) -> bool:
    """Whether the card (unless expanded) shows some milestone's co-operating units as counts."""
    return any(
        sum(a.role != "lead" for a in m.assignments) > CO_UNITS_SHOWN for m in detail.milestones
    )


def status_counts(statuses: dict[str, int], locale: str) -> str:
    """Units by status in the order of the ladder, e.g. 未开始 12 · 进行中 4."""
    order = [s for s in STATUS_ORDER if statuses.get(s)]
    order += sorted(s for s in statuses if s not in STATUS_ORDER and statuses[s])
    return " · ".join(f"{status_label(s, locale)} {statuses[s]}" for s in order)


def co_units_line(co: list[AssignmentRow], *, locale: str) -> str:
    counts = Counter(a.status for a in co)
    return gettext("Co-operating units %(count)s: %(statuses)s", locale=locale) % {
        "count": len(co),
        "statuses": esc(status_counts(dict(counts), locale)),
    }


def task_card(
    detail: TaskDetail,
    *,
    locale: str,
    zone: tzinfo,
    focus: AssignmentRow | None = None,
    expand: bool = False,
) -> list[str]:
    """The card of a task: text, milestones with targets, each unit's status, recent history.
    More than CO_UNITS_SHOWN co-operating units of a milestone are shown as counts by status
    (the viewer's own unit stays listed) unless `expand`. Returned as parts that each fit one
    message."""
    task, plan = detail.task, detail.plan
    lines = [f"<b>{esc(task.ref)}</b> {esc(task.title)}"]
    lines.append(f"<i>{esc(plan.title)}</i>" + (f" · {esc(task.section)}" if task.section else ""))
    if task.text and task.text.strip() != task.title.strip():
        lines += ["", esc(short(task.text, TEXT_PREVIEW))]
    if task.kind == "indicator" and (task.baseline or task.target):
        lines.append(
            gettext("Baseline %(baseline)s → target %(target)s %(unit)s", locale=locale)
            % {
                "baseline": esc(task.baseline or "—"),
                "target": esc(task.target or "—"),
                "unit": esc(task.measure_unit),
            }
        )
    lines += ["", gettext("<b>Milestones</b>", locale=locale)]
    mine = {a.assignment_id for a in detail.mine}
    for m in detail.milestones:
        target = f" — {esc(m.target)}" if m.target else ""
        lines.append(f"📅 {format_date(m.due, locale=locale)}{target}")
        co = [a for a in m.assignments if a.role != "lead"]
        fold = not expand and len(co) > CO_UNITS_SHOWN
        for a in m.assignments:
            if not fold or a.role == "lead" or a.assignment_id in mine:
                lines.append("    " + unit_status_line(a, locale=locale))
        if fold:
            lines.append("    " + co_units_line(co, locale=locale))
    if not detail.milestones:
        lines.append(gettext("No milestones.", locale=locale))
    if detail.history:
        lines += ["", gettext("<b>Recent history</b>", locale=locale)]
        lines += [history_line(h, locale=locale, zone=zone) for h in detail.history]
    current = focus or detail.current
    if current is not None:
        lines += [
            "",
            gettext("Buttons apply to: %(unit)s, due %(due)s.", locale=locale)
            % {"unit": esc(current.unit_short), "due": format_date(current.due, locale=locale)},
            gettext(
                "Reply to this message with text, a photo or a file to add a note.", locale=locale
            ),
        ]
    return split_html("\n".join(lines))


def unit_status_line(a: AssignmentRow, *, locale: str) -> str:
    parts = [
        f"{light_mark(a.light)} {esc(a.unit_short)} ({role_label(a.role, locale)})",
        esc(status_label(a.status, locale) + progress_text(a.progress)),
    ]
    if a.due != a.original_due:
        parts.append(
            gettext("extended to %(date)s", locale=locale)
            % {"date": format_date(a.due, locale=locale)}
        )
    if a.extension_requested_to:
        parts.append(
            gettext("extension to %(date)s requested", locale=locale)
            % {"date": format_date(a.extension_requested_to, locale=locale)}
        )
    if not a.acknowledged:
        parts.append(gettext("not acknowledged", locale=locale))
    return " · ".join(parts)


def event_label(kind: str, locale: str) -> str:
    labels = {
        "report": gettext("report", locale=locale),
        "note": gettext("note", locale=locale),
        "ack": gettext("acknowledged", locale=locale),
        "confirm": gettext("confirmed closed", locale=locale),
        "return": gettext("returned", locale=locale),
        "extension_request": gettext("extension requested", locale=locale),
        "extension_approve": gettext("extension approved", locale=locale),
        "extension_deny": gettext("extension denied", locale=locale),
        "remind": gettext("reminded", locale=locale),
        "due_change": gettext("due date changed", locale=locale),
        "undo": gettext("undone", locale=locale),
    }
    return labels.get(kind, kind)


def actor_text(label: str, by_person: bool, locale: str) -> str:
    """Who did it: a person's name as stored, or a machine label translated."""
    if by_person or label not in MACHINE_ACTORS:
        return label
    labels = {
        ACTOR_IMPORT: gettext("plan import", locale=locale),
        ACTOR_SYSTEM: gettext("the bot", locale=locale),
        ACTOR_COORDINATOR: gettext("coordinator", locale=locale),
    }
    return labels[label]


def due_change_text(h: HistoryRow, locale: str) -> str:
    """A due date moved by a plan reload, from its machine-readable note (or, for a note that
    is not one, the event's own dates)."""
    change = read_due_change(h.note)
    if change is None:
        before, after = h.due_before, h.due_after
        if before is None or after is None:
            return gettext("due date changed", locale=locale)
        change = DueChange(before, after)
    text = gettext("the plan moved the due date: %(old)s → %(new)s", locale=locale) % {
        "old": format_date(change.old, locale=locale),
        "new": format_date(change.new, locale=locale),
    }
    if change.kept is not None:
        text += gettext("; the approved extension to %(date)s stays", locale=locale) % {
            "date": format_date(change.kept, locale=locale)
        }
    return text


def history_line(h: HistoryRow, *, locale: str, zone: tzinfo) -> str:
    when = format_datetime(h.at, locale=locale, zone=zone)
    what = event_label(h.kind, locale)
    note = h.note
    if h.kind == "report" and h.new_status:
        what = status_label(h.new_status, locale) + progress_text(h.progress)
    if h.kind == "undo" and h.new_status:  # 撤销 of a reply read as a report: what it restored
        what += " → " + status_label(h.new_status, locale) + progress_text(h.progress)
    if h.due_after and h.kind.startswith("extension"):
        what += " " + format_date(h.due_after, locale=locale)
    if h.kind == "due_change":
        what, note = due_change_text(h, locale), ""  # the note is the machine's, rendered
    who = actor_text(h.actor_label, h.by_person, locale)
    line = f"• {when} {esc(who)} ({esc(short(h.unit_name, 20))}): {esc(what)}"
    if h.evidence_kind == "photo":
        line += " 📷"
    elif h.evidence_kind == "document":
        line += " 📎"
    if note:
        line += f" — {esc(short(note, 200))}"
    return line


# --- reports ---------------------------------------------------------------------------------


def report_ack(outcome: ReportOutcome, *, locale: str) -> str:
    """The one line that acknowledges a liaison's report."""
    row = outcome.row
    who = f"<b>{esc(row.ref)}</b> · {esc(row.unit_short)}"
    action = outcome.transition.action
    if action is Action.ACK:
        return gettext("✅ %(who)s: acknowledged.", locale=locale) % {"who": who}
    if action is Action.NOTE:
        evidence = outcome.event.evidence_kind
        if evidence == "photo":
            return gettext("✅ %(who)s: note with photo recorded.", locale=locale) % {"who": who}
        if evidence == "document":
            return gettext("✅ %(who)s: note with file recorded.", locale=locale) % {"who": who}
        return gettext("✅ %(who)s: note recorded.", locale=locale) % {"who": who}
    if action is Action.EXTEND:
        return gettext(
            "✅ %(who)s: extension to %(date)s requested, awaiting approval.", locale=locale
        ) % {"who": who, "date": _date_or_dash(row.extension_requested_to, locale)}
    if row.status == DONE_REPORTED:
        return gettext(
            "✅ %(who)s: reported done, awaiting the coordinator's confirmation.", locale=locale
        ) % {"who": who}
    if row.status == BLOCKED:
        return gettext(
            "✅ %(who)s: reported blocked. Reply to this message to explain what is needed.",
            locale=locale,
        ) % {"who": who}
    return gettext("✅ %(who)s: %(status)s recorded.", locale=locale) % {
        "who": who,
        "status": esc(status_label(row.status, locale) + progress_text(row.progress)),
    }


def continuation_ack(row: AssignmentRow, *, locale: str) -> str:
    """The answer to the second part of a long text that Telegram split."""
    return gettext(
        "✅ %(who)s: the rest of your long message is recorded as a note with the first part.",
        locale=locale,
    ) % {"who": f"<b>{esc(row.ref)}</b> · {esc(row.unit_short)}"}


def extend_prompt(row: AssignmentRow, *, locale: str) -> str:
    return gettext(
        "%(who)s is due %(due)s. Reply to this message with the new due date, e.g. %(example)s.",
        locale=locale,
    ) % {
        "who": f"<b>{esc(row.ref)}</b> · {esc(row.unit_short)}",
        "due": format_date(row.due, locale=locale),
        "example": "2026-03-31",
    }
