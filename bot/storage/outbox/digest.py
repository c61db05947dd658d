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
week's row.

The payload is a `bot.core.notices.DigestNotice`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.notices import DIGEST_LISTS, DigestItem, DigestPlan
from bot.core.policy import Policy
from bot.storage.models import Assignment
from bot.storage.outbox.raw import as_date, fetch, fetch_parts

# an item of a digest list with its unit (lists are cut to a leader's units)
Listed = tuple[int, DigestItem]


@dataclass
class PlanDigest:
    plan_id: int
    code: str
    title: str
    lists: dict[str, list[Listed]] = field(default_factory=lambda: defaultdict(list))
    unit_ids: set[int] = field(default_factory=set)  # units with items in this plan

    @property
    def closed_week(self) -> int:
        """Items closed (办结) in the last 7 days, every unit."""
        return len(self.lists.get("completed", ()))

    @property
    def overdue_week(self) -> int:
        """Items that fell overdue in the last 7 days and are still open, every unit."""
        return len(self.lists.get("newly_overdue", ()))

    def cut(self, unit_ids: set[int] | None, max_items: int) -> DigestPlan | None:
        """This plan's part of one recipient's digest (None: nothing of theirs in it)."""
        if unit_ids is not None and not unit_ids & self.unit_ids:
            return None
        lists: dict[str, tuple[DigestItem, ...]] = {}
        more: dict[str, int] = {}
        totals: dict[str, int] = {}
        for name in DIGEST_LISTS:
            items = self.lists.get(name, [])
            if unit_ids is not None:
                items = [i for i in items if i[0] in unit_ids]
            totals[name] = len(items)
            lists[name] = tuple(item for _, item in items[:max_items])
            if len(items) > max_items:
                more[name] = len(items) - max_items
        return DigestPlan(self.code, self.title, lists, more, totals)


_ITEMS_SQL = """
SELECT a.id, t.plan_id, t.ref, t.title, a.unit_id, COALESCE(NULLIF(u.short_name, ''), u.name),
       a.due, a.status, a.closed_at
FROM assignment a
JOIN milestone m ON m.id = a.milestone_id
JOIN task t ON t.id = m.task_id
JOIN unit u ON u.id = a.unit_id
WHERE a.archived_at IS NULL AND m.archived_at IS NULL AND t.archived_at IS NULL
  AND ((a.status IN ('not_started', 'in_progress', 'blocked') AND a.due <= ?)
       OR (a.status = 'closed' AND a.closed_at >= ?))
ORDER BY a.due, t.position, a.id
"""


async def build_plan_digests(
    conn: AsyncConnection, policy: Policy, at: datetime
) -> dict[int, PlanDigest]:
    """Every active plan's digest content at `at`."""
    zone = policy.zone
    today = at.astimezone(zone).date()
    plans = {
        pid: PlanDigest(pid, code, title)
        for pid, code, title in await fetch(
            conn, "SELECT id, code, title FROM plan WHERE archived_at IS NULL ORDER BY code"
        )
    }
    soon = today + timedelta(days=policy.digest.due_soon_days)
    week_ago = at - timedelta(days=7)
    # one copy of each text: a task's ref and title come once per unit it is assigned to, a
    # unit's name and a due date thousands of times (the driver makes a new string each time)
    keep: dict[str, str] = {}
    one = keep.setdefault
    async for rows in fetch_parts(conn, _ITEMS_SQL, (soon, week_ago)):
        for aid, plan_id, ref, title, unit_id, unit, stored_due, status, _closed in rows:
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
            iso = due.isoformat()
            iso = one(iso, iso)
            digest.lists[name].append(
                (
                    unit_id,
                    DigestItem(aid, one(ref, ref), one(title, title), one(unit, unit), iso, days),
                )
            )
    for plan_id, unit_id in await fetch(conn, _UNITS_SQL):
        if plan_id in plans:
            plans[plan_id].unit_ids.add(unit_id)
    for digest in plans.values():
        digest.lists["overdue"].sort(key=lambda i: (-i[1].days, i[1].ref, i[1].unit))
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
