"""Write a status transition: update the assignment and append its history event.

History is append-only: this module only ever adds StatusEvent rows. The caller commits.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import desc, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.history import ACTOR_SYSTEM
from bot.core.status import DECISION_EVENT_KINDS, DONE_REPORTED, Transition
from bot.storage.models import CLOSED, Assignment, Person, StatusEvent
from bot.storage.typed_sql import stored_id


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
    due_before: date | None = None
    due_after: date | None = None
    if transition.due_after is not None and transition.due_after != assignment.due:
        due_before, due_after = assignment.due, transition.due_after
        assignment.due = transition.due_after
    assignment.status = transition.new_status
    if transition.progress is not None:
        assignment.progress = transition.progress
    if transition.clear_progress:
        assignment.progress = None
    if transition.extension_requested_to is not None:
        assignment.extension_requested_to = transition.extension_requested_to
    if transition.clear_extension:
        assignment.extension_requested_to = None
    if transition.acknowledge and assignment.acknowledged_at is None:
        assignment.acknowledged_at = at
    if transition.is_report:
        assignment.last_report_at = at
    if transition.new_status == DONE_REPORTED and transition.old_status != DONE_REPORTED:
        assignment.done_reported_at = at
    if transition.new_status == CLOSED:
        assignment.closed_at = at
    if transition.old_status == DONE_REPORTED and transition.new_status != DONE_REPORTED:
        if transition.new_status != CLOSED:
            assignment.done_reported_at = None  # returned (退回): the report no longer stands
    session.add(assignment)

    event = StatusEvent(
        assignment_id=stored_id(assignment.id),
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
    session.add(event)
    return event


async def claim_decision(
    session: AsyncSession,
    assignment_id: int,
    *,
    status: str,
    extension_requested_to: date | None,
    new_status: str,
) -> bool:
    """Take the right to decide on the assignment: its status becomes `new_status` only if it
    still is what the decision was made on (`status`, the extension request). False when
    another decision came first (two coordinators pressing 办结 on two notices of the same
    item): the caller then records nothing. On PostgreSQL the second UPDATE waits for the
    first transaction and sees its outcome; on SQLite writers are serialised anyway."""
    extension = col(Assignment.extension_requested_to)
    changed = await session.exec(
        update(Assignment)
        .where(
            col(Assignment.id) == assignment_id,
            col(Assignment.status) == status,
            extension.is_(None)
            if extension_requested_to is None
            else extension == extension_requested_to,
        )
        .values(status=new_status)
        .execution_options(synchronize_session=False)
    )
    return changed.rowcount == 1


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
