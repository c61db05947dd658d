"""The sender's queries: what is due, the claim, the record of a sent part, retries.

Each function takes the session of one short transaction (the sender commits after every
message, see `bot.telegram.delivery.sender`); none of them commits.

Claims: a row is claimable when it is `pending`, or `sending` under a claim whose lease has
passed (its claimer died). `claim` marks it `sending` with the claimer's name (`claimed_by`)
and `lease_until` (real UTC, never the project clock): on PostgreSQL after `SELECT … FOR UPDATE
SKIP LOCKED`, so instances that look at the same row at once never wait on each other and only
one gets it; on SQLite (one writer) the conditional UPDATE alone decides. A claimer that is
killed leaves its row `sending`; once its lease has passed, any sender takes it again (the one
message Telegram may already have is the only possible duplicate, as before).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.notices import (
    CHASING_KINDS,
    DecisionNotice,
    ItemNotice,
    OutboxKind,
    OutboxStatus,
    read_payload,
)
from bot.core.status import CLOSED, DONE_REPORTED, awaits_decision
from bot.storage.chats import chat_locale
from bot.storage.models import (
    Assignment,
    ChatSetting,
    ChatSubscription,
    Milestone,
    Outbox,
    Person,
    SentMessage,
    Task,
)
from bot.storage.outbox.details import rendered_payload
from bot.storage.typed_sql import select_rows, stored_id

PENDING, SENDING, SENT = OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT


def _claimable(wall: datetime) -> ColumnElement[bool]:
    """Pending, or claimed by a sender whose lease has passed (it died)."""
    return or_(
        col(Outbox.status) == PENDING,
        and_(col(Outbox.status) == SENDING, col(Outbox.lease_until) < wall),
    )


async def requeue_sending(
    session: AsyncSession, *, wall: datetime | None = None, holder: str | None = None
) -> int:
    """Rows left `sending` back to `pending`; how many. Without `wall`: every one (a crash, a
    cancelled shutdown; only when no other sender can be alive). With `wall`: those without a
    lease (left by an older release) or whose lease passed before `wall`, and `holder`'s own."""
    query = update(Outbox).where(col(Outbox.status) == SENDING)
    if wall is not None:
        lapsed = [col(Outbox.lease_until).is_(None), col(Outbox.lease_until) < wall]
        if holder:
            lapsed.append(col(Outbox.claimed_by) == holder)
        query = query.where(or_(*lapsed))
    result = await session.exec(
        query.values(
            status=PENDING,
            claimed_by=None,
            lease_until=None,
            last_error="interrupted while sending; sent again",
        )
    )
    return result.rowcount or 0


async def due_rows(
    session: AsyncSession,
    now: datetime,
    held: Collection[int],
    limit: int,
    *,
    wall: datetime | None = None,
) -> list[tuple[int, int]]:
    """(row id, chat) of the oldest due claimable row of each chat not in `held`, oldest
    first. `wall`: real UTC now, for the claims' leases (None: pending rows only)."""
    rank = (
        func.row_number()
        .over(
            partition_by=col(Outbox.chat_id),
            order_by=(col(Outbox.not_before), col(Outbox.id)),
        )
        .label("rank")
    )
    waiting = col(Outbox.status) == PENDING if wall is None else _claimable(wall)
    due = select_rows(col(Outbox.id), col(Outbox.chat_id), col(Outbox.not_before), rank).where(
        waiting, col(Outbox.not_before) <= now
    )
    if held:
        due = due.where(col(Outbox.chat_id).not_in(held))
    sub = due.subquery()
    query = (
        select_rows(sub.c.id, sub.c.chat_id)
        .where(sub.c.rank == 1)
        .order_by(sub.c.not_before, sub.c.id)
        .limit(limit)
    )
    result = await session.exec(query)
    return [(int(row_id), int(chat_id)) for row_id, chat_id in result.all()]


async def chats_with_due_rows(
    session: AsyncSession, now: datetime, chats: Collection[int]
) -> list[int]:
    """Those of `chats` that have a due pending row."""
    query = (
        select(Outbox.chat_id)
        .where(
            col(Outbox.status) == PENDING,
            col(Outbox.not_before) <= now,
            col(Outbox.chat_id).in_(chats),
        )
        .distinct()
    )
    return list((await session.exec(query)).all())


async def claim(
    session: AsyncSession,
    row_id: int,
    *,
    holder: str | None = None,
    wall: datetime | None = None,
    lease_until: datetime | None = None,
) -> Outbox | None:
    """Mark the row `sending` under this sender's claim if it is claimable (see the module
    docstring); the row, or None when it was not ours to claim (another sender took it, or it
    changed since it was listed). Without `wall`: pending rows only, no lease."""
    waiting = col(Outbox.status) == PENDING if wall is None else _claimable(wall)
    if (await session.connection()).dialect.name == "postgresql":
        # lock the row, skipping it when another instance holds it: that one is claiming it
        locked = await session.exec(
            select(col(Outbox.id))
            .where(col(Outbox.id) == row_id, waiting)
            .with_for_update(skip_locked=True)
        )
        if locked.first() is None:
            return None
    result = await session.exec(
        update(Outbox)
        .where(col(Outbox.id) == row_id, waiting)
        .values(status=SENDING, claimed_by=holder, lease_until=lease_until)
    )
    if result.rowcount != 1:
        return None
    return await session.get(Outbox, row_id, populate_existing=True)


async def recipient(session: AsyncSession, row: Outbox) -> Person | None:
    """The person a row goes to (None for a group)."""
    if row.person_id is not None:
        return await session.get(Person, row.person_id)
    if row.chat_id > 0:
        found = await session.exec(select(Person).where(col(Person.telegram_id) == row.chat_id))
        return found.first()
    return None


async def group_paused(session: AsyncSession, chat_id: int) -> bool:
    """Whether a group's digest subscription is paused (Telegram refused an earlier message)."""
    found = await session.exec(
        select(ChatSubscription.active).where(col(ChatSubscription.chat_id) == chat_id)
    )
    return found.first() is False


async def group(session: AsyncSession, chat_id: int) -> ChatSubscription | None:
    found = await session.exec(
        select(ChatSubscription).where(col(ChatSubscription.chat_id) == chat_id)
    )
    return found.first()


async def moot_reason(session: AsyncSession, row: Outbox) -> str:
    """Why a chasing message no longer makes sense (empty when it still does): its
    assignment was reported done, closed (办结) or archived, or — for an acknowledgement
    chase — acknowledged, since the row was planned (e.g. a snoozed reminder). A decision
    notice loses the items decided meanwhile (another notice, /pending, a command) and is moot
    when none is left."""
    if row.kind == OutboxKind.DECISION:
        return await _prune_decided(session, row)
    if row.assignment_id is None or row.kind not in CHASING_KINDS:
        return ""
    assignment = await session.get(Assignment, row.assignment_id)
    if assignment is None or assignment.archived_at is not None:
        return "the assignment was archived"
    if assignment.status in (DONE_REPORTED, CLOSED):
        return f"the assignment is {assignment.status}"
    if row.kind == OutboxKind.ACK_CHASE and assignment.acknowledged_at is not None:
        return "the assignment was acknowledged"
    return ""


async def _prune_decided(session: AsyncSession, row: Outbox) -> str:
    """Keep on a decision notice only the items still waiting for a decision (the row's
    payload is rewritten); the reason it is moot when nothing is left."""
    if row.parts is not None:  # its text is frozen (a part already went out): send the rest
        return ""
    notice = DecisionNotice.from_json(row.payload or {})
    ids = {item.assignment_id for item in notice.items}
    if not ids:
        return "nothing to decide"
    found = await session.exec(
        select(
            col(Assignment.id), col(Assignment.status), col(Assignment.extension_requested_to)
        ).where(col(Assignment.id).in_(ids), col(Assignment.archived_at).is_(None))
    )
    state = {stored_id(a_id): (status, ext) for a_id, status, ext in found.all()}
    left = tuple(
        item
        for item in notice.items
        if item.assignment_id in state and awaits_decision(item.kind, *state[item.assignment_id])
    )
    if not left:
        return "every item was decided meanwhile"
    if len(left) < len(notice.items):
        lean = DecisionNotice.is_lean(row.payload or {})  # an earlier release's keeps its form
        row.payload = {**(row.payload or {}), **DecisionNotice(left).to_json(lean=lean)}
    return ""


async def locale_of(
    session: AsyncSession, row: Outbox, person: Person | None, default: str
) -> str:
    """The row's language: a group's own (`/lang` in the group) first, then the row's own,
    its recipient's, the group subscription's, or `default`."""
    if row.chat_id < 0:
        chosen = await chat_locale(session, row.chat_id)
        if chosen:
            return chosen
    if row.locale:
        return row.locale
    if person is not None and person.locale:
        return person.locale
    if row.chat_id < 0:
        found = await session.exec(
            select(ChatSubscription.locale).where(col(ChatSubscription.chat_id) == row.chat_id)
        )
        locale = found.first()
        if locale:
            return locale
    return default


async def record_sent(
    session: AsyncSession,
    row: Outbox,
    *,
    parts_sent: int,
    done: bool,
    message_id: int,
    assignment_id: int | None,
    now: datetime,
) -> None:
    """One more part sent: the row (sent when `done`, else pending for its next part) and a
    SentMessage, so replies and button presses on the message reach the assignment."""
    fresh = await session.get(Outbox, row.id)
    assert fresh is not None
    fresh.parts_sent = parts_sent
    if fresh.message_id is None:
        fresh.message_id = message_id
    fresh.status = SENT if done else PENDING  # the next part is claimed again
    fresh.claimed_by = None
    fresh.lease_until = None
    if done:
        fresh.sent_at = now
        if fresh.kind == OutboxKind.BRIEF:  # the stages it carries are sent with it
            await session.exec(
                update(Outbox)
                .where(col(Outbox.via) == fresh.key, col(Outbox.status) == OutboxStatus.BRIEFED)
                .values(status=SENT, sent_at=now, message_id=fresh.message_id)
            )
    if assignment_id is not None:
        session.add(
            SentMessage(
                chat_id=row.chat_id,
                message_id=message_id,
                assignment_id=assignment_id,
                kind=row.kind,
                sent_at=now,
            )
        )


async def update_row(session: AsyncSession, row_id: int, **values: Any) -> None:
    """Set `values` on the row; a new status other than `sending` ends its claim."""
    if values.get("status", SENDING) != SENDING:
        values = {"claimed_by": None, "lease_until": None, **values}
    await session.exec(update(Outbox).where(col(Outbox.id) == row_id).values(**values))


async def release_claims(session: AsyncSession, holder: str) -> int:
    """`holder`'s rows still `sending` back to `pending` (its clean stop: another sender may
    take them at once instead of after their lease); how many."""
    result = await session.exec(
        update(Outbox)
        .where(col(Outbox.status) == SENDING, col(Outbox.claimed_by) == holder)
        .values(
            status=PENDING,
            claimed_by=None,
            lease_until=None,
            last_error="interrupted while sending (clean stop); sent again",
        )
    )
    return result.rowcount or 0


async def follow_migration(session: AsyncSession, old: int, new: int) -> None:
    """A group became a supergroup: its unsent rows and its subscription follow it."""
    await session.exec(
        update(Outbox)
        .where(col(Outbox.chat_id) == old, col(Outbox.status).in_((PENDING, SENDING)))
        .values(chat_id=new, status=PENDING)
    )
    await session.exec(
        update(ChatSubscription).where(col(ChatSubscription.chat_id) == old).values(chat_id=new)
    )
    await session.exec(
        update(ChatSetting).where(col(ChatSetting.chat_id) == old).values(chat_id=new)
    )


async def plan_of(session: AsyncSession, row: Outbox) -> tuple[int | None, str]:
    """The plan (and task ref) a row is about, from its assignment or its payload."""
    if row.assignment_id is not None:
        found = await session.exec(
            select(Task.plan_id, Task.ref)
            .join(Milestone, col(Milestone.task_id) == Task.id)
            .join(Assignment, col(Assignment.milestone_id) == Milestone.id)
            .where(col(Assignment.id) == row.assignment_id)
        )
        hit = found.first()
        if hit is not None:
            return hit[0], hit[1]
    try:
        notice = read_payload(row.kind, row.payload)
    except (LookupError, ValueError, TypeError):  # a row the sender could not render either
        return None, ""
    return None, notice.ref if isinstance(notice, ItemNotice) else ""


async def as_rendered(session: AsyncSession, row: Outbox) -> Outbox:
    """The row as it is rendered: a planned row refers to its items (lean payloads), so a
    copy of it, never added to the session, carries them as the ledger has them now; a row
    whose payload is complete (rows of earlier releases, notices, digests) is itself."""
    payload = await rendered_payload(
        await session.connection(), row.kind, row.payload, row.assignment_id, row.stage
    )
    if payload is None:
        return row
    shown = Outbox(**row.model_dump())
    shown.payload = payload
    return shown
