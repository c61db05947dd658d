"""The evidence of an item: the photos and files liaisons sent with their reports and notes
(StatusEvent rows with a Telegram file_id), for /task's 📎 button, which sends them again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.stats import unit_names
from bot.storage.models import Assignment, Milestone, StatusEvent
from bot.storage.typed_sql import select_rows

MAX_SENT = 10  # files sent again per press: the most recent ones


@dataclass(frozen=True)
class EvidenceFile:
    kind: str  # photo | document
    file_id: str
    name: str  # the file's name ("" for a photo)
    at: datetime
    unit_name: str
    actor_label: str
    note: str


def _of_task(task_id: int) -> tuple[Any, ...]:
    return (
        col(StatusEvent.evidence_file_id).is_not(None),
        col(Milestone.task_id) == task_id,
        col(Assignment.archived_at).is_(None),
        col(Milestone.archived_at).is_(None),
    )


async def evidence_count(session: AsyncSession, task_id: int) -> int:
    stmt = (
        select_rows(func.count())
        .select_from(StatusEvent)
        .join(Assignment, col(Assignment.id) == StatusEvent.assignment_id)
        .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
        .where(*_of_task(task_id))
    )
    return int((await session.exec(stmt)).one()[0])


async def task_evidence(
    session: AsyncSession, task_id: int, *, limit: int = MAX_SENT
) -> list[EvidenceFile]:
    """The item's evidence, the most recent `limit` pieces, oldest of them first."""
    stmt = (
        select(StatusEvent, Assignment.unit_id)
        .join(Assignment, col(Assignment.id) == StatusEvent.assignment_id)
        .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
        .where(*_of_task(task_id))
        .order_by(col(StatusEvent.at).desc(), col(StatusEvent.id).desc())
        .limit(limit)
    )
    rows = list((await session.exec(stmt)).all())
    names = await unit_names(session, {unit_id for _, unit_id in rows})
    out = [
        EvidenceFile(
            kind=event.evidence_kind or "document",
            file_id=event.evidence_file_id or "",
            name=event.evidence_name or "",
            at=event.at,
            unit_name=names.get(unit_id, ""),
            actor_label=event.actor_label,
            note=event.note,
        )
        for event, unit_id in rows
    ]
    return out[::-1]


__all__ = ["MAX_SENT", "EvidenceFile", "evidence_count", "task_evidence"]
