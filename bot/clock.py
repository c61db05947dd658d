"""The one clock of the application.

Domain code never reads the time: callers pass `at`. Adapters (handlers, jobs) ask the clock
injected through the dispatcher. `VirtualClock` starts at any instant, runs forward at real speed
(or stands still when `rate=0`) and can jump forward, so demos and tests never touch the system
clock and never sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """Starts at `start`, advances `rate` virtual seconds per real second, jumps on demand.

    Listeners registered with `on_jump` are called after every jump so that a scheduler can plan
    at once instead of waiting for its next tick.
    """

    def __init__(
        self,
        start: datetime,
        *,
        rate: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start")
        self._base = start.astimezone(UTC)
        self._rate = rate
        self._monotonic = monotonic
        self._mono0 = monotonic()
        self._listeners: list[Callable[[datetime], None]] = []

    def now(self) -> datetime:
        elapsed = (self._monotonic() - self._mono0) * self._rate
        return self._base + timedelta(seconds=elapsed)

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        return self.set(self.now() + delta)

    def set(self, instant: datetime) -> datetime:
        """Jump to `instant` (never backwards) and keep running from there."""
        if instant.tzinfo is None:
            raise ValueError("VirtualClock.set needs a timezone-aware instant")
        instant = instant.astimezone(UTC)
        if instant < self.now():
            raise ValueError("the clock only moves forward")
        self._base = instant
        self._mono0 = self._monotonic()
        for listener in list(self._listeners):
            listener(instant)
        return instant

    def on_jump(self, listener: Callable[[datetime], None]) -> None:
        self._listeners.append(listener)
