"""The trend of a scope from its history: per week (or month) since its plans were loaded, how
many assignments were closed (办结, cumulative) and how many were overdue at the period's end.

Each assignment's state at an instant is read back from its StatusEvents (the last status it
was given before the instant; its due date as moved by extensions and plan reloads), or, for
an assignment without events, from its own timestamps. The last point is "now": it equals
/status's closed and overdue counts of the same scope.

Python over the scope's rows and events: a plan has hundreds of assignments, and the trend is
drawn on request (/scorecard), not on every /status.
"""

from __future__ import annotations

import asyncio
import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.status import CLOSED, DONE_REPORTED, NOT_STARTED, OPEN_STATUSES
from bot.services.stats import A, M, P, Scope, T, _scope_filters
from bot.storage.models import StatusEvent
from bot.storage.typed_sql import select_rows, table_of

Period = Literal["week", "month"]
PERIODS: tuple[Period, ...] = ("week", "month")
MAX_POINTS = 26  # the last half year of weeks (or two years of months): a phone-wide chart

E = table_of(StatusEvent)


@dataclass(frozen=True)
class TrendPoint:
    start: date  # the first day of the week (Monday) or month
    end: datetime  # the instant the counts are taken at: the period's end, or now
    closed: int  # closed by then (cumulative)
    overdue: int  # open and past due at that instant


@dataclass(frozen=True)
class Trend:
    period: Period
    since: date | None  # the local day the scope's plans were first loaded
    points: list[TrendPoint]


def period_start(day: date, period: Period) -> date:
    if period == "month":
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def next_period(day: date, period: Period) -> date:
    if period == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=7)


def period_starts(since: date, today: date, period: Period, limit: int = MAX_POINTS) -> list[date]:
    """The periods from the one of `since` to the one of `today`, the last `limit` of them."""
    out = []
    day = period_start(since, period)
    while day <= today:
        out.append(day)
        day = next_period(day, period)
    return out[-limit:]


@dataclass
class _History:
    """One assignment's status and due-date changes, in time order."""

    status: str
    due: date
    assigned_at: datetime
    done_at: datetime | None
    closed_at: datetime | None
    status_times: list[datetime]
    statuses: list[tuple[str | None, str | None]]  # (old, new) per status event
    due_times: list[datetime]
    dues: list[tuple[date, date]]  # (before, after) per due change

    def state_at(self, instant: datetime) -> tuple[str, date]:
        """(status, due date) once everything up to `instant` (inclusive) happened."""
        if self.status_times:
            i = bisect.bisect_right(self.status_times, instant)
            if i > 0:
                status = self.statuses[i - 1][1] or NOT_STARTED
            else:
                status = self.statuses[0][0] or NOT_STARTED
        elif self.closed_at is not None and self.closed_at <= instant:
            status = CLOSED
        elif self.done_at is not None and self.done_at <= instant:
            status = DONE_REPORTED
        else:
            status = NOT_STARTED if self.status not in OPEN_STATUSES else self.status
        due = self.due
        if self.due_times:
            i = bisect.bisect_right(self.due_times, instant)
            due = self.dues[i - 1][1] if i > 0 else self.dues[0][0]
        return status, due


def _utc(value: datetime) -> datetime:
    """In UTC (storage's zone; naive values from a bare SQLite column are UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


async def _histories(session: AsyncSession, scope: Scope) -> list[_History]:
    joined = A.join(M, M.c.id == A.c.milestone_id).join(T, T.c.id == M.c.task_id)
    rows = (
        await session.exec(
            select_rows(
                A.c.id,
                A.c.status,
                A.c.due,
                A.c.assigned_at,
                A.c.done_reported_at,
                A.c.closed_at,
            )
            .select_from(joined)
            .where(*_scope_filters(scope))
        )
    ).all()
    by_assignment: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    scoped_events = (
        select_rows(
            E.c.assignment_id,
            E.c.at,
            E.c.old_status,
            E.c.new_status,
            E.c.due_before,
            E.c.due_after,
        )
        .select_from(E.join(joined, A.c.id == E.c.assignment_id))
        .where(*_scope_filters(scope))
        .order_by(E.c.assignment_id, E.c.at, E.c.id)
    )
    for row in (await session.exec(scoped_events)).all():
        by_assignment[row[0]].append(row[1:])
    out = []
    for aid, status, due, assigned_at, done_at, closed_at in rows:
        status_times: list[datetime] = []
        statuses: list[tuple[str | None, str | None]] = []
        due_times: list[datetime] = []
        dues: list[tuple[date, date]] = []
        for event_at, old, new, due_before, due_after in by_assignment.get(aid, ()):
            at = _utc(event_at)
            if new is not None:
                status_times.append(at)
                statuses.append((old, new))
            if due_before is not None and due_after is not None:
                due_times.append(at)
                dues.append((due_before, due_after))
        out.append(
            _History(
                status=status,
                due=due,
                assigned_at=_utc(assigned_at),
                done_at=_aware(done_at),
                closed_at=_aware(closed_at),
                status_times=status_times,
                statuses=statuses,
                due_times=due_times,
                dues=dues,
            )
        )
    return out


async def _first_loaded(session: AsyncSession, scope: Scope) -> datetime | None:
    """When the scope's plans were first loaded: the earliest of their load instants and of
    their assignments' (a reload moves Plan.loaded_at, never an assignment's)."""
    plans = select_rows(P.c.loaded_at).where(P.c.archived_at.is_(None))
    if scope.plan_id is not None:
        plans = plans.where(P.c.id == scope.plan_id)
    if scope.plan_ids is not None:
        plans = plans.where(P.c.id.in_(sorted(scope.plan_ids)))
    found = [_utc(v) for (v,) in (await session.exec(plans)).all() if v is not None]
    return min(found) if found else None


async def trend(
    session: AsyncSession,
    *,
    scope: Scope,
    at: datetime,
    zone: ZoneInfo,
    period: Period = "week",
    limit: int = MAX_POINTS,
) -> Trend:
    """Closed (cumulative) and overdue counts at the end of each period since the scope's
    plans were loaded; the current period is counted at `at`."""
    histories = await _histories(session, scope)
    loaded = await _first_loaded(session, scope)
    starts_at = [h.assigned_at for h in histories]
    if loaded is not None:
        starts_at.append(loaded)
    if not starts_at:
        return Trend(period, None, [])
    since = min(starts_at).astimezone(zone).date()
    # counting is CPU work over every assignment and period: off the event loop
    points = await asyncio.to_thread(_points, histories, since, at, zone, period, limit)
    return Trend(period, since, points)


def _points(
    histories: list[_History],
    since: date,
    at: datetime,
    zone: ZoneInfo,
    period: Period,
    limit: int,
) -> list[TrendPoint]:
    now = at.astimezone(UTC)  # instants compared in UTC: no time zone arithmetic per compare
    today = at.astimezone(zone).date()
    points = []
    for start in period_starts(since, today, period, limit):
        local_end = datetime.combine(next_period(start, period), time(0), tzinfo=zone)
        end = min(now, local_end.astimezone(UTC))
        day = end.astimezone(zone).date()  # "today" at that instant
        closed = overdue = 0
        for h in histories:
            if end < now and h.assigned_at >= end:
                continue  # not yet assigned then ("now" counts the ledger as it stands)
            status, due = h.state_at(end)
            closed += status == CLOSED
            overdue += status in OPEN_STATUSES and due < day
        points.append(TrendPoint(start, end, closed, overdue))
    return points
