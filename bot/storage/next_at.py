"""Keeping `assignment.next_at` current: every change that can move an assignment's next
notification makes the scheduler's next tick recompute it.

`next_at` is the instant the tick must look at the assignment again (`bot.core.planner`'s
`next_instant`, written by `bot.services.planning`). NULL means "recompute at the next tick".
A change does not compute the new instant itself (that needs the policy, the calendar and the
Outbox); it sets NULL and the next tick, which reads the NULL rows with those whose instant has
come, plans the assignment as it is then and stores its new instant.

What sets NULL:
- any ORM change of an assignment's status, due date, 签收, report or archive (报告, 签收,
  approve / extension, 退回, 办结, undo: `bot.storage.history.record` and the reply undo go
  through the ORM), and with it the other assignments of the same task (a report request goes
  to one carrier per task and unit: closing the carrier hands it to another) — the session
  listener below;
- people bound or unbound (a Membership added, revoked or changed; a person's Telegram id or
  `active` changed): the assignments they may be addressed for — a liaison's or leader's unit,
  a coordinator's or plan leader's plan, every plan for a coordinator of all plans. A stage
  that had nobody to address is not retried every tick (its assignment's instant moves on to
  the next stage); binding someone makes it due again, so they get the stage current then;
- a plan (re)loaded with changes (`bot.storage.loader`): the tasks whose assignments,
  recurrence or milestones changed (`touch_tasks`), or the whole plan when its period changed
  or a withdrawn plan came back (`touch_plan`);
- a different policy at start-up (`ensure_policy`): everything.

Core UPDATEs of `assignment` elsewhere must set `next_at = NULL` themselves (or call these).

A touch writes only the rows that have an instant (`next_at IS NOT NULL`: a NULL row needs no
write). On PostgreSQL that filter alone would race a tick: a tick locks the NULL rows it reads
(`bot.storage.outbox.snapshots`) and stores their new instants at its commit, but an UPDATE
skips a row whose committed value does not match its WHERE without waiting for the row's lock,
so a change committed during the tick (someone bound to the unit, a sibling reported) would be
overwritten by an instant computed without it. So on PostgreSQL a touch first locks the NULL rows
of its scope (SELECT … FOR NO KEY UPDATE: it waits for a tick holding them, and writes no row
version), then writes the rows that have an instant by then. SQLite has one writer at a time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, bindparam, event, func, literal, select, true, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session, attributes

from bot.storage.models import (
    ROLE_COORDINATOR,
    ROLE_LEADER,
    ROLE_LIAISON,
    Assignment,
    Membership,
    Milestone,
    Person,
    Plan,
    ScheduleState,
    Task,
)

ASSIGNMENT = Assignment.__table__  # type: ignore[attr-defined]
MILESTONE = Milestone.__table__  # type: ignore[attr-defined]
TASK = Task.__table__  # type: ignore[attr-defined]
PLAN = Plan.__table__  # type: ignore[attr-defined]
MEMBERSHIP = Membership.__table__  # type: ignore[attr-defined]
STATE = ScheduleState.__table__  # type: ignore[attr-defined]

POLICY_KEY = "policy"
# the columns whose change can move an assignment's next notification
_WATCHED = (
    "status",
    "due",
    "acknowledged_at",
    "done_reported_at",
    "assigned_at",
    "archived_at",
    "milestone_id",
    "unit_id",
)
_PENDING = "next_at_touch"  # session.info: what to touch after the flush
_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit


def _set_null(scope: ColumnElement[bool]) -> Any:
    """UPDATE: NULL for the assignments of `scope` that have an instant."""
    return update(ASSIGNMENT).where(scope, ASSIGNMENT.c.next_at.is_not(None)).values(next_at=None)


def _lock_null(scope: ColumnElement[bool]) -> Any:
    """PostgreSQL: lock the NULL rows of `scope` (waits for a tick that holds them)."""
    rows = (
        select(literal(1))
        .where(scope, ASSIGNMENT.c.next_at.is_(None))
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE
    )
    return select(func.count()).select_from(rows.subquery())


class _Touch:
    """The two statements of one touch (built once: constant statements are compiled once)."""

    def __init__(self, scope: ColumnElement[bool]) -> None:
        self.lock, self.update = _lock_null(scope), _set_null(scope)

    def run(self, conn: Connection, params: dict[str, Any] | None = None) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(self.lock, params)
        conn.execute(self.update, params)

    async def arun(self, conn: AsyncConnection, params: dict[str, Any] | None = None) -> None:
        if conn.dialect.name == "postgresql":
            await conn.execute(self.lock, params)
        await conn.execute(self.update, params)


def _task_siblings(milestone_ids: set[int]) -> _Touch:
    """NULL for the assignments of the tasks of these milestones."""
    tasks = select(MILESTONE.c.task_id).where(MILESTONE.c.id.in_(sorted(milestone_ids)))
    milestones = select(MILESTONE.c.id).where(MILESTONE.c.task_id.in_(tasks))
    return _Touch(ASSIGNMENT.c.milestone_id.in_(milestones))


def _of_plans(plan_ids: Any) -> _Touch:
    milestones = (
        select(MILESTONE.c.id)
        .join(TASK, TASK.c.id == MILESTONE.c.task_id)
        .where(TASK.c.plan_id.in_(plan_ids))
    )
    return _Touch(ASSIGNMENT.c.milestone_id.in_(milestones))


_ALL = _Touch(true())


def _of_units(unit_ids: set[int]) -> _Touch:
    return _Touch(ASSIGNMENT.c.unit_id.in_(sorted(unit_ids)))


def _scope_of(membership: Any, scopes: dict[str, set[Any]]) -> None:
    role, unit_id, plan_id = membership.role, membership.unit_id, membership.plan_id
    if role in (ROLE_LIAISON, ROLE_LEADER) and unit_id is not None:
        scopes["units"].add(unit_id)
    elif role in (ROLE_COORDINATOR, ROLE_LEADER) and plan_id is not None:
        scopes["plans"].add(plan_id)
    elif role == ROLE_COORDINATOR:
        scopes["all"].add(True)


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    state = attributes.instance_state(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    pending = session.info.setdefault(
        _PENDING,
        {"milestones": set(), "units": set(), "plans": set(), "all": set(), "people": set()},
    )
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Assignment):
            if obj in session.new:
                obj.next_at = None
                continue
            if obj in session.dirty and _changed(obj, _WATCHED):
                obj.next_at = None
                if obj.milestone_id is not None:
                    pending["milestones"].add(obj.milestone_id)
        elif isinstance(obj, Membership):
            if obj in session.new or obj in session.deleted or session.is_modified(obj):
                _scope_of(obj, pending)
        elif isinstance(obj, Person) and obj in session.dirty:
            if _changed(obj, ("telegram_id", "active")) and obj.id is not None:
                pending["people"].add(obj.id)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending or not any(pending.values()):
        return
    conn = session.connection()
    if pending["people"]:
        rows = conn.execute(
            select(MEMBERSHIP.c.role, MEMBERSHIP.c.unit_id, MEMBERSHIP.c.plan_id).where(
                MEMBERSHIP.c.person_id.in_(sorted(pending["people"]))
            )
        )
        for row in rows:
            _scope_of(row, pending)
    if pending["all"]:
        _ALL.run(conn)
        return
    if pending["milestones"]:
        _task_siblings(pending["milestones"]).run(conn)
    if pending["units"]:
        _of_units(pending["units"]).run(conn)
    if pending["plans"]:
        _of_plans(sorted(pending["plans"])).run(conn)


async def touch_plan(conn: AsyncConnection, code: str) -> None:
    """Every assignment of plan `code` is recomputed at the next tick (after a reload)."""
    await _of_plans(select(PLAN.c.id).where(PLAN.c.code == code)).arun(conn)


async def touch_tasks(conn: AsyncConnection, task_ids: list[int]) -> None:
    """The assignments of these tasks are recomputed at the next tick (after a reload)."""
    for start in range(0, len(task_ids), _CHUNK):
        chunk = task_ids[start : start + _CHUNK]
        milestones = select(MILESTONE.c.id).where(MILESTONE.c.task_id.in_(chunk))
        await _Touch(ASSIGNMENT.c.milestone_id.in_(milestones)).arun(conn)


async def touch_all(conn: AsyncConnection) -> None:
    await _ALL.arun(conn)


async def ensure_policy(conn: AsyncConnection, fingerprint: str) -> bool:
    """Store the policy's fingerprint; when it differs from the one the instants were
    computed with, every instant is recomputed at the next tick. True when it differed."""
    stored = (
        await conn.execute(select(STATE.c.value).where(STATE.c.name == POLICY_KEY))
    ).scalar_one_or_none()
    if stored == fingerprint:
        return False
    await touch_all(conn)
    if stored is None:
        await conn.execute(STATE.insert().values(name=POLICY_KEY, value=fingerprint))
    else:
        await conn.execute(
            update(STATE).where(STATE.c.name == POLICY_KEY).values(value=fingerprint)
        )
    return True


# the assignments of one task (a constant statement: compiled once per process)
_OF_TASK = _Touch(
    ASSIGNMENT.c.milestone_id.in_(
        select(MILESTONE.c.id).where(MILESTONE.c.task_id == bindparam("task_id"))
    )
)


async def touch_decided(conn: AsyncConnection, task_id: int, changed: Any) -> bool:
    """After a Core UPDATE of one assignment of task `task_id` (a coordinator's decision,
    `bot.services.coordination.act`), what the listener does for an ORM change: when one of
    the `changed` columns can move its next notification, NULL for it and the other
    assignments of its task. True when it did."""
    if not any(name in _WATCHED for name in changed):
        return False
    await _OF_TASK.arun(conn, {"task_id": task_id})
    return True


# the assignments of one unit (a constant statement: compiled once per process)
_OF_UNIT = _Touch(ASSIGNMENT.c.unit_id == bindparam("unit"))


async def touch_membership(conn: AsyncConnection, membership: Any) -> None:
    """After a Core INSERT of a membership (`bot.services.people.add_membership`), what the
    listener does for one added through the ORM: NULL for the assignments its holder may be
    addressed for (its role, unit and plan)."""
    scopes: dict[str, set[Any]] = {"units": set(), "plans": set(), "all": set()}
    _scope_of(membership, scopes)
    if scopes["all"]:
        await _ALL.arun(conn)
    elif scopes["units"]:
        await _OF_UNIT.arun(conn, {"unit": membership.unit_id})
    elif scopes["plans"]:
        await _of_plans(sorted(scopes["plans"])).arun(conn)
