"""Ledger statistics from the database, with aggregate queries.

The definitions live in `bot.core.stats` (rates, ranking) and `bot.core.lights` (the lights);
this module computes the same numbers without loading assignments one by one, so that `/status`
over 100,000 assignments answers within the benchmark's budget (`benchmarks/status_bench.py`).
tests/coordinator/test_stats_service.py compares both on random ledgers for every scope.

/status asks four questions (per-unit counts, 及时签收率, the lights of the items not yet due,
按时办结率), each one statement of `bot.services.stats_sql`, prebuilt SQL text: over the whole
ledger a statement shaped for its index, over a plan or a unit one pass over that scope's rows.
The most overdue items, the overdue pages and the overviews are SQLAlchemy queries below.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, FromClause, and_, case, func, literal, text
from sqlalchemy.dialects.sqlite import dialect as _sqlite_dialect
from sqlalchemy.engine import Row
from sqlalchemy.types import DateTime
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import stats as core
from bot.core.lights import Light, LightPolicy
from bot.core.status import CLOSED, DONE_REPORTED, OPEN_STATUSES
from bot.services import stats_sql as sql
from bot.storage.models import Assignment, Membership, Milestone, Person, Plan, Task, Unit
from bot.storage.outbox import details
from bot.storage.typed_sql import RowSelect, select_rows, table_of

A = table_of(Assignment)
M = table_of(Milestone)
T = table_of(Task)
P = table_of(Plan)
U = table_of(Unit)
MS = table_of(Membership)
PE = table_of(Person)

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

    @property
    def whole_ledger(self) -> bool:
        """No restriction: answered by the statements over the ledger's own indexes."""
        return not self.needs_task and self.unit_id is None


@dataclass(frozen=True)
class When:
    """The instant of the question, and the local calendar around it."""

    at: datetime
    zone: ZoneInfo

    @property
    def today(self) -> date:
        return self.at.astimezone(self.zone).date()


# --- SQLAlchemy building blocks (the overdue items and pages, the overviews, the export) -------


def _date(value: date) -> ColumnElement:
    return literal(value, Date)


def _base_from(scope: Scope, *, milestone: bool = False) -> FromClause:
    joined: FromClause = A
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
    stmt: RowSelect, scope: Scope, *, milestone: bool = False, index: str | None = None
) -> RowSelect:
    """Restrict `stmt` to the scope; `index` names the covering index the query is meant to
    scan (kept next to the query so that a change of either is seen together)."""
    del index  # documentation of the intended plan (checked with EXPLAIN QUERY PLAN)
    return stmt.select_from(_base_from(scope, milestone=milestone)).where(*_scope_filters(scope))


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


# --- running the statements of bot.services.stats_sql ------------------------------------------

_SQLITE_INSTANT_OR_NONE = (
    DateTime().dialect_impl(_sqlite_dialect()).bind_processor(_sqlite_dialect())
)
assert _SQLITE_INSTANT_OR_NONE is not None  # SQLite's DateTime writes text
_SQLITE_INSTANT = _SQLITE_INSTANT_OR_NONE


def _instant_text(value: datetime) -> str:
    """A UTC instant as SQLite stores it."""
    return _SQLITE_INSTANT(value.astimezone(UTC))


def _julian(day: date) -> float:
    """SQLite's julianday() of a date (midnight), exactly."""
    return day.toordinal() + 1721424.5


async def _on_postgres(session: AsyncSession) -> bool:
    return (await session.connection()).dialect.name == "postgresql"


def _instant(value: datetime, pg: bool) -> str | datetime:
    """A UTC instant as a parameter: SQLite's stored text, or the aware value (timestamptz)."""
    return value.astimezone(UTC) if pg else _instant_text(value)


def _day(value: date, pg: bool) -> str | date:
    return value if pg else value.isoformat()


def _scope_rows(scope: Scope, pg: bool, *, milestone: bool = False) -> str:
    return sql.scope_rows(
        scope.plan_ids,
        plan=scope.plan_id is not None,
        unit=scope.unit_id is not None,
        milestone=milestone,
        pg=pg,
    )


def _day_params(scope: Scope, when: When, pg: bool) -> dict[str, Any]:
    """The named parameters every statement may use: the scope's ids and the local day."""
    params: dict[str, Any] = {
        "plan_id": scope.plan_id,
        "unit_id": scope.unit_id,
        "today": _day(when.today, pg),
    }
    if not pg:
        params["today_jd"] = _julian(when.today)
    return params


def _light_params(when: When, policy: LightPolicy, pg: bool) -> dict[str, Any]:
    return {
        "soon": _day(when.today + timedelta(days=policy.due_soon_days), pg),
        "stale_since": _instant(when.at - timedelta(days=policy.stale_report_days), pg),
        "red_lag": policy.red_lag_points,
        "yellow_lag": policy.yellow_lag_points,
    }


async def _run(
    session: AsyncSession, statement: str, params: dict[str, Any] | tuple[Any, ...]
) -> Sequence[Row[*tuple[Any, ...]]]:
    """The rows of a statement of text, on the session's connection (and transaction): as the
    driver takes it on SQLite (qmark or named parameters); on PostgreSQL as a text() construct,
    with named parameters only."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        return (await connection.execute(text(statement), params or {})).all()
    return (await connection.exec_driver_sql(statement, params)).all()


# --- 及时签收率 ------------------------------------------------------------------------------


def _utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


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


def _stored_instant(value: str | datetime) -> datetime:
    """An instant as a statement of text returns it: SQLite's text, or an aware datetime."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


async def _assigned_range(session: AsyncSession) -> tuple[datetime, datetime] | None:
    """The first and the last instant of assignment (None: nothing assigned)."""
    ((first, last),) = await _run(session, sql.ASSIGNED_RANGE, ())
    if first is None or last is None:
        return None
    return _stored_instant(first), _stored_instant(last)


_RUNS_PER_QUERY = 200
_PAST_EVERY_INSTANT = "9999-12-31 23:59:59.999999"  # the last run's open end (stored text)


_PAST_EVERY_INSTANT_PG = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


async def _ledger_run_counts(
    session: AsyncSession, runs: list[tuple[datetime, datetime]], pg: bool
) -> list[int]:
    """Acknowledged-in-time count per run over the whole ledger, a few hundred runs per
    statement."""
    starts = [_instant(start, pg) for start, _ in runs]
    stops = [*starts[1:], _PAST_EVERY_INSTANT_PG if pg else _PAST_EVERY_INSTANT]
    out: list[int] = []
    for first in range(0, len(runs), _RUNS_PER_QUERY):
        chunk = range(first, min(first + _RUNS_PER_QUERY, len(runs)))
        statement = sql.ledger_ack_run_counts(len(chunk), pg=pg)
        params: dict[str, Any] | tuple[Any, ...]
        if pg:
            params = {}
            for n, i in enumerate(chunk):
                params[f"s{n}"], params[f"n{n}"] = starts[i], stops[i]
                params[f"e{n}"] = _instant(runs[i][1], pg)
        else:
            params = tuple(
                x for i in chunk for x in (starts[i], stops[i], _instant_text(runs[i][1]))
            )
        ((*counts,),) = await _run(session, statement, params)
        out.extend(int(n) for n in counts)
    return out


def _ack_tree_params(
    runs: list[tuple[datetime, datetime]], threshold: datetime | None, pg: bool
) -> dict[str, Any]:
    """The values of the placeholders of `stats_sql.ack_counted` and its deadline tree."""
    params: dict[str, Any] = {}
    for i, (start, end) in enumerate(runs):
        params[f"ack_start_{i}"] = _instant(start, pg)
        params[f"ack_end_{i}"] = _instant(end, pg)
    if threshold is not None:
        params["ack_threshold"] = _instant(threshold, pg)
    return params


async def _scope_acknowledgement(
    session: AsyncSession,
    scope: Scope,
    when: When,
    runs: list[tuple[datetime, datetime]],
    threshold: datetime | None,
) -> core.Rate:
    pg = await _on_postgres(session)
    rows = _scope_rows(scope, pg)
    statement = sql.scope_ack(rows, runs=len(runs), all_windows_over=threshold is None, pg=pg)
    params = {**_day_params(scope, when, pg), **_ack_tree_params(runs, threshold, pg)}
    ((ok, seen),) = await _run(session, statement, params)
    return core.Rate(int(ok), int(seen))


async def _ledger_acknowledgement(
    session: AsyncSession,
    runs: list[tuple[datetime, datetime]],
    threshold: datetime | None,
    total: int | None,
) -> core.Rate:
    pg = await _on_postgres(session)
    per_run = await _ledger_run_counts(session, runs, pg)
    ok = sum(per_run)
    if threshold is None:  # every window is over: every assignment is judged
        if total is None:
            ((total,),) = await _run(session, sql.LEDGER_ASSIGNMENTS, ())
        return core.Rate(ok, int(total))
    before = {"ack_threshold": _instant(threshold, pg)}
    ((seen,),) = await _run(session, sql.ASSIGNED_BEFORE, before)
    seen += sum(n for (start, _), n in zip(runs, per_run, strict=True) if start >= threshold)
    return core.Rate(ok, int(seen))


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
    assignment-instant index (each row compared once, no per-row date arithmetic); `total`, the
    number of assignments, spares a count. For a plan or a unit: the deadline tree over that
    scope's rows only."""
    bounds = await _assigned_range(session)
    if bounds is None:
        return core.Rate(0, 0)
    runs = _ack_runs(when, window, is_working_day, *bounds)
    threshold = _ack_threshold(runs, when)
    if scope.whole_ledger:
        return await _ledger_acknowledgement(session, runs, threshold, total)
    return await _scope_acknowledgement(session, scope, when, runs, threshold)


# --- the status summary ------------------------------------------------------------------------


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


async def unit_names(session: AsyncSession, unit_ids: Iterable[int]) -> dict[int, str]:
    """How to name units in a list, by id: the short name plans use (市卫健委), or the full
    name when several units share that short name (each city has a 市卫健委)."""
    return await details.unit_names(await session.connection(), unit_ids)


async def _unit_status_counts(
    session: AsyncSession, scope: Scope, when: When
) -> list[tuple[int, str, int, int]]:
    """(unit, status, assignments, past-due open ones) of the scope, for every pair that has
    assignments."""
    pg = await _on_postgres(session)
    if scope.whole_ledger:
        statement = sql.ledger_unit_status_counts(pg=pg)
    else:
        statement = sql.scope_unit_status_counts(_scope_rows(scope, pg), pg=pg)
    rows = await _run(session, statement, _day_params(scope, when, pg))
    return [
        (unit, status, int(count), int(overdue)) for unit, status, count, overdue in rows if count
    ]


async def unit_totals(
    session: AsyncSession, *, scope: Scope, when: When
) -> tuple[Totals, list[UnitLine]]:
    """Counts per unit and status, and overdue; the totals are the sum of the unit lines.
    Lights and the rates are added by `status_report`."""
    per_unit: dict[int, list[int]] = {}  # unit → [total, closed, overdue]
    totals = Totals()
    for unit_id, status, count, past_due in await _unit_status_counts(session, scope, when):
        line = per_unit.setdefault(unit_id, [0, 0, 0])
        line[0] += count
        totals.total += count
        totals.buckets[core.bucket_of(status)] += count
        if status == CLOSED:
            line[1] += count
        line[2] += past_due
        totals.overdue += past_due
    names = await unit_names(session, per_unit)
    lines = [
        UnitLine(unit_id, names.get(unit_id, "?"), total, closed, overdue)
        for unit_id, (total, closed, overdue) in per_unit.items()
    ]
    return totals, lines


async def live_lights(
    session: AsyncSession, *, scope: Scope, when: When, policy: LightPolicy
) -> dict[str, int]:
    """Lights of the open items not yet due. The others need no rule: overdue is red, a
    reported completion green, a closed item grey."""
    pg = await _on_postgres(session)
    if scope.whole_ledger:
        statement = sql.ledger_live_lights(pg=pg)
    else:
        statement = sql.scope_live_lights(_scope_rows(scope, pg, milestone=True), pg=pg)
    params = {**_day_params(scope, when, pg), **_light_params(when, policy, pg)}
    ((packed,),) = await _run(session, statement, params)
    packed = int(packed)  # PostgreSQL sums bigints as numeric
    return {
        Light.RED.value: packed // sql.RED % sql.PACK,
        Light.YELLOW.value: packed // sql.YELLOW % sql.PACK,
        Light.GREEN.value: packed // sql.GREEN,
    }


@dataclass(frozen=True)
class OnTimeParts:
    """按时办结率 in parts: closed items finished on time, and open items whose original due
    date is today or later (the rest of the open items are in the denominator)."""

    on_time: int
    open_not_yet_due: int

    def rate(self, total: int) -> core.Rate:
        return core.Rate(self.on_time, total - self.open_not_yet_due)


def day_end_runs(zone: ZoneInfo, first: date, last: date) -> list[tuple[date, int]]:
    """The zone's UTC offset (minutes) at the end of each local day from `first` to `last`, as
    runs of days that share it: (the run's first day, offset). The end of day D is the first
    instant of D + 1 (`_utc_midnight`), so that `finished < end` is "finished on D or before"
    exactly as `astimezone(zone).date()` says, daylight saving time or not."""
    runs: list[tuple[date, int]] = []
    day = first
    while day <= last:
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        offset = int((end.utcoffset() or timedelta(0)).total_seconds() // 60)
        if not runs or runs[-1][1] != offset:
            runs.append((day, offset))
        day += timedelta(days=1)
    return runs


async def _day_end_params(
    session: AsyncSession, when: When, pg: bool
) -> tuple[tuple[int, ...], dict[str, Any]]:
    """The offsets of `stats_sql.finished_on_time` and the values of its placeholders, over
    the original due dates of the ledger."""
    ((first, last),) = await _run(session, sql.ORIGINAL_DUE_RANGE, ())
    if first is None or last is None:
        first = last = when.today
    elif isinstance(first, str):
        first, last = date.fromisoformat(first), date.fromisoformat(last)
    runs = day_end_runs(when.zone, first, last)
    offsets = tuple(offset for _, offset in runs)
    params: dict[str, Any] = {}
    for i, (start, _) in enumerate(runs):
        params[f"day_start_{i}"] = _day(start, pg)
        params[f"day_end_{i}"] = sql.day_end(offsets, i, pg=pg)
    return offsets, params


async def on_time_parts(session: AsyncSession, *, scope: Scope, when: When) -> OnTimeParts:
    """The closed items against their milestone's original due date, and the open items of
    milestones not yet originally due."""
    pg = await _on_postgres(session)
    offsets, ends = await _day_end_params(session, when, pg)
    if scope.whole_ledger:
        statement = sql.ledger_on_time(offsets, pg=pg)
    else:
        statement = sql.scope_on_time(_scope_rows(scope, pg, milestone=True), offsets, pg=pg)
    params = {**_day_params(scope, when, pg), **ends}
    ((on_time, not_yet_due),) = await _run(session, statement, params)
    return OnTimeParts(int(on_time), int(not_yet_due))


def _overdue_order(stmt: RowSelect) -> RowSelect:
    return stmt.order_by(A.c.due, A.c.id)


async def overdue_items(
    session: AsyncSession, *, scope: Scope, when: When, offset: int = 0, limit: int = 10
) -> list[OverdueItem]:
    """Open assignments past their due date, most overdue first."""
    joined = _base_from(scope, milestone=True)
    if not scope.needs_task:
        joined = joined.join(T, T.c.id == M.c.task_id)
    stmt = (
        select_rows(
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


@dataclass(frozen=True)
class OverdueGroup:
    """One item with its late units (/overdue): the units most late first."""

    task_id: int
    ref: str
    title: str
    days_late: int  # the latest unit's
    units: list[OverdueItem]


def _overdue_tasks(scope: Scope, when: When) -> RowSelect:
    joined = _base_from(scope, milestone=True)
    if not scope.needs_task:
        joined = joined.join(T, T.c.id == M.c.task_id)
    return (
        select_rows(T.c.id, func.min(A.c.due).label("first_due"), T.c.ref)
        .select_from(joined)
        .where(*_scope_filters(scope), overdue_sql(when, by_due_index=True))
        .group_by(T.c.id, T.c.ref)
    )


async def count_overdue_tasks(session: AsyncSession, *, scope: Scope, when: When) -> int:
    """How many items have at least one late unit."""
    sub = _overdue_tasks(scope, when).subquery()
    return int((await session.exec(select_rows(func.count()).select_from(sub))).scalar_one())


async def overdue_groups(
    session: AsyncSession, *, scope: Scope, when: When, offset: int = 0, limit: int = 10
) -> list[OverdueGroup]:
    """Items with late units, the item whose unit is the most late first; each with its late
    units (most late first). Pages count items, not assignments."""
    sub = _overdue_tasks(scope, when).subquery()
    page = (
        await session.exec(
            select_rows(sub.c.id)
            .order_by(sub.c.first_due, sub.c.ref, sub.c.id)
            .offset(offset)
            .limit(limit)
        )
    ).all()
    task_ids = [int(row[0]) for row in page]
    if not task_ids:
        return []
    joined = _base_from(scope, milestone=True)
    if not scope.needs_task:
        joined = joined.join(T, T.c.id == M.c.task_id)
    stmt = (
        select_rows(A.c.id, T.c.id, T.c.ref, T.c.title, A.c.unit_id, A.c.due, A.c.status)
        .select_from(joined)
        .where(
            *_scope_filters(scope),
            overdue_sql(when, by_due_index=True),
            T.c.id.in_(task_ids),
        )
        .order_by(A.c.due, A.c.id)
    )
    rows = (await session.exec(stmt)).all()
    names = await unit_names(session, [row[4] for row in rows])
    groups: dict[int, OverdueGroup] = {}
    for assignment_id, task_id, ref, title, unit_id, due, status in rows:
        item = OverdueItem(
            assignment_id=assignment_id,
            ref=ref,
            title=title,
            unit_name=names.get(unit_id, "?"),
            due=due,
            days_late=core.days_late(status, due, when.today),
            status=status,
        )
        group = groups.get(task_id)
        if group is None:
            group = groups[task_id] = OverdueGroup(task_id, ref, title, item.days_late, [])
        if all(u.unit_name != item.unit_name for u in group.units):  # a unit once per item
            group.units.append(item)
    return [groups[t] for t in task_ids if t in groups]


async def count_overdue(session: AsyncSession, *, scope: Scope, when: When) -> int:
    stmt = _scoped(select_rows(func.count()), scope, index="ix_assignment_due").where(
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
    """Everything `/status` shows: the four aggregate questions and one top-N walk of the
    due-date index, on one session (one page cache; running them side by side on several
    connections measured slower)."""
    when = When(at, zone)
    totals, lines = await unit_totals(session, scope=scope, when=when)
    totals.acknowledgement = await acknowledgement(
        session,
        scope=scope,
        when=when,
        window=ack_window,
        is_working_day=is_working_day,
        total=totals.total,
    )
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
        select_rows(
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
        select_rows(
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
    label: str = ""  # how lists name it: the short name, or the full one when it is shared


async def unit_overview(
    session: AsyncSession, *, when: When, plan_ids: frozenset[int] | None = None
) -> list[UnitOverview]:
    """Units that have assignments (in the plans given), with liaison and open counts
    (`/units`). Units without a liaison come first: they are the ones to fix."""
    scope = Scope(plan_ids=plan_ids)
    work = (
        _scoped(
            select_rows(
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
        select_rows(
            MS.c.unit_id.label("unit_id"), func.count(func.distinct(MS.c.person_id)).label("n")
        )
        .select_from(MS.join(PE, PE.c.id == MS.c.person_id))
        .where(MS.c.role == "liaison", MS.c.revoked_at.is_(None), MS.c.unit_id.is_not(None))
        .group_by(MS.c.unit_id)
        .subquery()
    )
    stmt = select_rows(
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
    labels = await unit_names(session, [u.unit_id for u in rows])
    rows = [replace(u, label=labels.get(u.unit_id, u.name)) for u in rows]
    rows.sort(key=lambda u: (u.liaisons > 0, -u.overdue, u.name))
    return rows


__all__ = [
    "DEFAULT_ACK_WINDOW",
    "OverdueGroup",
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
    "count_overdue_tasks",
    "day_end_runs",
    "live_lights",
    "on_time_parts",
    "overdue_groups",
    "overdue_items",
    "plan_lines",
    "status_report",
    "unit_names",
    "unit_overview",
    "unit_totals",
]
