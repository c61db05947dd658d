"""Ledger statistics, pure: what counts as done, on time, acknowledged in time, and how a
通报 ranks the units. No SQL, no clock: callers pass `today` (a local date).

The storage side (`bot.services.stats`) computes the same quantities with aggregate queries;
the classifiers here are the definitions, and a test checks that both agree.

Definitions
- completion rate (办结率): closed / all assignments in scope.
- on-time completion rate (按时办结率): closed on or before the ORIGINAL due date / assignments
  that are due by now (original due date before today) or already closed. Approved extensions
  move `due`, never `original_due`, so an extension does not make a late item "on time".
  The finishing day is the day the unit reported 已完成 (the coordinator's 办结 may come later);
  without such a report, the day of 办结.
- acknowledgement rate (及时签收率): acknowledged within `window` working days of assignment /
  assignments whose window is over or that were acknowledged in time. The day of assignment is
  day 0; the deadline is the `window`-th working day after it (inclusive). Items still inside
  their window and not yet acknowledged are not counted either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.status import BLOCKED, CLOSED, DONE_REPORTED, IN_PROGRESS, OPEN_STATUSES

WorkingDay = Callable[[date], bool]

# Buckets of the status summary (exclusive; overdue is counted separately, across buckets).
BUCKET_CLOSED = "closed"
BUCKET_AWAITING = "awaiting"  # reported 已完成, waiting for 办结
BUCKET_IN_PROGRESS = "in_progress"  # 进行中 or 有困难
BUCKET_NOT_STARTED = "not_started"
BUCKETS = (BUCKET_CLOSED, BUCKET_AWAITING, BUCKET_IN_PROGRESS, BUCKET_NOT_STARTED)


def weekdays(day: date) -> bool:
    """Monday to Friday: the fallback calendar when the official one has no data."""
    return day.weekday() < 5


@dataclass(frozen=True)
class Rate:
    """A ratio that keeps its parts, so that "0 of 0" is not shown as 0 %."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def percent(self) -> float | None:
        value = self.value
        return None if value is None else 100.0 * value

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.numerator + other.numerator, self.denominator + other.denominator)


# --- per-assignment classifiers (the definitions) -------------------------------------------


def bucket_of(status: str) -> str:
    if status == CLOSED:
        return BUCKET_CLOSED
    if status == DONE_REPORTED:
        return BUCKET_AWAITING
    if status in (IN_PROGRESS, BLOCKED):
        return BUCKET_IN_PROGRESS
    return BUCKET_NOT_STARTED


def is_overdue(status: str, due: date, today: date) -> bool:
    """Open (not reported done, not closed) and past its effective due date."""
    return status in OPEN_STATUSES and due < today


def finished_on(done_reported_on: date | None, closed_on: date | None) -> date | None:
    """The day an item counts as finished for on-time statistics: the 已完成 report, else 办结."""
    return done_reported_on or closed_on


def is_on_time(
    status: str, original_due: date, done_reported_on: date | None, closed_on: date | None
) -> bool:
    finished = finished_on(done_reported_on, closed_on)
    return status == CLOSED and finished is not None and finished <= original_due


def counts_for_on_time(status: str, original_due: date, today: date) -> bool:
    """In the denominator of 按时办结率: closed, or its original due date has passed."""
    return status == CLOSED or original_due < today


def days_late(
    status: str,
    due: date,
    today: date,
    done_reported_on: date | None = None,
    closed_on: date | None = None,
) -> int:
    """Days past the effective due date: until today while open, else until it was finished."""
    end = today
    if status in (CLOSED, DONE_REPORTED):
        end = finished_on(done_reported_on, closed_on) or today
    return max(0, (end - due).days)


def add_working_days(start: date, n: int, is_working_day: WorkingDay = weekdays) -> date:
    """The `n`-th working day after `start` (`start` itself when n == 0)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    left = n
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def ack_deadline(assigned_on: date, window: int, is_working_day: WorkingDay = weekdays) -> date:
    return add_working_days(assigned_on, window, is_working_day)


def ack_outcome(
    assigned_on: date,
    acked_on: date | None,
    today: date,
    window: int,
    is_working_day: WorkingDay = weekdays,
) -> tuple[bool, bool]:
    """(timely, counted) for one assignment; see the module docstring."""
    deadline = ack_deadline(assigned_on, window, is_working_day)
    timely = acked_on is not None and acked_on <= deadline
    counted = timely or deadline < today
    return timely, counted


# --- rates ------------------------------------------------------------------------------------


def completion_rate(closed: int, total: int) -> Rate:
    return Rate(closed, total)


@dataclass(frozen=True)
class AckGroup:
    """Assignments assigned on one local day and acknowledged on another (None: not yet)."""

    assigned_on: date
    acked_on: date | None
    count: int = 1


def acknowledgement_rate(
    groups: Iterable[AckGroup],
    *,
    today: date,
    window: int,
    is_working_day: WorkingDay = weekdays,
) -> Rate:
    timely_total = 0
    counted_total = 0
    deadlines: dict[date, date] = {}
    for group in groups:
        deadline = deadlines.get(group.assigned_on)
        if deadline is None:
            deadline = ack_deadline(group.assigned_on, window, is_working_day)
            deadlines[group.assigned_on] = deadline
        timely = group.acked_on is not None and group.acked_on <= deadline
        if timely:
            timely_total += group.count
        if timely or deadline < today:
            counted_total += group.count
    return Rate(timely_total, counted_total)


@dataclass(frozen=True)
class ItemFacts:
    """What the statistics need to know about one assignment (dates are local)."""

    status: str
    due: date
    original_due: date
    assigned_on: date
    acked_on: date | None = None
    done_reported_on: date | None = None
    closed_on: date | None = None


@dataclass(frozen=True)
class Summary:
    total: int
    buckets: dict[str, int]
    overdue: int
    completion: Rate
    on_time: Rate
    acknowledgement: Rate


def summarize(
    items: Sequence[ItemFacts],
    *,
    today: date,
    ack_window: int,
    is_working_day: WorkingDay = weekdays,
) -> Summary:
    """The reference computation over item facts (small scopes and tests)."""
    buckets = dict.fromkeys(BUCKETS, 0)
    overdue = on_time = on_time_due = 0
    for item in items:
        buckets[bucket_of(item.status)] += 1
        overdue += is_overdue(item.status, item.due, today)
        on_time += is_on_time(
            item.status, item.original_due, item.done_reported_on, item.closed_on
        )
        on_time_due += counts_for_on_time(item.status, item.original_due, today)
    ack = acknowledgement_rate(
        (AckGroup(i.assigned_on, i.acked_on) for i in items),
        today=today,
        window=ack_window,
        is_working_day=is_working_day,
    )
    return Summary(
        total=len(items),
        buckets=buckets,
        overdue=overdue,
        completion=completion_rate(buckets[BUCKET_CLOSED], len(items)),
        on_time=Rate(on_time, on_time_due),
        acknowledgement=ack,
    )
