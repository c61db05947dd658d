"""Ledger statistics from the database, with aggregate queries (GROUP BY in SQL).

The definitions live in `bot.core.stats` (rates, ranking) and `bot.core.lights` (the lights);
this module computes the same numbers without loading assignments one by one, so that `/status`
over 100,000 assignments answers within the benchmark's budget (`benchmarks/status_bench.py`).

- `light_sql` mirrors `bot.core.lights.light_of` as one SQL CASE expression, and the rates
  mirror `bot.core.stats`; tests/coordinator/test_stats_service.py compares both on random
  ledgers for every scope.
- Local days of UTC timestamps use the zone's offset at the instant asked about: exact for
  Asia/Shanghai (no daylight saving time). No per-row date arithmetic: instants are compared
  with precomputed bounds (SQLite stores them as ISO text, so the comparison is textual).
- The queries are written for SQLite (the project's database) and its planner: each names the
  covering index it is meant to walk (see the indexes on `Assignment` and `Milestone`).

Cost (benchmarks/status_bench.py prints it): five passes over covering indexes, per-unit counts,
及时签收率 (one range count per run of deadline days), lights of the items not yet due, 按时办结率
(closed items plus the open items of milestones not yet due) and the top-N walk by due date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.sqlite import dialect as _sqlite_dialect
from sqlalchemy.sql import Select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import stats as core
from bot.core.lights import Light, LightPolicy
from bot.core.status import BLOCKED, CLOSED, DONE_REPORTED, OPEN_STATUSES
from bot.storage.models import Assignment, Membership, Milestone, Person, Plan, Task, Unit

A = Assignment.__table__  # type: ignore[attr-defined]
M = Milestone.__table__  # type: ignore[attr-defined]
T = Task.__table__  # type: ignore[attr-defined]
P = Plan.__table__  # type: ignore[attr-defined]
U = Unit.__table__  # type: ignore[attr-defined]
MS = Membership.__table__  # type: ignore[attr-defined]
PE = Person.__table__  # type: ignore[attr-defined]

DEFAULT_ACK_WINDOW = 3  # working days to acknowledge (签收); the policy's chase threshold


@dataclass(frozen=True)
class Scope:
    """Which assignments a question is about. `plan_ids` restricts to the plans a coordinator
    may see (None: every plan); `plan_id` / `unit_id` narrow further."""

    plan_id: int | None = None
    unit_id: int | None = None
    plan_ids: frozenset[int] | None = None

    @property
    def needs_task(self) -> bool:
        return self.plan_id is not None or self.plan_ids is not None


@dataclass(frozen=True)
class When:
    """The instant of the question, and the local calendar around it."""

    at: datetime
    zone: ZoneInfo

    @property
    def today(self) -> date:
        return self.at.astimezone(self.zone).date()

    @property
    def offset_minutes(self) -> int:
        offset = self.at.astimezone(self.zone).utcoffset() or timedelta(0)
        return int(offset.total_seconds() // 60)


# --- SQL building blocks -------------------------------------------------------------------


def _date(value: date) -> ColumnElement:
    return literal(value, Date)


def _base_from(scope: Scope, *, milestone: bool = False):  # type: ignore[no-untyped-def]
    joined = A
    if milestone or scope.needs_task:
        joined = joined.join(M, M.c.id == A.c.milestone_id)
    if scope.needs_task:
        joined = joined.join(T, T.c.id == M.c.task_id)
    return joined


def _scope_filters(scope: Scope) -> list[ColumnElement]:
    filters: list[ColumnElement] = [A.c.archived_at.is_(None)]
    if scope.plan_ids is not None:
        allowed = sorted(scope.plan_ids)
        filters.append(T.c.plan_id.in_(allowed) if allowed else literal(False))
    if scope.plan_id is not None:
        filters.append(T.c.plan_id == scope.plan_id)
    if scope.unit_id is not None:
        filters.append(A.c.unit_id == scope.unit_id)
    return filters


def _scoped(
    stmt: Select, scope: Scope, *, milestone: bool = False, index: str | None = None
) -> Select:
    """Restrict `stmt` to the scope; `index` names the covering index the query is meant to
    scan (kept next to the query so that a change of either is seen together)."""
    del index  # documentation of the intended plan (checked with EXPLAIN QUERY PLAN)
    return stmt.select_from(_base_from(scope, milestone=milestone)).where(*_scope_filters(scope))


def window_start_sql(task: ColumnElement, seq: ColumnElement) -> ColumnElement:
    """The start of a milestone's window: the previous (active) milestone's due date in the
    same item, or the plan's first day; correlated on the milestone's task id and seq."""
    m_prev = M.alias("m_prev")
    t2 = T.alias("t_ws")
    p2 = P.alias("p_ws")
    previous = (
        select(func.max(m_prev.c.due))
        .where(m_prev.c.task_id == task, m_prev.c.seq < seq, m_prev.c.archived_at.is_(None))
        .scalar_subquery()
    )
    plan_start = (
        select(p2.c.period_start)
        .select_from(t2.join(p2, p2.c.id == t2.c.plan_id))
        .where(t2.c.id == task)
        .scalar_subquery()
    )
    return func.coalesce(previous, plan_start)


def _live_filters(when: When) -> list[ColumnElement]:
    return [A.c.due >= _date(when.today), _open_sql()]


def _julian(day: date) -> float:
    """SQLite's julianday() of a date (midnight), exactly."""
    return day.toordinal() + 1721424.5


def lag_sql(
    due: ColumnElement, progress: ColumnElement, start_jd: ColumnElement, when: When
) -> ColumnElement:
    """bot.core.lights.lag_points: expected_progress(start, due, today) - progress, with the
    window start given as its julianday (whole days, so the shares are computed exactly as
    in Python)."""
    today = _date(when.today)
    due_jd = func.julianday(due)
    share = (literal(_julian(when.today), Float) - start_jd) / (due_jd - start_jd) * 100.0
    expected = case(
        (due_jd <= start_jd, case((today >= due, 100.0), else_=0.0)),
        else_=func.max(0.0, func.min(100.0, share)),
    )
    return expected - progress


@dataclass(frozen=True)
class _Row:
    """The columns `light_sql` reads, under the names it reads them by."""

    c: Any


def light_inputs(scope: Scope, when: When) -> tuple[Any, list, _Row]:
    """(FROM clause, WHERE terms, row columns) of the live rows (open, not yet due) for
    `light_sql`.

    Rows without a percentage need no lag (`light_sql` reads it only when there is one). For
    the others the window start is the milestone's stored `window_start` (kept by the loader),
    or computed when not stored. Over the whole ledger the milestone is LEFT JOINed on rows
    with a percentage only, so the rows without one cost no probe; the LEFT JOIN (every row has
    its milestone) also fixes the order: SQLite walks the due-date index of the assignments and
    probes the milestones by id, never the other way round."""
    filters = [*_scope_filters(scope), *_live_filters(when)]
    base = _base_from(scope)
    if not scope.needs_task:
        on = and_(M.c.id == A.c.milestone_id, A.c.progress.is_not(None))
        base = base.join(M, on, isouter=True)
    # COALESCE stops at its first non-NULL argument: the subqueries run only for
    # milestones without a stored window start.
    start = func.coalesce(M.c.window_start, window_start_sql(M.c.task_id, M.c.seq))
    lag = lag_sql(A.c.due, A.c.progress, func.julianday(start), when)
    columns = SimpleNamespace(
        status=A.c.status,
        due=A.c.due,
        progress=A.c.progress,
        acknowledged_at=A.c.acknowledged_at,
        last_report_at=A.c.last_report_at,
        lag=lag,
    )
    return base, filters, _Row(columns)


def light_sql(  # type: ignore[no-untyped-def]
    row, when: When, policy: LightPolicy, values: dict[Light, Any] | None = None
) -> ColumnElement:
    """bot.core.lights.light_of as a CASE expression over `row` (columns named as in
    `light_inputs`: status, due, progress, acknowledged_at, last_report_at, lag). `values`
    maps each light to what the CASE yields (default: the light's name)."""
    out = {light: light.value for light in Light} if values is None else values
    c = row.c
    today = _date(when.today)
    soon = _date(when.today + timedelta(days=policy.due_soon_days))
    stale_since = _instant(when.at - timedelta(days=policy.stale_report_days))
    lag = c.lag
    waiting = or_(c.status == BLOCKED, c.acknowledged_at.is_(None))
    stale = and_(c.due <= soon, or_(c.last_report_at.is_(None), c.last_report_at < stale_since))
    red, yellow, green = out[Light.RED], out[Light.YELLOW], out[Light.GREEN]
    return case(
        (c.status == CLOSED, out[Light.GREY]),
        (c.status == DONE_REPORTED, green),
        (c.due < today, red),
        (and_(c.progress.is_not(None), lag > policy.red_lag_points), red),
        (waiting, yellow),
        (and_(c.progress.is_not(None), lag >= policy.yellow_lag_points), yellow),
        (stale, yellow),
        else_=green,
    )


def _open_sql() -> ColumnElement:
    """Open (not reported done, not closed), written as NOT IN: SQLite then walks the covering
    due-date index instead of the single-column status index (a fresh ledger has no planner
    statistics), at no per-row cost."""
    return A.c.status.not_in((DONE_REPORTED, CLOSED))


def overdue_sql(when: When, *, by_due_index: bool = False) -> ColumnElement:
    """Open and past due. `by_due_index` when the query walks the due-date index (top-N);
    aggregates over a covering index compare the status directly (cheaper per row)."""
    is_open = _open_sql() if by_due_index else A.c.status.in_(OPEN_STATUSES)
    return and_(is_open, A.c.due < _date(when.today))


def _count_if(condition: ColumnElement) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- the summary ---------------------------------------------------------------------------


def _utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _instant(value: datetime) -> ColumnElement:
    return literal(value, DateTime())


def _before_day_end_sql(column: ColumnElement, day: ColumnElement, when: When) -> ColumnElement:
    """`column` (a UTC timestamp) falls on or before the local calendar day `day` (a date column).

    With a positive offset of at most a day (Asia/Shanghai) the end of local `day` is `day`
    at 24:00 minus the offset in UTC, and the stored text compares directly; otherwise SQLite's
    datetime() does the arithmetic."""
    offset = when.offset_minutes
    if 0 < offset <= 24 * 60:
        minutes = 24 * 60 - offset
        suffix = f" {minutes // 60:02d}:{minutes % 60:02d}:00.000000"
        return column < day.op("||")(suffix)
    return column < func.datetime(day, "+1 day", f"{-offset:+d} minutes")


def _ack_runs(
    when: When, window: int, is_working_day: core.WorkingDay, first: datetime, last: datetime
) -> list[tuple[datetime, datetime]]:
    """The acknowledgement deadline as a step function of the assignment instant: runs of
    local days that share a deadline, as (first instant of the run, end of the deadline day)."""
    zone = when.zone
    day = first.astimezone(zone).date()
    last_day = last.astimezone(zone).date()
    runs: list[tuple[datetime, datetime]] = []
    while day <= last_day:
        deadline = core.ack_deadline(day, window, is_working_day)
        end = _utc_midnight(deadline + timedelta(days=1), zone)
        if not runs or runs[-1][1] != end:
            runs.append((_utc_midnight(day, zone), end))
        day += timedelta(days=1)
    return runs


def _ack_threshold(runs: list[tuple[datetime, datetime]], when: When) -> datetime | None:
    """Assignments before this instant have their window over (deadline day before today)."""
    today_start = _utc_midnight(when.today, when.zone)
    return next((start for start, end in runs if end > today_start), None)


def _ack_sql(runs: list[tuple[datetime, datetime]], when: When) -> tuple[ColumnElement, ...]:
    """(timely, counted) per row as 0/1: the deadline as a balanced tree of CASEs over the
    runs (for a plan or a unit, where range scans over everyone's rows would not pay)."""

    def tree(lo: int, hi: int) -> ColumnElement:
        if lo == hi:
            return _instant(runs[lo][1])
        mid = (lo + hi + 1) // 2
        return case(
            (A.c.assigned_at < _instant(runs[mid][0]), tree(lo, mid - 1)), else_=tree(mid, hi)
        )

    timely = case(
        (A.c.acknowledged_at.is_(None), 0),
        (A.c.acknowledged_at < tree(0, len(runs) - 1), 1),
        else_=0,
    )
    threshold = _ack_threshold(runs, when)
    if threshold is None:
        return timely, literal(1)
    return timely, case((A.c.assigned_at < _instant(threshold), 1), else_=timely)


_RUNS_PER_QUERY = 200
_SQLITE_INSTANT = DateTime().dialect_impl(_sqlite_dialect()).bind_processor(_sqlite_dialect())
_PAST_EVERY_INSTANT = "9999-12-31 23:59:59.999999"  # the last run's open end (stored text)


@lru_cache(maxsize=8)
def _run_counts_sql(runs: int) -> str:
    """One range count of the assignment-instant index per run, as SQL text built once per
    number of runs (building the equivalent expression tree cost more than running it): the
    runs are a VALUES table of (first instant, next run's first instant, deadline end)."""
    values = ", ".join(["(?, ?, ?, ?)"] * runs)
    return (
        f"WITH runs(i, start, stop, deadline) AS (VALUES {values}) "
        "SELECT (SELECT count(*) FROM assignment "
        "WHERE assignment.assigned_at >= runs.start AND assignment.assigned_at < runs.stop "
        "AND assignment.acknowledged_at < runs.deadline AND assignment.archived_at IS NULL) "
        "FROM runs ORDER BY runs.i"
    )


async def _run_counts(
    session: AsyncSession, bounded: list[tuple[datetime, datetime | None, datetime]]
) -> list[int]:
    """Acknowledged-in-time count per run over the whole ledger (see `acknowledgement`; the
    scopes narrower than the whole ledger take the deadline tree instead)."""
    connection = await session.connection()
    out: list[int] = []
    for first in range(0, len(bounded), _RUNS_PER_QUERY):
        chunk = bounded[first : first + _RUNS_PER_QUERY]
        params: list[Any] = []
        for i, (start, stop, end) in enumerate(chunk):
            params += [
                i,
                _SQLITE_INSTANT(start),
                _PAST_EVERY_INSTANT if stop is None else _SQLITE_INSTANT(stop),
                _SQLITE_INSTANT(end),
            ]
        result = await connection.exec_driver_sql(_run_counts_sql(len(chunk)), tuple(params))
        out.extend(int(row[0]) for row in result.all())
    return out


async def acknowledgement(
    session: AsyncSession,
    *,
    scope: Scope,
    when: When,
    window: int = DEFAULT_ACK_WINDOW,
    is_working_day: core.WorkingDay = core.weekdays,
    total: int | None = None,
) -> core.Rate:
    """及时签收率 (see bot.core.stats). Over the whole ledger: one range count per run of the
    assignment-instant index (each row compared once, no per-row date arithmetic). For a plan
    or a unit: the deadline tree over that scope's rows only."""
    bounds = await _assigned_range(session)
    if bounds is None:
        return core.Rate(0, 0)
    runs = _ack_runs(when, window, is_working_day, *bounds)
    if scope.needs_task or scope.unit_id is not None:
        timely, counted = _ack_sql(runs, when)
        stmt = _scoped(
            select(func.coalesce(func.sum(timely), 0), func.coalesce(func.sum(counted), 0)),
            scope,
        )
        ok, seen = (await session.exec(stmt)).one()
        return core.Rate(int(ok), int(seen))
    threshold = _ack_threshold(runs, when)
    bounded = [
        (start, nxt[0] if nxt else None, end)
        for (start, end), nxt in zip(runs, [*runs[1:], None], strict=True)
    ]
    per_run = await _run_counts(session, bounded)
    ok = sum(per_run)
    if threshold is None:  # every window is over: every assignment is judged
        seen = total if total is not None else await _count(session, scope)
    else:
        before = _scoped(select(func.count()), scope, index="ix_assignment_ack").where(
            A.c.assigned_at < _instant(threshold)
        )
        seen = int((await session.exec(before)).scalar_one())
        seen += sum(
            n for (start, _, _), n in zip(bounded, per_run, strict=True) if start >= threshold
        )
    return core.Rate(ok, seen)


async def _count(session: AsyncSession, scope: Scope) -> int:
    return int((await session.exec(_scoped(select(func.count()), scope))).scalar_one())


@dataclass(frozen=True)
class UnitLine:
    unit_id: int
    name: str
    total: int
    closed: int
    overdue: int


@dataclass
class Totals:
    total: int = 0
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(core.BUCKETS, 0))
    overdue: int = 0
    lights: dict[str, int] = field(default_factory=lambda: {light.value: 0 for light in Light})
    on_time: core.Rate = field(default_factory=lambda: core.Rate(0, 0))
    acknowledgement: core.Rate = field(default_factory=lambda: core.Rate(0, 0))

    @property
    def completion(self) -> core.Rate:
        return core.completion_rate(self.buckets[core.BUCKET_CLOSED], self.total)


@dataclass(frozen=True)
class OverdueItem:
    assignment_id: int
    ref: str
    title: str
    unit_name: str
    due: date
    days_late: int
    status: str


@dataclass
class StatusReport:
    today: date
    totals: Totals
    units: list[UnitLine]  # every unit in scope with its counts
    most_overdue: list[OverdueItem]

    @property
    def acknowledgement(self) -> core.Rate:
        return self.totals.acknowledgement

    def units_by_overdue(self, limit: int | None = None) -> list[UnitLine]:
        ranked = [u for u in self.units if u.overdue]
        ranked.sort(key=lambda u: (-u.overdue, u.name))
        return ranked if limit is None else ranked[:limit]

    def scorecard(self) -> list[core.ScoreRow]:
        return core.scorecard(
            core.UnitFacts(u.unit_id, u.name, u.total, u.closed, u.overdue) for u in self.units
        )


async def unit_names(session: AsyncSession, unit_ids: Iterable[int]) -> dict[int, str]:
    """How to name units in a list, by id: the short name plans use (市卫健委), or the full
    name when several units share that short name (each city has a 市卫健委)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    rows = (
        await session.exec(select(U.c.id, U.c.name, U.c.short_name).where(U.c.id.in_(ids)))
    ).all()
    shorts = sorted({short for _, _, short in rows if short})
    shared: set[str] = set()
    if shorts:
        shared_rows = await session.exec(
            select(U.c.short_name)
            .where(U.c.short_name.in_(shorts))
            .group_by(U.c.short_name)
            .having(func.count() > 1)
        )
        shared = {row[0] for row in shared_rows.all()}
    return {uid: (short if short and short not in shared else name) for uid, name, short in rows}


async def _assigned_range(session: AsyncSession) -> tuple[datetime, datetime] | None:
    # Two statements: SQLite answers a lone min() or max() from the index, not both at once.
    first = (await session.exec(select(func.min(A.c.assigned_at)))).scalar()
    last = (await session.exec(select(func.max(A.c.assigned_at)))).scalar()
    if first is None or last is None:
        return None
    return first, last


async def unit_totals(
    session: AsyncSession, *, scope: Scope, when: When
) -> tuple[Totals, list[UnitLine]]:
    """One pass over the scope (a covering index): counts per unit and status, and overdue.
    The totals are the sum of the unit lines; lights and the rates are added by
    `status_report`."""
    # Grouped by (unit, status) in the covering index's own order: no sort, and the status
    # buckets need no per-row CASE; "past due" only counts for the open statuses.
    stmt = _scoped(
        select(
            A.c.unit_id,
            A.c.status,
            func.count(),
            func.sum(A.c.due < _date(when.today), type_=Integer),  # a group has rows
        ),
        scope,
        index="ix_assignment_ledger",
    ).group_by(A.c.unit_id, A.c.status)
    per_unit: dict[int, list[int]] = {}  # unit → [total, closed, overdue]
    totals = Totals()
    for unit_id, status, count, past_due in (await session.exec(stmt)).all():
        line = per_unit.setdefault(unit_id, [0, 0, 0])
        line[0] += count
        totals.total += count
        totals.buckets[core.bucket_of(status)] += count
        if status == CLOSED:
            line[1] += count
        if status in OPEN_STATUSES:
            line[2] += past_due
            totals.overdue += past_due
    names = await unit_names(session, per_unit)
    lines = [
        UnitLine(unit_id, names.get(unit_id, "?"), total, closed, overdue)
        for unit_id, (total, closed, overdue) in per_unit.items()
    ]
    return totals, lines


_PACK = 1 << 21  # counts below two million per light fit side by side in SQLite's 64 bits


async def live_lights(
    session: AsyncSession, *, scope: Scope, when: When, policy: LightPolicy
) -> dict[str, int]:
    """Lights of the open items not yet due (a range of the due-date index). The others need
    no rule: overdue is red, a reported completion green, a closed item grey."""
    base, filters, row = light_inputs(scope, when)
    # One pass over the due-date range, one evaluation of the CASE per row and no sort: the
    # three counts packed in one sum (grey never happens here: the rows are open).
    packed = light_sql(
        row, when, policy,
        {Light.RED: 1, Light.YELLOW: _PACK, Light.GREEN: _PACK * _PACK, Light.GREY: 0},
    )  # fmt: skip
    stmt = select(func.coalesce(func.sum(packed), 0)).select_from(base).where(*filters)
    total = int((await session.exec(stmt)).scalar_one())
    return {
        Light.RED.value: total % _PACK,
        Light.YELLOW.value: total // _PACK % _PACK,
        Light.GREEN.value: total // (_PACK * _PACK),
    }


@dataclass(frozen=True)
class OnTimeParts:
    """按时办结率 in parts: closed items, those closed on time, and open items whose original
    due date is today or later (the rest of the open items are in the denominator)."""

    closed: int
    on_time: int
    open_not_yet_due: int

    def rate(self, total: int) -> core.Rate:
        return core.Rate(self.on_time, total - self.open_not_yet_due)


async def on_time_parts(session: AsyncSession, *, scope: Scope, when: When) -> OnTimeParts:
    """Two small queries instead of a pass over every assignment: the closed ones (status
    index) against their milestone's original due date, and the open ones of milestones not
    yet originally due (original-due index, then the assignments of each)."""
    finished = func.coalesce(A.c.done_reported_at, A.c.closed_at)
    ok = and_(finished.is_not(None), _before_day_end_sql(finished, M.c.original_due, when))
    closed = _scoped(select(func.count(), _count_if(ok)), scope, milestone=True).where(
        A.c.status == CLOSED
    )
    closed_count, ok_count = (await session.exec(closed)).one()
    pending = _scoped(
        select(func.count()), scope, milestone=True, index="ix_assignment_ontime"
    ).where(M.c.original_due >= _date(when.today), A.c.status != CLOSED)
    not_yet = (await session.exec(pending)).scalar_one()
    return OnTimeParts(int(closed_count), int(ok_count), int(not_yet))


async def on_time(session: AsyncSession, *, scope: Scope, when: When) -> core.Rate:
    """按时办结率 against each milestone's original due date."""
    parts = await on_time_parts(session, scope=scope, when=when)
    total = (await session.exec(_scoped(select(func.count()), scope))).scalar_one()
    return parts.rate(int(total))


def _overdue_order(stmt: Select) -> Select:
    return stmt.order_by(A.c.due, A.c.id)


async def overdue_items(
    session: AsyncSession, *, scope: Scope, when: When, offset: int = 0, limit: int = 10
) -> list[OverdueItem]:
    """Open assignments past their due date, most overdue first."""
    joined = _base_from(scope, milestone=True)
    if not scope.needs_task:
        joined = joined.join(T, T.c.id == M.c.task_id)
    stmt = (
        select(
            A.c.id,
            T.c.ref,
            T.c.title,
            A.c.unit_id,
            A.c.due,
            A.c.status,
        )
        .select_from(joined)
        .where(*_scope_filters(scope), overdue_sql(when, by_due_index=True))
    )
    stmt = _overdue_order(stmt).offset(offset).limit(limit)
    rows = (await session.exec(stmt)).all()
    names = await unit_names(session, [row[3] for row in rows])
    out: list[OverdueItem] = []
    for assignment_id, ref, title, unit_id, due, status in rows:
        out.append(
            OverdueItem(
                assignment_id=assignment_id,
                ref=ref,
                title=title,
                unit_name=names.get(unit_id, "?"),
                due=due,
                days_late=core.days_late(status, due, when.today),
                status=status,
            )
        )
    return out


async def count_overdue(session: AsyncSession, *, scope: Scope, when: When) -> int:
    stmt = _scoped(select(func.count()), scope, index="ix_assignment_live").where(
        overdue_sql(when, by_due_index=True)
    )
    return int((await session.exec(stmt)).scalar_one())


async def status_report(
    session: AsyncSession,
    *,
    scope: Scope,
    at: datetime,
    zone: ZoneInfo,
    policy: LightPolicy,
    ack_window: int = DEFAULT_ACK_WINDOW,
    is_working_day: core.WorkingDay = core.weekdays,
    top_items: int = 10,
) -> StatusReport:
    """Everything `/status` shows: aggregate queries over covering indexes and one top-N walk
    of the due-date index, on one session (one page cache; running them side by side on
    several connections measured slower)."""
    when = When(at, zone)
    totals, lines = await unit_totals(session, scope=scope, when=when)
    totals.acknowledgement = await acknowledgement(
        session, scope=scope, when=when, window=ack_window, is_working_day=is_working_day,
        total=totals.total,
    )  # fmt: skip
    live = await live_lights(session, scope=scope, when=when, policy=policy)
    totals.lights = {
        Light.RED.value: totals.overdue + live.get(Light.RED.value, 0),
        Light.YELLOW.value: live.get(Light.YELLOW.value, 0),
        Light.GREEN.value: totals.buckets[core.BUCKET_AWAITING] + live.get(Light.GREEN.value, 0),
        Light.GREY.value: totals.buckets[core.BUCKET_CLOSED],
    }
    parts = await on_time_parts(session, scope=scope, when=when)
    totals.on_time = parts.rate(totals.total)
    top = await overdue_items(session, scope=scope, when=when, limit=top_items)
    return StatusReport(today=when.today, totals=totals, units=lines, most_overdue=top)


# --- plans and units overviews -----------------------------------------------------------


@dataclass(frozen=True)
class PlanLine:
    plan_id: int
    code: str
    title: str
    period_start: date
    period_end: date
    tasks: int
    total: int
    closed: int
    overdue: int


async def plan_lines(
    session: AsyncSession, *, when: When, plan_ids: frozenset[int] | None = None
) -> list[PlanLine]:
    """Active plans with their assignment counts (`/plans`)."""
    counts = (
        select(
            T.c.plan_id.label("plan_id"),
            func.count(func.distinct(T.c.id)).label("tasks"),
            func.count(A.c.id).label("total"),
            _count_if(A.c.status == CLOSED).label("closed"),
            _count_if(overdue_sql(when)).label("overdue"),
        )
        .select_from(
            T.join(M, and_(M.c.task_id == T.c.id, M.c.archived_at.is_(None)), isouter=True).join(
                A, and_(A.c.milestone_id == M.c.id, A.c.archived_at.is_(None)), isouter=True
            )
        )
        .where(T.c.archived_at.is_(None))
        .group_by(T.c.plan_id)
        .subquery()
    )
    stmt = (
        select(
            P.c.id,
            P.c.code,
            P.c.title,
            P.c.period_start,
            P.c.period_end,
            func.coalesce(counts.c.tasks, 0),
            func.coalesce(counts.c.total, 0),
            func.coalesce(counts.c.closed, 0),
            func.coalesce(counts.c.overdue, 0),
        )
        .select_from(P.join(counts, counts.c.plan_id == P.c.id, isouter=True))
        .where(P.c.archived_at.is_(None))
        .order_by(P.c.code)
    )
    if plan_ids is not None:
        stmt = stmt.where(P.c.id.in_(sorted(plan_ids)))
    return [PlanLine(*row) for row in (await session.exec(stmt)).all()]


@dataclass(frozen=True)
class UnitOverview:
    unit_id: int
    name: str
    short_name: str
    liaisons: int
    open: int
    overdue: int


async def unit_overview(
    session: AsyncSession, *, when: When, plan_ids: frozenset[int] | None = None
) -> list[UnitOverview]:
    """Units that have assignments (in the plans given), with liaison and open counts
    (`/units`). Units without a liaison come first: they are the ones to fix."""
    scope = Scope(plan_ids=plan_ids)
    work = (
        _scoped(
            select(
                A.c.unit_id.label("unit_id"),
                _count_if(A.c.status.in_(OPEN_STATUSES)).label("open"),
                _count_if(overdue_sql(when)).label("overdue"),
            ),
            scope,
        )
        .group_by(A.c.unit_id)
        .subquery()
    )
    liaisons = (
        select(MS.c.unit_id.label("unit_id"), func.count(func.distinct(MS.c.person_id)).label("n"))
        .select_from(MS.join(PE, PE.c.id == MS.c.person_id))
        .where(MS.c.role == "liaison", MS.c.revoked_at.is_(None), MS.c.unit_id.is_not(None))
        .group_by(MS.c.unit_id)
        .subquery()
    )
    stmt = select(
        U.c.id,
        U.c.name,
        U.c.short_name,
        func.coalesce(liaisons.c.n, 0),
        work.c.open,
        work.c.overdue,
    ).select_from(
        work.join(U, U.c.id == work.c.unit_id).join(
            liaisons, liaisons.c.unit_id == U.c.id, isouter=True
        )
    )
    rows = [UnitOverview(*row) for row in (await session.exec(stmt)).all()]
    rows.sort(key=lambda u: (u.liaisons > 0, -u.overdue, u.name))
    return rows


__all__ = [
    "DEFAULT_ACK_WINDOW",
    "OverdueItem",
    "PlanLine",
    "Scope",
    "StatusReport",
    "Totals",
    "UnitLine",
    "UnitOverview",
    "When",
    "acknowledgement",
    "count_overdue",
    "light_sql",
    "live_lights",
    "on_time",
    "on_time_parts",
    "overdue_items",
    "plan_lines",
    "status_report",
    "unit_names",
    "unit_overview",
    "unit_totals",
    "window_start_sql",
]
