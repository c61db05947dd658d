"""督办汇总 and 逾期事项清单: assembling a planning pass's batches and the marks of their stages.

`bot.services.planning` decides which recipient gets an item in a batch instead of a message
of its own (see its docstring); this module keeps the batches while the pass runs and turns
them into Outbox rows: one per recipient, kind and plan, and one mark (table stagemark, never
sent) per batched stage that has no per-item row (or that a liaison got in a list).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.notices import (
    Audience,
    BatchItem,
    BatchNotice,
    ChasedBrief,
    ChaseRecord,
    OutboxKind,
)
from bot.core.planner import Notification
from bot.core.policy import Policy
from bot.services.ranking import policy_ranking, to_block
from bot.services.stats import Scope
from bot.storage.models import Plan
from bot.storage.outbox.audiences import Recipient

# what one batch is keyed by while a pass assembles it: (kind, plan, chat)
BatchId = tuple[OutboxKind, str, int]
# a batched stage's marker: (notification key, kind, assignment id, stage, batches, liaisons
# who got it in a list by person id)
Marker = tuple[str, OutboxKind, int, str, list[BatchId], list[int]]


@dataclass
class Batch:
    """One recipient's 督办汇总 (kind escalation_batch) or 逾期事项清单 (kind overdue_batch) of
    one plan and day, being assembled."""

    kind: OutboxKind
    plan: str
    plan_title: str
    audience: Audience
    who: Recipient
    items: list[BatchItem] = field(default_factory=list)
    # A 督办汇总 lists only its `cap` worst items: `items` is pruned to them as it grows (the
    # first pass after loading escalates tens of thousands of items to each coordinator),
    # while `total` and `counts` (of a 督办汇总, by ladder) count every item added.
    cap: int | None = None
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, item: BatchItem) -> None:
        self.items.append(item)
        self.total += 1
        if self.kind == OutboxKind.ESCALATION_BATCH:
            self.counts[item.ladder] = self.counts.get(item.ladder, 0) + 1
        if self.cap is not None and len(self.items) >= 2 * self.cap + 100:
            # the `cap` first of a stable sort, in order: ties keep the order items came in
            # (every later item comes after them), so the final sort's first `cap` are unchanged
            self.items = heapq.nsmallest(self.cap, self.items, key=BatchItem.rank)


def chased_summary(history: list[ChaseRecord]) -> ChasedBrief:
    """How often the unit was chased before (reminders to liaisons, overdue notices, 督办,
    manual 催办) and the latest one: when, what, to whom."""
    chased = [c for c in history if c.of_liaisons]
    if not chased:
        return ChasedBrief()
    last = chased[-1]
    names = sorted({c.to for c in chased if c.stage == last.stage and c.to})
    stages = {(c.kind, c.stage) for c in chased}
    return ChasedBrief(len(stages), last.at, last.kind, tuple(names))


def batch_item(note: Notification, ref: str, unit: str) -> BatchItem:
    """One item of a 督办汇总 or of a liaison's 逾期事项清单, as a reference: its title and
    status are read from the ledger when the message is rendered; `unit` (its unit's name)
    ranks it among equals. A 督办汇总's items get who was chased before once the summary
    is cut to its listed items (`bot.services.planning`)."""
    return BatchItem(  # positional: tens of thousands per first pass
        note.assignment_id,  # id
        ref,
        "",  # title: read when rendered
        unit,
        "",  # status: read when rendered
        note.kind,  # overdue (逾期提醒) | escalation (督办)
        note.ladder,  # "due": overdue 督办 · "ack": not acknowledged
        note.days,  # days overdue / working days since assignment
        note.due,
        note.stage,
        None,
    )


def batch_key(kind: str, plan: str, day: str, seq: int, chat_id: int) -> str:
    """f"{kind}:{plan}:{day}|{chat}", a follow-up of the same day "…:{day}#n|{chat}" (`seq`:
    how many the chat has today already)."""
    return f"{kind}:{plan}:{day}" + (f"#{seq + 1}" if seq else "") + f"|{chat_id}"


def listed(batch: Batch, policy: Policy) -> list[BatchItem]:
    """The items a batch lists, worst first: a 督办汇总 its `batch_max_items` worst, a
    liaison's list every item."""
    items = sorted(batch.items, key=BatchItem.rank)
    if batch.kind == OutboxKind.ESCALATION_BATCH:
        return items[: policy.for_plan(batch.plan).batch_max_items]
    return items


def batch_rows(
    batches: dict[BatchId, Batch],
    keys: dict[BatchId, str],
    policy: Policy,
    at: datetime,
    default_locale: str,
) -> list[dict[str, Any]]:
    """The 督办汇总 and 逾期事项清单 rows, one per recipient, kind and plan, keyed `keys`
    (`batch_key`, decided when the batch was opened: the marks of its stages name it).

    Key f"{kind}:{plan}:{local date}|{chat}": one per recipient, plan and day, whatever the
    number of ticks, restarts or overlapping passes. Everything due becomes due at the window
    opening, so one a day is the rule; an item that becomes due later the same day (a 退回,
    someone bound in the afternoon) is not lost but sent in a follow-up keyed
    "…:{date}#2|{chat}" (#3, …). A 督办汇总 lists at most `batch_max_items` (the rest
    counted); a liaison's list has every item (each one needs their report). The items are
    stored as references (`BatchItem.to_lean`).
    """
    local = at.astimezone(policy.zone).date()
    day = local.isoformat()
    rows: list[dict[str, Any]] = []
    for bid, batch in sorted(batches.items()):
        kind, plan, chat_id = bid
        key = keys[bid]
        items = listed(batch, policy)
        total = batch.total  # `items` may have been cut to the listed ones (`Batch.add`)
        if kind == OutboxKind.ESCALATION_BATCH:
            counts: dict[str, int] = {"due": 0, "ack": 0}
            for group, n in batch.counts.items():
                counts[group] = counts.get(group, 0) + n
        else:
            counts = {}
            for item in items:
                counts[item.kind] = counts.get(item.kind, 0) + 1
        seq = key.partition("#")[2].partition("|")[0]
        notice = BatchNotice(
            plan=plan,
            plan_title=batch.plan_title,
            date=local,
            audience=batch.audience,
            total=total,
            counts=counts,
            items=tuple(items),
            more=max(0, total - len(items)),
            follow_up=int(seq) if seq else 0,
        )
        rows.append(
            {
                "key": key,
                "kind": kind,
                "chat_id": chat_id,
                "person_id": batch.who.person_id,
                "assignment_id": None,
                "stage": day,
                "locale": batch.who.locale or default_locale,
                "payload": notice.to_json(lean=True),
                "created_at": at,
                "not_before": at,
            }
        )
    return rows


def marker_rows(markers: Iterable[Marker], at: datetime) -> list[dict[str, Any]]:
    """The marks of batched stages (`Markers.rows`; table stagemark, never sent): the stage
    and the liaisons who got it in a list, by person id (see `bot.services.planning`). The
    stages listed to the same liaisons share one list."""
    rows: list[dict[str, Any]] = []
    shared: dict[tuple[int, ...], list[int]] = {}
    for _, kind, assignment_id, stage, _, listed in markers:
        people = tuple(listed)
        liaisons = shared.get(people)
        if liaisons is None:
            liaisons = shared[people] = list(people)
        rows.append(
            {
                "kind": str(kind),
                "assignment_id": assignment_id,
                "stage": stage,
                "liaisons": liaisons,
                "created_at": at,
            }
        )
    return rows


async def attach_rankings(
    session: AsyncSession, rows: list[dict[str, Any]], policy: Policy, at: datetime
) -> None:
    """A leader's 督办汇总 carries its plan's ranking (the sender draws the scorecard picture
    from it, sent before the summary); one ranking per plan of the pass, shared."""
    wanted = {
        row["payload"]["plan"]
        for row in rows
        if row["kind"] == OutboxKind.ESCALATION_BATCH
        and row["payload"].get("audience") == Audience.LEADERS
    }
    if not wanted:
        return
    ids = dict(
        (
            await session.exec(
                select(Plan.code, Plan.id).where(
                    col(Plan.code).in_(wanted), col(Plan.archived_at).is_(None)
                )
            )
        ).all()
    )
    blocks: dict[str, Any] = {}
    for code in sorted(wanted):
        if code in ids:
            ranking = await policy_ranking(
                session, scope=Scope(plan_id=ids[code]), at=at, policy=policy
            )
            if ranking.rows:
                blocks[code] = to_block(ranking).to_json(lean=True)
    for row in rows:
        payload = row["payload"]
        if (
            row["kind"] == OutboxKind.ESCALATION_BATCH
            and payload.get("audience") == Audience.LEADERS
            and payload["plan"] in blocks
        ):
            row["payload"] = {**payload, "ranking": blocks[payload["plan"]]}
