"""The database side of planning: snapshots in, Outbox rows out.

`plan_due(session_maker, at, policy)` is what the scheduler's tick calls (then the sender
drains the Outbox). One pass, one transaction:

1. load a snapshot of every open assignment that could have something due (one SELECT over
   assignment ⋈ milestone ⋈ task ⋈ plan, read as plain tuples; items due beyond the policy's
   horizon, acknowledged and not recurring, are filtered out in SQL);
2. ask the pure planner (`schedules.planner`) what is due at `at`;
3. drop what is already in the Outbox (anti-join on the unique key in a temp table);
4. resolve the audience (liaisons, unit leaders, plan coordinators; subscribed groups for the
   digest) to active people with a Telegram id, one row per chat;
5. INSERT … ON CONFLICT(key) DO NOTHING. Keys are f"{kind}:{assignment_id}:{stage}|{chat_id}"
   (digests f"digest:{week}:{chat_id}"): planning twice, overlapping ticks or a crash between
   planning and sending can never create a second row for the same stage and chat.

A notification whose audience has nobody yet (no liaison bound to the unit) inserts nothing and
is planned again on the next tick: once someone is bound, they get the stage that is current
then. Once a stage has rows, people bound later are not added to it (they get the next stage).

Payloads carry everything `schedules.messages.render` needs (render has no database): plan,
ref, title, milestone target, due date, days, units, the recipient's audience; escalations also
carry who was chased before and when (from earlier Outbox rows); digests their whole content.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
    DIGEST,
    ESCALATION,
    GROUPS,
    LEADERS,
    LIAISONS,
    OVERDUE,
    REMINDER,
    AssignmentSnapshot,
    Notification,
    PlanningStats,
    digest_due,
    due_notifications,
)
from schedules.policy import PlanRules, Policy

log = logging.getLogger(__name__)

OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_CHUNK = 500  # ids per IN (...) list, under SQLite's variable limit
_SLICE = 5000  # notifications turned into rows at a time
# the audience a person is addressed as when they are in several (one row per chat)
_AUDIENCE_ORDER = (LIAISONS, LEADERS, COORDINATORS, GROUPS)


@dataclass
class PlanResult:
    """What one planning pass did."""

    at: datetime
    considered: int = 0  # snapshots loaded
    due: int = 0  # notifications due now (before dropping what the Outbox has)
    new: int = 0  # notifications not yet in the Outbox
    inserted: int = 0  # Outbox rows written
    unresolved: int = 0  # new notifications with nobody to send them to (yet)
    digests: int = 0  # digest rows written
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
    "SELECT a.id, m.task_id, a.unit_id, a.status, a.due, a.assigned_at, a.acknowledged_at, a.role"
)


def _calendar_stage_sql(rules: PlanRules) -> str:
    """SQL for the key of an assignment's latest due-ladder stage by the calendar alone
    (holidays ignored), mirroring `schedules.planner`; NULL beyond the reminder horizon."""
    late = "CAST(julianday(?) - julianday(a.due) AS INTEGER)"
    esc, notice, repeat = (
        rules.overdue_escalate_day,
        rules.overdue_notice_day,
        rules.overdue_repeat_days,
    )
    reminders = " ".join(
        f"WHEN -{late} <= {n} THEN 'reminder:' || a.id || ':d{n}@' || a.due"
        for n in sorted(rules.reminder_days)
    )
    return (
        f"CASE WHEN {late} >= {esc} THEN 'escalation:' || a.id || ':od' || "
        f"({esc} + (({late} - {esc}) / {repeat}) * {repeat}) || '@' || a.due "
        f"WHEN {late} >= {notice} THEN 'overdue:' || a.id || ':od{notice}@' || a.due "
        f"{reminders} END"
    )


def _snapshot_sql(policy: Policy) -> tuple[str, int]:
    """Open assignments with something possibly due, and how many times `today` is bound.

    A row is skipped when its latest stage by the calendar already has Outbox rows: nothing
    newer can be due for it (the planner would return that stage, or an older one that the
    newer one supersedes). Unacknowledged items are always loaded (the acknowledgement
    ladder counts working days) unless long overdue (the due ladder has replaced their
    acknowledgement ladder), and so are the plans with rules of their own.
    """
    stage = _calendar_stage_sql(policy.defaults)
    binds = stage.count("?")
    own = ",".join(f"'{code}'" for code in policy.plans if code.isalnum())
    bypass = (
        f" OR m.task_id IN (SELECT t.id FROM task t JOIN plan p ON p.id = t.plan_id "
        f"WHERE p.code IN ({own}))"
        if own
        else ""
    )
    sql = f"""
{_SELECT}
FROM assignment a JOIN milestone m ON m.id = a.milestone_id
WHERE a.status IN {_OPEN} AND a.archived_at IS NULL AND m.archived_at IS NULL
  AND ((a.due <= ? AND NOT EXISTS (
          SELECT 1 FROM outbox o WHERE o.key > ({stage}) || '|' AND o.key < ({stage}) || '}}'))
       OR (a.acknowledged_at IS NULL AND a.status = 'not_started' AND a.due >= ?){bypass})
"""
    return sql, binds * 2


# the open assignments of recurring duties (periodic report requests), task first
_RECURRING_SQL = f"""
{_SELECT}
FROM task t CROSS JOIN milestone m CROSS JOIN assignment a
WHERE t.recurrence IS NOT NULL AND t.recurrence NOT IN ('[]', '') AND t.archived_at IS NULL
  AND m.task_id = t.id AND m.archived_at IS NULL
  AND a.milestone_id = m.id AND a.status IN {_OPEN} AND a.archived_at IS NULL
"""
_TASKS_SQL = """
SELECT t.id, p.id, p.code, t.recurrence, p.period_start, p.period_end
FROM task t JOIN plan p ON p.id = t.plan_id
WHERE t.archived_at IS NULL AND p.archived_at IS NULL
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
    tasks: dict[int, tuple[str, tuple[str, ...], date | None, date | None]] = {}
    plan_ids: dict[str, int] = {}
    for task_id, plan_id, code, rec, start, end in await _fetch(conn, _TASKS_SQL):
        plan_ids[code] = plan_id
        recurrence = tuple(json.loads(rec)) if rec and rec != "[]" else ()
        if recurrence:
            tasks[task_id] = (code, recurrence, date.fromisoformat(start), date.fromisoformat(end))
        else:
            tasks[task_id] = (code, (), None, None)
    sql, today_binds = _snapshot_sql(policy)
    long_overdue = (today - timedelta(days=31)).isoformat()
    rows = await _fetch(conn, sql, (horizon, *[today.isoformat()] * today_binds, long_overdue))
    rows += await _fetch(conn, _RECURRING_SQL)
    seen: set[int] = set()
    snaps: list[AssignmentSnapshot] = []
    from_date = date.fromisoformat
    from_dt = datetime.fromisoformat
    dates: dict[str, date] = {}
    append = snaps.append
    for aid, task_id, unit_id, status, due, assigned, acked, role in rows:
        task = tasks.get(task_id)
        if task is None or aid in seen:  # archived task or plan; loaded twice
            continue
        seen.add(aid)
        due_day = dates.get(due)
        if due_day is None:
            due_day = dates[due] = from_date(due)
        append(
            AssignmentSnapshot(
                aid,
                task[0],
                unit_id,
                status,
                due_day,
                from_dt(assigned).replace(tzinfo=UTC),
                None if acked is None else from_dt(acked).replace(tzinfo=UTC),
                None,
                None,
                role,
                task_id,
                task[1],
                task[2],
                task[3],
            )
        )
    return snaps, plan_ids


# --- step 3: what is new -------------------------------------------------------------------


async def _new_keys(conn: AsyncConnection, keys: Iterable[str]) -> set[str]:
    """The notification keys that have no Outbox row yet (any chat, snoozed copies included)."""
    raw = (await conn.get_raw_connection()).driver_connection
    await raw.execute("CREATE TEMP TABLE IF NOT EXISTS planned_key (key TEXT PRIMARY KEY)")  # type: ignore[union-attr]
    await raw.execute("DELETE FROM temp.planned_key")  # type: ignore[union-attr]
    await raw.executemany(  # type: ignore[union-attr]
        "INSERT OR IGNORE INTO temp.planned_key (key) VALUES (?)", [(k,) for k in keys]
    )
    # rows of a notification are keyed "<key>|<chat>": '|' < '}' bounds the range
    rows = await _fetch(
        conn,
        "SELECT pk.key FROM temp.planned_key pk WHERE NOT EXISTS ("
        " SELECT 1 FROM outbox o WHERE o.key > pk.key || '|' AND o.key < pk.key || '}')",
    )
    await raw.execute("DELETE FROM temp.planned_key")  # type: ignore[union-attr]
    return {row[0] for row in rows}


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
    """Earlier reminders, chases and escalations of each assignment: who, when, what."""
    ids = sorted(set(assignment_ids))
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)
    kinds = (REMINDER, ACK_CHASE, OVERDUE, ESCALATION, "chase")
    for chunk in _chunks(ids):
        sql = (
            "SELECT o.assignment_id, o.kind, o.stage, o.status, o.sent_at, o.not_before, "
            "o.payload, pe.name FROM outbox o LEFT JOIN person pe ON pe.id = o.person_id "
            f"WHERE o.assignment_id IN ({','.join('?' * len(chunk))}) "
            f"AND o.kind IN ({','.join('?' * len(kinds))}) AND o.status IN ('sent', 'pending', "
            "'sending') ORDER BY o.assignment_id, COALESCE(o.sent_at, o.not_before), o.id"
        )
        for aid, kind, stage, status, sent_at, not_before, payload, name in await _fetch(
            conn, sql, (*chunk, *kinds)
        ):
            audience = (json.loads(payload) if payload else {}).get("audience", "")
            when = _parse_datetime(sent_at or not_before)
            history[aid].append(
                {
                    "kind": kind,
                    "stage": stage,
                    "at": when.isoformat() if when else None,
                    "to": name or "",
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
        rows: list[dict[str, Any]] = []
        if notes:
            fresh = await _new_keys(conn, (n.key for n in notes))
            notes = [n for n in notes if n.key in fresh]
            result.new = len(notes)
        # in slices, so that the burst after loading a mostly overdue plan stays small in memory
        for start in range(0, len(notes), _SLICE):
            batch = await _rows_for(
                conn, notes[start : start + _SLICE], plan_ids, at, default_locale, result
            )
            result.inserted += await insert_rows(conn, batch)
            _count(result, batch)
        slot = digest_due(policy, at) if digests else None
        if slot is not None:
            from schedules.digest import digest_rows

            digest_rows_ = await digest_rows(
                session, slot, policy, at, default_locale=default_locale
            )
            rows += digest_rows_
        if rows:
            result.inserted += await insert_rows(conn, rows)
            _count(result, rows)
        result.digests = sum(1 for row in rows if row["kind"] == DIGEST)
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
    notes: list[Notification],
    plan_ids: dict[str, int],
    at: datetime,
    default_locale: str,
    result: PlanResult,
) -> list[dict[str, Any]]:
    directory = await load_directory(conn)
    targets: list[tuple[Notification, list[tuple[str, Recipient]]]] = []
    for note in notes:
        members = _audience_members(note, directory, plan_ids.get(note.plan or "", 0))
        if members:
            targets.append((note, members))
        else:
            result.unresolved += 1
    if not targets:
        return []
    details = await _details(conn, (n.assignment_id for n, _ in targets if n.assignment_id))
    escalated = [n.assignment_id for n, _ in targets if n.kind == ESCALATION and n.assignment_id]
    history = await _chase_history(conn, escalated) if escalated else {}
    rows: list[dict[str, Any]] = []
    for note, members in targets:
        detail = details.get(note.assignment_id or 0)
        if detail is None:  # archived between the two queries
            continue
        if note.kind == ESCALATION:
            detail = {**detail, "chased": history.get(note.assignment_id or 0, [])}
        for audience, who in members:
            rows.append(
                {
                    "key": f"{note.key}|{who.chat_id}",
                    "kind": note.kind,
                    "chat_id": who.chat_id,
                    "person_id": who.person_id,
                    "assignment_id": note.assignment_id,
                    "stage": note.stage,
                    "locale": who.locale or default_locale,
                    "payload": _payload(note, detail, audience),
                    "created_at": at,
                    "not_before": note.not_before,
                }
            )
    return rows


async def insert_rows(conn: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT(key) DO NOTHING; returns how many rows were new."""
    inserted = 0
    for start in range(0, len(rows), 2000):
        batch = rows[start : start + 2000]
        stmt = sqlite_insert(OUTBOX).on_conflict_do_nothing(index_elements=["key"])
        outcome = await conn.execute(stmt, batch)
        inserted += max(outcome.rowcount or 0, 0)
    return inserted
