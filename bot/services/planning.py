"""One planning pass: snapshots in, Outbox rows out (the SQL is `bot.storage.outbox`).

`plan_due(session_maker, at, policy)` is what the scheduler's tick calls (then the sender
drains the Outbox). One pass, one transaction:

1. load a snapshot of every open assignment that could have something due (one SELECT over
   assignment ⋈ milestone ⋈ task ⋈ plan, read as plain tuples; items whose latest stage by
   the calendar already has Outbox rows, items due beyond the policy's horizon, and
   unacknowledged items whose last acknowledgement stage has rows are filtered out in SQL);
2. ask the pure planner (`bot.core.planner`) what is due at `at`;
3. resolve the audience (liaisons, unit leaders, plan coordinators; subscribed groups for the
   digest) to active people with a Telegram id, one row per chat; a notification with nobody
   to address is dropped here and planned again on the next tick;
4. drop what is already in the Outbox (one anti-join over the keys passed as a JSON array);
5. INSERT … ON CONFLICT(key) DO NOTHING. Keys are f"{kind}:{assignment_id}:{stage}|{chat_id}"
   (digests f"digest:{week}:{chat_id}", summaries and lists below): planning twice,
   overlapping ticks or a crash between planning and sending can never create a second row
   for the same stage and chat;
6. bundle the rows of liaisons who get briefs into their brief of the day (policy `brief`,
   `bot.services.briefs`): the rows stay, marked as carried by the brief.

A notification whose audience has nobody yet (no liaison bound to the unit) inserts nothing and
is planned again on the next tick: once someone is bound, they get the stage that is current
then. Once a stage has rows, people bound later are not added to it (they get the next stage).

督办汇总 (escalation batching, policy `overdue.batch_for`, default [leaders, coordinators])
-------------------------------------------------------------------------------------------
Liaisons get one message per escalated item (with its buttons: they act on it; unless one
pass has too many for them, see 逾期事项清单 below). The
audiences in `batch_for` get instead ONE summary per recipient, plan and day, kind
"escalation_batch", key f"escalation_batch:{plan}:{local date}|{chat}", listing the items
escalated to them in that pass (督办 of overdue items and the acknowledgement escalation),
worst first, capped at `overdue.batch_max_items` (the rest counted), rendered by
`bot.telegram.notices` and split under 4096 characters; /task REF shows one item. An item that
becomes due later the same day (a 退回, someone bound in the afternoon) comes in a follow-up
summary keyed "…:{date}#2|{chat}" rather than being lost. With `batch_for: false` every
audience gets one message per item, as before.

逾期事项清单 (a flooded liaison's list, policy `overdue.liaison_batch_over`, default 5)
-------------------------------------------------------------------------------------
Liaisons normally get one message per item, with its buttons. But when one pass would send a
liaison (one chat) MORE than `liaison_batch_over` overdue notices and 督办 together (counted
over the whole pass and all plans, before the pass is cut into slices; typically the first
window opening after a mostly overdue plan was loaded), the overdue notices and 督办 of every
plan whose threshold is exceeded go to that liaison as ONE list per plan and day instead:
kind "overdue_batch", key f"overdue_batch:{plan}:{local date}|{chat}" (follow-ups "#2"…),
every item listed (ref, title, due date, days overdue, 已督办), worst first, no buttons; the
message ends with "/my … or /task REF". It is the same machinery as the 督办汇总
(`bot.services.batching`, rendered by the same function), a sibling kind so that a person who is a
liaison of one unit and the leader of another gets their own items to act on apart from the
summary of what was escalated to them. Reminders before the due date, acknowledgement chases
and report requests are never listed. `liaison_batch_over: 0` (or null), per plan or
globally, keeps one message per item. The next stage of a listed item (督办 on day 7, then
every 7 days) is planned as usual, per item or in the list of its own day.

Bookkeeping ("was this stage planned?") stays per item, in the same key space as before: a
stage is planned when some Outbox row is keyed f"{kind}:{assignment_id}:{stage}|…" or it has a
MARK (table stagemark, `bot.storage.outbox.marks`) keyed f"{kind}:{assignment_id}:{stage}". A
batched stage usually has its liaisons' per-item rows; when it has none (no liaison bound, the
acknowledgement escalation that only goes to leaders), or when a liaison got it in their
逾期事项清单, a mark is written with the keys of the summaries and lists that carry the stage
(and, for a list, the liaisons' names: the chase history shown to leaders counts a listed stage
as a chase of the unit). Marks are never sent and are not Outbox rows (earlier releases wrote
them as Outbox rows with chat 0, status "batched": migration 0013 moved them). Summaries,
lists, marks and per-item rows of a pass are written in the same transaction, so a crash
leaves all or none, and a restart or an overlapping tick finds the stage planned and the day's
summary or list keyed. The SQL pre-filter of step 1 and the anti-join of step 4 look at both
(index probes by key / assignment).

Payloads (`bot.core.notices`) carry everything the renderer needs (it has no database): plan,
ref, title, milestone target, due date, days, units, the recipient's audience; escalations also
carry who was chased before and when (from earlier Outbox rows); summaries their items (ref,
title, unit, days overdue, who was chased and when); lists their items (ref, title, unit, due
date, days overdue, overdue or 督办); digests their whole content.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from bot.core.digest_slot import digest_due
from bot.core.notices import Audience, BatchItem, ChaseRecord, ItemNotice, OutboxKind
from bot.core.planner import (
    Notification,
    PlanningStats,
    due_notifications,
    schedule_fingerprint,
)
from bot.core.policy import Policy
from bot.core.workdays import in_window
from bot.services.batching import (
    Batch,
    BatchId,
    Markers,
    attach_rankings,
    batch_item,
    batch_rows,
    marker_rows,
)
from bot.services.briefs import compose_briefs
from bot.services.digest import digest_rows
from bot.storage.next_at import ensure_policy
from bot.storage.outbox.audiences import (
    AUDIENCE_ORDER,
    Recipient,
    audience_members,
    load_directory,
)
from bot.storage.outbox.batches import batches_keyed
from bot.storage.outbox.details import chase_history, item_notices
from bot.storage.outbox.marks import insert_marks
from bot.storage.outbox.raw import insert_rows
from bot.storage.outbox.snapshots import DueRows, load_due, load_snapshots, new_keys, store_next
from bot.storage.statistics import refresh_statistics

log = logging.getLogger(__name__)

_SLICE = 250  # notifications turned into rows at a time (the loop runs between slices)
_INLINE = 2000  # more snapshots than this are planned in a worker thread
LIAISONS, ESCALATION = Audience.LIAISONS, OutboxKind.ESCALATION
ESCALATION_BATCH, OVERDUE_BATCH = OutboxKind.ESCALATION_BATCH, OutboxKind.OVERDUE_BATCH
# (notification, its recipients): what a pass turns into rows
Target = tuple[Notification, list[tuple[Audience, Recipient]]]


@dataclass
class PlanResult:
    """What one planning pass did."""

    at: datetime
    considered: int = 0  # snapshots loaded
    due: int = 0  # notifications due now (before dropping what the Outbox has)
    new: int = 0  # notifications not yet in the Outbox
    inserted: int = 0  # Outbox rows written
    unresolved: int = 0  # due notifications with nobody to send them to (yet)
    digests: int = 0  # digest rows written
    batches: int = 0  # 督办汇总 rows written (one per leader / coordinator and plan)
    lists: int = 0  # 逾期事项清单 rows written (one per flooded liaison and plan)
    batched_items: int = 0  # stages that went into summaries or lists
    markers: int = 0  # marks written (table stagemark: batched stages with no per-item row)
    briefs: int = 0  # liaisons' briefs written (bot.services.briefs)
    briefed: int = 0  # stage rows they carry
    by_kind: dict[str, int] = field(default_factory=dict)  # rows written per kind
    by_audience: dict[str, int] = field(default_factory=dict)  # rows written per audience
    rescheduled: int = 0  # assignments whose next instant was stored
    seconds: float = 0.0


# the kinds a flooded liaison gets in a list (reminders and acknowledgement chases stay per item)
_LISTABLE = frozenset({OutboxKind.OVERDUE, OutboxKind.ESCALATION})


def _liaison_load(todo: Iterable[Target]) -> dict[int, int]:
    """chat → how many overdue notices and 督办 this pass would send that liaison (all plans)."""
    load: dict[int, int] = defaultdict(int)
    for note, members in todo:
        if note.kind in _LISTABLE and note.ladder == "due":
            for audience, who in members:
                if audience == LIAISONS:
                    load[who.chat_id] += 1
    return load


async def plan_due(
    session_maker: async_sessionmaker[Any],
    at: datetime,
    policy: Policy,
    *,
    default_locale: str = "zh_CN",
    digests: bool = True,
    full: bool = False,
) -> PlanResult:
    """Plan everything due at `at` (aware) and write it to the Outbox, in one transaction.

    Safe to call at any rate and from overlapping ticks: every row has a unique key, so a
    stage is written at most once per chat. Returns counts for logs, the simulator and tests.

    Looks only at the assignments whose next instant has come (`load_due`) and stores their
    new instants (`store_next`); `full=True` looks at every open assignment instead (today's
    full recomputation: the reference of the simulator and of the property test) and stores
    no instant.
    """
    if at.tzinfo is None:
        raise ValueError("plan_due needs an aware instant")
    started = time.perf_counter()
    # No cyclic garbage collection during the pass: a first pass allocates hundreds of
    # thousands of objects, which sets off full collections of the whole heap, each a stall
    # of the event loop of 100-300 ms; the pass makes (almost) no cycles, so nothing waits.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return await _plan_due(session_maker, at, policy, default_locale, digests, full, started)
    finally:
        if collecting:
            gc.enable()


async def _plan_due(
    session_maker: async_sessionmaker[Any],
    at: datetime,
    policy: Policy,
    default_locale: str,
    digests: bool,
    full: bool,
    started: float,
) -> PlanResult:
    result = PlanResult(at=at)
    async with session_maker() as session, session.begin():
        conn = await session.connection()
        due: DueRows | None = None
        next_at: dict[int, datetime | None] = {}
        stats = PlanningStats()
        if full:  # the reference: every open assignment that could have something due
            snaps, plan_ids = await load_snapshots(conn, policy, at)
        elif in_window(at, policy.window):  # outside it the planner returns nothing
            due = await load_due(conn, at)
            snaps, plan_ids = due.snaps, due.plan_ids
        else:
            snaps, plan_ids = [], {}
        result.considered = len(snaps)
        if len(snaps) > _INLINE:  # CPU work off the event loop (the bot keeps answering)
            notes = await asyncio.to_thread(
                due_notifications, snaps, policy, at, stats=stats, next_at=next_at
            )
        else:
            notes = due_notifications(snaps, policy, at, stats=stats, next_at=next_at)
        del snaps
        if due is not None:
            due.snaps = []  # planned: the instants read are all store_next needs
        result.due = len(notes)
        directory = await load_directory(conn) if notes else None
        # the audience first: a notification with nobody to address (nobody bound yet) is
        # planned again next tick, so it is not worth looking up in the Outbox
        targets: dict[str, Target] = {}
        audiences: dict[tuple, list[tuple[Audience, Recipient]]] = {}  # many notes share one
        for index, note in enumerate(notes):
            if index % _SLICE == _SLICE - 1:
                await asyncio.sleep(0)  # let the bot answer between slices
            plan_id = plan_ids.get(note.plan or "", 0)
            scope = (note.audience, note.unit_id, plan_id)
            members = audiences.get(scope)
            if members is None:
                assert directory is not None
                members = audiences[scope] = audience_members(
                    note.audience, note.unit_id, directory, plan_id
                )
            if members:
                targets[note.key] = (note, members)
            else:
                result.unresolved += 1
        del notes
        if targets:
            fresh = await new_keys(conn, targets)
            targets = {key: target for key, target in targets.items() if key in fresh}
        result.new = len(targets)
        todo = list(targets.values())
        del targets
        batches: dict[BatchId, Batch] = {}
        markers = Markers()
        load = _liaison_load(todo)  # decided over the whole pass, before slicing
        # in slices, so that the burst after loading a mostly overdue plan stays small in memory
        for begin in range(0, len(todo), _SLICE):
            rows = await _rows_for(
                conn,
                todo[begin : begin + _SLICE],
                policy,
                at,
                default_locale,
                batches,
                markers,
                load,
            )
            result.inserted += await insert_rows(conn, rows)
            _count(result, rows)
        del todo
        if batches:
            day = at.astimezone(policy.zone).date().isoformat()
            taken = await batches_keyed(conn, {(kind, plan) for kind, plan, _ in batches}, day)
            # sorting and encoding thousands of lists: off the event loop
            rows, keys = await asyncio.to_thread(
                batch_rows, batches, taken, policy, at, default_locale
            )
            await attach_rankings(session, rows, policy, at)
            del batches
            result.batches = sum(1 for row in rows if row["kind"] == ESCALATION_BATCH)
            result.lists = sum(1 for row in rows if row["kind"] == OVERDUE_BATCH)
            result.batched_items = markers.planned
            # the marks first (as many as the batched stages), a slice at a time
            for begin in range(0, len(markers.rows), _SLICE):
                chunk = marker_rows(markers.rows[begin : begin + _SLICE], keys, at)
                result.markers += await insert_marks(conn, chunk)
            del markers
            result.inserted += await insert_rows(conn, rows)
            _count(result, rows)
            del rows, keys  # thousands of encoded lists
        if due is not None:
            result.rescheduled = await store_next(conn, due, next_at)
        slot = digest_due(policy, at) if digests else None
        if slot is not None:
            rows = await digest_rows(session, slot, policy, at, default_locale=default_locale)
            if rows:
                result.inserted += await insert_rows(conn, rows)
                _count(result, rows)
            result.digests = len(rows)
        # the liaisons' stage rows of this pass (and any held for now) into their brief
        briefs = await compose_briefs(conn, policy, at, default_locale=default_locale)
        result.briefs, result.briefed = briefs.briefs, briefs.carried
        if briefs.briefs:
            result.by_kind[OutboxKind.BRIEF] = briefs.briefs
        written = result.inserted + result.briefed  # Outbox rows inserted, rows carried
        await refresh_statistics(conn, assignment=result.rescheduled, outbox=written)
    result.seconds = time.perf_counter() - started
    if result.inserted:
        log.info(
            "planned %s: %d due, %d new, %d rows (%s) in %.3fs",
            at.isoformat(),
            result.due,
            result.new,
            result.inserted,
            ", ".join(f"{k} {v}" for k, v in sorted(result.by_kind.items())),
            result.seconds,
        )
    return result


async def ensure_schedule_policy(session_maker: async_sessionmaker[Any], policy: Policy) -> bool:
    """At start-up: when the policy differs from the one the stored next instants were
    computed with, every instant is recomputed at the next tick. True when it differed."""
    async with session_maker() as session, session.begin():
        return await ensure_policy(await session.connection(), schedule_fingerprint(policy))


def _count(result: PlanResult, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        result.by_kind[row["kind"]] = result.by_kind.get(row["kind"], 0) + 1
        audience = row["payload"].get("audience", "")
        result.by_audience[audience] = result.by_audience.get(audience, 0) + 1


async def _rows_for(
    conn: AsyncConnection,
    todo: list[Target],
    policy: Policy,
    at: datetime,
    default_locale: str,
    batches: dict[BatchId, Batch],
    markers: Markers,
    load: dict[int, int],
) -> list[dict[str, Any]]:
    """The per-item rows of these notifications; the parts that go into a 督办汇总 or a
    逾期事项清单 are added to `batches` (recipient's batch → items) and `markers` instead.
    `load`: chat → overdue notices and 督办 the pass has for that liaison (`_liaison_load`)."""
    details = await item_notices(conn, (n.assignment_id for n, _ in todo if n.assignment_id))
    escalated = [n.assignment_id for n, _ in todo if n.kind == ESCALATION and n.assignment_id]
    history = await chase_history(conn, escalated) if escalated else {}
    rows: list[dict[str, Any]] = []
    for note, members in todo:
        detail = details.get(note.assignment_id or 0)
        if detail is None:  # archived between the two queries
            continue
        rules = policy.for_plan(note.plan)
        batch_for = rules.batch_for if note.kind == ESCALATION else ()
        over = rules.liaison_batch_over if note.kind in _LISTABLE and note.ladder == "due" else 0
        # who was chased before: shown to leaders and coordinators (the liaison's own 督办
        # message does not list it, so their payload stays small)
        chased = history.get(note.assignment_id or 0, []) if note.kind == ESCALATION else None
        single: list[tuple[Audience, Recipient]] = []
        # (batch kind, audience, recipient)
        batched: list[tuple[OutboxKind, Audience, Recipient]] = []
        for audience, who in members:
            if audience in batch_for:
                batched.append((ESCALATION_BATCH, audience, who))
            elif audience == LIAISONS and over and load.get(who.chat_id, 0) > over:
                batched.append((OVERDUE_BATCH, audience, who))
            else:
                single.append((audience, who))
        payloads: dict[Audience, dict[str, Any]] = {}  # recipients of one audience share one
        for audience, who in single:
            payload = payloads.get(audience)
            if payload is None:
                payload = payloads[audience] = _payload(note, detail, audience, chased)
            rows.append(
                {
                    "key": f"{note.key}|{who.chat_id}",
                    "kind": note.kind,
                    "chat_id": who.chat_id,
                    "person_id": who.person_id,
                    "assignment_id": note.assignment_id,
                    "stage": note.stage,
                    "locale": who.locale or default_locale,
                    "payload": payload,
                    "created_at": at,
                    "not_before": note.not_before,
                }
            )
        if not batched:
            continue
        plan = detail.plan
        items: dict[OutboxKind, BatchItem] = {}  # one item shared by every recipient's batch
        ids: list[BatchId] = []
        listed: list[str] = []  # the liaisons who get the item in a list (chase history)
        for kind, audience, who in batched:
            item = items.get(kind)
            if item is None:
                # the list is the liaison's own: who was chased is for leaders / coordinators
                item = items[kind] = batch_item(
                    note, detail, (chased or []) if kind == ESCALATION_BATCH else None
                )
            bid = (kind, plan, who.chat_id)
            batch = batches.get(bid)
            if batch is None:
                batch = batches[bid] = Batch(kind, plan, detail.plan_title, audience, who)
                cap = policy.for_plan(plan).batch_max_items if kind == ESCALATION_BATCH else 0
                batch.cap = cap if cap > 0 else None
            elif AUDIENCE_ORDER.index(audience) < AUDIENCE_ORDER.index(batch.audience):
                batch.audience = audience
            batch.add(item)
            ids.append(bid)
            if kind == OVERDUE_BATCH:
                listed.append(who.name)
        # the stage's bookkeeping: its per-item rows already show it was planned; without any,
        # or when a liaison got it in a list (the chase history names them), a marker row does
        # (see `bot.services.batching.batch_rows`)
        markers.planned += 1
        if ids and (not single or listed):
            markers.rows.append((note.key, note.kind, note.assignment_id, note.stage, ids, listed))
    return rows


def _payload(
    note: Notification, detail: ItemNotice, audience: Audience, chased: list[ChaseRecord] | None
) -> dict[str, Any]:
    """The item as `audience` sees it at this stage; who was chased before is shown to leaders
    and coordinators (the liaison's own 督办 does not list it, so their payload stays small)."""
    shown = None if chased is None or audience == LIAISONS else tuple(chased)
    return replace(
        detail,
        chased=shown,
        audience=audience,
        stage=note.stage,
        due=note.due,
        days=note.days,
        ladder=note.ladder,
        period_end=note.period_end,
    ).to_json()
