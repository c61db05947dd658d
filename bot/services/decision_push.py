"""Decisions pushed: when a liaison reports 已完成 or 申请延期, the plan's coordinators (and
those of all plans) get a notice at once with the decision buttons — an Outbox row of kind
"decision", delivered by the sender (bot.telegram.delivery) on its next tick and kept across
restarts. Reports that arrive before the sender's tick are batched: an item joins the
coordinator's decision notice still pending, if there is one, instead of a new message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.notices import DecisionItem, DecisionNotice, OutboxKind, OutboxStatus
from bot.services.pending import COMPLETION, EXTENSION, Decision
from bot.storage.models import ROLE_COORDINATOR, Membership, Outbox, Person
from bot.storage.typed_sql import stored_id

DECISION = OutboxKind.DECISION  # the Outbox kind (bot.telegram.notices renders it)
MAX_BATCH = 20  # items one notice carries; more start a new one


async def coordinators_of_plan(session: AsyncSession, plan_id: int) -> list[Person]:
    """Active coordinators of the plan and of all plans who can be messaged."""
    result = await session.exec(
        select(Person)
        .join(Membership, col(Membership.person_id) == Person.id)
        .where(
            Membership.role == ROLE_COORDINATOR,
            col(Membership.revoked_at).is_(None),
            col(Person.active).is_(True),
            col(Person.telegram_id).is_not(None),
            (col(Membership.plan_id) == plan_id) | col(Membership.plan_id).is_(None),
        )
        .order_by(col(Person.id))
    )
    people: dict[int, Person] = {}
    for person in result.all():
        people.setdefault(stored_id(person.id), person)
    return list(people.values())


def item_payload(d: Decision) -> DecisionItem:
    return DecisionItem(
        kind=d.kind,
        assignment_id=d.assignment_id,
        plan_id=d.plan_id,
        plan=d.plan_code,
        ref=d.ref,
        unit=d.unit_name,
        requested_to=d.requested_to,
        since=d.since,
        note=d.note,
    )


def decision_of(item: DecisionItem) -> Decision:
    """The inverse of item_payload (the renderer's side)."""
    return Decision(
        kind=item.kind or COMPLETION,
        assignment_id=item.assignment_id,
        plan_id=item.plan_id,
        plan_code=item.plan,
        ref=item.ref,
        unit_name=item.unit,
        requested_to=item.requested_to,
        since=item.since,
        note=item.note,
    )


async def _join_pending(session: AsyncSession, chat_id: int, item: DecisionItem) -> bool:
    """Add `item` to the recipient's decision notice not yet claimed by the sender."""
    found = await session.exec(
        select(Outbox.id, Outbox.payload)
        .where(
            Outbox.kind == DECISION,
            Outbox.chat_id == chat_id,
            Outbox.status == OutboxStatus.PENDING,
        )
        .order_by(col(Outbox.id).desc())
        .limit(1)
    )
    row = found.first()
    if row is None:
        return False
    row_id, payload = row
    items = DecisionNotice.from_json(payload or {}).items
    if len(items) >= MAX_BATCH:
        return False
    notice = DecisionNotice((*(i for i in items if i.identity != item.identity), item))
    # a row queued by an earlier release keeps its form (its items copy plan, ref and unit)
    lean = not items or DecisionNotice.is_lean(payload or {})
    # only while still pending: a row the sender claimed meanwhile is left alone
    changed = await session.exec(
        update(Outbox)
        .where(col(Outbox.id) == row_id, col(Outbox.status) == OutboxStatus.PENDING)
        .values(payload={**(payload or {}), **notice.to_json(lean=lean)})
        .execution_options(synchronize_session=False)
    )
    return bool(changed.rowcount)


async def push_decision(
    session: AsyncSession,
    decision: Decision,
    *,
    at: datetime,
    event_id: int,
    reporter_id: int | None = None,
) -> int:
    """Queue (or batch) the decision for every coordinator of its plan; returns how many
    coordinators it was queued for. The caller commits (with the report)."""
    item = item_payload(decision)
    queued = 0
    for person in await coordinators_of_plan(session, decision.plan_id):
        if person.id == reporter_id:
            continue
        if person.telegram_id is None:  # never: the query asks for reachable coordinators
            continue
        chat_id = int(person.telegram_id)
        if not await _join_pending(session, chat_id, item):
            session.add(
                Outbox(
                    key=f"{DECISION}:{event_id}:{decision.kind}|{chat_id}",
                    kind=DECISION,
                    chat_id=chat_id,
                    person_id=person.id,
                    assignment_id=decision.assignment_id,
                    stage=decision.kind,
                    locale=None,  # the coordinator's language when it is sent
                    payload=DecisionNotice((item,)).to_json(lean=True),
                    created_at=at,
                    not_before=at,
                )
            )
        queued += 1
    await session.flush()
    return queued


__all__ = [
    "COMPLETION",
    "DECISION",
    "EXTENSION",
    "MAX_BATCH",
    "coordinators_of_plan",
    "decision_of",
    "item_payload",
    "push_decision",
]
