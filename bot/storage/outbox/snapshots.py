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
from array import array
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.notices import OutboxKind
from bot.core.planner import AssignmentSnapshot, ack_stage, calendar_stage
from bot.core.policy import Policy
from bot.core.status import BLOCKED, IN_PROGRESS, NOT_STARTED
from bot.storage.models import Assignment, Milestone, Outbox, Plan, Task
from bot.storage.outbox.marks import marked_keys
from bot.storage.outbox.raw import (
    CHUNK,
    as_date,
    as_json,
    chunks,
    driver,
    fetch,
    fetch_ids,
    id_clauses,
    in_list,
    is_postgres,
    parse_datetime,
    sqlite_param,
)

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
            rows.append(
                (text, f"{found[0]}:", f":{found[1]}", found[0], found[1])
                if found
                else (text, None, None, None, None)
            )
            day += timedelta(days=1)
    raw = await driver(conn)
    await raw.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_by_due "
        "(due DATE PRIMARY KEY, head TEXT, tail TEXT, kind TEXT, stage TEXT)"
    )
    await raw.execute("DELETE FROM temp.stage_by_due")
    await raw.executemany("INSERT INTO temp.stage_by_due VALUES (?, ?, ?, ?, ?)", rows)


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
    last = ack_stage(policy.defaults.ack_escalate_after)
    last_ack = f"'{ESCALATION}:' || a.id || ':{last}'"
    # a mark is keyed by its parts (stagemark's primary key)
    marked = "s.assignment_id = a.id AND s.kind = ds.kind AND s.stage = ds.stage"
    ack_marked = f"s.assignment_id = a.id AND s.kind = '{ESCALATION}' AND s.stage = '{last}'"
    own = ",".join(f"'{code}'" for code in policy.plans if code.isalnum())
    bypass = f" OR p.code IN ({own})" if own else ""
    return f"""
{_SELECT}
FROM assignment a LEFT JOIN temp.stage_by_due ds ON ds.due = a.due
CROSS JOIN milestone m ON m.id = a.milestone_id {_JOINS}
WHERE a.status IN {_OPEN} AND a.archived_at IS NULL AND m.archived_at IS NULL
  AND ((a.due <= ? AND (ds.head IS NULL OR (NOT EXISTS (
          SELECT 1 FROM outbox o WHERE o.key > {stage} || '|' AND o.key < {stage} || '}}')
          AND NOT EXISTS (SELECT 1 FROM stagemark s WHERE {marked}))))
       OR (a.acknowledged_at IS NULL AND a.status = 'not_started' AND a.due >= ?
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.key > {last_ack} || '|'
                           AND o.key < {last_ack} || '}}')
           AND NOT EXISTS (SELECT 1 FROM stagemark s WHERE {ack_marked})){bypass})
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
    ids = {int(key.split(":", 2)[1]) for key in listed}
    planned: set[str] = set()
    for where, params in id_clauses("assignment_id", ids):
        for (key,) in await fetch(conn, f"SELECT key FROM outbox WHERE {where}", params):
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
_PARTITION = 1000  # rows read (and turned into snapshots) between two yields to the loop
# The NULL rows a tick reads are locked until it commits: a change committed between the read
# and `store_next` sets NULL again, and would be overwritten by the instant computed from the
# row as it was (the store only checks that the instant is still the one read). A pass runs in
# one transaction; a change to a locked row waits for its commit and lands after the stored
# instant (NULL: looked at again next tick). This used to be an UPDATE of every NULL row to a
# "claimed" instant, which no other transaction ever saw (uncommitted, then overwritten by
# `store_next`): only its lock mattered, and it wrote every row of a first pass twice (on
# PostgreSQL a new row version and an entry in each of assignment's ten indexes: 0.6-0.8 s at
# 10,000 rows; on SQLite 0.3-0.6 s at 100,000). PostgreSQL: the row lock an UPDATE takes, as
# SELECT … FOR NO KEY UPDATE (no row written; 8 ms at 10,000). SQLite: any UPDATE takes the
# database's write lock, even one that matches no row.
_LOCK_NULL_PG = (
    "SELECT count(*) FROM (SELECT 1 FROM assignment WHERE next_at IS NULL FOR NO KEY UPDATE) AS n"
)
_LOCK_SQLITE = "UPDATE assignment SET next_at = NULL WHERE 0"
# nothing can be due until the assignment changes (closed, awaiting 办结, archived)
NEVER = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class DueRows:
    """What the tick read: the plannable snapshots, the instant each row had when read (its
    new one is stored only if it still has it), and plan code → plan id."""

    snaps: list[AssignmentSnapshot]
    loaded: dict[int, datetime]
    retired: list[int]  # rows read that cannot be planned (archived somewhere): NEVER
    plan_ids: dict[str, int]


# the columns a tick reads of an assignment, by id (plain values straight from the driver:
# text on SQLite, native on PostgreSQL; converted once per distinct value, see `_Reader`)
_DUE_SQL = """
SELECT a.id, m.task_id, a.unit_id, a.status, a.due, a.assigned_at, a.acknowledged_at, a.role,
       p.code, t.recurrence, p.period_start, p.period_end, a.next_at,
       CASE WHEN a.archived_at IS NULL AND m.archived_at IS NULL AND t.archived_at IS NULL
            AND p.archived_at IS NULL THEN 0 ELSE 1 END
FROM assignment a
JOIN milestone m ON m.id = a.milestone_id
JOIN task t ON t.id = m.task_id
JOIN plan p ON p.id = t.plan_id
WHERE {where}
"""
_RECURRING_OPEN = (
    "m.task_id IN ({ids}) AND a.status IN ('not_started', 'in_progress', 'blocked') "
    "AND a.archived_at IS NULL AND m.archived_at IS NULL"
)


def _instant(value: Any) -> datetime | None:
    """A stored instant, aware UTC: SQLite's naive UTC text parsed as UTC directly (five
    times faster than parsing and then setting the zone: a first pass parses 200,000)."""
    if isinstance(value, str) and len(value) in (19, 26):
        return datetime.fromisoformat(value + "+00:00")
    return parse_datetime(value)


class _Reader:
    """Turns the rows of `_DUE_SQL` into snapshots. A plan's items share their due dates,
    codes, recurrences and often their instants: each distinct stored value is converted once
    and the snapshots share the result. Values of few distinct kinds (dates, next instants,
    plan codes) are kept for the pass; the instants of assignment and 签收, which can differ
    for every row, only for the partition being read (the memory of a pass stays flat)."""

    def __init__(self) -> None:
        self.days: dict[Any, Any] = {None: None}
        self.next_instants: dict[Any, Any] = {None: None}
        self.instants: dict[Any, Any] = {None: None}
        self.words: dict[Any, tuple[str, ...]] = {None: ()}
        self.texts: dict[str, str] = {}

    def day(self, value: Any) -> Any:
        found = self.days.get(value, self)
        if found is self:
            found = self.days[value] = as_date(value)
        return found

    def next_instant(self, value: Any) -> Any:
        found = self.next_instants.get(value, self)
        if found is self:
            found = self.next_instants[value] = _instant(value)
        return found

    def instant(self, value: Any) -> Any:
        found = self.instants.get(value, self)
        if found is self:
            found = self.instants[value] = _instant(value)
        return found

    def recurrence(self, value: Any) -> tuple[str, ...]:
        key = value if isinstance(value, str | None) else json.dumps(value)
        found = self.words.get(key)
        if found is None:
            decoded = as_json(value) if value not in ("", None) else None
            found = self.words[key] = tuple(decoded or ())
        return found

    def take(self, rows: Iterable[tuple], into: DueRows, recurring: set[int] | None) -> None:
        """Snapshots of `rows` into `into` (rows already read are skipped); the tasks of
        recurring duties into `recurring` (their snapshots are then kept aside: see
        `due_partitions`). The lookups of `day`, `next_instant`, `instant` and `recurrence`
        are inlined: a first pass takes 100,000 rows."""
        loaded, append, text = into.loaded, into.snaps.append, self.texts.setdefault
        days, nexts, words_of = self.days, self.next_instants, self.words
        instants = self.instants = {None: None}  # this partition's
        missing = self
        snapshot = AssignmentSnapshot
        for row in rows:
            aid, task_id, unit_id, status, due, assigned, acked, role, code = row[:9]
            recurrence, start, end, next_at, archived = row[9:14]
            if aid in loaded:
                continue
            found = nexts.get(next_at, missing)
            if found is missing:
                found = nexts[next_at] = _instant(next_at)
            loaded[aid] = found
            if archived:
                into.retired.append(aid)  # archived: nothing is planned for it
                continue
            words = (
                words_of.get(recurrence) if recurrence is None or type(recurrence) is str else None
            )
            if words is None:
                words = self.recurrence(recurrence)
            if words and recurring is not None:
                recurring.add(task_id)
            day = days.get(due, missing)
            if day is missing:
                day = days[due] = as_date(due)
            given = instants.get(assigned, missing)
            if given is missing:
                given = instants[assigned] = _instant(assigned)
            seen = instants.get(acked, missing)
            if seen is missing:
                seen = instants[acked] = _instant(acked)
            append(
                snapshot(
                    aid,
                    text(code, code),
                    unit_id,
                    status,
                    day,
                    given,
                    seen,
                    None,
                    None,
                    role,
                    task_id,
                    words,
                    self.day(start) if words else None,
                    self.day(end) if words else None,
                )
            )


def _where_ids(ids: Sequence[int]) -> tuple[str, Sequence[int]]:
    """A WHERE clause (and its parameters) for the assignments `ids` (sorted): a range when
    they are consecutive (a first pass reads them all), else a list."""
    if ids[-1] - ids[0] + 1 == len(ids):
        return "a.id >= ? AND a.id <= ?", (ids[0], ids[-1])
    if len(ids) <= CHUNK:
        return in_list("a.id", ids)
    return f"a.id IN ({','.join('?' * len(ids))})", ids


async def due_partitions(
    conn: AsyncConnection,
    at: datetime,
    size: int = _PARTITION,
    *,
    many: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[DueRows]:
    """The assignments whose next instant has come (or is NULL), `size` at a time, then (last)
    the open assignments of their recurring duties together (a report request goes to one
    carrier per task and unit, chosen among all of them). Locks the NULL rows first (see
    `_LOCK_NULL_PG`). Each partition is read by id once the ids are known, so the caller may
    write between partitions (no cursor stays open). `many` is awaited first when more than a
    partition is due (a first pass: the caller limits its page cache)."""
    # by the index on next_at (an ORDER BY id would scan the table): sorted here
    found = await fetch_ids(
        conn, "SELECT id FROM assignment WHERE next_at <= ? OR next_at IS NULL", (at,)
    )
    if many is not None and len(found) > size:
        await many()
    await conn.exec_driver_sql(_LOCK_NULL_PG if is_postgres(conn) else _LOCK_SQLITE)
    if not found:
        return
    ids = array("q", sorted(found))
    del found
    reader = _Reader()
    plan_ids = {
        code: pid
        for pid, code in await fetch(conn, "SELECT id, code FROM plan WHERE archived_at IS NULL")
    }
    recurring: set[int] = set()
    aside = DueRows([], {}, [], plan_ids)  # the recurring duties' rows, planned together
    for begin in range(0, len(ids), size):
        where, params = _where_ids(ids[begin : begin + size])
        part = DueRows([], {}, [], plan_ids)
        reader.take(await fetch(conn, _DUE_SQL.format(where=where), params), part, recurring)
        kept = [s for s in part.snaps if not s.recurrence]
        if len(kept) < len(part.snaps):
            for snap in part.snaps:
                if snap.recurrence:
                    aside.snaps.append(snap)
                    aside.loaded[snap.id] = part.loaded.pop(snap.id)
            part.snaps = kept
        yield part
    del ids
    for tasks in chunks(sorted(recurring)):
        where = _RECURRING_OPEN.format(ids=",".join("?" * len(tasks)))
        reader.take(await fetch(conn, _DUE_SQL.format(where=where), tasks), aside, None)
    if aside.loaded:
        yield aside


async def load_due(conn: AsyncConnection, at: datetime) -> DueRows:
    """`due_partitions` in one: every assignment whose next instant has come."""
    out = DueRows([], {}, [], {})
    async for part in due_partitions(conn, at):
        out.snaps += part.snaps
        out.loaded.update(part.loaded)
        out.retired += part.retired
        out.plan_ids = part.plan_ids
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
    return await store_changes(conn, changes)


async def store_changes(conn: AsyncConnection, changes: Sequence[tuple[int, Any, Any]]) -> int:
    """`store_next`'s writes: (row, instant read, new instant) each, by row (a caller that
    knows which rows move, `bot.services.planning`, passes them so)."""
    postgres = is_postgres(conn)
    raw = None if postgres else await driver(conn)
    # a pass stores few distinct instants: each converted once (looked up inline: 100,000 rows)
    texts: dict[Any, Any] = {None: None}
    text = texts.get

    def params(chunk: Sequence[tuple[int, Any, Any]]) -> list[tuple[Any, int, Any]]:
        out = []
        for aid, old, new in chunk:
            stored, was = text(new, texts), text(old, texts)
            if stored is texts:
                stored = texts[new] = sqlite_param(new)
            if was is texts:
                was = texts[old] = sqlite_param(old)
            out.append((stored, aid, was))
        return out

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
            cursor = await raw.executemany(_STORE_SQLITE, params(chunk))
            written += max(cursor.rowcount or 0, 0)
            await cursor.close()
    return written
