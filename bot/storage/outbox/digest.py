"""The weekly digest (周报): its content per plan and unit, from the ledger.

Computed once per plan when the week's slot comes (`bot.core.digest_slot.digest_due`), then cut
per recipient (`PlanDigest.cut`) and frozen into the row's payload by
`bot.services.digest` (render has no database):

- completed in the last 7 days (办结);
- newly overdue (its due date passed in the last 7 days) and still overdue (longer), with days;
- due in the next `due_soon_days` days;
- the unit scorecard: 按时办结率, 及时签收率, overdue (red) items, ranked the way a 通报 ranks
  (`bot.core.stats.scorecard`: most overdue first, then the lowest completion rate).

Cost: the content is built once per pass (two queries: the listed items, and one grouped query
for every plan's scorecard, 及时签收 counted against a small table of deadlines per assignment
day), each plan's part is cut once per scope (all units, or a leader's units) and shared by
the recipients with that scope; nothing is built once every recipient has this week's row.

The payload is a `bot.core.notices.DigestNotice`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core import stats as core_stats
from bot.core.notices import DIGEST_LISTS, DigestItem, DigestPlan, ScoreRow
from bot.core.policy import Policy
from bot.core.workdays import is_working_day
from bot.storage.models import Assignment
from bot.storage.outbox.raw import driver, fetch

# an item of a digest list with its unit (lists are cut to a leader's units)
Listed = tuple[int, DigestItem]


@dataclass
class PlanDigest:
    plan_id: int
    code: str
    title: str
    lists: dict[str, list[Listed]] = field(default_factory=lambda: defaultdict(list))
    scorecard: list[ScoreRow] = field(default_factory=list)
    unit_ids: set[int] = field(default_factory=set)  # units with items in this plan

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
        scorecard = tuple(
            replace(row, mine=unit_ids is not None and row.unit_id in unit_ids)
            for row in self.scorecard
        )
        return DigestPlan(self.code, self.title, lists, more, totals, scorecard)


def _db_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


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
    rows = await fetch(conn, _ITEMS_SQL, (soon.isoformat(), _db_time(week_ago)))
    for aid, plan_id, ref, title, unit_id, unit, due_text, status, _closed in rows:
        digest = plans.get(plan_id)
        if digest is None:
            continue
        due = date.fromisoformat(due_text)
        days = (today - due).days
        if status == "closed":
            name = "completed"
        elif days > 7:
            name = "overdue"
        elif days > 0:
            name = "newly_overdue"
        else:
            name, days = "due_soon", -days
        digest.lists[name].append((unit_id, DigestItem(aid, ref, title, unit, due_text, days)))
    cards = await scorecards(conn, policy, at)
    for digest in plans.values():
        digest.lists["overdue"].sort(key=lambda i: (-i[1].days, i[1].ref, i[1].unit))
        digest.scorecard = cards.get(digest.plan_id, [])
        digest.unit_ids = {row.unit_id for row in digest.scorecard}
    return plans


_SCORE_SQL = """
SELECT t.plan_id, a.unit_id, COALESCE(NULLIF(u.short_name, ''), u.name), count(*),
       sum(a.status = 'closed'),
       sum(a.status IN ('not_started', 'in_progress', 'blocked') AND a.due < :today),
       sum(a.status = 'closed'
           AND date(COALESCE(a.done_reported_at, a.closed_at), :offset) <= m.original_due),
       sum(a.status = 'closed' OR m.original_due < :today),
       sum(a.acknowledged_at < dl.before),
       sum(a.acknowledged_at < dl.before OR dl.deadline < :today)
FROM assignment a
JOIN milestone m ON m.id = a.milestone_id
JOIN task t ON t.id = m.task_id
JOIN unit u ON u.id = a.unit_id
LEFT JOIN temp.ack_deadline dl ON dl.day = date(a.assigned_at, :offset)
WHERE a.archived_at IS NULL AND m.archived_at IS NULL AND t.archived_at IS NULL
GROUP BY t.plan_id, a.unit_id
"""


async def _ack_deadlines(conn: AsyncConnection, offset: str, window: int, zone: Any) -> None:
    """temp.ack_deadline: each local assignment day → its 签收 deadline (`window` working days
    later, `bot.core.stats.ack_deadline`) and `before`, the stored (naive UTC) text of the
    local midnight after it, so one grouped query can count 及时签收 the way
    `bot.core.stats.acknowledgement_rate` does (timely: acknowledged on or before the
    deadline's local day; counted: timely, or the deadline has passed) without a row per
    assignment and without converting every acknowledgement to a local date."""
    days = await fetch(
        conn,
        "SELECT DISTINCT date(assigned_at, ?) FROM assignment WHERE archived_at IS NULL",
        (offset,),
    )
    raw = await driver(conn)
    await raw.execute(
        "CREATE TEMP TABLE IF NOT EXISTS ack_deadline "
        "(day TEXT PRIMARY KEY, deadline TEXT, before TEXT)"
    )
    await raw.execute("DELETE FROM temp.ack_deadline")
    rows = []
    for (day,) in days:
        if not day:
            continue
        deadline = core_stats.ack_deadline(date.fromisoformat(day), window, is_working_day)
        midnight = datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=zone)
        rows.append((day, deadline.isoformat(), _db_time(midnight)))
    await raw.executemany(
        "INSERT INTO temp.ack_deadline (day, deadline, before) VALUES (?, ?, ?)", rows
    )


async def scorecards(
    conn: AsyncConnection, policy: Policy, at: datetime
) -> dict[int, list[ScoreRow]]:
    """Every plan's units in 通报 order (`bot.core.stats.scorecard`) with 按时办结率 and
    及时签收率 as `bot.core.stats` defines them, from one grouped query over the ledger.
    Red items are the overdue ones (red = 逾期)."""
    local = at.astimezone(policy.zone)
    offset = f"{int((local.utcoffset() or timedelta(0)).total_seconds() // 60):+d} minutes"
    today = local.date()
    params = {"today": today.isoformat(), "offset": offset}
    await _ack_deadlines(conn, offset, policy.for_plan(None).ack_chase_after, policy.zone)
    facts: dict[int, list[core_stats.UnitFacts]] = defaultdict(list)
    acks: dict[tuple[int, int], core_stats.Rate] = {}
    for row in await fetch(
        conn,
        _SCORE_SQL.replace(":today", "?").replace(":offset", "?"),
        _ordered(_SCORE_SQL, params),
    ):
        plan_id, unit_id, name, total, closed, overdue, ok, counted, timely, ack_counted = row
        facts[plan_id].append(
            core_stats.UnitFacts(
                unit_id,
                name,
                total,
                closed or 0,
                overdue or 0,
                core_stats.Rate(ok or 0, counted or 0),
            )
        )
        acks[(plan_id, unit_id)] = core_stats.Rate(timely or 0, ack_counted or 0)
    out: dict[int, list[ScoreRow]] = {}
    for plan_id, units in facts.items():
        rows: list[ScoreRow] = []
        for unit in core_stats.scorecard(units):
            ack = acks.get((plan_id, unit.unit_id), core_stats.Rate(0, 0))
            rows.append(
                ScoreRow(
                    rank=unit.rank,
                    unit_id=unit.unit_id,
                    unit=unit.name,
                    total=unit.total,
                    closed=unit.closed,
                    overdue=unit.overdue,
                    red=unit.overdue,
                    on_time=(unit.on_time.numerator, unit.on_time.denominator),
                    ack=(ack.numerator, ack.denominator),
                )
            )
        out[plan_id] = rows
    return out


def _ordered(sql: str, params: dict[str, str]) -> tuple[str, ...]:
    """Positional parameters in the order their :names appear in `sql`."""
    return tuple(params[name] for name in re.findall(r":(today|offset)\b", sql))


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
