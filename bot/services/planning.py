"""The database side of planning: snapshots in, Outbox rows out.

`plan_due(session_maker, at, policy)` is what the scheduler's tick calls (then the sender
drains the Outbox). One pass, one transaction:

1. load a snapshot of every open assignment that could have something due (one SELECT over
   assignment ⋈ milestone ⋈ task ⋈ plan, read as plain tuples; items whose latest stage by
   the calendar already has Outbox rows, items due beyond the policy's horizon, and
   unacknowledged items whose last acknowledgement stage has rows are filtered out in SQL);
2. ask the pure planner (`schedules.planner`) what is due at `at`;
3. resolve the audience (liaisons, unit leaders, plan coordinators; subscribed groups for the
   digest) to active people with a Telegram id, one row per chat; a notification with nobody
   to address is dropped here and planned again on the next tick;
4. drop what is already in the Outbox (one anti-join over the keys passed as a JSON array);
5. INSERT … ON CONFLICT(key) DO NOTHING. Keys are f"{kind}:{assignment_id}:{stage}|{chat_id}"
   (digests f"digest:{week}:{chat_id}", summaries and lists below): planning twice,
   overlapping ticks or a crash between planning and sending can never create a second row
   for the same stage and chat.

A notification whose audience has nobody yet (no liaison bound to the unit) inserts nothing and
is planned again on the next tick: once someone is bound, they get the stage that is current
then. Once a stage has rows, people bound later are not added to it (they get the next stage).

督办汇总 (escalation batching, policy `overdue.batch_for`, default [leaders, coordinators])
-------------------------------------------------------------------------------------------
Liaisons get one message per escalated item (with its buttons: they act on it; unless one
pass has too many for them, see 逾期事项清单 below). The
audiences in `batch_for` get instead ONE summary per recipient, plan and day, kind
"escalation_batch", key f"escalation_batch:{plan}:{local date}|{chat}", listing the items
escalated to them in that pass (督办 of overdue items and the acknowledgement escalation),
worst first, capped at `overdue.batch_max_items` (the rest counted), rendered by
`schedules.messages` and split under 4096 characters; /task REF shows one item. An item that
becomes due later the same day (a 退回, someone bound in the afternoon) comes in a follow-up
summary keyed "…:{date}#2|{chat}" rather than being lost. With `batch_for: false` every
audience gets one message per item, as before.

逾期事项清单 (a flooded liaison's list, policy `overdue.liaison_batch_over`, default 5)
-------------------------------------------------------------------------------------
Liaisons normally get one message per item, with its buttons. But when one pass would send a
liaison (one chat) MORE than `liaison_batch_over` overdue notices and 督办 together (counted
over the whole pass and all plans, before the pass is cut into slices; typically the first
window opening after a mostly overdue plan was loaded), the overdue notices and 督办 of every
plan whose threshold is exceeded go to that liaison as ONE list per plan and day instead:
kind "overdue_batch", key f"overdue_batch:{plan}:{local date}|{chat}" (follow-ups "#2"…),
every item listed (ref, title, due date, days overdue, 已督办), worst first, no buttons; the
message ends with "/my … or /task REF". It is the same machinery as the 督办汇总 (`_Batch`,
`_batch_rows`, rendered by the same function), a sibling kind so that a person who is a
liaison of one unit and the leader of another gets their own items to act on apart from the
summary of what was escalated to them. Reminders before the due date, acknowledgement chases
and report requests are never listed. `liaison_batch_over: 0` (or null), per plan or
globally, keeps one message per item. The next stage of a listed item (督办 on day 7, then
every 7 days) is planned as usual, per item or in the list of its own day.

Bookkeeping ("was this stage planned?") stays per item, in the same key space as before, so
the SQL pre-filter of step 1 and the anti-join of step 4 need no change: a stage is planned
when some row is keyed f"{kind}:{assignment_id}:{stage}|…". A batched stage usually has its
liaisons' per-item rows; when it has none (no liaison bound, the acknowledgement escalation
that only goes to leaders), or when a liaison got it in their 逾期事项清单, a MARKER row keyed
f"{kind}:{assignment_id}:{stage}|0" is written with chat 0, status "batched" (the sender
only takes "pending" rows, so it is never sent) and the keys of the summaries and lists that
carry the stage in its payload (and, for a list, the liaisons' names: the chase history shown
to leaders counts a listed stage as a chase of the unit). Summaries, lists, markers and
per-item rows of a pass are written in the same transaction, so a crash leaves all or none,
and a restart or an overlapping tick finds the stage planned and the day's summary or list
keyed.
(The alternative, stage keys inside the summary's JSON payload, would make every pre-filter
and anti-join a JSON scan; zero-chat rows keep them index range probes.)

Payloads carry everything `schedules.messages.render` needs (render has no database): plan,
ref, title, milestone target, due date, days, units, the recipient's audience; escalations also
carry who was chased before and when (from earlier Outbox rows); summaries their items (ref,
title, unit, days overdue, who was chased and when); lists their items (ref, title, unit, due
date, days overdue, overdue or 督办); digests their whole content.
"""

from __future__ import annotations

import heapq
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from bot.storage.models import (
    ROLE_COORDINATOR,
    ROLE_LEADER,
    ROLE_LIAISON,
    Outbox,
)
from schedules.planner import (
    ACK_CHASE,
    COORDINATORS,
    ESCALATION,
    ESCALATION_BATCH,
    GROUPS,
    LEADERS,
    LIAISONS,
    OVERDUE,
    OVERDUE_BATCH,
    REMINDER,
    AssignmentSnapshot,
    Notification,
    PlanningStats,
    ack_stage,
    digest_due,
    due_notifications,
    overdue_stage,
    reminder_stage,
)
from schedules.policy import PlanRules, Policy

log = logging.getLogger(__name__)

OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_CHUNK = 500  # ids per IN (...) list, under SQLite's variable limit
_SLICE = 5000  # notifications turned into rows at a time
# the audience a person is addressed as when they are in several (one row per chat)
_AUDIENCE_ORDER = (LIAISONS, LEADERS, COORDINATORS, GROUPS)
# the status of a marker row: never sent (the sender only takes "pending" rows), it records
# that a batched stage was planned (see the module docstring)
BATCHED = "batched"


@dataclass
class PlanResult:
    """What one planning pass did."""

    at: datetime
    considered: int = 0  # snapshots loaded
    due: int = 0  # notifications due now (before dropping what the Outbox has)
    new: int = 0  # notifications not yet in the Outbox
    inserted: int = 0  # Outbox rows written
    unresolved: int = 0  # due notifications with nobody to send them to (yet)
    digests: int = 0  # digest rows written
    batches: int = 0  # 督办汇总 rows written (one per leader / coordinator and plan)
    lists: int = 0  # 逾期事项清单 rows written (one per flooded liaison and plan)
    batched_items: int = 0  # stages that went into summaries or lists
    markers: int = 0  # marker rows written (batched stages with no per-item row)
    by_kind: dict[str, int] = field(default_factory=dict)  # rows written per kind
    by_audience: dict[str, int] = field(default_factory=dict)  # rows written per audience
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Recipient:
    person_id: int | None
    chat_id: int
    locale: str | None
    name: str = ""


@dataclass
class Directory:
    """Who receives what: active people with a Telegram id, by role."""

    liaisons: dict[int, list[Recipient]] = field(default_factory=lambda: defaultdict(list))
    unit_leaders: dict[int, list[Recipient]] = field(default_factory=lambda: defaultdict(list))
    plan_leaders: dict[int, list[Recipient]] = field(default_factory=lambda: defaultdict(list))
    coordinators: dict[int | None, list[Recipient]] = field(
        default_factory=lambda: defaultdict(list)
    )  # None: of every plan
    groups: list[tuple[Recipient, int | None]] = field(default_factory=list)  # (chat, plan_id)

    def coordinators_of(self, plan_id: int) -> list[Recipient]:
        return [*self.coordinators.get(None, ()), *self.coordinators.get(plan_id, ())]


# --- formats of the SQLite columns (read and written as text by the fast paths) ---------------


def _db_datetime(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _parse_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


# --- step 1: snapshots ---------------------------------------------------------------------

_OPEN = "('not_started', 'in_progress', 'blocked')"
_SELECT = (
    "SELECT a.id, m.task_id, a.unit_id, a.status, a.due, a.assigned_at, a.acknowledged_at, "
    "a.role, p.code"
)
_JOINS = (
    "JOIN task t ON t.id = m.task_id AND t.archived_at IS NULL "
    "JOIN plan p ON p.id = t.plan_id AND p.archived_at IS NULL"
)


def calendar_stage(rules: PlanRules, today: date, due: date) -> tuple[str, str] | None:
    """The latest due-ladder stage of an item due on `due` by the calendar alone (holidays
    ignored), as (kind, stage) with the planner's own stage names; None beyond the reminder
    horizon. The planner may still return an older stage (a holiday delays the newer one):
    then the newer one has no rows and the item is simply loaded."""
    late = (today - due).days
    if late >= rules.overdue_escalate_day:
        steps = (late - rules.overdue_escalate_day) // rules.overdue_repeat_days
        day = rules.overdue_escalate_day + steps * rules.overdue_repeat_days
        return ESCALATION, overdue_stage(day, due)
    if late >= rules.overdue_notice_day:
        return OVERDUE, overdue_stage(rules.overdue_notice_day, due)
    for before in sorted(rules.reminder_days):
        if -late <= before:
            return REMINDER, reminder_stage(before, due)
    return None


async def _due_stages(conn: AsyncConnection, policy: Policy, today: date, horizon: str) -> None:
    """temp.stage_by_due: for every day from the earliest due date of an item up to the
    horizon, the key of the latest calendar stage of an item due that day, as head ||
    assignment id || tail (NULL head: nothing by the calendar). A thousand days stand for
    tens of thousands of items, so the snapshot query builds each item's key with two
    concatenations instead of date arithmetic."""
    # the earliest due date of any item (an index lookup; the few closed days are harmless)
    [(first,)] = await _fetch(conn, "SELECT min(due) FROM assignment")
    rows = []
    if first is not None:
        day, last = date.fromisoformat(first), date.fromisoformat(horizon)
        while day <= last:
            found = calendar_stage(policy.defaults, today, day)
            text = day.isoformat()
            rows.append((text, f"{found[0]}:", f":{found[1]}") if found else (text, None, None))
            day += timedelta(days=1)
    raw = (await conn.get_raw_connection()).driver_connection
    await raw.execute(  # type: ignore[union-attr]
        "CREATE TEMP TABLE IF NOT EXISTS stage_by_due (due DATE PRIMARY KEY, head TEXT, tail TEXT)"
    )
    await raw.execute("DELETE FROM temp.stage_by_due")  # type: ignore[union-attr]
    await raw.executemany(  # type: ignore[union-attr]
        "INSERT INTO temp.stage_by_due VALUES (?, ?, ?)", rows
    )


def _snapshot_sql(policy: Policy) -> str:
    """Open assignments with something possibly due (binds: horizon, long-overdue date).

    A row is skipped when its latest stage by the calendar (`temp.stage_by_due`, filled by
    `_due_stages`) already has Outbox rows: nothing newer can be due for it (the planner would
    return that stage, or an older one that the newer one supersedes). Unacknowledged items
    are loaded (the acknowledgement ladder counts working days) unless long overdue (the due
    ladder has replaced their acknowledgement ladder) or their last acknowledgement stage
    already has rows; so are the plans with rules of their own. A stage batched into a
    督办汇总 has rows too (see the module docstring). CROSS JOIN keeps SQLite from joining
    milestone, task and plan before the Outbox probe has dropped most rows.
    """
    stage = "ds.head || a.id || ds.tail"
    last_ack = f"'{ESCALATION}:' || a.id || ':{ack_stage(policy.defaults.ack_escalate_after)}'"
    own = ",".join(f"'{code}'" for code in policy.plans if code.isalnum())
    bypass = f" OR p.code IN ({own})" if own else ""
    return f"""
{_SELECT}
FROM assignment a LEFT JOIN temp.stage_by_due ds ON ds.due = a.due
CROSS JOIN milestone m ON m.id = a.milestone_id {_JOINS}
WHERE a.status IN {_OPEN} AND a.archived_at IS NULL AND m.archived_at IS NULL
  AND ((a.due <= ? AND (ds.head IS NULL OR NOT EXISTS (
          SELECT 1 FROM outbox o WHERE o.key > {stage} || '|' AND o.key < {stage} || '}}')))
       OR (a.acknowledged_at IS NULL AND a.status = 'not_started' AND a.due >= ?
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.key > {last_ack} || '|'
                           AND o.key < {last_ack} || '}}')){bypass})
"""


# the open assignments of recurring duties (periodic report requests), task first
_RECURRING_SQL = f"""
{_SELECT}, t.recurrence, p.period_start, p.period_end
FROM task t CROSS JOIN milestone m CROSS JOIN assignment a JOIN plan p ON p.id = t.plan_id
WHERE t.recurrence IS NOT NULL AND t.recurrence NOT IN ('[]', '') AND t.archived_at IS NULL
  AND p.archived_at IS NULL
  AND m.task_id = t.id AND m.archived_at IS NULL
  AND a.milestone_id = m.id AND a.status IN {_OPEN} AND a.archived_at IS NULL
"""


async def _fetch(conn: AsyncConnection, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """Plain tuples straight from the driver: no Row objects, no type processing (the hot path
    reads 100,000 rows)."""
    raw = await conn.get_raw_connection()
    cursor = await raw.driver_connection.execute(sql, params)  # type: ignore[union-attr]
    try:
        return list(await cursor.fetchall())
    finally:
        await cursor.close()


async def load_snapshots(
    conn: AsyncConnection, policy: Policy, at: datetime
) -> tuple[list[AssignmentSnapshot], dict[str, int]]:
    """Open assignments that might have something due at `at`, and plan code → plan id."""
    today = at.astimezone(policy.zone).date()
    horizon = (today + timedelta(days=policy.max_lead_days + 1)).isoformat()
    plan_ids = {
        code: pid
        for pid, code in await _fetch(conn, "SELECT id, code FROM plan WHERE archived_at IS NULL")
    }
    await _due_stages(conn, policy, today, horizon)
    long_overdue = (today - timedelta(days=31)).isoformat()
    rows = await _fetch(conn, _snapshot_sql(policy), (horizon, long_overdue))
    recurring = await _fetch(conn, _RECURRING_SQL)
    seen: set[int] = set()
    snaps: list[AssignmentSnapshot] = []
    from_date = date.fromisoformat
    from_dt = datetime.fromisoformat
    dates: dict[str | None, date | None] = {None: None}
    words: dict[str, tuple[str, ...]] = {}
    append = snaps.append

    def day_of(text: str | None) -> date | None:
        found = dates.get(text, dates)
        if found is dates:
            found = dates[text] = from_date(text)  # type: ignore[arg-type]
        return found  # type: ignore[return-value]

    # recurring duties first: their rows carry the recurrence
    for (
        aid,
        task_id,
        unit_id,
        status,
        due,
        assigned,
        acked,
        role,
        code,
        rec,
        start,
        end,
    ) in recurring:
        if aid in seen:
            continue
        seen.add(aid)
        recurrence = words.get(rec)
        if recurrence is None:
            recurrence = words[rec] = tuple(json.loads(rec)) if rec else ()
        append(
            AssignmentSnapshot(
                aid,
                code,
                unit_id,
                status,
                day_of(due),  # type: ignore[arg-type]
                from_dt(assigned).replace(tzinfo=UTC),
                None if acked is None else from_dt(acked).replace(tzinfo=UTC),
                None,
                None,
                role,
                task_id,
                recurrence,
                day_of(start) if recurrence else None,
                day_of(end) if recurrence else None,
            )
        )
    for aid, task_id, unit_id, status, due, assigned, acked, role, code in rows:
        if aid in seen:  # loaded twice
            continue
        seen.add(aid)
        append(
            AssignmentSnapshot(
                aid,
                code,
                unit_id,
                status,
                day_of(due),  # type: ignore[arg-type]
                from_dt(assigned).replace(tzinfo=UTC),
                None if acked is None else from_dt(acked).replace(tzinfo=UTC),
                None,
                None,
                role,
                task_id,
            )
        )
    return snaps, plan_ids


# --- step 3: what is new -------------------------------------------------------------------


async def _new_keys(conn: AsyncConnection, keys: Iterable[str]) -> set[str]:
    """The notification keys that have no Outbox row yet (any chat, snoozed copies and batch
    markers included). One statement: the keys go in as one JSON array (json_each), and rows
    of a notification are keyed "<key>|<chat>", so '|' < '}' bounds each range."""
    listed = sorted(set(keys))
    fresh: set[str] = set()
    for start in range(0, len(listed), 20_000):
        rows = await _fetch(
            conn,
            "SELECT k.value FROM json_each(?) k WHERE NOT EXISTS ("
            " SELECT 1 FROM outbox o WHERE o.key > k.value || '|' AND o.key < k.value || '}')",
            (json.dumps(listed[start : start + 20_000], ensure_ascii=False),),
        )
        fresh.update(row[0] for row in rows)
    return fresh


# --- step 4: recipients --------------------------------------------------------------------


async def load_directory(conn: AsyncConnection) -> Directory:
    rows = await _fetch(
        conn,
        "SELECT ms.role, ms.unit_id, ms.plan_id, pe.id, pe.telegram_id, pe.locale, pe.name "
        "FROM membership ms JOIN person pe ON pe.id = ms.person_id "
        "WHERE ms.revoked_at IS NULL AND pe.active AND pe.telegram_id IS NOT NULL "
        "ORDER BY pe.id",
    )
    directory = Directory()
    for role, unit_id, plan_id, person_id, telegram_id, locale, name in rows:
        who = Recipient(person_id, telegram_id, locale, name or "")
        if role == ROLE_LIAISON and unit_id is not None:
            directory.liaisons[unit_id].append(who)
        elif role == ROLE_LEADER and unit_id is not None:
            directory.unit_leaders[unit_id].append(who)
        elif role == ROLE_LEADER and plan_id is not None:
            directory.plan_leaders[plan_id].append(who)
        elif role == ROLE_COORDINATOR:
            directory.coordinators[plan_id].append(who)
    groups = await _fetch(
        conn, "SELECT chat_id, locale, plan_id, title FROM chatsubscription WHERE active"
    )
    for chat_id, locale, plan_id, title in groups:
        directory.groups.append((Recipient(None, chat_id, locale, title or ""), plan_id))
    return directory


def _audience_members(
    note: Notification, directory: Directory, plan_id: int
) -> list[tuple[str, Recipient]]:
    """(audience, recipient) pairs, one per chat, addressed by the first audience they are in."""
    seen: set[int] = set()
    out: list[tuple[str, Recipient]] = []
    for audience in _AUDIENCE_ORDER:
        if audience not in note.audience:
            continue
        if audience == LIAISONS:
            people = directory.liaisons.get(note.unit_id or 0, [])
        elif audience == LEADERS:
            people = directory.unit_leaders.get(note.unit_id or 0, [])
        elif audience == COORDINATORS:
            people = directory.coordinators_of(plan_id)
        else:
            people = []
        for who in people:
            if who.chat_id not in seen:
                seen.add(who.chat_id)
                out.append((audience, who))
    return out


# --- payloads ------------------------------------------------------------------------------


_DETAIL_SQL = """
SELECT a.id, a.unit_id, a.role, a.status, a.acknowledged_at, a.milestone_id,
       m.target, m.phrase, m.original_due, t.ref, t.title, t.kind, p.code, p.title,
       COALESCE(NULLIF(u.short_name, ''), u.name)
FROM assignment a
JOIN milestone m ON m.id = a.milestone_id
JOIN task t ON t.id = m.task_id
JOIN plan p ON p.id = t.plan_id
JOIN unit u ON u.id = a.unit_id
WHERE a.id IN ({ids})
"""


def _chunks(values: Sequence[int], size: int = _CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def _details(conn: AsyncConnection, assignment_ids: Iterable[int]) -> dict[int, dict]:
    """What messages show about each assignment, plus the units of its milestone."""
    ids = sorted(set(assignment_ids))
    details: dict[int, dict] = {}
    milestones: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(ids):
        sql = _DETAIL_SQL.format(ids=",".join("?" * len(chunk)))
        for row in await _fetch(conn, sql, tuple(chunk)):
            aid, unit_id, role, status, acked, mid, target, phrase, odue, ref, title = row[:11]
            kind, code, plan_title, unit_name = row[11:]
            details[aid] = {
                "plan": code,
                "plan_title": plan_title,
                "ref": ref,
                "title": title,
                "item_kind": kind,
                "target": target or "",
                "phrase": phrase or "",
                "original_due": odue,
                "unit": unit_name,
                "unit_id": unit_id,
                "role": role,
                "status": status,
                "acknowledged": acked is not None,
                "units": [],
            }
            milestones[mid].append(aid)
    mids = sorted(milestones)
    for chunk in _chunks(mids):
        sql = (
            "SELECT a.milestone_id, a.role, COALESCE(NULLIF(u.short_name, ''), u.name) "
            "FROM assignment a JOIN unit u ON u.id = a.unit_id "
            f"WHERE a.archived_at IS NULL AND a.milestone_id IN ({','.join('?' * len(chunk))}) "
            "ORDER BY a.milestone_id, a.role != 'lead', a.id"
        )
        units: dict[int, list[dict[str, str]]] = defaultdict(list)
        for mid, role, name in await _fetch(conn, sql, tuple(chunk)):
            units[mid].append({"name": name, "role": role})
        for mid in chunk:
            for aid in milestones[mid]:
                details[aid]["units"] = units.get(mid, [])
    return details


async def _chase_history(
    conn: AsyncConnection, assignment_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """Earlier reminders, chases and escalations of each assignment: who, when, what. A stage
    a liaison got in a 逾期事项清单 counts too (its marker row names them; its time is the
    list's planning time)."""
    ids = sorted(set(assignment_ids))
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)
    kinds = (REMINDER, ACK_CHASE, OVERDUE, ESCALATION, "chase")
    for chunk in _chunks(ids):
        sql = (
            "SELECT o.assignment_id, o.kind, o.stage, o.status, o.sent_at, o.not_before, "
            "o.payload, pe.name FROM outbox o LEFT JOIN person pe ON pe.id = o.person_id "
            f"WHERE o.assignment_id IN ({','.join('?' * len(chunk))}) "
            f"AND o.kind IN ({','.join('?' * len(kinds))}) AND o.status IN ('sent', 'pending', "
            f"'sending', '{BATCHED}') "
            "ORDER BY o.assignment_id, COALESCE(o.sent_at, o.not_before), o.id"
        )
        for aid, kind, stage, status, sent_at, not_before, payload, name in await _fetch(
            conn, sql, (*chunk, *kinds)
        ):
            data = json.loads(payload) if payload else {}
            when = _parse_datetime(sent_at or not_before)
            if status == BATCHED:  # a marker: only a liaison's list is a chase of the unit
                people, audience = data.get("liaisons") or [], LIAISONS
            else:
                people, audience = [name or ""], data.get("audience", "")
            for person in people:
                history[aid].append(
                    {
                        "kind": kind,
                        "stage": stage,
                        "at": when.isoformat() if when else None,
                        "to": person,
                        "audience": audience,
                        "sent": status == "sent",
                    }
                )
    return history


def _payload(note: Notification, detail: dict, audience: str) -> dict[str, Any]:
    payload = dict(detail)
    payload.update(
        audience=audience,
        stage=note.stage,
        due=note.due.isoformat() if note.due else None,
        days=note.days,
        ladder=note.ladder,
    )
    if note.period_end is not None:
        payload["period_end"] = note.period_end.isoformat()
    return payload


# --- the pass ------------------------------------------------------------------------------


@dataclass
class _Batch:
    """One recipient's 督办汇总 (kind escalation_batch) or 逾期事项清单 (kind overdue_batch) of
    one plan and day, being assembled."""

    kind: str
    plan: str
    plan_title: str
    audience: str
    who: Recipient
    items: list[dict[str, Any]] = field(default_factory=list)
    # A 督办汇总 lists only its `cap` worst items: `items` is pruned to them as it grows (the
    # first pass after loading escalates tens of thousands of items to each coordinator),
    # while `total` and `counts` (of a 督办汇总, by ladder) count every item added.
    cap: int | None = None
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, item: dict[str, Any]) -> None:
        self.items.append(item)
        self.total += 1
        if self.kind == ESCALATION_BATCH:
            self.counts[item["ladder"]] = self.counts.get(item["ladder"], 0) + 1
        if self.cap is not None and len(self.items) >= 2 * self.cap + 100:
            # the `cap` first of a stable sort, in order: ties keep the order items came in
            # (every later item comes after them), so the final sort's first `cap` are unchanged
            self.items = heapq.nsmallest(self.cap, self.items, key=batch_rank)


@dataclass
class _Markers:
    """The stages a pass batched (into summaries or lists): how many, and those that need a
    marker row, as (notification key, kind, assignment id, stage, batches, listed liaisons)."""

    planned: int = 0
    rows: list[tuple[str, str, int | None, str, list[BatchId], list[str]]] = field(
        default_factory=list
    )


# what one batch is keyed by while a pass assembles it: (kind, plan, chat)
BatchId = tuple[str, str, int]
# the kinds a flooded liaison gets in a list (reminders and acknowledgement chases stay per item)
_LISTABLE = frozenset({OVERDUE, ESCALATION})


def _liaison_load(todo: Iterable[tuple[Notification, list[tuple[str, Recipient]]]]) -> dict:
    """chat → how many overdue notices and 督办 this pass would send that liaison (all plans)."""
    load: dict[int, int] = defaultdict(int)
    for note, members in todo:
        if note.kind in _LISTABLE and note.ladder == "due":
            for audience, who in members:
                if audience == LIAISONS:
                    load[who.chat_id] += 1
    return load


async def plan_due(
    session_maker: async_sessionmaker[Any],
    at: datetime,
    policy: Policy,
    *,
    default_locale: str = "zh_CN",
    digests: bool = True,
) -> PlanResult:
    """Plan everything due at `at` (aware) and write it to the Outbox, in one transaction.

    Safe to call at any rate and from overlapping ticks: every row has a unique key, so a
    stage is written at most once per chat. Returns counts for logs, the simulator and tests.
    """
    if at.tzinfo is None:
        raise ValueError("plan_due needs an aware instant")
    started = time.perf_counter()
    result = PlanResult(at=at)
    async with session_maker() as session, session.begin():
        conn = await session.connection()
        snaps, plan_ids = await load_snapshots(conn, policy, at)
        result.considered = len(snaps)
        stats = PlanningStats()
        notes = due_notifications(snaps, policy, at, stats=stats)
        del snaps
        result.due = len(notes)
        directory = await load_directory(conn)
        # the audience first: a notification with nobody to address (nobody bound yet) is
        # planned again next tick, so it is not worth looking up in the Outbox
        targets: dict[str, tuple[Notification, list[tuple[str, Recipient]]]] = {}
        audiences: dict[tuple, list[tuple[str, Recipient]]] = {}  # many notes share one
        for note in notes:
            plan_id = plan_ids.get(note.plan or "", 0)
            scope = (note.audience, note.unit_id, plan_id)
            members = audiences.get(scope)
            if members is None:
                members = audiences[scope] = _audience_members(note, directory, plan_id)
            if members:
                targets[note.key] = (note, members)
            else:
                result.unresolved += 1
        del notes
        if targets:
            fresh = await _new_keys(conn, targets)
            targets = {key: target for key, target in targets.items() if key in fresh}
        result.new = len(targets)
        todo = list(targets.values())
        del targets
        batches: dict[BatchId, _Batch] = {}
        markers = _Markers()
        load = _liaison_load(todo)  # decided over the whole pass, before slicing
        # in slices, so that the burst after loading a mostly overdue plan stays small in memory
        for begin in range(0, len(todo), _SLICE):
            rows = await _rows_for(
                conn,
                todo[begin : begin + _SLICE],
                policy,
                at,
                default_locale,
                batches,
                markers,
                load,
            )
            result.inserted += await insert_rows(conn, rows)
            _count(result, rows)
        del todo
        if batches:
            rows, keys = await _batch_rows(conn, batches, policy, at, default_locale)
            del batches
            result.batches = sum(1 for row in rows if row["kind"] == ESCALATION_BATCH)
            result.lists = sum(1 for row in rows if row["kind"] == OVERDUE_BATCH)
            result.batched_items = markers.planned
            # the marker rows first (as many as the batched stages), a slice at a time
            for begin in range(0, len(markers.rows), _SLICE):
                chunk = _marker_rows(markers.rows[begin : begin + _SLICE], keys, at)
                result.markers += await insert_rows(conn, chunk)
            del markers
            result.inserted += await insert_rows(conn, rows)
            _count(result, rows)
        slot = digest_due(policy, at) if digests else None
        if slot is not None:
            from schedules.digest import digest_rows

            rows = await digest_rows(session, slot, policy, at, default_locale=default_locale)
            if rows:
                result.inserted += await insert_rows(conn, rows)
                _count(result, rows)
            result.digests = len(rows)
    result.seconds = time.perf_counter() - started
    if result.inserted:
        log.info(
            "planned %s: %d due, %d new, %d rows (%s) in %.3fs",
            at.isoformat(),
            result.due,
            result.new,
            result.inserted,
            ", ".join(f"{k} {v}" for k, v in sorted(result.by_kind.items())),
            result.seconds,
        )
    return result


def _count(result: PlanResult, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        result.by_kind[row["kind"]] = result.by_kind.get(row["kind"], 0) + 1
        audience = row["payload"].get("audience", "")
        result.by_audience[audience] = result.by_audience.get(audience, 0) + 1


async def _rows_for(
    conn: AsyncConnection,
    todo: list[tuple[Notification, list[tuple[str, Recipient]]]],
    policy: Policy,
    at: datetime,
    default_locale: str,
    batches: dict[BatchId, _Batch],
    markers: _Markers,
    load: dict[int, int],
) -> list[dict[str, Any]]:
    """The per-item rows of these notifications; the parts that go into a 督办汇总 or a
    逾期事项清单 are added to `batches` (recipient's batch → items) and `markers` instead.
    `load`: chat → overdue notices and 督办 the pass has for that liaison (`_liaison_load`)."""
    details = await _details(conn, (n.assignment_id for n, _ in todo if n.assignment_id))
    escalated = [n.assignment_id for n, _ in todo if n.kind == ESCALATION and n.assignment_id]
    history = await _chase_history(conn, escalated) if escalated else {}
    rows: list[dict[str, Any]] = []
    for note, members in todo:
        detail = details.get(note.assignment_id or 0)
        if detail is None:  # archived between the two queries
            continue
        rules = policy.for_plan(note.plan)
        batch_for = rules.batch_for if note.kind == ESCALATION else ()
        over = rules.liaison_batch_over if note.kind in _LISTABLE and note.ladder == "due" else 0
        # who was chased before: shown to leaders and coordinators (the liaison's own 督办
        # message does not list it, so their payload stays small)
        chased = history.get(note.assignment_id or 0, []) if note.kind == ESCALATION else None
        single: list[tuple[str, Recipient]] = []
        batched: list[tuple[str, str, Recipient]] = []  # (batch kind, audience, recipient)
        for audience, who in members:
            if audience in batch_for:
                batched.append((ESCALATION_BATCH, audience, who))
            elif audience == LIAISONS and over and load.get(who.chat_id, 0) > over:
                batched.append((OVERDUE_BATCH, audience, who))
            else:
                single.append((audience, who))
        for audience, who in single:
            shown = (
                detail if chased is None or audience == LIAISONS else {**detail, "chased": chased}
            )
            rows.append(
                {
                    "key": f"{note.key}|{who.chat_id}",
                    "kind": note.kind,
                    "chat_id": who.chat_id,
                    "person_id": who.person_id,
                    "assignment_id": note.assignment_id,
                    "stage": note.stage,
                    "locale": who.locale or default_locale,
                    "payload": _payload(note, shown, audience),
                    "created_at": at,
                    "not_before": note.not_before,
                }
            )
        if not batched:
            continue
        plan = detail["plan"]
        items: dict[str, dict[str, Any]] = {}  # one dict shared by every recipient's batch
        ids: list[BatchId] = []
        listed: list[str] = []  # the liaisons who get the item in a list (chase history)
        for kind, audience, who in batched:
            item = items.get(kind)
            if item is None:
                # the list is the liaison's own: who was chased is for leaders / coordinators
                item = items[kind] = _batch_item(
                    note, detail, (chased or []) if kind == ESCALATION_BATCH else None
                )
            bid = (kind, plan, who.chat_id)
            batch = batches.get(bid)
            if batch is None:
                title = detail["plan_title"] or ""
                batch = batches[bid] = _Batch(kind, plan, title, audience, who)
                cap = policy.for_plan(plan).batch_max_items if kind == ESCALATION_BATCH else 0
                batch.cap = cap if cap > 0 else None
            elif _AUDIENCE_ORDER.index(audience) < _AUDIENCE_ORDER.index(batch.audience):
                batch.audience = audience
            batch.add(item)
            ids.append(bid)
            if kind == OVERDUE_BATCH:
                listed.append(who.name)
        # the stage's bookkeeping: its per-item rows already show it was planned; without any,
        # or when a liaison got it in a list (the chase history names them), a marker row does
        # (see `_batch_rows`)
        markers.planned += 1
        if ids and (not single or listed):
            markers.rows.append((note.key, note.kind, note.assignment_id, note.stage, ids, listed))
    return rows


def _chased_summary(history: list[dict[str, Any]]) -> dict[str, Any]:
    """How often the unit was chased before (reminders to liaisons, overdue notices, 督办,
    manual 催办) and the latest one: when, what, to whom."""
    chased = [c for c in history if c.get("audience") in (LIAISONS, "", None)]
    if not chased:
        return {"n": 0}
    last = chased[-1]
    names = sorted({c["to"] for c in chased if c["stage"] == last["stage"] and c["to"]})
    stages = {(c["kind"], c["stage"]) for c in chased}
    return {"n": len(stages), "at": last["at"], "kind": last["kind"], "to": names}


def _batch_item(
    note: Notification, detail: dict[str, Any], chased: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """One item of a 督办汇总 (with `chased`) or of a liaison's 逾期事项清单 (without)."""
    item = {
        "id": note.assignment_id,
        "ref": detail["ref"],
        "title": detail["title"][:80],
        "unit": detail["unit"],
        "status": detail["status"],
        "kind": note.kind,  # overdue (逾期提醒) | escalation (督办)
        "ladder": note.ladder,  # "due": overdue 督办 · "ack": not acknowledged
        "days": note.days,  # days overdue / working days since assignment
        "due": note.due.isoformat() if note.due else None,
        "stage": note.stage,
    }
    if chased is not None:
        item["chased"] = _chased_summary(chased)
    return item


def batch_rank(item: dict[str, Any]) -> tuple:
    """Worst first: overdue items by days overdue, then unacknowledged ones by working days."""
    return (item["ladder"] != "due", -int(item["days"]), item["ref"], item["unit"])


async def _batch_rows(
    conn: AsyncConnection,
    batches: dict[BatchId, _Batch],
    policy: Policy,
    at: datetime,
    default_locale: str,
) -> tuple[list[dict[str, Any]], dict[BatchId, str]]:
    """The 督办汇总 and 逾期事项清单 rows, one per recipient, kind and plan, and their keys
    (for the marker rows of their stages, `_marker_rows`).

    Key f"{kind}:{plan}:{local date}|{chat}": one per recipient, plan and day, whatever the
    number of ticks, restarts or overlapping passes. Everything due becomes due at the window
    opening, so one a day is the rule; an item that becomes due later the same day (a 退回,
    someone bound in the afternoon) is not lost but sent in a follow-up keyed
    "…:{date}#2|{chat}" (#3, …). A 督办汇总 lists at most `batch_max_items` (the rest
    counted); a liaison's list has every item (each one needs their report).
    """
    day = at.astimezone(policy.zone).date().isoformat()
    taken: dict[BatchId, int] = defaultdict(int)
    for kind, plan in {(kind, plan) for kind, plan, _ in batches}:
        prefix = f"{kind}:{plan}:{day}"
        for (key,) in await _fetch(
            conn, "SELECT key FROM outbox WHERE key > ? AND key < ?", (prefix, prefix + "}")
        ):
            base, _, chat = key.rpartition("|")
            if base == prefix or base.startswith(prefix + "#"):
                taken[(kind, plan, int(chat))] += 1
    rows: list[dict[str, Any]] = []
    keys: dict[BatchId, str] = {}
    for bid, batch in sorted(batches.items()):
        kind, plan, chat_id = bid
        seq = taken[bid]
        key = f"{kind}:{plan}:{day}" + (f"#{seq + 1}" if seq else "") + f"|{chat_id}"
        keys[bid] = key
        items = sorted(batch.items, key=batch_rank)
        total = batch.total  # `items` may have been cut to the listed ones (`_Batch.add`)
        if kind == ESCALATION_BATCH:
            cap = policy.for_plan(plan).batch_max_items
            counts: dict[str, int] = {"due": 0, "ack": 0}
            for group, n in batch.counts.items():
                counts[group] = counts.get(group, 0) + n
        else:
            cap, counts = len(items), {}
            for item in items:
                counts[item["kind"]] = counts.get(item["kind"], 0) + 1
        rows.append(
            {
                "key": key,
                "kind": kind,
                "chat_id": chat_id,
                "person_id": batch.who.person_id,
                "assignment_id": None,
                "stage": day,
                "locale": batch.who.locale or default_locale,
                "payload": {
                    "plan": plan,
                    "plan_title": batch.plan_title,
                    "date": day,
                    "audience": batch.audience,
                    "total": total,
                    "counts": counts,
                    "items": items[:cap],
                    "more": max(0, total - cap),
                    "follow_up": seq + 1 if seq else 0,
                },
                "created_at": at,
                "not_before": at,
            }
        )
    return rows, keys


def _marker_rows(
    markers: Iterable[tuple[str, str, int | None, str, list[BatchId], list[str]]],
    keys: dict[BatchId, str],
    at: datetime,
) -> list[dict[str, Any]]:
    """The marker rows of batched stages (`_Markers.rows`): chat 0, status "batched", the keys
    of the summaries and lists that carry the stage (see the module docstring)."""
    rows: list[dict[str, Any]] = []
    for note_key, kind, assignment_id, stage, ids, listed in markers:
        payload: dict[str, Any] = {"audience": "batched", "batches": [keys[i] for i in ids]}
        if listed:
            payload["liaisons"] = listed
        rows.append(
            {
                "key": f"{note_key}|0",
                "kind": kind,
                "chat_id": 0,
                "person_id": None,
                "assignment_id": assignment_id,
                "stage": stage,
                "locale": None,
                "payload": payload,
                "created_at": at,
                "not_before": at,
                "status": BATCHED,
            }
        )
    return rows


_INSERT_SQL = (
    "INSERT INTO outbox (key, kind, chat_id, person_id, assignment_id, stage, locale, payload, "
    "created_at, not_before, status, attempts, last_error, parts_sent) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', 0) ON CONFLICT(key) DO NOTHING"
)


async def insert_rows(conn: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT(key) DO NOTHING; returns how many rows were new.

    Straight to the driver, in the exact formats SQLAlchemy writes for these columns (JSON as
    `json.dumps`, datetimes as naive UTC text with microseconds): the burst after loading a
    plan writes tens of thousands of rows, and SQLAlchemy's per-row parameter processing was
    most of its cost. Same connection, same transaction as the rest of the pass."""
    if not rows:
        return 0
    raw = (await conn.get_raw_connection()).driver_connection
    dumps = json.dumps
    inserted = 0
    for start in range(0, len(rows), 5000):
        params = [
            (
                row["key"],
                row["kind"],
                row["chat_id"],
                row["person_id"],
                row["assignment_id"],
                row["stage"],
                row["locale"],
                dumps(row["payload"]),
                _db_datetime(row["created_at"]),
                _db_datetime(row["not_before"]),
                row.get("status", "pending"),
            )
            for row in rows[start : start + 5000]
        ]
        cursor = await raw.executemany(_INSERT_SQL, params)  # type: ignore[union-attr]
        inserted += max(cursor.rowcount or 0, 0)
        await cursor.close()
    return inserted
