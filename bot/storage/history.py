"""Write a status transition: update the assignment and append its history event.

History is append-only: this module only ever adds StatusEvent rows. The caller commits.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import desc
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.history import ACTOR_SYSTEM
from bot.core.status import DECISION_EVENT_KINDS, DONE_REPORTED, Transition
from bot.storage.models import CLOSED, Assignment, Person, StatusEvent
from bot.storage.typed_sql import stored_id


def assignment_changes(current: Any, transition: Transition, *, at: datetime) -> dict[str, Any]:
    """The columns `transition` sets on an assignment (name → value, in the order they are
    applied) whose stored values `current` has (an Assignment, or a row read with its `due`
    and `acknowledged_at`): `record` sets them on the session's object, a decision
    (bot.services.coordination.act) writes them in its one conditional UPDATE."""
    changes: dict[str, Any] = {}
    if transition.due_after is not None and transition.due_after != current.due:
        changes["due"] = transition.due_after
    changes["status"] = transition.new_status
    if transition.progress is not None:
        changes["progress"] = transition.progress
    if transition.clear_progress:
        changes["progress"] = None
    if transition.extension_requested_to is not None:
        changes["extension_requested_to"] = transition.extension_requested_to
    if transition.clear_extension:
        changes["extension_requested_to"] = None
    if transition.acknowledge and current.acknowledged_at is None:
        changes["acknowledged_at"] = at
    if transition.is_report:
        changes["last_report_at"] = at
    if transition.new_status == DONE_REPORTED and transition.old_status != DONE_REPORTED:
        changes["done_reported_at"] = at
    if transition.new_status == CLOSED:
        changes["closed_at"] = at
    if transition.old_status == DONE_REPORTED and transition.new_status != DONE_REPORTED:
        if transition.new_status != CLOSED:
            changes["done_reported_at"] = None  # returned (退回): the report no longer stands
    return changes


def status_event(
    assignment_id: int,
    transition: Transition,
    *,
    at: datetime,
    due_before: date | None,
    actor: Person | None = None,
    actor_label: str = "",
    note: str = "",
    evidence_kind: str | None = None,
    evidence_file_id: str | None = None,
    evidence_name: str | None = None,
) -> StatusEvent:
    """The history row of `transition` (not added to any session); `due_before`: the due date
    it moved, else None."""
    due_after = transition.due_after if due_before is not None else None
    return StatusEvent(
        assignment_id=assignment_id,
        at=at,
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.name if actor else ACTOR_SYSTEM),
        kind=transition.event_kind,
        old_status=transition.old_status,
        new_status=transition.new_status,
        progress=transition.progress,
        note=note,
        evidence_kind=evidence_kind,
        evidence_file_id=evidence_file_id,
        evidence_name=evidence_name,
        due_before=due_before,
        due_after=due_after if due_after else transition.extension_requested_to,
    )


async def record(
    session: AsyncSession,
    assignment: Assignment,
    transition: Transition,
    *,
    at: datetime,
    actor: Person | None = None,
    actor_label: str = "",
    note: str = "",
    evidence_kind: str | None = None,
    evidence_file_id: str | None = None,
    evidence_name: str | None = None,
) -> StatusEvent:
    """Apply `transition` to `assignment` at instant `at` and add the StatusEvent."""
    changes = assignment_changes(assignment, transition, at=at)
    due_before = assignment.due if "due" in changes else None
    for name, value in changes.items():
        setattr(assignment, name, value)
    session.add(assignment)
    event = status_event(
        stored_id(assignment.id),
        transition,
        at=at,
        due_before=due_before,
        actor=actor,
        actor_label=actor_label,
        note=note,
        evidence_kind=evidence_kind,
        evidence_file_id=evidence_file_id,
        evidence_name=evidence_name,
    )
    session.add(event)
    return event


async def latest_decision(session: AsyncSession, assignment_id: int) -> StatusEvent | None:
    """The coordinator's latest decision (办结, 退回, approve, deny) on the assignment, unless
    the liaison reported 已完成 or asked for an extension again after it."""
    found = await session.exec(
        select(StatusEvent)
        .where(
            col(StatusEvent.assignment_id) == assignment_id,
            col(StatusEvent.kind).in_((*DECISION_EVENT_KINDS, "report", "extension_request")),
        )
        .order_by(desc(col(StatusEvent.at)), desc(col(StatusEvent.id)))
    )
    for event in found.all():
        if event.kind in DECISION_EVENT_KINDS:
            return event
        if event.kind == "extension_request" or event.new_status == DONE_REPORTED:
            return None  # a report newer than any decision: nothing was decided on it yet
    return None
