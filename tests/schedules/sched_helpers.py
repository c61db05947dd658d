"""A virtual clock that ticks hour by hour through the planner, keeping the first instant each
key appeared (what the Outbox's unique key would keep)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import VirtualClock
from bot.core.planner import AssignmentSnapshot, Notification, due_notifications
from bot.core.policy import Policy
from bot.storage.models import NOT_STARTED

ZONE = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """'2025-10-09 09:00' in Asia/Shanghai, aware."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


def snapshot(**kw) -> AssignmentSnapshot:
    base = dict(
        id=1,
        plan="SR",
        unit_id=10,
        status=NOT_STARTED,
        due=date(2025, 6, 20),
        assigned_at=local("2025-01-06 10:00"),
        acknowledged_at=local("2025-01-06 11:00"),
    )
    base.update(kw)
    return AssignmentSnapshot(**base)


class Ledger:
    """Runs the planner on a virtual clock, hour by hour, like the scheduler's tick."""

    def __init__(self, policy: Policy, snaps: Iterable[AssignmentSnapshot], start: str) -> None:
        self.policy = policy
        self.snaps = list(snaps)
        self.clock = VirtualClock(local(start), rate=0)
        self.sent: dict[str, tuple[datetime, Notification]] = {}

    def tick(self) -> list[Notification]:
        new = []
        for note in due_notifications(self.snaps, self.policy, self.clock.now()):
            if note.key not in self.sent:
                self.sent[note.key] = (self.clock.now(), note)
                new.append(note)
        return new

    def run_until(
        self, end: str, *, step: timedelta = timedelta(hours=1), each: Callable | None = None
    ) -> list[Notification]:
        stop = local(end)
        new: list[Notification] = []
        while self.clock.now() <= stop:
            new += self.tick()
            if each is not None:
                each(self)
            self.clock.advance(step)
        return new

    def jump(self, to: str) -> None:
        self.clock.set(local(to))

    def log(self) -> list[tuple[str, str]]:
        """(local time, key) in sending order."""
        rows = sorted(self.sent.items(), key=lambda kv: (kv[1][0], kv[0]))
        return [(at.astimezone(ZONE).strftime("%Y-%m-%d %H:%M"), key) for key, (at, _) in rows]
