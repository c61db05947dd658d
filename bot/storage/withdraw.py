"""Withdraw a plan (撤回) and restore it, in set-based statements of one transaction.

Withdrawing stamps `archived_at = W` (the withdrawal instant) on the plan and on every item,
milestone and assignment of it that is still active, records the act in the plan's history (one
PlanEvent "withdraw": who, when, why, how many assignments), and cancels the plan's waiting
Outbox rows (pending, or held for a brief: its assignments' rows and its
督办汇总 / 逾期事项清单 batches: status cancelled, `last_error` WITHDRAWN). Every query of the
ledger already leaves archived rows out, so nothing of the plan is planned, listed or counted
again; nothing is deleted, so its history stays. The assignments' own history (StatusEvent) is
left as it was: the withdrawal is the plan's event, and W on each archived row points at it.

Restoring is the inverse: the rows stamped exactly W (those the withdrawal archived; rows
archived earlier by a reload keep their own stamp) become active again, the plan gets a
PlanEvent "restore", and the Outbox rows the withdrawal cancelled are forgotten so that the
planner plans afresh what is due by then. Loading the plan's file again does the same through
the loader (bot.storage.loader restores the archived rows the file still has, with a "restore"
event each, and calls `forget_cancelled_outbox`).

Each function runs inside the caller's transaction (an AsyncConnection) and never commits;
`withdraw_plan` / `restore_plan` on a session maker take the loaders' lock and commit. A
1,000-assignment plan is about eight statements, whatever its size (benchmarks/load_bench.py,
benchmarks/story_bench.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    Table,
    and_,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from bot.core.notices import OutboxKind, OutboxStatus
from bot.storage.outbox import raw
from bot.storage.plan_history import RESTORE, WITHDRAW, plan_event

WITHDRAWN = "plan withdrawn"  # Outbox.last_error of the rows a withdrawal cancelled
BATCH_KINDS = (OutboxKind.ESCALATION_BATCH, OutboxKind.OVERDUE_BATCH)  # keyed "kind:CODE:…"

_TABLES = SQLModel.metadata.tables
PLAN: Table = _TABLES["plan"]
TASK: Table = _TABLES["task"]
MILESTONE: Table = _TABLES["milestone"]
ASSIGNMENT: Table = _TABLES["assignment"]
OUTBOX: Table = _TABLES["outbox"]


# A restored assignment's next notification instant is recomputed by the planner's next tick
# (NULL: "look at it again", bot.storage.next_at).
_RECOMPUTE: dict[str, Any] = {"next_at": None}


@dataclass(frozen=True)
class PlanArchive:
    """What a withdrawal (or a restore) changed: the plan, its instant W and the row counts."""

    plan_id: int
    code: str
    title: str
    at: datetime  # W: the withdrawal's instant (a restore reports the one it undid)
    items: int
    assignments: int
    outbox: int  # Outbox rows cancelled (withdraw) or forgotten (restore)


@dataclass(frozen=True)
class PlanRow:
    id: int
    code: str
    title: str
    archived_at: datetime | None


async def plan_row(conn: AsyncConnection, code: str) -> PlanRow | None:
    """The plan of `code` (case-insensitive), active or withdrawn."""
    found = await raw.fetch(conn, _PLAN_ROW, [code.strip().upper()])
    if not found:
        return None
    pid, plan_code, title, archived_at = found[0]
    return PlanRow(pid, plan_code, title, raw.parse_datetime(archived_at))


def _milestones_of(plan_id: int) -> Select[Any]:
    return select(MILESTONE.c.id).where(
        MILESTONE.c.task_id.in_(select(TASK.c.id).where(TASK.c.plan_id == plan_id))
    )


def _batch_keys(code: str) -> Any:
    """The plan's batch rows, keyed f"{kind}:{code}:{day}…": one key range per kind."""
    ranges = [
        and_(OUTBOX.c.key > f"{kind}:{code}:", OUTBOX.c.key < f"{kind}:{code};")
        for kind in BATCH_KINDS
    ]
    return ranges[0] | ranges[1]


_PLAN_ROW = 'SELECT id, code, title, archived_at FROM "plan" WHERE upper(code) = ?'

# The withdrawal's statements are written out in qmark style and run on the driver
# (bot.storage.outbox.raw.execute; numbered for PostgreSQL): a withdrawal is rare, so each
# runs once in a process, and compiling SQLAlchemy's constructs, even text() with typed
# parameters, cost more than running them (about 1.5 of 8 ms for a plan of 1,000 assignments).
_PLAN_MILESTONES = (
    "SELECT m.id FROM milestone m WHERE m.task_id IN (SELECT t.id FROM task t WHERE t.plan_id = ?)"
)
# waiting rows (to send, or held for a liaison's next brief: bot.services.briefs) of the
# plan's assignments and its batches, in one pass
_CANCEL = (
    "UPDATE outbox SET status = ?, last_error = ?"
    " WHERE status IN (?, ?) AND (assignment_id IN (SELECT a.id FROM assignment a"
    f" WHERE a.milestone_id IN ({_PLAN_MILESTONES}) AND a.archived_at IS NULL)"
    ' OR ("key" > ? AND "key" < ?) OR ("key" > ? AND "key" < ?))'
)
_ARCHIVE_ASSIGNMENTS = (
    f"UPDATE assignment SET archived_at = ? WHERE milestone_id IN ({_PLAN_MILESTONES})"
    " AND archived_at IS NULL"
)
_ARCHIVE_MILESTONES = (
    "UPDATE milestone SET archived_at = ? WHERE task_id IN (SELECT t.id FROM task t"
    " WHERE t.plan_id = ?) AND archived_at IS NULL"
)
_ARCHIVE_ITEMS = "UPDATE task SET archived_at = ? WHERE plan_id = ? AND archived_at IS NULL"
_ARCHIVE_PLAN = 'UPDATE "plan" SET archived_at = ? WHERE id = ?'


async def archive_plan(
    conn: AsyncConnection,
    plan: PlanRow,
    *,
    at: datetime,
    actor_id: int | None = None,
    actor_label: str,
    note: str = "",
) -> PlanArchive:
    """Withdraw `plan` (active) inside the caller's transaction (module docstring)."""
    pid = plan.id
    batches = [
        bound for kind in BATCH_KINDS for bound in (f"{kind}:{plan.code}:", f"{kind}:{plan.code};")
    ]
    waiting = [str(OutboxStatus.PENDING), str(OutboxStatus.HELD)]
    cancel = [str(OutboxStatus.CANCELLED), WITHDRAWN, *waiting, pid, *batches]
    cancelled = await raw.execute(conn, _CANCEL, cancel)
    assignments = await raw.execute(conn, _ARCHIVE_ASSIGNMENTS, [at, pid])
    await raw.execute(conn, _ARCHIVE_MILESTONES, [at, pid])
    items = await raw.execute(conn, _ARCHIVE_ITEMS, [at, pid])
    await raw.execute(conn, _ARCHIVE_PLAN, [at, pid])
    await plan_event(
        conn,
        pid,
        at=at,
        kind=WITHDRAW,
        actor_id=actor_id,
        actor_label=actor_label,
        note=note,
        assignments=assignments,
    )
    return PlanArchive(pid, plan.code, plan.title, at, items, assignments, cancelled)


async def forget_cancelled_outbox(conn: AsyncConnection, plan_id: int, code: str) -> int:
    """Delete the Outbox rows a withdrawal of the plan cancelled (never sent: nothing of them
    is history), so that the planner plans again what is due once the plan is back."""
    cancelled = and_(OUTBOX.c.status == OutboxStatus.CANCELLED, OUTBOX.c.last_error == WITHDRAWN)
    assignments = select(ASSIGNMENT.c.id).where(
        ASSIGNMENT.c.milestone_id.in_(_milestones_of(plan_id))
    )
    forgotten = (
        await conn.execute(
            delete(OUTBOX).where(cancelled, OUTBOX.c.assignment_id.in_(assignments))
        )
    ).rowcount or 0
    forgotten += (
        await conn.execute(delete(OUTBOX).where(cancelled, _batch_keys(code)))
    ).rowcount or 0
    return forgotten


async def unarchive_plan(
    conn: AsyncConnection,
    plan: PlanRow,
    *,
    at: datetime,
    actor_id: int | None = None,
    actor_label: str,
    note: str = "",
) -> PlanArchive:
    """Restore a withdrawn `plan` inside the caller's transaction: the rows stamped with its
    `archived_at` come back (module docstring)."""
    stamp = plan.archived_at
    assert stamp is not None, "only a withdrawn plan is restored"
    pid = plan.id
    assignments = (
        await conn.execute(
            update(ASSIGNMENT)
            .where(
                ASSIGNMENT.c.milestone_id.in_(_milestones_of(pid)),
                ASSIGNMENT.c.archived_at == stamp,
            )
            .values(archived_at=None, **_RECOMPUTE)
        )
    ).rowcount or 0
    await conn.execute(
        update(MILESTONE)
        .where(
            MILESTONE.c.task_id.in_(select(TASK.c.id).where(TASK.c.plan_id == pid)),
            MILESTONE.c.archived_at == stamp,
        )
        .values(archived_at=None)
    )
    items = (
        await conn.execute(
            update(TASK)
            .where(TASK.c.plan_id == pid, TASK.c.archived_at == stamp)
            .values(archived_at=None)
        )
    ).rowcount or 0
    forgotten = await forget_cancelled_outbox(conn, pid, plan.code)
    await conn.execute(update(PLAN).where(PLAN.c.id == pid).values(archived_at=None))
    await plan_event(
        conn,
        pid,
        at=at,
        kind=RESTORE,
        actor_id=actor_id,
        actor_label=actor_label,
        note=note,
        assignments=assignments,
    )
    return PlanArchive(pid, plan.code, plan.title, stamp, items, assignments, forgotten)


async def active_plan_codes(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(
        select(PLAN.c.code).where(PLAN.c.archived_at.is_(None)).order_by(PLAN.c.code)
    )
    return [str(code) for code in rows.scalars()]


async def withdrawn_plans(conn: AsyncConnection) -> list[PlanRow]:
    """The withdrawn plans, most recent first."""
    rows = await conn.execute(
        select(PLAN.c.id, PLAN.c.code, PLAN.c.title, PLAN.c.archived_at)
        .where(PLAN.c.archived_at.is_not(None))
        .order_by(PLAN.c.archived_at.desc(), PLAN.c.code)
    )
    return [PlanRow(*row) for row in rows]
