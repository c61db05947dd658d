"""The weekly digest (周报): content per plan and unit, and its Outbox rows.

Computed once per plan when the week's slot comes (`schedules.planner.digest_due`), then cut
per recipient and frozen into the row's payload (render has no database):

- completed in the last 7 days (办结);
- newly overdue (its due date passed in the last 7 days) and still overdue (longer), with days;
- due in the next `due_soon_days` days;
- the unit scorecard: 按时办结率, 及时签收率, overdue (red) items, ranked the way a 通报 ranks
  (`bot.core.stats.scorecard`: most overdue first, then the lowest completion rate).

Cost: the content is built once per pass (two queries: the listed items, and one grouped query
for every plan's scorecard, 及时签收 counted against a small table of deadlines per assignment
day), each plan's part is cut once per scope (all units, or a leader's units) and shared by
the recipients with that scope; nothing is built once every recipient has this week's row.

Recipients: coordinators (their plans, or all), unit leaders (the plans where their unit has
items, lists cut to their unit, scorecard whole so they see the rank), plan leaders and
subscribed group chats (their plan, or all). One row per chat, key f"digest:{week}:{chat}".

Payload shape (`kind="digest"`): {"week", "week_start", "today", "audience", "unit_ids"|None,
"plans": [{"code", "title", "completed": [item], "newly_overdue": [item], "overdue": [item],
"due_soon": [item], "more": {list: n}, "totals": {...}, "scorecard": [row]}]}, where an item is
{"id", "ref", "title", "unit", "due", "days"} and a row {"rank", "unit", "total", "closed",
"overdue", "red", "on_time": [n, d], "ack": [n, d], "mine"}.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import stats as core_stats
from bot.core.workdays import is_working_day
from bot.storage.models import Assignment
from schedules.enqueue import Directory, Recipient, _fetch, load_directory
from schedules.planner import (
    COORDINATORS,
    DIGEST,
    GROUPS,
    LEADERS,
    DigestSlot,
    ledger_had_the_week,
)
from schedules.policy import Policy

LISTS = ("completed", "newly_overdue", "overdue", "due_soon")


@dataclass
class PlanDigest:
    plan_id: int
    code: str
    title: str
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    scorecard: list[dict[str, Any]] = field(default_factory=list)
    unit_ids: set[int] = field(default_factory=set)  # units with items in this plan

    def cut(self, unit_ids: set[int] | None, max_items: int) -> dict[str, Any] | None:
        """This plan's part of one recipient's digest (None: nothing of theirs in it)."""
        if unit_ids is not None and not unit_ids & self.unit_ids:
            return None
        out: dict[str, Any] = {"code": self.code, "title": self.title, "more": {}}
        totals: dict[str, int] = {}
        for name in LISTS:
            items = self.lists.get(name, [])
            if unit_ids is not None:
                items = [i for i in items if i["unit_id"] in unit_ids]
            totals[name] = len(items)
            out[name] = [{k: v for k, v in i.items() if k != "unit_id"} for i in items[:max_items]]
            if len(items) > max_items:
                out["more"][name] = len(items) - max_items
        out["totals"] = totals
        out["scorecard"] = [
            {**row, "mine": unit_ids is not None and row["unit_id"] in unit_ids}
            for row in self.scorecard
        ]
        return out


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
    session: AsyncSession, policy: Policy, at: datetime
) -> dict[int, PlanDigest]:
    """Every active plan's digest content at `at`."""
    conn: AsyncConnection = await session.connection()
    zone = policy.zone
    today = at.astimezone(zone).date()
    plans = {
        pid: PlanDigest(pid, code, title)
        for pid, code, title in await _fetch(
            conn, "SELECT id, code, title FROM plan WHERE archived_at IS NULL ORDER BY code"
        )
    }
    soon = today + timedelta(days=policy.digest.due_soon_days)
    week_ago = at - timedelta(days=7)
    rows = await _fetch(conn, _ITEMS_SQL, (soon.isoformat(), _db_time(week_ago)))
    for aid, plan_id, ref, title, unit_id, unit, due_text, status, _closed in rows:
        digest = plans.get(plan_id)
        if digest is None:
            continue
        due = date.fromisoformat(due_text)
        days = (today - due).days
        item = {
            "id": aid,
            "ref": ref,
            "title": title,
            "unit": unit,
            "unit_id": unit_id,
            "due": due_text,
            "days": days,
        }
        if status == "closed":
            digest.lists["completed"].append(item)
        elif days > 7:
            digest.lists["overdue"].append(item)
        elif days > 0:
            digest.lists["newly_overdue"].append(item)
        else:
            item["days"] = -days
            digest.lists["due_soon"].append(item)
    cards = await scorecards(conn, policy, at)
    for digest in plans.values():
        digest.lists["overdue"].sort(key=lambda i: (-i["days"], i["ref"], i["unit"]))
        digest.scorecard = cards.get(digest.plan_id, [])
        digest.unit_ids = {row["unit_id"] for row in digest.scorecard}
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
    days = await _fetch(
        conn,
        "SELECT DISTINCT date(assigned_at, ?) FROM assignment WHERE archived_at IS NULL",
        (offset,),
    )
    raw = (await conn.get_raw_connection()).driver_connection
    await raw.execute(  # type: ignore[union-attr]
        "CREATE TEMP TABLE IF NOT EXISTS ack_deadline "
        "(day TEXT PRIMARY KEY, deadline TEXT, before TEXT)"
    )
    await raw.execute("DELETE FROM temp.ack_deadline")  # type: ignore[union-attr]
    rows = []
    for (day,) in days:
        if not day:
            continue
        deadline = core_stats.ack_deadline(date.fromisoformat(day), window, is_working_day)
        midnight = datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=zone)
        rows.append((day, deadline.isoformat(), _db_time(midnight)))
    await raw.executemany(  # type: ignore[union-attr]
        "INSERT INTO temp.ack_deadline (day, deadline, before) VALUES (?, ?, ?)", rows
    )


async def scorecards(
    conn: AsyncConnection, policy: Policy, at: datetime
) -> dict[int, list[dict[str, Any]]]:
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
    for row in await _fetch(
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
    out: dict[int, list[dict[str, Any]]] = {}
    for plan_id, units in facts.items():
        rows = []
        for row in core_stats.scorecard(units):
            ack = acks.get((plan_id, row.unit_id), core_stats.Rate(0, 0))
            rows.append(
                {
                    "rank": row.rank,
                    "unit_id": row.unit_id,
                    "unit": row.name,
                    "total": row.total,
                    "closed": row.closed,
                    "overdue": row.overdue,
                    "red": row.overdue,
                    "on_time": [row.on_time.numerator, row.on_time.denominator],
                    "ack": [ack.numerator, ack.denominator],
                }
            )
        out[plan_id] = rows
    return out


def _ordered(sql: str, params: dict[str, str]) -> tuple[str, ...]:
    """Positional parameters in the order their :names appear in `sql`."""
    return tuple(params[name] for name in re.findall(r":(today|offset)\b", sql))


def _possible_chats(directory: Directory, policy: Policy) -> set[int]:
    rules = policy.digest
    chats: set[int] = set()
    if rules.to_coordinators:
        chats |= {w.chat_id for people in directory.coordinators.values() for w in people}
    if rules.to_leaders:
        chats |= {w.chat_id for people in directory.plan_leaders.values() for w in people}
        chats |= {w.chat_id for people in directory.unit_leaders.values() for w in people}
    if rules.to_groups:
        chats |= {w.chat_id for w, _ in directory.groups}
    return chats


def _recipients(
    directory: Directory, plans: dict[int, PlanDigest], policy: Policy
) -> dict[int, tuple[str, Recipient, set[int] | None, set[int] | None]]:
    """chat → (audience, recipient, plan ids or None for all, unit ids or None for all)."""
    out: dict[int, tuple[str, Recipient, set[int] | None, set[int] | None]] = {}

    def add(audience: str, who: Recipient, plan_ids: set[int] | None, units: set[int] | None):
        current = out.get(who.chat_id)
        if current is None:
            out[who.chat_id] = (audience, who, plan_ids, units)
            return
        # one chat, several roles: the widest view wins
        _, _, cur_plans, cur_units = current
        merged_plans = None if cur_plans is None or plan_ids is None else cur_plans | plan_ids
        merged_units = None if cur_units is None or units is None else cur_units | units
        out[who.chat_id] = (current[0], current[1], merged_plans, merged_units)

    rules = policy.digest
    if rules.to_coordinators:
        for plan_id, people in directory.coordinators.items():
            for who in people:
                add(COORDINATORS, who, None if plan_id is None else {plan_id}, None)
    if rules.to_leaders:
        for plan_id, people in directory.plan_leaders.items():
            for who in people:
                add(LEADERS, who, {plan_id}, None)
        for unit_id, people in directory.unit_leaders.items():
            plan_ids = {pid for pid, d in plans.items() if unit_id in d.unit_ids}
            for who in people:
                add(LEADERS, who, plan_ids, {unit_id})
    if rules.to_groups:
        for who, plan_id in directory.groups:
            add(GROUPS, who, None if plan_id is None else {plan_id}, None)
    return out


async def _ledger_since(conn: AsyncConnection) -> datetime | None:
    """When the ledger got its first assignment (archived ones count: they existed)."""
    row = (await conn.execute(select(func.min(Assignment.assigned_at)))).first()
    value = row[0] if row else None
    if isinstance(value, str):  # SQLite hands back text through a bare column expression
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


async def digest_rows(
    session: AsyncSession,
    slot: DigestSlot,
    policy: Policy,
    at: datetime,
    *,
    default_locale: str = "zh_CN",
) -> list[dict[str, Any]]:
    """Outbox rows of this week's digest for every recipient that has none yet."""
    conn = await session.connection()
    existing = {
        row[0]
        for row in await _fetch(
            conn,
            "SELECT chat_id FROM outbox WHERE key > ? AND key < ?",
            (f"{DIGEST}:{slot.week}:", f"{DIGEST}:{slot.week};"),
        )
    }
    directory = await load_directory(conn)
    # cheap check first: the digest slot stays open all week, content is built only when
    # someone still lacks this week's digest
    if not _possible_chats(directory, policy) - existing:
        return []
    if not ledger_had_the_week(slot, await _ledger_since(conn), policy.zone):
        return []
    plans = await build_plan_digests(session, policy, at)
    recipients = _recipients(directory, plans, policy)
    rows: list[dict[str, Any]] = []
    today = at.astimezone(policy.zone).date()
    # a plan's part depends only on the scope (its units, or all): cut once per scope and
    # shared by every recipient with that scope (coordinators, plan leaders, groups)
    cuts: dict[tuple[int, frozenset[int] | None], dict[str, Any] | None] = {}
    for chat_id, (audience, who, plan_ids, unit_ids) in sorted(recipients.items()):
        if chat_id in existing:
            continue
        scope = frozenset(unit_ids) if unit_ids is not None else None
        parts = []
        for plan_id, digest in plans.items():
            if plan_ids is not None and plan_id not in plan_ids:
                continue
            if (plan_id, scope) not in cuts:
                cuts[(plan_id, scope)] = digest.cut(unit_ids, policy.digest.max_items)
            cut = cuts[(plan_id, scope)]
            if cut is not None:
                parts.append(cut)
        rows.append(
            {
                "key": slot.key(chat_id),
                "kind": DIGEST,
                "chat_id": chat_id,
                "person_id": who.person_id,
                "assignment_id": None,
                "stage": slot.week,
                "locale": who.locale or default_locale,
                "payload": {
                    "week": slot.week,
                    "week_start": slot.week_start.isoformat(),
                    "today": today.isoformat(),
                    "audience": audience,
                    "unit_ids": sorted(unit_ids) if unit_ids is not None else None,
                    "plans": parts,
                },
                "created_at": at,
                "not_before": slot.not_before,
            }
        )
    return rows
