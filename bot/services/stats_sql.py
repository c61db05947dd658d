"""SQL text of the /status aggregates, run by `bot.services.stats`.

Over the whole ledger each question is one statement shaped for its index; over a plan, a unit
or the plans a coordinator may see, the same question over that scope's rows (`scope_rows`).
The statements are prebuilt text run with `exec_driver_sql`: building the equivalent SQLAlchemy
expression trees and their cache keys took more CPU than SQLite took to run the queries. Values
come as named parameters (`:today`; `bot.services.stats` fills them in).

What the text relies on (SQLite is the project's database):
- Dates and UTC instants are stored as ISO text, so they compare as text.
- DATE and DATETIME columns have NUMERIC affinity: compared with a text value, SQLite tries to
  turn both sides into numbers, on every row. A unary `+` drops the affinity (`+a.due < :today`):
  the same result, a plain text comparison. Never in a term an index should serve (`a.due >=
  :today` in a WHERE): `+` hides the column from the planner.
- Each statement is shaped for an index of `Assignment` (bot/storage/models.py): equality on the
  leading columns (status, archived_at) makes seeks of what would be tests of every row.
- Local days of UTC instants use the zone's offset at the instant asked about: exact for
  Asia/Shanghai (no daylight saving time).

The definitions are `bot.core.lights` and `bot.core.stats`; tests/coordinator/test_stats_service.py
compares the results with them on random ledgers, for every scope.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def lag(window_start: str) -> str:
    """bot.core.lights.lag_points of a row of `a` due today or later: the elapsed share of the
    window in percent minus the reported progress (NULL without a percentage). Day counts are
    differences of julianday() of whole days, so the share is the same float as in Python."""
    return (
        f"(CASE WHEN +a.due <= {window_start}"
        " THEN (CASE WHEN :today >= +a.due THEN 100.0 ELSE 0.0 END)"
        f" ELSE max(0.0, min(100.0, (:today_jd - julianday({window_start}))"
        f" / (julianday(a.due) - julianday({window_start})) * 100.0)) END - a.progress)"
    )


def light(lag: str) -> str:
    """bot.core.lights.light_of of a live row of `a` (open, due today or later) as RED, YELLOW
    or GREEN, with `lag` its lag (the text "NULL" for rows without a percentage)."""
    return (
        f"CASE WHEN {lag} > :red_lag THEN {RED}"
        f" WHEN a.status = '{BLOCKED}' OR a.acknowledged_at IS NULL THEN {YELLOW}"
        f" WHEN {lag} >= :yellow_lag THEN {YELLOW}"
        " WHEN +a.due <= :soon AND (a.last_report_at IS NULL OR +a.last_report_at < :stale_since)"
        f" THEN {YELLOW} ELSE {GREEN} END"
    )


def finished_on_time(offset_minutes: int) -> str:
    """1 when the row of `a` was finished (reported done, else closed) by the end of the local
    day of its milestone's original due date (`m`), 0 when later, NULL when never.

    With a positive offset of at most a day (Asia/Shanghai) that end is the due date at 24:00
    minus the offset in UTC, `:day_end` the time to append; otherwise datetime() adds
    `:day_end` ("+1 day", then the offset) to the date."""
    finished = "coalesce(a.done_reported_at, a.closed_at)"
    if 0 < offset_minutes <= 24 * 60:
        return f"{finished} < m.original_due || :day_end"
    return f"{finished} < datetime(m.original_due, '+1 day', :day_end)"


def day_end(offset_minutes: int) -> str:
    """The value of `:day_end` in `finished_on_time`."""
    if 0 < offset_minutes <= 24 * 60:
        minutes = 24 * 60 - offset_minutes
        return f" {minutes // 60:02d}:{minutes % 60:02d}:00.000000"
    return f"{-offset_minutes:+d} minutes"


def ack_deadline_tree(runs: int) -> str:
    """The end of the acknowledgement deadline of a row of `a` as a balanced tree of CASEs over
    `runs` runs of assignment days (`:ack_start_<i>`: the run's first instant, `:ack_end_<i>`:
    the end of its deadline day); see `bot.services.stats.acknowledgement`."""

    def tree(lo: int, hi: int) -> str:
        if lo == hi:
            return f":ack_end_{lo}"
        mid = (lo + hi + 1) // 2
        return (
            f"(CASE WHEN +a.assigned_at < :ack_start_{mid} THEN {tree(lo, mid - 1)}"
            f" ELSE {tree(mid, hi)} END)"
        )

    return tree(0, runs - 1)


def ack_in_time(runs: int) -> str:
    """1 when the row of `a` was acknowledged by its deadline, else 0."""
    return f"coalesce(+a.acknowledged_at < {ack_deadline_tree(runs)}, 0)"


def ack_counted(runs: int, *, all_windows_over: bool) -> str:
    """1 when the row of `a` counts in the denominator of 及时签收率: its window is over (it was
    assigned before `:ack_threshold`) or it was acknowledged in time."""
    if all_windows_over:
        return "1"
    return f"(CASE WHEN +a.assigned_at < :ack_threshold THEN 1 ELSE {ack_in_time(runs)} END)"


def unit_names(unit_ids: Iterable[int]) -> str:
    """Id, name, short name of the units `unit_ids`, and how many units share that short name
    (in the whole directory, hence the window over every unit before the filter)."""
    ids = ", ".join(str(int(i)) for i in sorted(unit_ids))
    return (
        "SELECT id, name, short_name, sharing FROM (SELECT id, name, short_name,"
        f" count(*) OVER (PARTITION BY short_name) AS sharing FROM unit) WHERE id IN ({ids})"
    )


# --- the whole ledger: one statement per question, each over its index ------------------------

# Assignments and past-due open ones per unit and status (every unit, every status of the
# vocabulary): a range count of ix_assignment_ledger per pair, so that no row is compared with
# anything but the end of its range (a GROUP BY compares every row with the previous one).
_STATUS_ROWS = ", ".join(f"('{s}', {int(s in OPEN_STATUSES)})" for s in STATUSES)
LEDGER_UNIT_STATUS_COUNTS = (
    f"WITH s(status, open) AS (VALUES {_STATUS_ROWS}) "
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
def ledger_ack_run_counts(runs: int) -> str:
    """Acknowledged in time, per run of assignment days sharing a deadline: one range count of
    ix_assignment_ack per run, each row compared once, in one row of `runs` columns. Three
    qmark parameters per run: its first instant, the next run's, the end of its deadline day
    (plain parameters: cheaper to compare each row with than columns of a VALUES table)."""
    count = (
        "(SELECT count(*) FROM assignment a WHERE a.archived_at IS NULL"
        " AND a.assigned_at >= ? AND a.assigned_at < ? AND +a.acknowledged_at < ?)"
    )
    return "SELECT " + ", ".join([count] * runs)


# The packed lights of the live items (open, due today or later), from ix_assignment_live; the
# milestone (its window start) is looked up only for the items with a percentage.
LEDGER_LIVE_LIGHTS = (
    f"SELECT coalesce(sum(CASE WHEN a.progress IS NULL THEN {light('NULL')}"
    f" ELSE (SELECT {light(lag(WINDOW_START))} FROM milestone m WHERE m.id = a.milestone_id)"
    " END), 0) FROM assignment a"
    f" WHERE a.status IN {OPEN} AND a.archived_at IS NULL AND a.due >= :today"
)


@lru_cache(maxsize=4)
def ledger_on_time(offset_minutes: int) -> str:
    """按时办结率 in two counts: the closed items finished on time (ix_assignment_closed),
    and the open items of milestones not yet originally due (ix_milestone_original_due, then
    ix_assignment_ontime)."""
    return (
        f"SELECT (SELECT coalesce(sum({finished_on_time(offset_minutes)}), 0)"
        " FROM assignment a JOIN milestone m ON m.id = a.milestone_id"
        f" WHERE a.status = '{CLOSED}' AND a.archived_at IS NULL),"
        " (SELECT count(*) FROM milestone m JOIN assignment a ON a.milestone_id = m.id"
        f" WHERE m.original_due >= :today AND a.archived_at IS NULL AND a.status <> '{CLOSED}')"
    )


# --- a plan, a unit, the plans a coordinator may see: the same questions over its rows --------


def scope_rows(
    plan_ids: Iterable[int] | None, *, plan: bool, unit: bool, milestone: bool = False
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
        rows += f" AND t.plan_id IN ({', '.join(str(int(i)) for i in sorted(plan_ids))})"
    if plan:
        rows += " AND t.plan_id = :plan_id"
    if unit:
        rows += " AND a.unit_id = :unit_id"
    return rows


def scope_unit_status_counts(rows: str) -> str:
    """Assignments and past-due open ones per unit and status of `rows`."""
    return (
        "SELECT a.unit_id, a.status, count(*),"
        f" sum(a.status IN {OPEN} AND +a.due < :today) "
        f"FROM {rows} GROUP BY a.unit_id, a.status"
    )


def scope_ack(rows: str, *, runs: int, all_windows_over: bool) -> str:
    """及时签收率's numerator and denominator over `rows`, with the deadline tree (range counts
    over everyone's rows would not pay for a plan or a unit)."""
    return (
        f"SELECT coalesce(sum({ack_in_time(runs)}), 0),"
        f" coalesce(sum({ack_counted(runs, all_windows_over=all_windows_over)}), 0) "
        f"FROM {rows}"
    )


def scope_live_lights(rows: str) -> str:
    """The packed lights of the live items of `rows` (`rows` with their milestone). `+` on
    the status too: the scope's rows are the ones to walk, not every open item."""
    return (
        f"SELECT coalesce(sum({light(lag(WINDOW_START))}), 0) FROM {rows}"
        f" AND +a.status IN {OPEN} AND +a.due >= :today"
    )


def scope_on_time(rows: str, offset_minutes: int) -> str:
    """按时办结率's two counts over `rows` (`rows` with their milestone): see `ledger_on_time`."""
    return (
        f"SELECT coalesce(sum(CASE WHEN a.status = '{CLOSED}'"
        f" THEN {finished_on_time(offset_minutes)} END), 0),"
        f" coalesce(sum(a.status <> '{CLOSED}' AND +m.original_due >= :today), 0) "
        f"FROM {rows}"
    )
