"""Decisions pushed: when a liaison reports 已完成 or 申请延期, the plan's coordinators (and
those of all plans) get a notice at once with the decision buttons — an Outbox row of kind
"decision", delivered by the sender (schedules/sender.py) on its next tick and kept across
restarts. Reports that arrive before the sender's tick are batched: an item joins the
coordinator's decision notice still pending, if there is one, instead of a new message."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.pending import COMPLETION, EXTENSION, Decision
from bot.storage.models import ROLE_COORDINATOR, Membership, Outbox, Person
from bot.storage.typed_sql import stored_id

DECISION = "decision"  # the Outbox kind (schedules.messages renders it)
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


def item_payload(d: Decision) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "assignment_id": d.assignment_id,
        "plan_id": d.plan_id,
        "plan": d.plan_code,
        "ref": d.ref,
        "unit": d.unit_name,
        "requested_to": d.requested_to.isoformat() if d.requested_to else None,
        "since": d.since.isoformat() if d.since else None,
        "note": d.note,
    }


def decision_of(item: dict[str, Any]) -> Decision:
    """The inverse of item_payload (the renderer's side)."""
    requested = item.get("requested_to")
    since = item.get("since")
    return Decision(
        kind=str(item.get("kind", COMPLETION)),
        assignment_id=int(item["assignment_id"]),
        plan_id=int(item.get("plan_id") or 0),
        plan_code=str(item.get("plan", "")),
        ref=str(item.get("ref", "")),
        unit_name=str(item.get("unit", "")),
        requested_to=date.fromisoformat(requested) if requested else None,
        since=datetime.fromisoformat(since) if since else None,
        note=str(item.get("note", "")),
    )


async def _join_pending(session: AsyncSession, chat_id: int, item: dict[str, Any]) -> bool:
    """Add `item` to the recipient's decision notice not yet claimed by the sender."""
    found = await session.exec(
        select(Outbox.id, Outbox.payload)
        .where(Outbox.kind == DECISION, Outbox.chat_id == chat_id, Outbox.status == "pending")
        .order_by(col(Outbox.id).desc())
        .limit(1)
    )
    row = found.first()
    if row is None:
        return False
    row_id, payload = row
    items = list((payload or {}).get("items", []))
    if len(items) >= MAX_BATCH:
        return False
    items = [
        i
        for i in items
        if (i.get("assignment_id"), i.get("kind")) != (item["assignment_id"], item["kind"])
    ] + [item]
    # only while still pending: a row the sender claimed meanwhile is left alone
    changed = await session.exec(
        update(Outbox)
        .where(col(Outbox.id) == row_id, col(Outbox.status) == "pending")
        .values(payload={**(payload or {}), "items": items})
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
                    payload={"items": [item]},
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
