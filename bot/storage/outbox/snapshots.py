"""The open assignments a planning pass looks at, and which notification keys are new.

`load_due` / `store_next` are the tick's (portable SQL: SQLAlchemy Core, bound parameters,
instants compared as timestamps): the assignments whose next instant (`assignment.next_at`,
see `bot.storage.next_at`) has come, by a range on its index, and afterwards their new
instants. `load_snapshots` below is the full recomputation (every open assignment that could
have something due; SQLite only): the reference of `python -m bot simulate` and of the
property test that the incremental tick plans exactly what it plans.

`load_snapshots` is step 1 of `bot.services.planning.plan_due`: one SELECT over assignment ⋈
milestone ⋈ task ⋈ plan, read as plain tuples; items whose latest stage by the calendar
already has Outbox rows, items due beyond the policy's horizon, and unacknowledged items whose
last acknowledgement stage has rows are filtered out in SQL. `new_keys` is its step 4 (drop
what is already in the Outbox, one anti-join over the keys passed as a JSON array).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.notices import OutboxKind
from bot.core.planner import AssignmentSnapshot, ack_stage, calendar_stage
from bot.core.policy import Policy
from bot.core.status import BLOCKED, IN_PROGRESS, NOT_STARTED
from bot.storage.models import Assignment, Milestone, Outbox, Plan, Task
from bot.storage.outbox.marks import marked_keys
from bot.storage.outbox.raw import chunks, driver, fetch, is_postgres, sqlite_param

ESCALATION = OutboxKind.ESCALATION

_OPEN = "('not_started', 'in_progress', 'blocked')"
_SELECT = (
    "SELECT a.id, m.task_id, a.unit_id, a.status, a.due, a.assigned_at, a.acknowledged_at, "
    "a.role, p.code"
)
_JOINS = (
    "JOIN task t ON t.id = m.task_id AND t.archived_at IS NULL "
    "JOIN plan p ON p.id = t.plan_id AND p.archived_at IS NULL"
)


async def _due_stages(conn: AsyncConnection, policy: Policy, today: date, horizon: str) -> None:
    """temp.stage_by_due: for every day from the earliest due date of an item up to the
    horizon, the key of the latest calendar stage of an item due that day, as head ||
    assignment id || tail (NULL head: nothing by the calendar). A thousand days stand for
    tens of thousands of items, so the snapshot query builds each item's key with two
    concatenations instead of date arithmetic."""
    # the earliest due date of any item (an index lookup; the few closed days are harmless)
    [(first,)] = await fetch(conn, "SELECT min(due) FROM assignment")
    rows = []
    if first is not None:
        day, last = date.fromisoformat(first), date.fromisoformat(horizon)
        while day <= last:
            found = calendar_stage(policy.defaults, today, day)
            text = day.isoformat()
            rows.append((text, f"{found[0]}:", f":{found[1]}") if found else (text, None, None))
            day += timedelta(days=1)
    raw = await driver(conn)
    await raw.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_by_due (due DATE PRIMARY KEY, head TEXT, tail TEXT)"
    )
    await raw.execute("DELETE FROM temp.stage_by_due")
    await raw.executemany("INSERT INTO temp.stage_by_due VALUES (?, ?, ?)", rows)


def _snapshot_sql(policy: Policy) -> str:
    """Open assignments with something possibly due (binds: horizon, long-overdue date).

    A row is skipped when its latest stage by the calendar (`temp.stage_by_due`, filled by
    `_due_stages`) already has Outbox rows: nothing newer can be due for it (the planner would
    return that stage, or an older one that the newer one supersedes). Unacknowledged items
    are loaded (the acknowledgement ladder counts working days) unless long overdue (the due
    ladder has replaced their acknowledgement ladder) or their last acknowledgement stage
    already has rows; so are the plans with rules of their own. A stage batched into a
    督办汇总 has rows or a mark (table stagemark; see `bot.services.planning`). CROSS JOIN
    keeps SQLite from joining milestone, task and plan before the Outbox probe has dropped
    most rows.
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
  AND ((a.due <= ? AND (ds.head IS NULL OR (NOT EXISTS (
          SELECT 1 FROM outbox o WHERE o.key > {stage} || '|' AND o.key < {stage} || '}}')
          AND NOT EXISTS (SELECT 1 FROM stagemark s WHERE s.key = {stage}))))
       OR (a.acknowledged_at IS NULL AND a.status = 'not_started' AND a.due >= ?
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.key > {last_ack} || '|'
                           AND o.key < {last_ack} || '}}')
           AND NOT EXISTS (SELECT 1 FROM stagemark s WHERE s.key = {last_ack})){bypass})
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


async def load_snapshots(
    conn: AsyncConnection, policy: Policy, at: datetime
) -> tuple[list[AssignmentSnapshot], dict[str, int]]:
    """Open assignments that might have something due at `at`, and plan code → plan id."""
    today = at.astimezone(policy.zone).date()
    horizon = (today + timedelta(days=policy.max_lead_days + 1)).isoformat()
    plan_ids = {
        code: pid
        for pid, code in await fetch(conn, "SELECT id, code FROM plan WHERE archived_at IS NULL")
    }
    await _due_stages(conn, policy, today, horizon)
    long_overdue = (today - timedelta(days=31)).isoformat()
    rows = await fetch(conn, _snapshot_sql(policy), (horizon, long_overdue))
    recurring = await fetch(conn, _RECURRING_SQL)
    seen: set[int] = set()
    snaps: list[AssignmentSnapshot] = []
    from_date = date.fromisoformat
    from_dt = datetime.fromisoformat
    dates: dict[str, date] = {}
    words: dict[str, tuple[str, ...]] = {}
    append = snaps.append

    instants: dict[str, datetime] = {}  # a plan's items share their assignment instant

    def instant_of(text: str) -> datetime:
        found = instants.get(text)
        if found is None:
            found = instants[text] = from_dt(text).replace(tzinfo=UTC)
        return found

    def day_of(text: str) -> date:
        found = dates.get(text)
        if found is None:
            found = dates[text] = from_date(text)
        return found

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
                day_of(due),
                instant_of(assigned),
                None if acked is None else instant_of(acked),
                None,
                None,
                role,
                task_id,
                recurrence,
                day_of(start) if recurrence and start is not None else None,
                day_of(end) if recurrence and end is not None else None,
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
                day_of(due),
                instant_of(assigned),
                None if acked is None else instant_of(acked),
                None,
                None,
                role,
                task_id,
            )
        )
    return snaps, plan_ids


async def new_keys(conn: AsyncConnection, keys: Iterable[str]) -> set[str]:
    """The notification keys that have no Outbox row yet (any chat, snoozed copies included)
    nor a mark (stagemark: stages only in summaries or lists). Keys are
    f"{kind}:{assignment_id}:{stage}" and their rows are keyed "<key>|<chat>" (snoozed:
    "…|<chat>:snoozed") with that assignment id, so the rows and marks of the keys'
    assignments say which are planned: one indexed lookup per 500 assignments
    (portable SQL: SQLite and PostgreSQL)."""
    listed = set(keys)
    ids = sorted({int(key.split(":", 2)[1]) for key in listed})
    planned: set[str] = set()
    for chunk in chunks(ids):
        for (key,) in await conn.execute(
            select(OUTBOX.c.key).where(OUTBOX.c.assignment_id.in_(chunk))
        ):
            planned.add(key.rpartition("|")[0])
    planned |= await marked_keys(conn, ids)  # stages that went only into summaries or lists
    return listed - planned


# --- the tick: only what is due ------------------------------------------------------------

A = Assignment.__table__  # type: ignore[attr-defined]
M = Milestone.__table__  # type: ignore[attr-defined]
T = Task.__table__  # type: ignore[attr-defined]
P = Plan.__table__  # type: ignore[attr-defined]
OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
OPEN = (NOT_STARTED, IN_PROGRESS, BLOCKED)
_PARTITION = 500  # rows read (and turned into snapshots) between two yields to the loop
# a NULL instant claimed by a tick (so that a change committed meanwhile, which sets NULL
# again, is not overwritten by the instant computed from the row as it was)
CLAIMED = datetime(1970, 1, 1, tzinfo=UTC)
# nothing can be due until the assignment changes (closed, awaiting 办结, archived)
NEVER = datetime(9999, 1, 1, tzinfo=UTC)

_COLUMNS = (
    A.c.id,
    M.c.task_id,
    A.c.unit_id,
    A.c.status,
    A.c.due,
    A.c.assigned_at,
    A.c.acknowledged_at,
    A.c.role,
    P.c.code,
    T.c.recurrence,
    P.c.period_start,
    P.c.period_end,
    A.c.next_at,
    A.c.archived_at,
    M.c.archived_at,
    T.c.archived_at,
    P.c.archived_at,
)
_FROM = (
    A.join(M, M.c.id == A.c.milestone_id)
    .join(T, T.c.id == M.c.task_id)
    .join(P, P.c.id == T.c.plan_id)
)


@dataclass(slots=True)
class DueRows:
    """What the tick read: the plannable snapshots, the instant each row had when read (its
    new one is stored only if it still has it), and plan code → plan id."""

    snaps: list[AssignmentSnapshot]
    loaded: dict[int, datetime]
    retired: list[int]  # rows read that cannot be planned (archived somewhere): NEVER
    plan_ids: dict[str, int]


async def load_due(conn: AsyncConnection, at: datetime) -> DueRows:
    """The assignments whose next instant has come (or is NULL), and the other open
    assignments of their recurring duties (a report request goes to one carrier per task and
    unit, chosen among all of them). Claims the NULL rows first (`CLAIMED`)."""
    await conn.execute(update(A).where(A.c.next_at.is_(None)).values(next_at=CLAIMED))
    out = DueRows([], {}, [], {})
    recurring: set[int] = set()
    # shared values (a plan's items share their due dates, instants, codes and recurrences):
    # a first pass reads every assignment, and 100,000 copies would cost tens of megabytes
    shared: dict[Any, Any] = {}
    intern = shared.setdefault

    def take(rows: Any) -> None:
        loaded, append = out.loaded, out.snaps.append
        for row in rows:
            aid, task_id, unit_id, status, due, assigned, acked, role, code = row[:9]
            recurrence, start, end, next_at = row[9], row[10], row[11], row[12]
            if aid in loaded:
                continue
            loaded[aid] = intern(next_at, next_at)
            if row[13] is not None or row[14] is not None or row[15] is not None or row[16]:
                out.retired.append(aid)  # archived: nothing is planned for it
                continue
            words: tuple[str, ...] = intern(
                ("words", *(recurrence or ())), tuple(recurrence or ())
            )
            if words:
                recurring.add(task_id)
            append(
                AssignmentSnapshot(
                    aid,
                    intern(code, code),
                    unit_id,
                    intern(status, status),
                    intern(due, due),
                    intern(assigned, assigned),
                    intern(acked, acked),
                    None,
                    None,
                    intern(role, role),
                    task_id,
                    words,
                    start if words else None,
                    end if words else None,
                )
            )

    # streamed a partition at a time: the event loop runs between partitions
    stream = await conn.stream(select(*_COLUMNS).select_from(_FROM).where(A.c.next_at <= at))
    async for part in stream.partitions(_PARTITION):
        take(part)
        await asyncio.sleep(0)
    for chunk in chunks(sorted(recurring)):
        take(
            await conn.execute(
                select(*_COLUMNS)
                .select_from(_FROM)
                .where(
                    M.c.task_id.in_(chunk),
                    A.c.status.in_(OPEN),
                    A.c.archived_at.is_(None),
                    M.c.archived_at.is_(None),
                )
            )
        )
    if out.loaded:
        out.plan_ids = {
            code: pid
            for pid, code in await conn.execute(
                select(P.c.id, P.c.code).where(P.c.archived_at.is_(None))
            )
        }
    return out


def _changes(due: DueRows, next_at: dict[int, datetime | None]) -> list[tuple[int, Any, Any]]:
    """(row, instant read, new instant) of the rows whose instant moves, by row."""
    retired = set(due.retired)
    changes = []
    for aid, old in due.loaded.items():
        new = NEVER if aid in retired else (next_at.get(aid) or NEVER)
        if new != old:
            changes.append((aid, old, new))
    changes.sort(key=lambda change: change[0])
    return changes


_STORE_CHUNK = 2000  # rows per statement (the loop runs between them)
# PostgreSQL: one statement per chunk, the rows as arrays joined by id (a statement per group
# of rows sharing an instant, as before, made its generic plan scan the next_at index)
_STORE_PG = (
    "UPDATE assignment SET next_at = v.new FROM unnest($1::int[], $2::timestamptz[], "
    "$3::timestamptz[]) AS v(id, old, new) "
    "WHERE assignment.id = v.id AND assignment.next_at IS NOT DISTINCT FROM v.old"
)
# SQLite: one prepared statement run for every row (executemany: no statement per row to
# compile, the rows stay in the driver's thread)
_STORE_SQLITE = "UPDATE assignment SET next_at = ? WHERE id = ? AND next_at IS ?"


async def store_next(
    conn: AsyncConnection, due: DueRows, next_at: dict[int, datetime | None]
) -> int:
    """Store each row's new instant (None: NEVER), only where the row still has the instant
    it was read with: one statement per `_STORE_CHUNK` rows (a first pass moves every row's
    instant). Returns how many rows were written."""
    if len(due.loaded) > 2 * _PARTITION:  # CPU work off the event loop
        changes = await asyncio.to_thread(_changes, due, next_at)
    else:
        changes = _changes(due, next_at)
    postgres = is_postgres(conn)
    raw = None if postgres else await driver(conn)
    texts: dict[Any, Any] = {}  # a pass stores few distinct instants: each converted once

    def text(value: Any) -> Any:
        found = texts.get(value)
        if found is None and value is not None:
            found = texts[value] = sqlite_param(value)
        return found

    written = 0
    for start in range(0, len(changes), _STORE_CHUNK):
        if start:
            await asyncio.sleep(0)
        chunk = changes[start : start + _STORE_CHUNK]
        if raw is None:
            result = await conn.exec_driver_sql(
                _STORE_PG,
                (
                    [aid for aid, _, _ in chunk],
                    [old for _, old, _ in chunk],
                    [new for _, _, new in chunk],
                ),
            )
            written += max(result.rowcount or 0, 0)
        else:
            cursor = await raw.executemany(
                _STORE_SQLITE, [(text(new), aid, text(old)) for aid, old, new in chunk]
            )
            written += max(cursor.rowcount or 0, 0)
            await cursor.close()
    return written
