"""One planning pass: snapshots in, Outbox rows out (the SQL is `bot.storage.outbox`).

`plan_due(session_maker, at, policy)` is what the scheduler's tick calls (then the sender
drains the Outbox). One pass, one transaction:

1. read the assignments whose next instant has come (`due_partitions`: their ids by the
   index on `assignment.next_at`, then a partition of them at a time as plain tuples, the
   recurring duties' together at the end; `full=True`, the reference, reads every open
   assignment that could have something due instead, `load_snapshots`);
2. ask the pure planner (`bot.core.planner`) what is due at `at`, and when each assignment's
   answer can next change (stored with `store_next` at the end of the pass);
3. resolve the audience (liaisons, unit leaders, plan coordinators; subscribed groups for the
   digest) to active people with a Telegram id, one row per chat; a notification with nobody
   to address is dropped here and planned again on the next tick;
4. drop what is already in the Outbox or marked (`new_keys`, by the partition's assignments);
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
MARK (table stagemark, `bot.storage.outbox.marks`) keyed (assignment_id, kind, stage). A
batched stage usually has its liaisons' per-item rows; when it has none (no liaison bound, the
acknowledgement escalation that only goes to leaders), or when a liaison got it in their
逾期事项清单, a mark is written (for a list with the liaisons, by person id: the chase history
shown to leaders counts a listed stage as a chase of the unit). Marks are never sent and are
not Outbox rows (earlier releases wrote them as Outbox rows with chat 0, status "batched":
migration 0013 moved them). Summaries,
lists, marks and per-item rows of a pass are written in the same transaction, so a crash
leaves all or none, and a restart or an overlapping tick finds the stage planned and the day's
summary or list keyed. The SQL pre-filter of step 1 and the anti-join of step 4 look at both
(index probes by key / assignment).

Lean rows: a planned row refers to its item, it does not copy it. The payload of a reminder,
chase, overdue notice, 督办 or report request (`bot.core.notices.stage_payload`) holds the
plan's code, the audience and what the stage says (due date, days, ladder, period end); the
row's assignment and stage columns say which item and stage. A summary or list stores each
item as an array of id, ref and the stage (`BatchItem.to_lean`), a 督办汇总's items also who
was chased before (read once the summary is cut to its listed items), and no plan title; a
leader's 督办汇总 and a digest their ranking by unit id (`RankingBlock.to_json(lean=True)`),
a digest its items by id and days, a brief its items by id, section and days. What the item
is (title, target, units, status…), the plans' titles and the units' names are read from the
ledger when the message is rendered (`bot.storage.outbox.details.rendered_payload`, called by
the sender; the briefs' `fill_brief_items`).

Cost: the assignments due are read a partition at a time (`due_partitions`), planned, and
resolved to their audiences before the next partition is read; only the notifications with
someone to address are kept for the rows (the 逾期事项清单 decision counts the whole pass).
"""

from __future__ import annotations

import asyncio
import logging
import time
from array import array
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from bot.core.digest_slot import digest_due
from bot.core.notices import Audience, BatchItem, OutboxKind, stage_payload
from bot.core.planner import (
    Notification,
    Planner,
    PlanningStats,
    due_notifications,
    schedule_fingerprint,
)
from bot.core.policy import Policy
from bot.core.workdays import in_window
from bot.heap import collector_paused, release_free_memory
from bot.services.batching import (
    Batch,
    BatchId,
    Marker,
    attach_rankings,
    batch_item,
    batch_key,
    batch_rows,
    chased_summary,
    listed,
    marker_rows,
)
from bot.services.briefs import compose_briefs
from bot.services.digest import digest_rows
from bot.storage.db import close_when_returned
from bot.storage.next_at import ensure_policy
from bot.storage.outbox.audiences import (
    AUDIENCE_ORDER,
    Directory,
    Recipient,
    audience_members,
    load_directory,
)
from bot.storage.outbox.batches import batches_keyed
from bot.storage.outbox.details import chase_history, earlier_chases, item_keys
from bot.storage.outbox.marks import insert_marks
from bot.storage.outbox.raw import PageCache, insert_rows
from bot.storage.outbox.snapshots import (
    NEVER,
    DueRows,
    due_partitions,
    load_snapshots,
    new_keys,
    store_changes,
)
from bot.storage.statistics import refresh_statistics

log = logging.getLogger(__name__)

_SLICE = 500  # notifications turned into rows at a time (the loop runs between slices)
_INLINE = 2000  # more snapshots than this are planned in a worker thread
_HEAVY = 200  # a pass that read and wrote more rows than this hands its memory back after
_PAGE_CACHE_KIB = 2048  # SQLite's page cache during a pass (it reads each page about once)
_first = itemgetter(0)
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


def _liaison_load(todo: Iterable[Target], load: dict[int, int]) -> None:
    """Count into `load` (chat →) how many overdue notices and 督办 these notifications send
    each liaison (all plans)."""
    for note, members in todo:
        if note.kind in _LISTABLE and note.ladder == "due":
            for audience, who in members:
                if audience == LIAISONS:
                    load[who.chat_id] = load.get(who.chat_id, 0) + 1


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

    Looks only at the assignments whose next instant has come (`due_partitions`) and stores
    their new instants (`store_next`); `full=True` looks at every open assignment instead
    (today's full recomputation: the reference of the simulator and of the property test)
    and stores no instant.
    """
    if at.tzinfo is None:
        raise ValueError("plan_due needs an aware instant")
    started = time.perf_counter()
    # No cyclic garbage collection during the pass: a first pass allocates hundreds of
    # thousands of objects, which sets off full collections of the whole heap, each a stall
    # of the event loop of 100-300 ms; the pass makes (almost) no cycles, so nothing waits.
    with collector_paused():
        return await _plan_due(session_maker, at, policy, default_locale, digests, full, started)


async def _partitions(
    conn: AsyncConnection, policy: Policy, at: datetime, full: bool, cache: PageCache
) -> AsyncIterator[DueRows]:
    if full:  # the reference: every open assignment that could have something due
        snaps, plan_ids = await load_snapshots(conn, policy, at)
        yield DueRows(snaps, {}, [], plan_ids)
    elif in_window(at, policy.window):  # outside it the planner returns nothing
        async for part in due_partitions(conn, at, many=cache.limit):
            yield part


class _Todo:
    """The notifications a pass keeps for its rows (tens of thousands after a plan is loaded),
    column by column: ids and days in arrays, the values notifications share (kind, stage,
    audience, plan, dates, instants) as references to one object each, and each one's
    recipients (resolved once, when the notification was addressed); `targets` makes the
    `Notification`s of a slice again, with their recipients."""

    def __init__(self) -> None:
        self.ids: array[int] = array("q")
        self.days: array[int] = array("q")
        self.units: array[int] = array("q")  # -1: none
        self.shared: list[list[Any]] = [[] for _ in range(9)]
        # each notification's recipients (lists shared by the notifications of one audience)
        self.members: list[list[tuple[Audience, Recipient]]] = []
        self._interned: dict[Any, Any] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def extend(self, targets: Iterable[Target]) -> None:
        share = self._interned.setdefault
        kinds, stages, audiences, befores, triggers, plans, dues, ends, ladders = self.shared
        members = self.members.append
        for n, who in targets:
            members(who)
            self.ids.append(n.assignment_id or 0)
            self.days.append(n.days)
            self.units.append(-1 if n.unit_id is None else n.unit_id)
            kinds.append(n.kind)
            stages.append(share(n.stage, n.stage))
            audiences.append(n.audience)
            befores.append(share(n.not_before, n.not_before))
            triggers.append(share(n.trigger, n.trigger))
            plans.append(n.plan)
            dues.append(n.due)
            ends.append(n.period_end)
            ladders.append(n.ladder)

    def targets(self, begin: int, end: int) -> list[Target]:
        """The notifications `begin` to `end` with their recipients."""
        return list(zip(self.notes(begin, end), self.members[begin:end], strict=True))

    def notes(self, begin: int, end: int) -> list[Notification]:
        kinds, stages, audiences, befores, triggers, plans, dues, ends, ladders = self.shared
        number = self._interned.setdefault  # days: a few hundred values, one int object each
        out: list[Notification] = []
        for k in range(begin, min(end, len(self.ids))):
            aid, kind, stage, unit = self.ids[k], kinds[k], stages[k], self.units[k]
            out.append(
                Notification(
                    f"{kind}:{aid}:{stage}",
                    kind,
                    stage,
                    audiences[k],
                    befores[k],
                    triggers[k],
                    aid,
                    plans[k],
                    None if unit < 0 else unit,
                    dues[k],
                    number(("days", self.days[k]), self.days[k]),
                    ends[k],
                    ladders[k],
                )
            )
        return out


class _Schedule:
    """The rows a pass read and their new instants, held compactly until they are stored
    (a first pass reads every assignment: two dicts of 100,000 entries held through the pass
    cost tens of megabytes): rows grouped by (instant read, new instant, retired), their ids
    in arrays; `store_next` gets them a few groups at a time."""

    _BATCH = 5000  # rows handed to store_next at a time

    def __init__(self) -> None:
        self.groups: dict[tuple[datetime, datetime | None, bool], array[int]] = {}

    def add(self, part: DueRows, next_at: dict[int, datetime | None]) -> None:
        retired = set(part.retired)
        groups = self.groups
        for aid, old in part.loaded.items():
            gone = aid in retired
            key = (old, None if gone else next_at.get(aid), gone)
            ids = groups.get(key)
            if ids is None:
                ids = groups[key] = array("q")
            ids.append(aid)

    async def store(self, conn: AsyncConnection) -> int:
        """The rows whose instant moves (retired: NEVER; no new one: NEVER), a few thousand
        at a time in order of id, straight from the groups (`store_next`'s rule)."""
        written = 0
        changes: list[tuple[int, datetime | None, datetime]] = []
        for (old, new, gone), ids in self.groups.items():
            moved = NEVER if gone or new is None else new
            if moved != old:
                changes.extend([(aid, old, moved) for aid in ids])
            if len(changes) >= self._BATCH:
                changes.sort(key=_first)
                written += await store_changes(conn, changes)
                changes = []
        if changes:
            changes.sort(key=_first)
            written += await store_changes(conn, changes)
        self.groups = {}
        return written


class _Audiences:
    """Notifications → their recipients (a notification with nobody to address is dropped
    here and planned again next tick); many notifications share one audience."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.found: dict[tuple, list[tuple[Audience, Recipient]]] = {}

    def of(self, note: Notification, plan_ids: dict[str, int]) -> list[tuple[Audience, Recipient]]:
        plan_id = plan_ids.get(note.plan or "", 0)
        scope = (note.audience, note.unit_id, plan_id)
        members = self.found.get(scope)
        if members is None:
            members = self.found[scope] = audience_members(
                note.audience, note.unit_id, self.directory, plan_id
            )
        return members

    def addressed(
        self, notes: list[Notification], plan_ids: dict[str, int], result: PlanResult
    ) -> list[Target]:
        """The notifications with someone to address, with them (the others counted as
        unresolved)."""
        out: list[Target] = []
        for note in notes:
            members = self.of(note, plan_ids)
            if members:
                out.append((note, members))
            else:
                result.unresolved += 1
        return out


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
        cache = PageCache(conn, _PAGE_CACHE_KIB)  # held small once many rows are due
        try:
            await _plan_in(session, conn, result, at, policy, default_locale, digests, full, cache)
        finally:
            await cache.restore()
        heavy = _heavy(result)
        if heavy:  # its page and statement caches go (SQLite; the next pass opens another)
            close_when_returned(conn)
    if heavy:
        release_free_memory()
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


def _heavy(result: PlanResult) -> bool:
    """Whether a pass read or wrote enough that the memory it freed is worth handing back
    (a first pass, a digest, a busy morning). At 100,000 assignments a bot-like process
    (benchmarks/bot_memory_bench.py) kept, with its connection closed and malloc_trim after
    such passes, 115.8 MB instead of 119.9 after a first pass, 104.1 instead of 108.5 after
    the digest, 104.4 instead of 107.6 after the next morning's 409 rows. A quiet tick keeps
    its connection (reopening one costs its pragmas) and skips the trim (~1-2 ms)."""
    return bool(result.digests) or result.considered + result.inserted > _HEAVY


async def _plan_in(
    session: Any,
    conn: AsyncConnection,
    result: PlanResult,
    at: datetime,
    policy: Policy,
    default_locale: str,
    digests: bool,
    full: bool,
    cache: PageCache,
) -> None:
    """The pass, in the caller's transaction."""
    # what store_next needs of every row read: the instant it was read with and its new one
    schedule = _Schedule()
    stats = PlanningStats()
    planner = Planner(policy, at)  # its calendar caches serve every partition
    audiences: _Audiences | None = None
    todo = _Todo()  # the notifications of the pass not yet in the Outbox
    load: dict[int, int] = {}  # chat → overdue notices and 督办 the pass has for that liaison
    plan_ids: dict[str, int] = {}
    # a partition at a time: planned, addressed and checked against the Outbox before
    # the next one is read (the event loop runs between partitions)
    async for part in _partitions(conn, policy, at, full, cache):
        snaps, plan_ids = part.snaps, part.plan_ids
        result.considered += len(snaps)
        next_at: dict[int, datetime | None] = {}
        if len(snaps) > _INLINE:  # CPU work off the event loop (the bot keeps answering)
            notes = await asyncio.to_thread(
                due_notifications,
                snaps,
                policy,
                at,
                stats=stats,
                next_at=next_at,
                planner=planner,
            )
        else:
            notes = due_notifications(
                snaps, policy, at, stats=stats, next_at=next_at, planner=planner
            )
        if not full:
            schedule.add(part, next_at)
        del snaps, part, next_at
        result.due += len(notes)
        if not notes:
            continue
        if audiences is None:
            audiences = _Audiences(await load_directory(conn))
        addressed = audiences.addressed(notes, plan_ids, result)
        del notes
        fresh = await new_keys(conn, [n.key for n, _ in addressed]) if addressed else set()
        kept = [target for target in addressed if target[0].key in fresh]
        del addressed, fresh  # (not held through the rest of the pass)
        todo.extend(kept)
        # the flooded liaisons' count, over the whole pass (decided before any row)
        _liaison_load(kept, load)
        del kept
        await asyncio.sleep(0)
    del planner  # its calendar caches
    result.new = len(todo)
    batching = _Batching(conn, policy, at)
    # decided over the whole pass, before slicing
    # in slices, so that the burst after loading a mostly overdue plan stays small in memory
    for begin in range(0, len(todo), _SLICE):
        chunk = todo.targets(begin, begin + _SLICE)
        rows, marks = await _rows_for(conn, chunk, policy, at, default_locale, batching, load)
        del chunk
        result.inserted += await insert_rows(conn, rows)
        _count(result, rows)
        if marks:  # the batches' keys are known: their marks now (not kept for the end)
            result.markers += await insert_marks(conn, marker_rows(marks, at))
        await asyncio.sleep(0)
    # what only the rows needed: freed before the summaries, the instants and the briefs
    del todo, audiences, load
    if batching.batches:
        await batching.chase_summaries()
        result.batched_items = batching.planned
        # the summaries together (their plans' rankings are read once), then the lists a few
        # hundred at a time (sorted and encoded off the event loop, not all held at once)
        order = sorted(batching.batches)
        summaries = [bid for bid in order if bid[0] == ESCALATION_BATCH]
        lists = [bid for bid in order if bid[0] != ESCALATION_BATCH]
        groups = [summaries] + [lists[k : k + _SLICE] for k in range(0, len(lists), _SLICE)]
        for group in groups:
            if not group:
                continue
            chosen = {bid: batching.batches.pop(bid) for bid in group}
            rows = await asyncio.to_thread(
                batch_rows, chosen, batching.keys, policy, at, default_locale
            )
            del chosen
            await attach_rankings(session, rows, policy, at)
            result.batches += sum(1 for row in rows if row["kind"] == ESCALATION_BATCH)
            result.lists += sum(1 for row in rows if row["kind"] == OVERDUE_BATCH)
            result.inserted += await insert_rows(conn, rows)
            _count(result, rows)
            del rows
    del batching
    if not full:
        result.rescheduled = await schedule.store(conn)
    del schedule
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


class _Batching:
    """The 督办汇总 and 逾期事项清单 of a pass while it runs: the batches (recipient's batch →
    items), their keys (decided when a batch is opened, so that the marks of its stages can
    be written slice by slice) and how many stages went into them."""

    def __init__(self, conn: AsyncConnection, policy: Policy, at: datetime) -> None:
        self.conn, self.policy = conn, policy
        self.day = at.astimezone(policy.zone).date().isoformat()
        self.batches: dict[BatchId, Batch] = {}
        self.keys: dict[BatchId, str] = {}
        self.planned = 0
        self._taken: dict[tuple[str, str, int], int] = {}
        self._read: set[tuple[str, str]] = set()  # (kind, plan) whose day's keys were read

    async def read_keys(self, kinds_plans: set[tuple[str, str]]) -> None:
        """Learn the summaries and lists these (kind, plan) have today already."""
        wanted = kinds_plans - self._read
        if wanted:
            self._taken.update(await batches_keyed(self.conn, wanted, self.day))
            self._read |= wanted

    def open(
        self, kind: OutboxKind, plan: str, plan_title: str, audience: Audience, who: Recipient
    ) -> Batch:
        bid = (kind, plan, who.chat_id)
        batch = self.batches.get(bid)
        if batch is None:
            batch = self.batches[bid] = Batch(kind, plan, plan_title, audience, who)
            cap = self.policy.for_plan(plan).batch_max_items if kind == ESCALATION_BATCH else 0
            batch.cap = cap if cap > 0 else None
            self.keys[bid] = batch_key(kind, plan, self.day, self._taken.get(bid, 0), who.chat_id)
        elif audience != batch.audience and AUDIENCE_ORDER.index(audience) < AUDIENCE_ORDER.index(
            batch.audience
        ):
            batch.audience = audience
        return batch

    async def chase_summaries(self) -> None:
        """Each 督办汇总 cut to the items it lists, and who was chased before each of them
        (its earlier reminders, chases and 督办: not the stage it is listed for)."""
        shown: dict[int, BatchItem] = {}
        for batch in self.batches.values():
            if batch.kind == ESCALATION_BATCH:
                batch.items = listed(batch, self.policy)
                for item in batch.items:
                    shown[id(item)] = item
        ids = {item.id for item in shown.values() if item.id is not None}
        history = await chase_history(self.conn, ids) if ids else {}
        for item in shown.values():
            earlier = earlier_chases(history.get(item.id or 0, ()), item.kind, item.stage)
            item.chased = chased_summary(earlier)


async def _rows_for(
    conn: AsyncConnection,
    todo: list[Target],
    policy: Policy,
    at: datetime,
    default_locale: str,
    batching: _Batching,
    load: dict[int, int],
) -> tuple[list[dict[str, Any]], list[Marker]]:
    """The per-item rows of these notifications; the parts that go into a 督办汇总 or a
    逾期事项清单 are added to `batching` instead, and the marks of their stages returned.
    `load`: chat → overdue notices and 督办 the pass has for that liaison (`_liaison_load`)."""
    # who gets each notification on its own, and who in a batch (batch kind, audience, who)
    split: list[tuple[Notification, list[tuple[Audience, Recipient]], list[tuple]]] = []
    plans: dict[str | None, Any] = {}  # plan → its rules
    for note, members in todo:
        rules = plans.get(note.plan)
        if rules is None:
            rules = plans[note.plan] = policy.for_plan(note.plan)
        batch_for = rules.batch_for if note.kind == ESCALATION else ()
        over = rules.liaison_batch_over if note.kind in _LISTABLE and note.ladder == "due" else 0
        single: list[tuple[Audience, Recipient]] = []
        batched: list[tuple[OutboxKind, Audience, Recipient]] = []
        for audience, who in members:
            if audience in batch_for:
                batched.append((ESCALATION_BATCH, audience, who))
            elif audience == LIAISONS and over and load.get(who.chat_id, 0) > over:
                batched.append((OVERDUE_BATCH, audience, who))
            else:
                single.append((audience, who))
        split.append((note, single, batched))
    wanted = {n.assignment_id for n, _, b in split if b and n.assignment_id is not None}
    keys = await item_keys(conn, wanted) if wanted else {}
    await batching.read_keys({(str(k), n.plan or "") for n, _, b in split for k, _, _ in b})
    rows: list[dict[str, Any]] = []
    marks: list[Marker] = []
    for note, single, batched in split:
        payloads: dict[Audience, dict[str, Any]] = {}  # recipients of one audience share one
        for audience, who in single:
            payload = payloads.get(audience)
            if payload is None:
                payload = payloads[audience] = stage_payload(
                    note.plan, audience, note.due, note.days, note.ladder, note.period_end
                )
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
        found = keys.get(note.assignment_id or 0)
        if found is None:  # archived between the two queries
            continue
        ref, unit, plan_title = found
        plan = note.plan or ""
        items: dict[OutboxKind, BatchItem] = {}  # one item shared by every recipient's batch
        ids: list[BatchId] = []
        listed_to: list[int] = []  # the liaisons who get the item in a list (chase history)
        for kind, audience, who in batched:
            item = items.get(kind)
            if item is None:
                item = items[kind] = batch_item(note, ref, unit)
            batching.open(kind, plan, plan_title, audience, who).add(item)
            ids.append((kind, plan, who.chat_id))
            if kind == OVERDUE_BATCH and who.person_id is not None:
                listed_to.append(who.person_id)
        # the stage's bookkeeping: its per-item rows already show it was planned; without any,
        # or when a liaison got it in a list (the chase history names them), a mark does
        # (see `bot.services.batching.marker_rows`)
        batching.planned += 1
        if ids and (not single or listed_to) and note.assignment_id is not None:
            marks.append((note.key, note.kind, note.assignment_id, note.stage, ids, listed_to))
    return rows, marks
