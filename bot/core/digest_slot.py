"""When the weekly digest (周报) is due (pure): the week's slot, and whether it is owed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from bot.core.notices import OutboxKind
from bot.core.policy import Policy
from bot.core.workdays import in_window, next_window_start

DIGEST = OutboxKind.DIGEST


@dataclass(frozen=True)
class DigestSlot:
    """This week's digest is due: `week` ("2025-W41") is the idempotency part of its keys."""

    week: str
    week_start: date  # Monday
    trigger: datetime
    not_before: datetime

    def key(self, chat_id: int) -> str:
        return f"{DIGEST}:{self.week}:{chat_id}"


def ledger_had_the_week(slot: DigestSlot, ledger_since: datetime | None, zone: tzinfo) -> bool:
    """Whether the week's digest is owed: the ledger had work (its first assignment,
    `ledger_since`) by the day the digest came due (local date in `zone`). On a first start
    later in the week, or when the plans were loaded only after that day, the digest would
    arrive late about a week nobody tracked here: it is not sent, and the first digest is
    the next week's. A first start on the digest's own day sends it that day (on time).
    After downtime the ledger is older than the slot and the week's digest is sent late,
    once, as before."""
    if ledger_since is None:
        return False
    return ledger_since.astimezone(zone).date() <= slot.trigger.astimezone(zone).date()


def digest_due(policy: Policy, at: datetime) -> DigestSlot | None:
    """This week's digest slot once its time (weekday + time, first window at or after it) has
    come; None before that and outside the window. Decided from the project clock at each tick,
    so it works on a virtual clock and after downtime (a missed week is not sent late: only the
    current week's digest exists)."""
    if not in_window(at, policy.window):
        return None
    zone = policy.zone
    local = at.astimezone(zone)
    iso = local.isocalendar()
    monday = local.date() - timedelta(days=iso.weekday - 1)
    day = monday + timedelta(days=policy.digest.weekday - 1)
    trigger = next_window_start(
        datetime.combine(day, policy.digest.at, tzinfo=zone), policy.window
    )
    if trigger > at:
        return None
    return DigestSlot(
        week=f"{iso.year}-W{iso.week:02d}", week_start=monday, trigger=trigger, not_before=at
    )
