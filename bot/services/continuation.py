"""The note a plain text may continue (bot.core.continuation): the person's latest event."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import desc
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.continuation import continues_note
from bot.storage.models import Assignment, StatusEvent


async def note_to_continue(
    session: AsyncSession, *, person_id: int, now: datetime
) -> StatusEvent | None:
    """The event whose note a plain text from `person_id` at `now` continues, if any: their
    latest event, when it carries a note long enough to have been cut by Telegram and was
    recorded moments ago, on an assignment that still exists."""
    result = await session.exec(
        select(StatusEvent)
        .join(Assignment, col(Assignment.id) == StatusEvent.assignment_id)
        .where(StatusEvent.actor_id == person_id, col(Assignment.archived_at).is_(None))
        .order_by(desc(col(StatusEvent.at)), desc(col(StatusEvent.id)))
        .limit(1)
    )
    latest = result.first()
    if latest is None:
        return None
    at = latest.at if latest.at.tzinfo is not None else latest.at.replace(tzinfo=UTC)
    return latest if continues_note(latest.note, at, now) else None
