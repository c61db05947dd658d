"""What waits for a coordinator's decision: reported completions (办结 / 退回) and extension
requests (批准 / 驳回), within the coordinator's plan scope (bot.services.scope.PlanScope)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.status import CLOSED, COMPLETION, DONE_REPORTED, EXTENSION
from bot.services.scope import PlanScope
from bot.services.stats import unit_names
from bot.storage.models import Assignment, Milestone, Plan, StatusEvent, Task, Unit
from bot.storage.typed_sql import select_rows


@dataclass(frozen=True)
class Decision:
    """One thing a coordinator must decide on one assignment."""

    kind: str  # COMPLETION | EXTENSION
    assignment_id: int
    plan_id: int
    plan_code: str
    ref: str
    unit_name: str
    requested_to: date | None  # the date an extension asks for
    since: datetime | None  # when the latest report on the assignment was recorded
    note: str = ""  # what the liaison wrote with the report (the pushed notice shows it)


def waited_days(since: datetime | None, now: datetime) -> int | None:
    """Whole days a decision has waited (0 the same day), or None when unknown."""
    if since is None:
        return None
    aware = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    return max(0, (now - aware).days)


async def pending_decisions(session: AsyncSession, scope: PlanScope) -> list[Decision]:
    """Every decision waiting in the scope, by plan, then the longest waiting first."""
    latest = (
        select(StatusEvent.assignment_id, func.max(StatusEvent.at).label("since"))
        .group_by(col(StatusEvent.assignment_id))
        .subquery()
    )
    query = (
        select_rows(Assignment, Task, Plan, Unit, latest.c.since)
        .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
        .join(Task, col(Task.id) == Milestone.task_id)
        .join(Plan, col(Plan.id) == Task.plan_id)
        .join(Unit, col(Unit.id) == Assignment.unit_id)
        .outerjoin(latest, latest.c.assignment_id == Assignment.id)
        .where(
            col(Assignment.archived_at).is_(None),
            col(Milestone.archived_at).is_(None),
            or_(
                Assignment.status == DONE_REPORTED,
                (col(Assignment.extension_requested_to).is_not(None))
                & (Assignment.status != CLOSED),
            ),
        )
    )
    if scope.plan_ids is not None:
        query = query.where(col(Task.plan_id).in_(list(scope.plan_ids)))
    out: list[Decision] = []
    found = (await session.exec(query)).all()
    labels = await unit_names(session, {unit.id for _, _, _, unit, _ in found if unit.id})
    for a, task, plan, unit, since in found:
        common = dict(
            assignment_id=a.id,
            plan_id=plan.id,
            plan_code=plan.code,
            ref=task.ref,
            unit_name=labels.get(unit.id or 0, unit.short_name or unit.name),
            # an assignment without events since its load (as loads write none) waits since then
            since=since or a.assigned_at,
        )
        if a.status == DONE_REPORTED:
            out.append(Decision(kind=COMPLETION, requested_to=None, **common))
        if a.extension_requested_to is not None and a.status != CLOSED:
            out.append(Decision(kind=EXTENSION, requested_to=a.extension_requested_to, **common))
    far_past = datetime.min.replace(tzinfo=UTC)

    def order(d: Decision) -> tuple:
        since = d.since if d.since is None or d.since.tzinfo else d.since.replace(tzinfo=UTC)
        return (d.plan_code, since or far_past, d.ref, d.assignment_id, d.kind)

    return sorted(out, key=order)


__all__ = ["COMPLETION", "EXTENSION", "Decision", "pending_decisions", "waited_days"]
