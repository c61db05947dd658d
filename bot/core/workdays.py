"""Chinese official working days and the sending window. Pure: callers pass every instant.

Working days come from `chinese_calendar` (official holidays and 调休 make-up weekends). The
package only knows the years up to its release; for a later date we fall back to Monday–Friday
and log one warning per process, so reminders keep flowing while the package is out of date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

_warned_years: set[int] = set()
_fallback_warned = False


def _warn_fallback(day: date, error: Exception) -> None:
    global _fallback_warned
    _warned_years.add(day.year)
    if not _fallback_warned:
        _fallback_warned = True
        log.warning(
            "chinese_calendar has no data for %s (%s): treating Monday–Friday as working days "
            "for such years; upgrade the chinese_calendar package",
            day.year,
            error,
        )


@lru_cache(maxsize=8192)
def is_working_day(day: date) -> bool:
    """True on an official working day: weekdays that are not holidays, and 调休 weekends."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except (NotImplementedError, KeyError, ValueError) as exc:
        _warn_fallback(day, exc)
        return day.weekday() < 5


def calendar_fallback_years() -> frozenset[int]:
    """Years for which Monday–Friday was assumed (for diagnostics and tests)."""
    return frozenset(_warned_years)


def next_working_day(day: date, *, include_today: bool = False) -> date:
    """The first working day after `day` (or `day` itself when `include_today` and it works)."""
    current = day if include_today else day + timedelta(days=1)
    while not is_working_day(current):
        current += timedelta(days=1)
    return current


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (`start` itself does not count).

    `add_working_days(friday, 1)` is the next Monday (unless a holiday moves it); with `days=0`
    the answer is `start`.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    current = start
    for _ in range(days):
        current = next_working_day(current)
    return current


@dataclass(frozen=True)
class SendingWindow:
    """When messages may go out: `start`–`end` local time, on working days (or every day when
    `working_days_only` is False)."""

    start: time = time(9, 0)
    end: time = time(18, 0)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    working_days_only: bool = True

    def is_open_on(self, day: date) -> bool:
        return is_working_day(day) if self.working_days_only else True


def in_window(at: datetime, window: SendingWindow) -> bool:
    """True when `at` (aware) lies inside a sending window."""
    local = at.astimezone(window.zone)
    return window.is_open_on(local.date()) and window.start <= local.time() < window.end


def window_opening(day: date, window: SendingWindow) -> datetime:
    """The aware instant (UTC) at which the window opens on local `day` (open or not)."""
    return datetime.combine(day, window.start, tzinfo=window.zone).astimezone(UTC)


def next_window_start(at: datetime, window: SendingWindow) -> datetime:
    """The earliest instant >= `at` inside a sending window: `at` itself when the window is
    open, else the opening of the next window (aware, UTC)."""
    if at.tzinfo is None:
        raise ValueError("next_window_start needs an aware datetime")
    local = at.astimezone(window.zone)
    day = local.date()
    if window.is_open_on(day):
        if local.time() < window.start:
            return window_opening(day, window)
        if local.time() < window.end:
            return at.astimezone(UTC)
    day += timedelta(days=1)
    while not window.is_open_on(day):
        day += timedelta(days=1)
    return window_opening(day, window)


def next_working_morning(at: datetime, window: SendingWindow) -> datetime:
    """The opening of the first window on a later local day than `at` (the 稍后提醒 target)."""
    day = at.astimezone(window.zone).date() + timedelta(days=1)
    while not window.is_open_on(day):
        day += timedelta(days=1)
    return window_opening(day, window)


@lru_cache(maxsize=16384)
def opening_on_or_after(day: date, window: SendingWindow) -> datetime:
    """The window opening on local `day`, or on the first open day after it (cached: the
    planner asks this for every stage of every assignment)."""
    while not window.is_open_on(day):
        day += timedelta(days=1)
    return window_opening(day, window)
