"""What the messages show about each assignment, and who was chased about it before.

Payloads carry everything the renderer needs (it has no database): `item_notices` reads the
plan, ref, title, milestone target, units… of each assignment once per planning pass;
`chase_history` the earlier reminders, chases and escalations a 督办 lists for leaders and
coordinators (from the Outbox itself).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.notices import (
    Audience,
    BatchMarker,
    ChaseRecord,
    ItemNotice,
    OutboxKind,
    OutboxStatus,
    UnitRef,
)
from bot.storage.outbox.marks import marks_of
from bot.storage.outbox.raw import as_date, as_json, chunks, fetch, parse_datetime

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


async def item_notices(
    conn: AsyncConnection, assignment_ids: Iterable[int]
) -> dict[int, ItemNotice]:
    """Each assignment as a message shows it (plus the units of its milestone); the planning
    pass adds the stage and the audience."""
    ids = sorted(set(assignment_ids))
    found: dict[int, tuple] = {}
    milestones: dict[int, list[int]] = defaultdict(list)
    for chunk in chunks(ids):
        sql = _DETAIL_SQL.format(ids=",".join("?" * len(chunk)))
        for row in await fetch(conn, sql, tuple(chunk)):
            found[row[0]] = row
            milestones[row[5]].append(row[0])
    units: dict[int, tuple[UnitRef, ...]] = {}
    mids = sorted(milestones)
    for chunk in chunks(mids):
        sql = (
            "SELECT a.milestone_id, a.role, COALESCE(NULLIF(u.short_name, ''), u.name) "
            "FROM assignment a JOIN unit u ON u.id = a.unit_id "
            f"WHERE a.archived_at IS NULL AND a.milestone_id IN ({','.join('?' * len(chunk))}) "
            "ORDER BY a.milestone_id, a.role != 'lead', a.id"
        )
        by_milestone: dict[int, list[UnitRef]] = defaultdict(list)
        for mid, role, name in await fetch(conn, sql, tuple(chunk)):
            by_milestone[mid].append(UnitRef(name, role))
        for mid in chunk:
            units[mid] = tuple(by_milestone.get(mid, ()))
    out: dict[int, ItemNotice] = {}
    for aid, row in found.items():
        _, unit_id, role, status, acked, mid, target, phrase, odue, ref, title = row[:11]
        kind, code, plan_title, unit_name = row[11:]
        out[aid] = ItemNotice(  # positional: tens of thousands per first pass
            code,  # plan
            plan_title,
            ref,
            title,
            kind,  # item_kind
            target or "",
            phrase or "",
            as_date(odue),  # original_due
            unit_name,  # unit
            unit_id,
            role,
            status,
            acked is not None,  # acknowledged
            units.get(mid, ()),
        )
    return out


# what counts as having been chased: reminders, acknowledgement chases, overdue notices, 督办 and
# manual 催办, sent or on their way, and the stages listed for a liaison (their marks; the
# marker rows of releases before migration 0013 are counted too)
_CHASES = (
    OutboxKind.REMINDER,
    OutboxKind.ACK_CHASE,
    OutboxKind.OVERDUE,
    OutboxKind.ESCALATION,
    OutboxKind.CHASE,
)
_COUNTED = (OutboxStatus.SENT, OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.BATCHED)


async def chase_history(
    conn: AsyncConnection, assignment_ids: Iterable[int]
) -> dict[int, list[ChaseRecord]]:
    """Earlier reminders, chases and escalations of each assignment: who, when, what. A stage
    a liaison got in a 逾期事项清单 counts too (its mark names them; its time is the
    list's planning time)."""
    ids = sorted(set(assignment_ids))
    history: dict[int, list[ChaseRecord]] = defaultdict(list)
    kinds = [str(k) for k in _CHASES]
    statuses = ", ".join(f"'{s}'" for s in _COUNTED)
    for chunk in chunks(ids):
        sql = (
            "SELECT o.assignment_id, o.kind, o.stage, o.status, o.sent_at, o.not_before, "
            "o.payload, pe.name FROM outbox o LEFT JOIN person pe ON pe.id = o.person_id "
            f"WHERE o.assignment_id IN ({','.join('?' * len(chunk))}) "
            f"AND o.kind IN ({','.join('?' * len(kinds))}) AND o.status IN ({statuses}) "
            "ORDER BY o.assignment_id, COALESCE(o.sent_at, o.not_before), o.id"
        )
        for aid, kind, stage, status, sent_at, not_before, payload, name in await fetch(
            conn, sql, (*chunk, *kinds)
        ):
            data = as_json(payload) if payload else {}
            when = parse_datetime(sent_at or not_before)
            people: list[str]
            audience: str
            if status == OutboxStatus.BATCHED:  # a marker: only a liaison's list chases the unit
                people, audience = list(BatchMarker.from_json(data).liaisons), Audience.LIAISONS
            else:
                people, audience = [name or ""], str(data.get("audience", ""))
            for person in people:
                history[aid].append(
                    ChaseRecord(kind, stage, when, person, audience, status == OutboxStatus.SENT)
                )
    # stages a liaison got in a 逾期事项清单 (their marks name them; time: the planning pass)
    marked: set[int] = set()
    for aid, kind, stage, payload, created in await marks_of(conn, ids):
        data = as_json(payload) if payload else {}
        when = parse_datetime(created)
        for person in BatchMarker.from_json(data).liaisons:
            history[aid].append(ChaseRecord(kind, stage, when, person, Audience.LIAISONS, False))
            marked.add(aid)
    for aid in marked:  # by time (a pass's marks after its rows: the sort is stable)
        history[aid].sort(key=lambda r: r.at or _EPOCH)
    return history


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
