"""Composing the liaisons' briefs (今日待办): the day's stages of one liaison in ONE message.

Called at the end of every planning pass, in its transaction (`bot.services.planning.plan_due`),
so that the sender never sees a liaison's stage rows as pending on their own:

1. the rows that wait (pending or held, due now) of the kinds a brief carries
   (`bot.core.brief.BRIEFED_KINDS`), to a person whose audience on that row gets briefs for
   that plan (policy `brief.audiences`, per plan overridable);
2. a row whose assignment moved on since it was planned (reported done, closed, archived, or
   acknowledged for a 签收 chase) is cancelled with the reason, as the sender would;
3. per chat, `bot.core.brief.slot` by the briefs it has today: before the brief time the rows
   are held until it; the first brief of the day (key "brief:DAY|CHAT") or the one same-day
   follow-up ("brief:DAY#2|CHAT", for what became due after the morning brief went) is written
   and the rows are marked `briefed` with `via` = its key; after the follow-up the rows are
   held for the next working day's brief;
4. when the sender has sent the brief, its rows become `sent` with it
   (`bot.storage.outbox.briefs.release_carried`, called by the sender's record): every stage
   still has its row, and "stages planned == stages notified" is a count of rows.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.brief import (
    BRIEFED_KINDS,
    brief_head,
    brief_key,
    brief_time,
    items_of,
    merge,
    slot,
)
from bot.core.notices import Audience, BriefItem, BriefNotice, OutboxKind, OutboxStatus
from bot.core.policy import Policy
from bot.core.status import CLOSED, DONE_REPORTED
from bot.core.workdays import in_window
from bot.storage.outbox import briefs as sql
from bot.storage.outbox.details import fill_brief_items


@dataclass
class BriefResult:
    briefs: int = 0  # brief rows written
    carried: int = 0  # stage rows they carry
    held: int = 0  # rows kept for a later brief
    cancelled: int = 0  # rows whose assignment moved on
    chats: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Row:
    """A waiting row as the brief needs it: its items, not its payload."""

    id: int
    kind: str
    chat_id: int
    person_id: int | None
    assignment_id: int | None
    locale: str | None
    items: list[BriefItem]
    stages: int  # one per row, a 逾期事项清单 row one per item it lists


def _moot(kind: str, state: tuple[str, bool, bool] | None) -> str:
    if state is None:
        return "the assignment was deleted"
    status, archived, acknowledged = state
    if archived:
        return "the assignment was archived"
    if status in (DONE_REPORTED, CLOSED):
        return f"the assignment is {status}"
    if kind == OutboxKind.ACK_CHASE and acknowledged:
        return "the assignment was acknowledged"
    return ""


_INLINE = 200  # more brief items than this are bundled in a worker thread


@dataclass
class _Bundle:
    """Step 3 of the module doc, pure: each chat's rows held for a later brief, or bundled
    into the brief row to write (its key → chat, key head, the rows it carries)."""

    policy: Policy
    at: datetime
    today: date
    morning: datetime  # today's brief time
    taken: Mapping[int, int] | None  # chat → briefs it has today (read when first needed)
    default_locale: str
    held: dict[datetime, list[int]] = field(default_factory=lambda: defaultdict(list))
    briefs: list[dict[str, Any]] = field(default_factory=list)
    bundled: dict[str, tuple[int, str, list[int]]] = field(default_factory=dict)

    def add_all(self, by_chat: Mapping[int, list[_Row]]) -> None:
        for chat_id, mine in sorted(by_chat.items()):
            self.add(chat_id, mine)

    def add(self, chat_id: int, mine: list[_Row]) -> None:
        policy, at, today = self.policy, self.at, self.today
        ids = [r.id for r in mine]
        assert self.taken is not None, "the day's briefs are read first"
        sent_today = self.taken.get(chat_id, 0)
        number = slot(sent_today)
        if sent_today == 0 and at < self.morning:
            self.held[self.morning].extend(ids)
            return
        if number is None:
            self.held[brief_time(today + timedelta(days=1), policy)].extend(ids)
            return
        key = brief_key(today, number, chat_id)
        notice = BriefNotice(
            date=today,
            items=merge(i for r in mine for i in r.items),
            stages=sum(r.stages for r in mine),
            follow_up=number,
            audience=Audience.LIAISONS,
            lines=policy.brief.max_lines,
        )
        self.briefs.append(
            {
                "key": key,
                "kind": OutboxKind.BRIEF,
                "chat_id": chat_id,
                "person_id": next((r.person_id for r in mine if r.person_id), None),
                "assignment_id": None,
                "stage": today.isoformat(),
                "locale": next((r.locale for r in mine if r.locale), None) or self.default_locale,
                "payload": notice.to_json(lean=True),
                "created_at": at,
                "not_before": at,
                "status": OutboxStatus.PENDING,
            }
        )
        self.bundled[key] = (chat_id, brief_head(today, number), ids)


_GROUP_ITEMS = 5000  # brief items read before the chats read whole so far are bundled


async def compose_briefs(
    conn: AsyncConnection, policy: Policy, at: datetime, *, default_locale: str = "zh_CN"
) -> BriefResult:
    """Bundle the waiting rows of liaisons who get briefs into their brief; see the module doc.
    Set-based: one read (in parts), multi-row INSERTs of the briefs, UPDATEs over lists of ids (a
    first pass bundles ten thousand rows into hundreds of briefs).

    The rows come chat by chat (`sql.waiting_rows`): once a few thousand items are read,
    the chats read whole are bundled, their briefs written and their rows carried or held
    before the next rows are read, so that a first pass (tens of thousands of items in
    thousands of briefs) never holds all its items, nor all its encoded briefs, at once."""
    result = BriefResult()
    if not in_window(at, policy.window):
        return result
    today = at.astimezone(policy.zone).date()
    bundle = _Bundle(policy, at, today, brief_time(today, policy), None, default_locale)
    # each row as its brief items as it is read (their payloads are not kept)
    moot: dict[str, list[int]] = defaultdict(list)  # reason → rows cancelled for it
    group: dict[int, list[_Row]] = {}  # chats read whole, not yet bundled
    mine: list[_Row] = []  # the rows of the chat being read
    items = 0  # brief items in `group` and `mine`
    async for part in sql.waiting_rows(conn, at, BRIEFED_KINDS):
        for w in part:
            plan = str(w.payload.get("plan") or "") or None
            if not policy.briefs(plan, str(w.payload.get("audience") or "")):
                continue
            reason = _moot(w.kind, w.state) if w.assignment_id is not None else ""
            if reason:
                moot[reason].append(w.id)
                continue
            if mine and mine[0].chat_id != w.chat_id:  # the chat before is read whole
                group[mine[0].chat_id], mine = mine, []
                if items >= _GROUP_ITEMS:
                    await _write(conn, bundle, group, result)
                    group, items = {}, 0
            found = items_of(w.kind, w.payload, w.assignment_id)
            stages = len(found) if w.kind == OutboxKind.OVERDUE_BATCH else 1
            mine.append(
                _Row(
                    w.id, w.kind, w.chat_id, w.person_id, w.assignment_id, w.locale, found, stages
                )
            )
            items += len(found)
        await asyncio.sleep(0)  # the loop runs between partitions
    if mine:
        group[mine[0].chat_id] = mine
    del mine
    if group:
        await _write(conn, bundle, group, result)
    del group
    if moot:
        await sql.cancel(conn, moot)
        result.cancelled = sum(len(ids) for ids in moot.values())
    return result


async def _write(
    conn: AsyncConnection, bundle: _Bundle, by_chat: dict[int, list[_Row]], result: BriefResult
) -> None:
    """These chats' briefs written and their rows carried by them, or held (steps 3 and 4 of
    the module doc); `bundle` is left empty for the next chats."""
    if bundle.taken is None:  # the first chats of the pass
        bundle.taken = await sql.briefs_today(conn, bundle.today)
    # planned rows refer to their items: the refs they lack from the ledger
    await fill_brief_items(
        conn, [i for mine in by_chat.values() for r in mine for i in r.items], titles=False
    )
    if sum(len(r.items) for mine in by_chat.values() for r in mine) > _INLINE:
        # merging and encoding hundreds of items (a 逾期事项清单 row lists many): off the loop
        await asyncio.to_thread(bundle.add_all, by_chat)
    else:
        bundle.add_all(by_chat)
    by_chat.clear()
    held, briefs, bundled = bundle.held, bundle.briefs, bundle.bundled
    bundle.held, bundle.briefs, bundle.bundled = defaultdict(list), [], {}
    written = await sql.insert_briefs(conn, briefs)
    del briefs
    carried: dict[str, list[int]] = defaultdict(list)  # brief head → rows carried
    for key, (chat_id, head, ids) in bundled.items():
        if key not in written:
            # an overlapping pass wrote this brief meanwhile: the next pass bundles these
            held[bundle.at].extend(ids)
            continue
        carried[head].extend(ids)
        result.briefs += 1
        result.chats.append(chat_id)
    result.carried += await sql.carry(conn, carried)
    for until, ids in held.items():
        await sql.hold(conn, ids, until)
        result.held += len(ids)


@dataclass
class AckAllOutcome:
    acknowledged: list[str] = field(default_factory=list)  # refs 签收 now
    already: int = 0  # acknowledged before (by someone, or by an earlier press)
    skipped: int = 0  # not the presser's unit any more, archived, or closed


async def acknowledge_all(
    session: Any,
    assignment_ids: list[int],
    *,
    person: Any,
    roles: Any,
    at: datetime,
    today: Any,
    policy: Any,
) -> AckAllOutcome:
    """全部签收: record 签收 on each of `assignment_ids` the presser answers for (the caller
    commits before answering). Each is the liaison's own report, as the 签收 button records it."""
    from bot.core.status import Action, TransitionError
    from bot.services.assignments import report
    from bot.services.errors import ServiceError

    outcome = AckAllOutcome()
    for aid in assignment_ids:
        try:
            done = await report(
                session,
                assignment_id=aid,
                person=person,
                roles=roles,
                action=Action.ACK,
                at=at,
                today=today,
                policy=policy,
            )
        except ServiceError as exc:
            if exc.code == "already_acknowledged":
                outcome.already += 1
            else:
                outcome.skipped += 1
            continue
        except TransitionError:
            outcome.skipped += 1
            continue
        outcome.acknowledged.append(done.row.ref)
    return outcome
