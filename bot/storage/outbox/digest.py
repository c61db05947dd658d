"""The weekly digest (周报): its content per plan and unit, from the ledger.

Computed once per plan when the week's slot comes (`bot.core.digest_slot.digest_due`), then cut
per recipient (`PlanDigest.cut`) and frozen into the row's payload by
`bot.services.digest` (render has no database):

- completed in the last 7 days (办结);
- newly overdue (its due date passed in the last 7 days) and still overdue (longer), with days;
- due in the next `due_soon_days` days;
- which units have items in each plan (a unit leader's digest covers those plans).

The units' ranking (按时办结率, 及时签收率, overdue, the picture's data) is not computed here:
`bot.services.digest` asks the one ranking service (`bot.services.ranking`) for each
recipient's scope, as /status, /scorecard and the export do.

Cost: the content is built once per pass (two queries: the listed items, and the units of
each plan), each plan's part is cut once per scope (all units, or a leader's units) and
shared by the recipients with that scope; nothing is built once every recipient has this
week's row. Memory is bounded by what the digests show, not by the ledger: the rows are
streamed (unsorted: SQLite would sort them all in its heap) and each list keeps its count
and only its first `max_items` items, for every unit together and for each unit whose
leader gets a digest (`Listing`). At 100,000 assignments, mostly overdue, keeping every
listed item was a 14 MiB Python peak in a bot process and ~16 MB it kept as fragments
after the pass (benchmarks/bot_memory_bench.py).

The payload is a `bot.core.notices.DigestNotice`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.notices import DIGEST_LISTS, DigestItem, DigestPlan
from bot.core.policy import Policy
from bot.storage.models import Assignment
from bot.storage.outbox.raw import as_date, fetch, fetch_parts

# an item of a digest list with its place in the list (the sort key) and its unit
Listed = tuple[tuple[Any, ...], int, DigestItem]
_KEY = itemgetter(0)


class Listing:
    """One digest list of one plan and scope (every unit, or one unit): how many items it has
    and its first `limit` in the list's order, holding never more than twice that many."""

    __slots__ = ("count", "kept", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.kept: list[Listed] = []

    def add(self, entry: Listed) -> None:
        self.count += 1
        self.kept.append(entry)
        if len(self.kept) >= 2 * self.limit:
            self._trim()

    def first(self) -> list[Listed]:
        """The first `limit` items, in the list's order."""
        self._trim()
        return self.kept

    def _trim(self) -> None:
        self.kept.sort(key=_KEY)
        del self.kept[self.limit :]


@dataclass
class PlanDigest:
    """One plan's digest content: each list's count and first `limit` items for every unit
    together, and for each of `units` (the units whose leaders may get a cut of it)."""

    plan_id: int
    code: str
    title: str
    limit: int = 40
    units: frozenset[int] | None = None  # units listed on their own (None: every unit)
    lists: dict[str, Listing] = field(default_factory=dict)  # every unit together
    by_unit: dict[tuple[str, int], Listing] = field(default_factory=dict)
    unit_ids: set[int] = field(default_factory=set)  # units with items in this plan

    def add(self, name: str, entry: Listed) -> None:
        """One item of the list `name` (entry: sort key, unit id, item)."""
        listing = self.lists.get(name)
        if listing is None:
            listing = self.lists[name] = Listing(self.limit)
        listing.add(entry)
        unit_id = entry[1]
        if self.units is None or unit_id in self.units:
            own = self.by_unit.get((name, unit_id))
            if own is None:
                own = self.by_unit[(name, unit_id)] = Listing(self.limit)
            own.add(entry)

    def _count(self, name: str) -> int:
        listing = self.lists.get(name)
        return listing.count if listing is not None else 0

    @property
    def closed_week(self) -> int:
        """Items closed (办结) in the last 7 days, every unit."""
        return self._count("completed")

    @property
    def overdue_week(self) -> int:
        """Items that fell overdue in the last 7 days and are still open, every unit."""
        return self._count("newly_overdue")

    def cut(self, unit_ids: Iterable[int] | None) -> DigestPlan | None:
        """This plan's part of one recipient's digest (None: nothing of theirs in it), lists
        cut to `limit` items. `unit_ids` must be among the plan's `units` (or None)."""
        chosen = None if unit_ids is None else set(unit_ids)
        if chosen is not None and not chosen & self.unit_ids:
            return None
        if chosen is not None and self.units is not None and not chosen <= self.units:
            raise ValueError(f"units {sorted(chosen - self.units)} were not listed on their own")
        lists: dict[str, tuple[DigestItem, ...]] = {}
        more: dict[str, int] = {}
        totals: dict[str, int] = {}
        for name in DIGEST_LISTS:
            if chosen is None:
                parts = [self.lists[name]] if name in self.lists else []
            else:
                parts = [self.by_unit[(name, u)] for u in chosen if (name, u) in self.by_unit]
            count = sum(p.count for p in parts)
            first = sorted((e for p in parts for e in p.first()), key=_KEY)[: self.limit]
            totals[name] = count
            lists[name] = tuple(item for _, _, item in first)
            if count > self.limit:
                more[name] = count - self.limit
        return DigestPlan(self.code, self.title, lists, more, totals)


# Unordered: each list's order is its items' sort key (`build_plan_digests`), so that the
# database never sorts the rows (SQLite would, in its heap, all of them at 100,000)
_ITEMS_SQL = """
SELECT a.id, t.plan_id, t.ref, t.title, a.unit_id, COALESCE(NULLIF(u.short_name, ''), u.name),
       a.due, a.status, t.position
FROM assignment a
JOIN milestone m ON m.id = a.milestone_id
JOIN task t ON t.id = m.task_id
JOIN unit u ON u.id = a.unit_id
WHERE a.archived_at IS NULL AND m.archived_at IS NULL AND t.archived_at IS NULL
  AND ((a.status IN ('not_started', 'in_progress', 'blocked') AND a.due <= ?)
       OR (a.status = 'closed' AND a.closed_at >= ?))
"""


async def build_plan_digests(
    conn: AsyncConnection,
    policy: Policy,
    at: datetime,
    *,
    units: Iterable[int] | None = None,
) -> dict[int, PlanDigest]:
    """Every active plan's digest content at `at`: each list's count and its first
    `policy.digest.max_items` items, for every unit together and for each of `units` (None:
    every unit; a digest cut to some units needs them here)."""
    zone = policy.zone
    today = at.astimezone(zone).date()
    limit = policy.digest.max_items
    own = None if units is None else frozenset(units)
    plans = {
        pid: PlanDigest(pid, code, title, limit, own)
        for pid, code, title in await fetch(
            conn, "SELECT id, code, title FROM plan WHERE archived_at IS NULL ORDER BY code"
        )
    }
    soon = today + timedelta(days=policy.digest.due_soon_days)
    week_ago = at - timedelta(days=7)
    # parts of 1,000 rows: 5,000 at a time were ~4 MiB of tuples in the pass's peak
    async for rows in fetch_parts(conn, _ITEMS_SQL, (soon, week_ago), size=1000):
        for aid, plan_id, ref, title, unit_id, unit, stored_due, status, position in rows:
            digest = plans.get(plan_id)
            due = as_date(stored_due)
            if digest is None or due is None:
                continue
            days = (today - due).days
            if status == "closed":
                name = "completed"
            elif days > 7:
                name = "overdue"
            elif days > 0:
                name = "newly_overdue"
            else:
                name, days = "due_soon", -days
            order: tuple[Any, ...] = (due, position or 0, aid)  # the ledger's order
            if name == "overdue":  # the longest overdue first, then by ref and unit
                order = (-days, ref, unit, *order)
            item = DigestItem(aid, ref, title, unit, due.isoformat(), days)
            digest.add(name, (order, unit_id, item))
    for plan_id, unit_id in await fetch(conn, _UNITS_SQL):
        if plan_id in plans:
            plans[plan_id].unit_ids.add(unit_id)
    return plans


_UNITS_SQL = """
SELECT DISTINCT t.plan_id, a.unit_id
FROM assignment a
JOIN milestone m ON m.id = a.milestone_id
JOIN task t ON t.id = m.task_id
WHERE a.archived_at IS NULL AND m.archived_at IS NULL AND t.archived_at IS NULL
"""


async def ledger_since(conn: AsyncConnection) -> datetime | None:
    """When the ledger got its first assignment (archived ones count: they existed)."""
    row = (await conn.execute(select(func.min(Assignment.assigned_at)))).first()
    value = row[0] if row else None
    if isinstance(value, str):  # SQLite hands back text through a bare column expression
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


async def digest_chats(conn: AsyncConnection, week: str) -> set[int]:
    """The chats that have this week's digest row already."""
    rows = await fetch(
        conn,
        "SELECT chat_id FROM outbox WHERE key > ? AND key < ?",
        (f"digest:{week}:", f"digest:{week};"),
    )
    return {row[0] for row in rows}
