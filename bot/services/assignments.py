"""The liaison's side of the ledger: open assignments, a task's card, reports.

Plain async functions taking a session; the caller commits. Rules come from bot.core (status
transitions, lights); every change goes through `bot.storage.history.record`, so the history
is append-only. Errors are `ServiceError` (codes in the docstrings) or the core's
`TransitionError`; both carry `code` and `params`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import desc
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.lights import LIGHT_ORDER, Light, LightInput, LightPolicy, light_of
from bot.core.roles import Roles
from bot.core.status import CLOSED, DONE_REPORTED, Action, Snapshot, Transition, apply
from bot.services.decision_push import push_decision
from bot.services.errors import ServiceError
from bot.services.lookup import task_by_ref
from bot.services.pending import COMPLETION, EXTENSION, Decision
from bot.services.stats import unit_names
from bot.storage.history import record
from bot.storage.models import (
    Assignment,
    Milestone,
    Person,
    Plan,
    SentMessage,
    StatusEvent,
    Task,
    Unit,
)
from bot.storage.typed_sql import select_rows

MY_PAGE_SIZE = 12  # one line per item


def local_date(now: datetime, zone: tzinfo) -> date:
    """The calendar date of instant `now` in the plans' time zone."""
    return now.astimezone(zone).date()


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AssignmentRow:
    """One assignment as the chat shows it."""

    assignment_id: int
    task_id: int
    plan_id: int
    plan_code: str
    ref: str
    title: str
    unit_id: int
    unit_name: str
    unit_short: str
    role: str  # lead | co
    milestone_id: int
    milestone_seq: int
    due: date
    original_due: date
    target: str
    status: str
    progress: int | None
    acknowledged: bool
    extension_requested_to: date | None
    last_report_at: datetime | None
    light: Light
    days_left: int  # due - today; negative when late

    @property
    def closed(self) -> bool:
        return self.status == CLOSED


@dataclass(frozen=True)
class Page:
    items: list[AssignmentRow]
    page: int  # 0-based, clamped to the pages there are
    pages: int
    total: int
    counts: dict[Light, int] = field(default_factory=dict)
    # /my: how many further open milestones each listed item has (by the listed assignment)
    more: dict[int, int] = field(default_factory=dict)
    units: int = 1  # how many units the listed items belong to (1: the unit goes unsaid)


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    unit_name: str
    actor_label: str
    kind: str
    old_status: str | None
    new_status: str | None
    progress: int | None
    note: str
    evidence_kind: str | None
    due_after: date | None
    due_before: date | None = None
    by_person: bool = True  # False: actor_label is a machine label (bot.core.history)


@dataclass(frozen=True)
class MilestoneView:
    milestone_id: int
    seq: int
    due: date
    phrase: str
    target: str
    assignments: list[AssignmentRow]


@dataclass(frozen=True)
class TaskDetail:
    task: Task
    plan: Plan
    milestones: list[MilestoneView]
    history: list[HistoryRow]
    mine: list[AssignmentRow]  # the viewer's own assignments on this task
    current: AssignmentRow | None  # the one a report or a button applies to

    @property
    def units(self) -> list[tuple[str, str]]:
        """(unit name, role) of the task, in plan order, each once."""
        seen: dict[str, str] = {}
        for m in self.milestones:
            for a in m.assignments:
                seen.setdefault(a.unit_name, a.role)
        return list(seen.items())


@dataclass(frozen=True)
class ReportOutcome:
    row: AssignmentRow  # after the change
    transition: Transition
    event: StatusEvent


# --- reading ---------------------------------------------------------------------------------


async def _window_starts(
    session: AsyncSession, task_ids: Sequence[int], plan_starts: dict[int, date]
) -> dict[int, date]:
    """milestone id → the start of its window (previous milestone's due, or the plan's start)."""
    if not task_ids:
        return {}
    result = await session.exec(
        select(col(Milestone.id), col(Milestone.task_id), col(Milestone.due), col(Task.plan_id))
        .join(Task, col(Task.id) == Milestone.task_id)
        .where(col(Milestone.task_id).in_(list(task_ids)), col(Milestone.archived_at).is_(None))
        .order_by(col(Milestone.task_id), col(Milestone.seq))
    )
    out: dict[int, date] = {}
    previous: dict[int, date] = {}
    for milestone_id, task_id, due, plan_id in result.all():
        assert milestone_id is not None  # a stored row has its key
        out[milestone_id] = previous.get(task_id, plan_starts.get(plan_id, due))
        previous[task_id] = due
    return out


def _row(
    a: Assignment,
    m: Milestone,
    t: Task,
    p: Plan,
    u: Unit,
    *,
    window_start: date,
    today: date,
    now: datetime,
    policy: LightPolicy,
    label: str = "",
) -> AssignmentRow:
    last_report_at = _utc(a.last_report_at)
    light = light_of(
        LightInput(
            status=a.status,
            due=a.due,
            window_start=window_start,
            progress=a.progress,
            acknowledged=a.acknowledged_at is not None,
            last_report_at=last_report_at,
        ),
        today=today,
        now=now,
        policy=policy,
    )
    assert a.id is not None and t.id is not None and m.id is not None and u.id is not None
    return AssignmentRow(
        assignment_id=a.id,
        task_id=t.id,
        plan_id=p.id or 0,
        plan_code=p.code,
        ref=t.ref,
        title=t.title,
        unit_id=u.id,
        unit_name=u.name,
        unit_short=label or u.short_name or u.name,
        role=a.role,
        milestone_id=m.id,
        milestone_seq=m.seq,
        due=a.due,
        original_due=m.original_due,
        target=m.target,
        status=a.status,
        progress=a.progress,
        acknowledged=a.acknowledged_at is not None,
        extension_requested_to=a.extension_requested_to,
        last_report_at=last_report_at,
        light=light,
        days_left=(a.due - today).days,
    )


async def assignment_rows(
    session: AsyncSession,
    *conditions: Any,
    today: date,
    now: datetime,
    policy: LightPolicy,
) -> list[AssignmentRow]:
    """Active assignments matching `conditions` (SQL expressions on the joined tables)."""
    result = await session.exec(
        select_rows(Assignment, Milestone, Task, Plan, Unit)
        .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
        .join(Task, col(Task.id) == Milestone.task_id)
        .join(Plan, col(Plan.id) == Task.plan_id)
        .join(Unit, col(Unit.id) == Assignment.unit_id)
        .where(
            col(Assignment.archived_at).is_(None),
            col(Milestone.archived_at).is_(None),
            col(Task.archived_at).is_(None),
            col(Plan.archived_at).is_(None),
            *conditions,
        )
    )
    rows = list(result.all())
    labels = await unit_names(session, {u.id for *_, u in rows if u.id is not None})
    plan_starts = {p.id: p.period_start for _, _, _, p, _ in rows if p.id is not None}
    windows = await _window_starts(
        session, sorted({t.id for _, _, t, _, _ in rows if t.id is not None}), plan_starts
    )
    return [
        _row(
            a,
            m,
            t,
            p,
            u,
            window_start=windows.get(m.id or 0, p.period_start),
            label=labels.get(u.id or 0, ""),
            today=today,
            now=now,
            policy=policy,
        )
        for a, m, t, p, u in rows
    ]


def urgency_key(row: AssignmentRow) -> tuple[int, date, str, int]:
    """Red, yellow, green, grey; within a light the earliest due (the most late) first."""
    return (LIGHT_ORDER[row.light], row.due, row.ref, row.milestone_seq)


async def my_assignments(
    session: AsyncSession,
    *,
    unit_ids: Sequence[int],
    today: date,
    now: datetime,
    policy: LightPolicy,
    page: int = 0,
    page_size: int = MY_PAGE_SIZE,
) -> Page:
    """Open (not 办结) items of `unit_ids`, one page of them: one row per item and unit (its
    most urgent open milestone; `Page.more` counts the others), grouped by plan — the plan of
    the most urgent item first — and within a plan by light, the most urgent first."""
    if not unit_ids:
        return Page(items=[], page=0, pages=1, total=0)
    rows = await assignment_rows(
        session,
        col(Assignment.unit_id).in_(list(unit_ids)),
        col(Assignment.status) != CLOSED,
        today=today,
        now=now,
        policy=policy,
    )
    rows.sort(key=urgency_key)
    # one line per item and unit: its most urgent open milestone stands for it
    chosen: dict[tuple[int, int], AssignmentRow] = {}
    more: dict[int, int] = {}
    for r in rows:
        first = chosen.setdefault((r.task_id, r.unit_id), r)
        if first is not r:
            more[first.assignment_id] = more.get(first.assignment_id, 0) + 1
    items_all = list(chosen.values())
    # grouped by plan (the plan of the most urgent item first), then by light, most urgent first
    plan_rank: dict[str, int] = {}
    for r in items_all:
        plan_rank.setdefault(r.plan_code, len(plan_rank))
    items_all.sort(key=lambda r: (plan_rank[r.plan_code], *urgency_key(r)))
    counts: dict[Light, int] = {}
    for r in items_all:
        counts[r.light] = counts.get(r.light, 0) + 1
    pages = max(1, -(-len(items_all) // page_size))
    page = max(0, min(page, pages - 1))
    items = items_all[page * page_size : (page + 1) * page_size]
    return Page(
        items=items,
        page=page,
        pages=pages,
        total=len(items_all),
        counts=counts,
        more={a: n for a, n in more.items() if a in {r.assignment_id for r in items}},
        units=len({r.unit_id for r in items_all}),
    )


def can_view(roles: Roles, plan_id: int, unit_ids: set[int]) -> bool:
    return (
        roles.coordinates(plan_id)
        or plan_id in roles.leader_plan_ids
        or bool(unit_ids & (roles.liaison_unit_ids | roles.leader_unit_ids))
    )


def _current(mine: list[AssignmentRow]) -> AssignmentRow | None:
    """The viewer's assignment a report applies to: the first open milestone, lead first."""
    if not mine:
        return None
    open_rows = [r for r in mine if not r.closed]
    pool = open_rows or mine
    return min(pool, key=lambda r: (r.due, r.milestone_seq, r.role != "lead", r.unit_id))


async def task_detail(
    session: AsyncSession,
    *,
    roles: Roles,
    today: date,
    now: datetime,
    policy: LightPolicy,
    ref: str | None = None,
    task_id: int | None = None,
    history_limit: int = 8,
) -> TaskDetail:
    """A task's card for a viewer. Codes: unknown_ref, not_your_task."""
    if task_id is not None:
        task = await session.get(Task, task_id)
        if task is None or task.archived_at is not None:
            raise ServiceError("unknown_ref", ref=ref or str(task_id))
    else:
        task = await task_by_ref(session, ref or "")
    plan = await session.get(Plan, task.plan_id)
    assert plan is not None and task.id is not None
    rows = await assignment_rows(
        session, col(Task.id) == task.id, today=today, now=now, policy=policy
    )
    if not can_view(roles, plan.id or 0, {r.unit_id for r in rows}):
        raise ServiceError("not_your_task", ref=task.ref)
    result = await session.exec(
        select(Milestone)
        .where(Milestone.task_id == task.id, col(Milestone.archived_at).is_(None))
        .order_by(col(Milestone.seq))
    )
    milestones = []
    for m in result.all():
        assigned = sorted(
            (r for r in rows if r.milestone_id == m.id),
            key=lambda r: (r.role != "lead", r.unit_name),
        )
        milestones.append(
            MilestoneView(
                milestone_id=m.id or 0,
                seq=m.seq,
                due=m.due,
                phrase=m.phrase,
                target=m.target,
                assignments=assigned,
            )
        )
    mine = [r for r in rows if roles.answers_for(r.unit_id)]
    history = await task_history(session, [r.assignment_id for r in rows], limit=history_limit)
    return TaskDetail(
        task=task,
        plan=plan,
        milestones=milestones,
        history=history,
        mine=mine,
        current=_current(mine),
    )


async def task_history(
    session: AsyncSession, assignment_ids: Sequence[int], *, limit: int = 8
) -> list[HistoryRow]:
    """The latest events of these assignments, newest first; archives and restores left out,
    and the "import" event of each assignment a ledger loaded before this release holds (a load
    is the plan's event now, bot.storage.plan_history: it is not the assignment's history)."""
    if not assignment_ids:
        return []
    result = await session.exec(
        select(StatusEvent, Unit.name)
        .join(Assignment, col(Assignment.id) == StatusEvent.assignment_id)
        .join(Unit, col(Unit.id) == Assignment.unit_id)
        .where(
            col(StatusEvent.assignment_id).in_(list(assignment_ids)),
            col(StatusEvent.kind).not_in(["import", "archive", "restore"]),
        )
        .order_by(desc(col(StatusEvent.at)), desc(col(StatusEvent.id)))
        .limit(limit)
    )
    return [
        HistoryRow(
            at=_utc(e.at) or e.at,
            unit_name=unit_name,
            actor_label=e.actor_label,
            kind=e.kind,
            old_status=e.old_status,
            new_status=e.new_status,
            progress=e.progress,
            note=e.note,
            evidence_kind=e.evidence_kind,
            due_after=e.due_after,
            due_before=e.due_before,
            by_person=e.actor_id is not None,
        )
        for e, unit_name in result.all()
    ]


async def assignment_row(
    session: AsyncSession, assignment_id: int, *, today: date, now: datetime, policy: LightPolicy
) -> AssignmentRow:
    """Code: unknown_assignment."""
    rows = await assignment_rows(
        session, col(Assignment.id) == assignment_id, today=today, now=now, policy=policy
    )
    if not rows:
        raise ServiceError("unknown_assignment")
    return rows[0]


# --- writing ---------------------------------------------------------------------------------


async def report(
    session: AsyncSession,
    *,
    assignment_id: int,
    person: Person,
    roles: Roles,
    action: Action,
    at: datetime,
    today: date,
    policy: LightPolicy,
    progress: int | None = None,
    new_due: date | None = None,
    note: str = "",
    evidence_kind: str | None = None,
    evidence_file_id: str | None = None,
    evidence_name: str | None = None,
) -> ReportOutcome:
    """A liaison's report on one assignment of their unit.

    Codes: unknown_assignment, not_your_unit, already_acknowledged, empty_note, and the
    TransitionError codes of bot.core.status.apply.
    """
    assignment = await session.get(Assignment, assignment_id)
    if assignment is None or assignment.archived_at is not None:
        raise ServiceError("unknown_assignment")
    before = await assignment_row(session, assignment_id, today=today, now=at, policy=policy)
    if not roles.answers_for(assignment.unit_id):
        raise ServiceError("not_your_unit", ref=before.ref, unit=before.unit_name)
    if action is Action.ACK and assignment.acknowledged_at is not None:
        raise ServiceError("already_acknowledged", ref=before.ref, unit=before.unit_name)
    if action is Action.NOTE and not (note.strip() or evidence_file_id):
        raise ServiceError("empty_note")
    snapshot = Snapshot(
        status=assignment.status,
        due=assignment.due,
        acknowledged=assignment.acknowledged_at is not None,
        progress=assignment.progress,
        extension_requested_to=assignment.extension_requested_to,
    )
    transition = apply(
        snapshot, action, by="liaison", today=today, progress=progress, new_due=new_due
    )
    event = await record(
        session,
        assignment,
        transition,
        at=at,
        actor=person,
        note=note.strip(),
        evidence_kind=evidence_kind,
        evidence_file_id=evidence_file_id,
        evidence_name=evidence_name,
    )
    await session.flush()
    after = await assignment_row(session, assignment_id, today=today, now=at, policy=policy)
    await _push_decisions(session, before, after, transition, event, person=person, at=at)
    return ReportOutcome(row=after, transition=transition, event=event)


async def _push_decisions(
    session: AsyncSession,
    before: AssignmentRow,
    after: AssignmentRow,
    transition: Transition,
    event: StatusEvent,
    *,
    person: Person,
    at: datetime,
) -> None:
    """A new 已完成 or 申请延期 waits for the coordinators: tell them now (Outbox)."""
    kinds = []
    if after.status == DONE_REPORTED and before.status != DONE_REPORTED:
        kinds.append(COMPLETION)
    if transition.extension_requested_to is not None:
        kinds.append(EXTENSION)
    for kind in kinds:
        decision = Decision(
            kind=kind,
            assignment_id=after.assignment_id,
            plan_id=after.plan_id,
            plan_code=after.plan_code,
            ref=after.ref,
            unit_name=after.unit_short,
            requested_to=after.extension_requested_to if kind == EXTENSION else None,
            since=at,
            note=event.note or "",
        )
        await push_decision(
            session, decision, at=at, event_id=event.id or 0, reporter_id=person.id
        )


async def assignment_for_task(
    session: AsyncSession,
    *,
    ref: str,
    roles: Roles,
    today: date,
    now: datetime,
    policy: LightPolicy,
) -> AssignmentRow:
    """The viewer's current assignment on the task `ref`. Codes: unknown_ref, not_your_task."""
    task = await task_by_ref(session, ref)
    rows = await assignment_rows(
        session, col(Task.id) == task.id, today=today, now=now, policy=policy
    )
    mine = [r for r in rows if roles.answers_for(r.unit_id)]
    current = _current(mine)
    if current is None:
        raise ServiceError("not_your_task", ref=task.ref)
    return current


# --- messages about an assignment ------------------------------------------------------------


async def remember_message(
    session: AsyncSession,
    *,
    chat_id: int,
    message_id: int,
    assignment_id: int,
    kind: str,
    at: datetime,
) -> None:
    """Note that bot message (chat_id, message_id) is about `assignment_id`, so that replies
    and button presses on it reach it. Idempotent."""
    result = await session.exec(
        select(SentMessage).where(
            SentMessage.chat_id == chat_id, SentMessage.message_id == message_id
        )
    )
    existing = result.first()
    if existing is not None:
        existing.assignment_id, existing.kind = assignment_id, kind
        session.add(existing)
        return
    session.add(
        SentMessage(
            chat_id=chat_id,
            message_id=message_id,
            assignment_id=assignment_id,
            kind=kind,
            sent_at=at,
        )
    )


async def message_subject(
    session: AsyncSession, *, chat_id: int, message_id: int
) -> SentMessage | None:
    """The record of a bot message about an assignment, if it is one."""
    result = await session.exec(
        select(SentMessage).where(
            SentMessage.chat_id == chat_id, SentMessage.message_id == message_id
        )
    )
    return result.first()
