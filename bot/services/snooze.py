"""稍后提醒 (snooze) of a reminder: the same reminder again at the next working morning's
window opening, once per stage, never later than the due date. Stored as a new Outbox row
keyed f"{original key}:snoozed" with `not_before`, so the unique key makes "once" hold
through double taps and restarts, and the sender delivers it like any other row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.notices import OutboxKind
from bot.core.policy import Policy
from bot.core.workdays import next_working_morning
from bot.storage.db import insert_unless_exists
from bot.storage.models import CLOSED, DONE_REPORTED, Assignment, Outbox
from bot.storage.typed_sql import table_of

SNOOZED_SUFFIX = ":snoozed"


@dataclass(frozen=True)
class SnoozeOutcome:
    code: str  # snoozed | already | past_due | not_reminder | finished | disabled
    not_before: datetime | None = None


async def snooze_reminder(
    session: AsyncSession,
    *,
    chat_id: int,
    message_id: int,
    assignment_id: int,
    at: datetime,
    policy: Policy,
) -> SnoozeOutcome:
    """Defer the reminder shown in message (`chat_id`, `message_id`) to the next working
    morning. The caller commits."""
    if not policy.snooze_enabled:
        return SnoozeOutcome("disabled")
    found = await session.exec(
        select(Outbox).where(
            Outbox.chat_id == chat_id,
            Outbox.message_id == message_id,
            Outbox.assignment_id == assignment_id,
        )
    )
    row = found.first()
    if row is None or row.kind != OutboxKind.REMINDER:
        return SnoozeOutcome("not_reminder")
    if row.key.endswith(SNOOZED_SUFFIX):
        return SnoozeOutcome("already")
    assignment = await session.get(Assignment, assignment_id)
    if assignment is None or assignment.status in (DONE_REPORTED, CLOSED):
        return SnoozeOutcome("finished")
    target = next_working_morning(at, policy.window)
    due = assignment.due
    payload_due = (row.payload or {}).get("due")
    if payload_due:
        due = min(due, date.fromisoformat(payload_due))
    if target.astimezone(policy.zone).date() > due:
        return SnoozeOutcome("past_due")
    dialect = (await session.connection()).dialect.name
    stmt = insert_unless_exists(table_of(Outbox), dialect, key=["key"]).values(
        key=row.key + SNOOZED_SUFFIX,
        kind=row.kind,
        chat_id=row.chat_id,
        person_id=row.person_id,
        assignment_id=row.assignment_id,
        stage=row.stage,
        locale=row.locale,
        payload=dict(row.payload or {}),
        created_at=at,
        not_before=target,
    )
    result = await session.exec(stmt)
    if not result.rowcount:
        return SnoozeOutcome("already")
    return SnoozeOutcome("snoozed", target)
