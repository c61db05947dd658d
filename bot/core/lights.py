"""Status lights (红黄绿灯), pure.

Red: overdue, or reported progress lags the elapsed share of the milestone's window (from the
plan's start or the previous milestone to the due date) by more than `red_lag_points`.
Yellow: due within `due_soon_days` with no report in the last `stale_report_days`, reported
有困难, not yet acknowledged (未签收), or lagging by `yellow_lag_points` to `red_lag_points`.
Green otherwise. Closed (办结) items are grey; a completion waiting for 办结 is green.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.core.status import BLOCKED, CLOSED, DONE_REPORTED


class Light(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    GREY = "grey"


LIGHT_ORDER = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.GREY: 3}
LIGHT_EMOJI = {Light.RED: "🔴", Light.YELLOW: "🟡", Light.GREEN: "🟢", Light.GREY: "⚪"}


@dataclass(frozen=True)
class LightPolicy:
    red_lag_points: int = 30
    yellow_lag_points: int = 10
    due_soon_days: int = 7
    stale_report_days: int = 7

    @classmethod
    def from_settings(cls, settings: Any) -> LightPolicy:
        return cls(
            red_lag_points=settings.red_lag_points,
            yellow_lag_points=settings.yellow_lag_points,
            due_soon_days=settings.due_soon_days,
            stale_report_days=settings.stale_report_days,
        )


@dataclass(frozen=True)
class LightInput:
    status: str
    due: date
    window_start: date  # the plan's start, or the previous milestone's due date
    progress: int | None = None
    acknowledged: bool = True
    last_report_at: datetime | None = None


def expected_progress(window_start: date, due: date, today: date) -> float:
    """The elapsed share of the window in percent, 0..100."""
    if due <= window_start:
        return 100.0 if today >= due else 0.0
    share = (today - window_start).days / (due - window_start).days
    return max(0.0, min(100.0, share * 100.0))


def lag_points(item: LightInput, today: date) -> float | None:
    """How far reported progress trails the elapsed share; None when no percentage was given."""
    if item.progress is None:
        return None
    return expected_progress(item.window_start, item.due, today) - item.progress


def light_of(item: LightInput, *, today: date, now: datetime, policy: LightPolicy) -> Light:
    """The light of one assignment on `today` (local date) at instant `now`."""
    if item.status == CLOSED:
        return Light.GREY
    if item.status == DONE_REPORTED:
        return Light.GREEN
    if today > item.due:
        return Light.RED
    lag = lag_points(item, today)
    if lag is not None and lag > policy.red_lag_points:
        return Light.RED
    if item.status == BLOCKED or not item.acknowledged:
        return Light.YELLOW
    if lag is not None and lag >= policy.yellow_lag_points:
        return Light.YELLOW
    if (item.due - today).days <= policy.due_soon_days:
        stale_since = now - timedelta(days=policy.stale_report_days)
        if item.last_report_at is None or item.last_report_at < stale_since:
            return Light.YELLOW
    return Light.GREEN
