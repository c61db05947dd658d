"""The liaison's morning brief (今日待办), pure: which item goes in which section, one line per
item, most urgent first, and the slots of a day.

A planning pass writes one Outbox row per stage and recipient as always (the ladder of
`bot.core.planner`, untouched); `bot.services.briefs` then bundles the rows of a liaison who
gets briefs (policy `brief.audiences`) into ONE brief row per working day, marking each carried
row with the brief's key, so "stages planned == stages notified" stays countable row by row.
This module decides the brief's content from the carried rows' payloads:

- sections, most urgent first (`BRIEF_SECTIONS`): od overdue (逾期提醒 and 督办; latest first),
  d0 due today, d1 tomorrow, d7 within 7 days, d30 within 30 days (nearest first), ack waiting
  for 签收 (the acknowledgement chase), per report requests of recurring duties;
- one line per item (plan and ref): an item with several stages on the day (a reminder and its
  签收 chase, or several milestones) is listed once, in its most urgent section; it is
  unacknowledged if any of them says so;
- `slot(...)`: the brief of the day (0), the one same-day follow-up (1), or "hold it for the
  next brief" (None), so that a liaison gets at most two bundled messages a day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from bot.core.notices import (
    BRIEF_SECTIONS,
    BatchNotice,
    BriefItem,
    ItemNotice,
    OutboxKind,
    lean_listed,
    lean_stage,
    read_payload,
)
from bot.core.policy import Policy
from bot.core.workdays import opening_on_or_after

# the kinds a brief carries (to the audiences that get briefs); a coordinator's 催办, notices
# and decisions stay messages of their own
BRIEFED_KINDS = frozenset(
    {
        OutboxKind.REMINDER,
        OutboxKind.ACK_CHASE,
        OutboxKind.OVERDUE,
        OutboxKind.ESCALATION,
        OutboxKind.PERIODIC,
        OutboxKind.OVERDUE_BATCH,
    }
)
TITLE_CHARS = 24  # an item's title in a brief line is cut to this many characters
FOLLOW_UPS = 1  # same-day notices after the morning brief


def reminder_section(days_left: int) -> str:
    """d0 / d1 / d7 / d30 by the days left (the ladder's default stages; a policy's other
    days fall in the nearest section at or above them)."""
    if days_left <= 0:
        return "d0"
    if days_left <= 1:
        return "d1"
    if days_left <= 7:
        return "d7"
    return "d30"


def short_title(text: str) -> str:
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


_LISTS = frozenset({OutboxKind.OVERDUE_BATCH, OutboxKind.ESCALATION_BATCH})
# the kinds of one item's stage (their payloads `bot.core.notices.stage_payload`)
_STAGES = frozenset(
    {
        OutboxKind.REMINDER,
        OutboxKind.ACK_CHASE,
        OutboxKind.OVERDUE,
        OutboxKind.ESCALATION,
        OutboxKind.PERIODIC,
        OutboxKind.CHASE,
    }
)


def items_of(kind: str, payload: Mapping[str, Any], assignment_id: int | None) -> list[BriefItem]:
    """The brief items of one carried row (a 逾期事项清单 row carries several)."""
    if kind in _LISTS:
        found = lean_listed(payload)
        if found is not None:  # the items as lean lists: read without making them
            plan = str(payload.get("plan") or "")
            plan_title = str(payload.get("plan_title") or "")
            return [
                BriefItem(
                    id=int(aid),
                    ref=ref,
                    title="",
                    plan=plan,
                    plan_title=plan_title,
                    section="od",
                    days=days,
                    due=due,
                    escalated=escalated,
                )
                for aid, ref, days, due, escalated in found
                if aid
            ]
    elif kind in _STAGES and assignment_id is not None:
        stage = lean_stage(payload)
        if stage is not None:  # a planned row's lean payload: read without the notice
            return [_stage_item(kind, assignment_id, *stage)]
    notice = read_payload(kind, payload)
    if isinstance(notice, BatchNotice):
        return [
            BriefItem(
                id=int(i.id or 0),
                ref=i.ref,
                title=short_title(i.title),
                plan=notice.plan,
                plan_title=notice.plan_title,
                section="od",
                days=i.days,
                due=i.due,
                escalated=i.kind == OutboxKind.ESCALATION,
            )
            for i in notice.items
            if i.id
        ]
    if not isinstance(notice, ItemNotice) or assignment_id is None:
        return []
    return [
        _stage_item(
            kind,
            assignment_id,
            notice.plan,
            notice.days,
            notice.due,
            notice.period_end,
            notice.ref,
            short_title(notice.title),
            notice.plan_title,
            notice.acknowledged,
        )
    ]


def _stage_item(
    kind: str,
    assignment_id: int,
    plan: str,
    days: int | None,
    due: date | None,
    period_end: date | None,
    ref: str = "",
    title: str = "",
    plan_title: str = "",
    acknowledged: bool = True,
) -> BriefItem:
    """The brief item of one stage row (a reminder, chase, overdue notice, 督办 or report
    request)."""
    days = days or 0
    if kind == OutboxKind.REMINDER:
        section = reminder_section(days)
    elif kind == OutboxKind.ACK_CHASE:
        section = "ack"
    elif kind in (OutboxKind.OVERDUE, OutboxKind.ESCALATION):
        section = "od"
    else:
        section = "per"
    return BriefItem(
        id=assignment_id,
        ref=ref,
        title=title,
        plan=plan,
        plan_title=plan_title,
        section=section,
        days=days,
        due=period_end if section == "per" else due,
        acknowledged=acknowledged,
        escalated=kind == OutboxKind.ESCALATION,
    )


def merge(items: Iterable[BriefItem]) -> tuple[BriefItem, ...]:
    """One line per item (plan and ref): its most urgent stage over all its milestones'
    assignments (the others' ids in `also`, for 全部签收), unacknowledged if any of them is;
    most urgent first."""
    best: dict[tuple[str, str], BriefItem] = {}
    ids: dict[tuple[str, str], list[int]] = {}
    unacknowledged: set[tuple[str, str]] = set()
    for item in items:
        key = (item.plan, item.ref)
        if not item.acknowledged:
            unacknowledged.add(key)
        found = ids.setdefault(key, [])
        if item.id not in found:
            found.append(item.id)
        current = best.get(key)
        if current is None or item.rank() < current.rank():
            best[key] = item
    out = []
    for key, item in best.items():
        also = tuple(i for i in ids[key] if i != item.id)
        # every field given (not `dataclasses.replace`: a first pass merges tens of
        # thousands of items, and replace costs five times more)
        out.append(
            BriefItem(
                item.id,
                item.ref,
                item.title,
                item.plan,
                item.plan_title,
                item.section,
                item.days,
                item.due,
                key not in unacknowledged,
                item.escalated,
                also,
            )
        )
    return tuple(sorted(out, key=BriefItem.rank))


def assignment_ids(items: Iterable[BriefItem]) -> list[int]:
    """Every assignment of these lines (a line's own and its other milestones')."""
    return [i for item in items for i in (item.id, *item.also)]


def sections(items: Iterable[BriefItem]) -> dict[str, list[BriefItem]]:
    """Section → its items (in the given order), sections most urgent first, empty ones left
    out."""
    out: dict[str, list[BriefItem]] = {name: [] for name in BRIEF_SECTIONS}
    for item in items:
        out.setdefault(item.section, []).append(item)
    return {name: found for name, found in out.items() if found}


def to_acknowledge(items: Iterable[BriefItem]) -> list[BriefItem]:
    """The items that wait for 签收 (the 全部签收 button acknowledges them)."""
    return [item for item in items if not item.acknowledged]


def slot(sent_today: int) -> int | None:
    """Which brief of the day a chat's new rows go into, given how many briefs it has today:
    0 the morning brief, 1..FOLLOW_UPS a same-day follow-up, None: hold for the next one."""
    return sent_today if sent_today <= FOLLOW_UPS else None


def brief_head(day: date, number: int) -> str:
    """A brief's key without its chat: "brief:2025-12-24|", follow-ups "brief:2025-12-24#2|"."""
    return f"brief:{day.isoformat()}" + (f"#{number + 1}" if number else "") + "|"


def brief_key(day: date, number: int, chat_id: int) -> str:
    """ "brief:2025-12-24|CHAT", follow-ups "brief:2025-12-24#2|CHAT"."""
    return brief_head(day, number) + str(chat_id)


def brief_time(day: date, policy: Policy) -> datetime:
    """When the brief of the first working day on or after local `day` goes (aware, UTC): the
    policy's brief time, not before the sending window opens nor after it closes."""
    opening = opening_on_or_after(day, policy.window)
    local_day = opening.astimezone(policy.zone).date()
    at = min(max(policy.brief.at, policy.window.start), policy.window.end)
    return max(opening, datetime.combine(local_day, at, tzinfo=policy.zone).astimezone(UTC))
