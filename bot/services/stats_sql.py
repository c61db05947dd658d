"""SQL text of the /status aggregates, run by `bot.services.stats`.

Over the whole ledger each question is one statement shaped for its index; over a plan, a unit
or the plans a coordinator may see, the same question over that scope's rows (`scope_rows`).
The statements are prebuilt text run with `exec_driver_sql`: building the equivalent SQLAlchemy
expression trees and their cache keys took more CPU than SQLite took to run the queries. Values
come as named parameters (`:today`; `bot.services.stats` fills them in).

Each statement comes in two dialects (`pg`: PostgreSQL; else SQLite), the same question in
both. On PostgreSQL dates and instants are real `date` and `timestamptz` values (bound as
Python dates and aware datetimes), booleans are not numbers (`count(*) FILTER`), and day counts
are differences of dates. What the SQLite text relies on:
- Dates and UTC instants are stored as ISO text, so they compare as text.
- DATE and DATETIME columns have NUMERIC affinity: compared with a text value, SQLite tries to
  turn both sides into numbers, on every row. A unary `+` drops the affinity (`+a.due < :today`):
  the same result, a plain text comparison. Never in a term an index should serve (`a.due >=
  :today` in a WHERE): `+` hides the column from the planner.
- Each statement is shaped for an index of `Assignment` (bot/storage/models.py): equality on the
  leading columns (status, archived_at) makes seeks of what would be tests of every row.
- The end of a local day as a UTC instant comes from `bot.services.stats`, computed with the
  zone's rules for every run of days that share an offset (daylight saving time): exact for
  any TIMEZONE; one run, the usual case, is one constant.

The definitions are `bot.core.lights` and `bot.core.stats`; tests/coordinator/test_stats_service.py
compares the results with them on random ledgers, for every scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache

from bot.core.status import BLOCKED, CLOSED, OPEN_STATUSES, STATUSES

OPEN = "(" + ", ".join(f"'{status}'" for status in OPEN_STATUSES) + ")"

# The lights of live items are summed as one number: counts below two million per light fit
# side by side in SQLite's 64-bit integers (grey never happens there: the items are open).
PACK = 1 << 21
RED, YELLOW, GREEN = 1, PACK, PACK * PACK

# The start of a milestone's window (bot.core.lights): as the loader stores it, else the latest
# due date of the active milestones before it in its item, else the plan's first day. COALESCE
# stops at its first non-NULL argument: the subqueries run only when nothing is stored.
WINDOW_START = (
    "coalesce(m.window_start,"
    " (SELECT max(p.due) FROM milestone p"
    " WHERE p.task_id = m.task_id AND p.seq < m.seq AND p.archived_at IS NULL),"
    ' (SELECT pl.period_start FROM task pt JOIN "plan" pl ON pl.id = pt.plan_id'
    " WHERE pt.id = m.task_id))"
)


# --- per-row expressions ----------------------------------------------------------------------


def _plus(pg: bool) -> str:
    """SQLite's affinity-dropping unary `+` (see above); PostgreSQL has none for dates."""
    return "" if pg else "+"


def count_when(condition: str, *, pg: bool) -> str:
    """How many rows of the group meet `condition` (NULL over no rows on SQLite)."""
    return f"count(*) FILTER (WHERE {condition})" if pg else f"sum({condition})"


def lag(window_start: str, *, pg: bool = False) -> str:
    """bot.core.lights.lag_points of a row of `a` due today or later: the elapsed share of the
    window in percent minus the reported progress (NULL without a percentage). Day counts are
    differences of julianday() of whole days (PostgreSQL: of dates), so the share is the same
    float as in Python."""
    if pg:
        return (
            f"(CASE WHEN a.due <= {window_start}"
            " THEN (CASE WHEN CAST(:today AS date) >= a.due THEN 100.0 ELSE 0.0 END)"
            " ELSE greatest(0.0, least(100.0,"
            f" CAST(CAST(:today AS date) - {window_start} AS double precision)"
            f" / (a.due - {window_start}) * 100.0)) END - a.progress)"
        )
    return (
        f"(CASE WHEN +a.due <= {window_start}"
        " THEN (CASE WHEN :today >= +a.due THEN 100.0 ELSE 0.0 END)"
        f" ELSE max(0.0, min(100.0, (:today_jd - julianday({window_start}))"
        f" / (julianday(a.due) - julianday({window_start})) * 100.0)) END - a.progress)"
    )


def light(lag: str, *, pg: bool = False) -> str:
    """bot.core.lights.light_of of a live row of `a` (open, due today or later) as RED, YELLOW
    or GREEN, with `lag` its lag (the text "NULL" for rows without a percentage)."""
    plus = _plus(pg)
    red_lag, yellow_lag = (
        ("CAST(:red_lag AS double precision)", "CAST(:yellow_lag AS double precision)")
        if pg
        else (":red_lag", ":yellow_lag")
    )
    return (
        f"CASE WHEN {lag} > {red_lag} THEN {RED}"
        f" WHEN a.status = '{BLOCKED}' OR a.acknowledged_at IS NULL THEN {YELLOW}"
        f" WHEN {lag} >= {yellow_lag} THEN {YELLOW}"
        f" WHEN {plus}a.due <= :soon"
        f" AND (a.last_report_at IS NULL OR {plus}a.last_report_at < :stale_since)"
        f" THEN {YELLOW} ELSE {GREEN} END"
    )


def day_end_tree(runs: int, *, pg: bool = False) -> str:
    """The offset of the zone at the end of the local day `m.original_due`, over `runs` runs of
    due dates sharing it (`:day_start_<i>`: the run's first date, `:day_end_<i>`: its value,
    see `day_end`), as a balanced tree of CASEs like `ack_deadline_tree`."""

    def tree(lo: int, hi: int) -> str:
        if lo == hi:
            return f"CAST(:day_end_{lo} AS interval)" if pg else f":day_end_{lo}"
        mid = (lo + hi + 1) // 2
        return (
            f"(CASE WHEN m.original_due < :day_start_{mid} THEN {tree(lo, mid - 1)}"
            f" ELSE {tree(mid, hi)} END)"
        )

    return tree(0, runs - 1)


def finished_on_time(offsets: tuple[int, ...], *, pg: bool = False) -> str:
    """1 when the row of `a` was finished (reported done, else closed) by the end of the local
    day of its milestone's original due date (`m`), 0 when later, NULL (PostgreSQL: 0) when
    never. `offsets`: the zone's UTC offsets in minutes at those day ends, one per run of due
    dates (`day_end_tree`); `day_end` gives the values of `:day_end_<i>`.

    SQLite, one positive offset of at most a day (Asia/Shanghai): that end is the due date at
    24:00 minus the offset in UTC, `:day_end_0` the time to append; otherwise datetime() adds
    "+1 day", then the offset, to the date. PostgreSQL: the next day's midnight minus the
    offset, as a UTC instant."""
    finished = "coalesce(a.done_reported_at, a.closed_at)"
    shift = day_end_tree(len(offsets), pg=pg)
    if pg:
        return (
            f"CASE WHEN {finished} < (CAST(m.original_due + 1 AS timestamp) - {shift})"
            " AT TIME ZONE 'UTC' THEN 1 ELSE 0 END"
        )
    if len(offsets) == 1 and 0 < offsets[0] <= 24 * 60:
        return f"{finished} < m.original_due || :day_end_0"
    return f"{finished} < datetime(m.original_due, '+1 day', {shift})"


def day_end(offsets: tuple[int, ...], index: int, *, pg: bool = False) -> str | timedelta:
    """The value of `:day_end_<index>` in `finished_on_time` (offsets in minutes)."""
    offset = offsets[index]
    if pg:
        return timedelta(minutes=offset)
    if len(offsets) == 1 and 0 < offset <= 24 * 60:
        minutes = 24 * 60 - offset
        return f" {minutes // 60:02d}:{minutes % 60:02d}:00.000000"
    return f"{-offset:+d} minutes"


def ack_deadline_tree(runs: int, *, pg: bool = False) -> str:
    """The end of the acknowledgement deadline of a row of `a` as a balanced tree of CASEs over
    `runs` runs of assignment days (`:ack_start_<i>`: the run's first instant, `:ack_end_<i>`:
    the end of its deadline day); see `bot.services.stats.acknowledgement`."""

    def tree(lo: int, hi: int) -> str:
        if lo == hi:
            # PostgreSQL types a parameter by its context, and a CASE's branches have none
            return f"CAST(:ack_end_{lo} AS timestamptz)" if pg else f":ack_end_{lo}"
        mid = (lo + hi + 1) // 2
        return (
            f"(CASE WHEN {_plus(pg)}a.assigned_at < :ack_start_{mid} THEN {tree(lo, mid - 1)}"
            f" ELSE {tree(mid, hi)} END)"
        )

    return tree(0, runs - 1)


def ack_in_time(runs: int, *, pg: bool = False) -> str:
    """1 when the row of `a` was acknowledged by its deadline, else 0."""
    if pg:
        return (
            f"(CASE WHEN a.acknowledged_at < {ack_deadline_tree(runs, pg=pg)} THEN 1 ELSE 0 END)"
        )
    return f"coalesce(+a.acknowledged_at < {ack_deadline_tree(runs)}, 0)"


def ack_counted(runs: int, *, all_windows_over: bool, pg: bool = False) -> str:
    """1 when the row of `a` counts in the denominator of 及时签收率: its window is over (it was
    assigned before `:ack_threshold`) or it was acknowledged in time."""
    if all_windows_over:
        return "1"
    return (
        f"(CASE WHEN {_plus(pg)}a.assigned_at < :ack_threshold THEN 1"
        f" ELSE {ack_in_time(runs, pg=pg)} END)"
    )


# --- the whole ledger: one statement per question, each over its index ------------------------


# Assignments and past-due open ones per unit and status (every unit, every status of the
# vocabulary): a range count of ix_assignment_ledger per pair, so that no row is compared with
# anything but the end of its range (a GROUP BY compares every row with the previous one).
@lru_cache(maxsize=2)
def ledger_unit_status_counts(*, pg: bool = False) -> str:
    """See above; `open` is 1/0 on SQLite, a boolean on PostgreSQL."""
    yes, no = ("TRUE", "FALSE") if pg else ("1", "0")
    status_rows = ", ".join(f"('{s}', {yes if s in OPEN_STATUSES else no})" for s in STATUSES)
    return (
        f"WITH s(status, open) AS (VALUES {status_rows}) "
        "SELECT u.id, s.status,"
        " (SELECT count(*) FROM assignment a"
        " WHERE a.unit_id = u.id AND a.status = s.status AND a.archived_at IS NULL),"
        " CASE WHEN s.open THEN (SELECT count(*) FROM assignment a"
        " WHERE a.unit_id = u.id AND a.status = s.status AND a.archived_at IS NULL"
        " AND a.due < :today) ELSE 0 END "
        "FROM unit u, s ORDER BY u.id"
    )


# First and last assignment instant: two lookups of ix_assignment_ack.
ASSIGNED_RANGE = (
    "SELECT (SELECT min(assigned_at) FROM assignment WHERE archived_at IS NULL),"
    " (SELECT max(assigned_at) FROM assignment WHERE archived_at IS NULL)"
)

LEDGER_ASSIGNMENTS = "SELECT count(*) FROM assignment WHERE archived_at IS NULL"

ASSIGNED_BEFORE = (
    "SELECT count(*) FROM assignment WHERE archived_at IS NULL AND assigned_at < :ack_threshold"
)


@lru_cache(maxsize=8)
def ledger_ack_run_counts(runs: int, *, pg: bool = False) -> str:
    """Acknowledged in time, per run of assignment days sharing a deadline: one range count of
    ix_assignment_ack per run, each row compared once, in one row of `runs` columns. Three
    qmark parameters per run: its first instant, the next run's, the end of its deadline day
    (plain parameters: cheaper to compare each row with than columns of a VALUES table).
    PostgreSQL: the same as named parameters `:s<i>`, `:n<i>`, `:e<i>`."""
    if pg:
        return "SELECT " + ", ".join(
            "(SELECT count(*) FROM assignment a WHERE a.archived_at IS NULL"
            f" AND a.assigned_at >= :s{i} AND a.assigned_at < :n{i}"
            f" AND a.acknowledged_at < :e{i})"
            for i in range(runs)
        )
    count = (
        "(SELECT count(*) FROM assignment a WHERE a.archived_at IS NULL"
        " AND a.assigned_at >= ? AND a.assigned_at < ? AND +a.acknowledged_at < ?)"
    )
    return "SELECT " + ", ".join([count] * runs)


# The packed lights of the live items (open, due today or later), a range of ix_assignment_due;
# the milestone (its window start) is looked up only for the items with a percentage, the
# last report only for the items due within a few days.
@lru_cache(maxsize=2)
def ledger_live_lights(*, pg: bool = False) -> str:
    """See above. PostgreSQL sums the packed lights as numeric (no overflow either), and joins
    the milestones instead: one lookup per row as a subquery took twice the time of the join
    (EXPLAIN ANALYZE, 100,000 assignments), and its cost per row, counted once per use of the
    window start, passed the JIT compiler's threshold."""
    if pg:
        return (
            f"SELECT coalesce(sum(CASE WHEN a.progress IS NULL THEN {light('NULL', pg=pg)}"
            f" ELSE {light(lag(WINDOW_START, pg=pg), pg=pg)} END), 0)"
            " FROM assignment a JOIN milestone m ON m.id = a.milestone_id"
            f" WHERE a.status IN {OPEN} AND a.archived_at IS NULL AND a.due >= :today"
        )
    return (
        f"SELECT coalesce(sum(CASE WHEN a.progress IS NULL THEN {light('NULL', pg=pg)}"
        f" ELSE (SELECT {light(lag(WINDOW_START, pg=pg), pg=pg)} FROM milestone m"
        " WHERE m.id = a.milestone_id) END), 0) FROM assignment a"
        f" WHERE a.status IN {OPEN} AND a.archived_at IS NULL AND a.due >= :today"
    )


# The first and the last original due date (ix_milestone_original_due): the days whose ends
# `finished_on_time` needs.
ORIGINAL_DUE_RANGE = "SELECT min(original_due), max(original_due) FROM milestone"


@lru_cache(maxsize=16)
def ledger_on_time(offsets: tuple[int, ...], *, pg: bool = False) -> str:
    """按时办结率 in two counts: the closed items finished on time, and the open items of
    milestones not yet originally due. The closed rows (ix_assignment_closed, which holds only
    them) are read once with their milestone: on time, and how many are of milestones not yet
    due; the second count is every item of those milestones (ix_milestone_original_due, then
    ix_assignment_ontime) less these."""
    plus = _plus(pg)
    closed = (
        f"(SELECT coalesce(sum({finished_on_time(offsets, pg=pg)}), 0) AS on_time,"
        f" {count_when(f'{plus}m.original_due >= :today', pg=pg)} AS not_yet_due"
        " FROM assignment a JOIN milestone m ON m.id = a.milestone_id"
        f" WHERE a.status = '{CLOSED}' AND a.archived_at IS NULL) AS c"
    )
    if pg:
        # one count of ix_assignment_ontime per milestone not yet due: PostgreSQL would hash
        # every assignment instead (a fifth slower at 100,000)
        items = (
            "(SELECT coalesce(sum(n.items), 0) AS items FROM milestone m CROSS JOIN LATERAL"
            " (SELECT count(*) AS items FROM assignment a WHERE a.milestone_id = m.id"
            " AND a.archived_at IS NULL) AS n WHERE m.original_due >= :today) AS n"
        )
        return (
            "SELECT c.on_time, CAST(n.items - coalesce(c.not_yet_due, 0) AS bigint)"
            f" FROM {closed}, {items}"
        )
    # CROSS JOIN: SQLite's planner (no statistics) would otherwise walk every row of the
    # partial ix_assignment_ontime instead of the milestones not yet due
    items = (
        "(SELECT count(*) AS items FROM milestone m CROSS JOIN assignment a"
        " ON a.milestone_id = m.id"
        " WHERE m.original_due >= :today AND a.archived_at IS NULL) AS n"
    )
    return f"SELECT c.on_time, n.items - coalesce(c.not_yet_due, 0) FROM {closed}, {items}"


# --- a plan, a unit, the plans a coordinator may see: the same questions over its rows --------


def scope_rows(
    plan_ids: Iterable[int] | None,
    *,
    plan: bool,
    unit: bool,
    milestone: bool = False,
    pg: bool = False,
) -> str:
    """FROM and WHERE of the assignments `a` of a scope: those of the plans `plan_ids` (None:
    any), of the plan `:plan_id` when `plan`, of the unit `:unit_id` when `unit`; with their
    milestone `m` when `milestone` (always joined when a plan is asked for)."""
    rows = "assignment a"
    if plan_ids is not None or plan:
        rows = (
            "task t JOIN milestone m ON m.task_id = t.id"
            " JOIN assignment a ON a.milestone_id = m.id"
        )
    elif milestone:
        rows += " JOIN milestone m ON m.id = a.milestone_id"
    rows += " WHERE a.archived_at IS NULL"
    if plan_ids is not None:
        ids = ", ".join(str(int(i)) for i in sorted(plan_ids))
        rows += f" AND t.plan_id IN ({ids})" if ids or not pg else " AND FALSE"
    if plan:
        rows += " AND t.plan_id = :plan_id"
    if unit:
        rows += " AND a.unit_id = :unit_id"
    return rows


def scope_unit_status_counts(rows: str, *, pg: bool = False) -> str:
    """Assignments and past-due open ones per unit and status of `rows`."""
    past_due = count_when(f"a.status IN {OPEN} AND {_plus(pg)}a.due < :today", pg=pg)
    return (
        f"SELECT a.unit_id, a.status, count(*), {past_due}"
        f" FROM {rows} GROUP BY a.unit_id, a.status"
    )


def scope_ack(rows: str, *, runs: int, all_windows_over: bool, pg: bool = False) -> str:
    """及时签收率's numerator and denominator over `rows`, with the deadline tree (range counts
    over everyone's rows would not pay for a plan or a unit)."""
    return (
        f"SELECT coalesce(sum({ack_in_time(runs, pg=pg)}), 0),"
        f" coalesce(sum({ack_counted(runs, all_windows_over=all_windows_over, pg=pg)}), 0) "
        f"FROM {rows}"
    )


def scope_live_lights(rows: str, *, pg: bool = False) -> str:
    """The packed lights of the live items of `rows` (`rows` with their milestone). `+` on
    the status too: the scope's rows are the ones to walk, not every open item."""
    plus = _plus(pg)
    return (
        f"SELECT coalesce(sum({light(lag(WINDOW_START, pg=pg), pg=pg)}), 0) FROM {rows}"
        f" AND {plus}a.status IN {OPEN} AND {plus}a.due >= :today"
    )


def scope_on_time(rows: str, offsets: tuple[int, ...], *, pg: bool = False) -> str:
    """按时办结率's two counts over `rows` (`rows` with their milestone): see `ledger_on_time`."""
    not_yet_due = count_when(
        f"a.status <> '{CLOSED}' AND {_plus(pg)}m.original_due >= :today", pg=pg
    )
    return (
        f"SELECT coalesce(sum(CASE WHEN a.status = '{CLOSED}'"
        f" THEN {finished_on_time(offsets, pg=pg)} END), 0),"
        f" coalesce({not_yet_due}, 0) "
        f"FROM {rows}"
    )


def scope_unit_scores(
    rows: str, offsets: tuple[int, ...], *, runs: int, all_windows_over: bool, pg: bool = False
) -> str:
    """Per unit of `rows` (`rows` with their milestone), what the ranking of units needs
    (bot.core.ranking): assignments, closed, past-due open ones, 按时办结率's on-time count and
    open items not yet originally due (`scope_on_time`), 及时签收率's two counts (`scope_ack`).
    Over a scope of several plans a unit is one row: ranked once across them."""
    plus = _plus(pg)
    closed = count_when(f"a.status = '{CLOSED}'", pg=pg)
    past_due = count_when(f"a.status IN {OPEN} AND {plus}a.due < :today", pg=pg)
    not_yet_due = count_when(f"a.status <> '{CLOSED}' AND {plus}m.original_due >= :today", pg=pg)
    if not pg and rows.startswith("assignment a "):
        # every row, in unit order: the unit index reads the table in rowid order within a
        # unit; the partial ix_assignment_ledger, which SQLite would pick, jumps about (1.6x)
        rows = rows.replace("assignment a", "assignment a INDEXED BY ix_assignment_unit_id", 1)
    return (
        f"SELECT a.unit_id, count(*), {closed}, {past_due},"
        f" coalesce(sum(CASE WHEN a.status = '{CLOSED}'"
        f" THEN {finished_on_time(offsets, pg=pg)} END), 0),"
        f" {not_yet_due},"
        f" coalesce(sum({ack_in_time(runs, pg=pg)}), 0),"
        f" coalesce(sum({ack_counted(runs, all_windows_over=all_windows_over, pg=pg)}), 0) "
        f"FROM {rows} GROUP BY a.unit_id"
    )
