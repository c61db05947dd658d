"""What is due now: pure planning of reminders, chases, escalations, report requests (the
weekly digest's slot: `bot.core.digest_slot`).

No database, no aiogram, no clock: `due_notifications(snapshots, policy, at)` looks at the
assignments as they are at instant `at` and returns the notifications that should exist now.
`bot.services.planning` turns them into Outbox rows whose unique key makes planning idempotent:
calling this every tick with the same world returns the same keys and inserts nothing new.

Ladders (one per assignment and purpose):

- due ladder: reminders N days before the due date (提醒, to liaisons), then the overdue notice
  on day `notice_day` (逾期提醒, liaisons), then 督办 on day `escalate_day` and every
  `repeat_every_days` after it (liaisons + unit leaders + plan coordinators), each 督办 moved
  to the policy's weekly chase day (`overdue.liaison_weekday`) on or after it, so that a
  liaison's overdue items are chased together on one day a week rather than each on the
  weekday its own due date fell on. Stages are counted
  from the assignment's effective due date, so an approved extension moves the whole ladder
  (the due date is part of the stage, so the new ladder's stages are new keys);
- acknowledgement ladder: not 签收 `chase_after` working days after assignment → 催办 to liaisons,
  `escalate_after` working days → escalation to the unit leaders. Stopped by 签收 or by any
  report (status no longer 未开始); not run once the item is overdue (the due ladder chases);
- periodic ladder (recurring duties 每年 / 每学期…): a report request `lead_days` before each
  period's end, to liaisons, for one carrier assignment per (task, unit). A period that had
  already ended when the assignment was made (the plan loaded late in its own span) gets no
  request: there is nothing left to remind about, only to report, which the due ladder does.

A stage becomes due at the first sending-window opening on or after its day (a stage on a
weekend or holiday waits for the next working morning). Only the LATEST due stage of each
ladder is returned: after downtime, or when several stages fall on the same morning (a holiday
week), older stages are skipped, never sent late in a burst. Skipped stages are not written
anywhere (the Outbox only holds what was meant to be sent). Nothing is chased while a reported
completion waits for confirmation (已完成, awaiting 办结) or after 办结.

Outside the sending window the planner returns nothing: what becomes due at night is planned at
the next window opening (where the "latest stage only" rule can still pick the newest one).

The next instant (`plan_pass`): for each assignment it looks at, the planner also says when
its answer can next change: the earliest stage trigger of any of its ladders after `at` (the
same ladder rules, the same trigger computations: `Planner.next_instant`), or None when
nothing can ever be due without a change of the assignment (办结, awaiting 办结). Between
`at` and that instant `due_notifications` returns, for this assignment, what it returns at
`at` or nothing (outside the window), so the tick needs to look at it only then
(`bot.services.planning`). A periodic report request counts for every open assignment of a
recurring duty (the carrier is chosen among them at the tick), so each of them carries the
period's trigger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.core.notices import Audience, OutboxKind
from bot.core.policy import PlanRules, Policy
from bot.core.status import CLOSED, DONE_REPORTED, NOT_STARTED
from bot.core.workdays import (
    add_working_days,
    in_window,
    opening_on_or_after,
)

LIAISONS, LEADERS, COORDINATORS = Audience.LIAISONS, Audience.LEADERS, Audience.COORDINATORS
REMINDER, ACK_CHASE, PERIODIC = OutboxKind.REMINDER, OutboxKind.ACK_CHASE, OutboxKind.PERIODIC
OVERDUE, ESCALATION = OutboxKind.OVERDUE, OutboxKind.ESCALATION
# the audiences of the ladders' stages (shared by every notification)
TO_LIAISONS, TO_LEADERS = (LIAISONS,), (LEADERS,)
TO_ALL = (LIAISONS, LEADERS, COORDINATORS)

_SILENT = frozenset({DONE_REPORTED, CLOSED})
_UNKNOWN: Any = object()  # not in a cache yet


@dataclass(slots=True)
class AssignmentSnapshot:
    """What the planner needs to know about one open assignment."""

    id: int
    plan: str  # plan code
    unit_id: int
    status: str
    due: date  # effective due date (an approved extension included)
    assigned_at: datetime
    acknowledged_at: datetime | None = None
    done_reported_at: datetime | None = None
    original_due: date | None = None
    role: str = "lead"
    task_id: int = 0
    recurrence: tuple[str, ...] = ()
    plan_start: date | None = None
    plan_end: date | None = None


@dataclass(slots=True)
class Notification:
    """One notification that should exist now. `key` is f"{kind}:{assignment_id}:{stage}"
    (digests: f"digest:{week}"); planning adds the recipient's chat to it."""

    key: str
    kind: OutboxKind
    stage: str
    audience: tuple[Audience, ...]
    not_before: datetime
    trigger: datetime  # when the stage became due (its window opening)
    assignment_id: int | None = None
    plan: str | None = None
    unit_id: int | None = None
    due: date | None = None
    days: int = 0  # reminder: days left; overdue/escalation: days overdue; ack: working days
    period_end: date | None = None  # periodic report requests
    ladder: str = ""  # "due" | "ack" | "periodic" | "digest"


@dataclass
class PlanningStats:
    considered: int = 0
    due: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


_ISO: dict[date, str] = {}


def _iso(day: date) -> str:
    text = _ISO.get(day)
    if text is None:
        text = _ISO[day] = day.isoformat()
    return text


def reminder_stage(days_before: int, due: date) -> str:
    return f"d{days_before}@{_iso(due)}"


def overdue_stage(days_over: int, due: date) -> str:
    return f"od{days_over}@{_iso(due)}"


def ack_stage(working_days: int) -> str:
    return f"ack{working_days}"


def periodic_stage(period_end: date) -> str:
    return f"p{period_end.isoformat()}"


def notification_key(kind: OutboxKind, assignment_id: int, stage: str) -> str:
    return f"{kind}:{assignment_id}:{stage}"


def _weekly(rules: PlanRules, due: date, day: int) -> int:
    """Stage day `day` (days after `due`) moved to the policy's weekly chase day on or after
    it (`overdue.liaison_weekday`, ISO weekday; 0 keeps the item's own cycle)."""
    weekday = rules.liaison_weekday
    if not weekday:
        return day
    return day + (weekday - (due + timedelta(days=day)).isoweekday()) % 7


def overdue_days(rules: PlanRules, due: date, days_over: int) -> Iterator[int]:
    """The overdue stages (days after `due`) up to `days_over`, latest first, lazily (the
    planner usually needs the first): the 督办 on `escalate_day` and every
    `repeat_every_days` after it, each moved to the weekly chase day when the policy has one
    (so a liaison's overdue items are chased on one day a week, not each on its own cycle),
    then the overdue notice on `notice_day`."""
    first, step = rules.overdue_escalate_day, rules.overdue_repeat_days
    last = days_over + 1
    if days_over >= first:
        for k in range((days_over - first) // step, -1, -1):
            day = _weekly(rules, due, first + k * step)
            if day < last:
                last = day
                yield day
    if rules.overdue_notice_day <= days_over:
        yield rules.overdue_notice_day


def overdue_ladder(rules: PlanRules, days_over: int, due: date | None = None) -> list[int]:
    """The overdue stages (days after due) up to `days_over`, ascending (`due` places them on
    the weekly chase day, see `overdue_days`; without it, the item's own cycle)."""
    if due is None:
        rules = replace(rules, liaison_weekday=0)
        due = date(2000, 1, 1)
    return list(overdue_days(rules, due, days_over))[::-1]


def calendar_stage(rules: PlanRules, today: date, due: date) -> tuple[str, str] | None:
    """The latest due-ladder stage of an item due on `due` by the calendar alone (holidays
    ignored), as (kind, stage) with the planner's own stage names; None beyond the reminder
    horizon. The planner may still return an older stage (a holiday delays the newer one):
    then the newer one has no rows and the item is simply loaded."""
    late = (today - due).days
    if late >= rules.overdue_notice_day:
        day = next(overdue_days(rules, due, late))
        kind = ESCALATION if day >= rules.overdue_escalate_day else OVERDUE
        return kind, overdue_stage(day, due)
    for before in sorted(rules.reminder_days):
        if -late <= before:
            return REMINDER, reminder_stage(before, due)
    return None


class Planner:
    """The ladders' rules at one instant, with the caches of a pass (window openings, working
    days, periods, stage names)."""

    def __init__(self, policy: Policy, at: datetime) -> None:
        self.policy = policy
        self.at = at
        self.window = policy.window
        self.today = at.astimezone(policy.zone).date()
        self.stats = PlanningStats()
        self._openings: dict[date, datetime] = {}
        self._working: dict[tuple[date, int], date] = {}
        self._periods: dict[
            tuple[int, tuple[str, ...], date, date, date], tuple[date, datetime] | None
        ] = {}
        self._all_ends: dict[tuple[int, tuple[str, ...], date, date], list[date]] = {}
        self._stages: dict[tuple[str, int, date], str] = {}
        # per (rules, due date): the due ladder's latest due stage and its next trigger
        self._due_stages: dict[tuple[int, date], Any] = {}
        self._due_next: dict[tuple[int, date], Any] = {}

    def stage(self, kind: str, days: int, due: date) -> str:
        """The stage name of a reminder (`days` before) or an overdue stage (`days` after):
        items due the same day share it (one string per pass, not one per item)."""
        key = (kind, days, due)
        found = self._stages.get(key)
        if found is None:
            made = reminder_stage(days, due) if kind == REMINDER else overdue_stage(days, due)
            found = self._stages[key] = made
        return found

    def opening(self, day: date) -> datetime:
        found = self._openings.get(day)
        if found is None:
            found = self._openings[day] = opening_on_or_after(day, self.window)
        return found

    # --- the due ladder ------------------------------------------------------------------

    def _note(
        self,
        snap: AssignmentSnapshot,
        kind: OutboxKind,
        stage: str,
        audience: tuple[Audience, ...],
        trigger: datetime,
        days: int,
        ladder: str,
        period_end: date | None = None,
    ) -> Notification:
        """The notification of `snap`'s stage, due now (at this pass's instant)."""
        return Notification(
            key=notification_key(kind, snap.id, stage),
            kind=kind,
            stage=stage,
            audience=audience,
            not_before=self.at,
            trigger=trigger,
            assignment_id=snap.id,
            plan=snap.plan,
            unit_id=snap.unit_id,
            due=snap.due,
            days=days,
            period_end=period_end,
            ladder=ladder,
        )

    def due_ladder(
        self, snap: AssignmentSnapshot, rules: PlanRules, max_lead: int
    ) -> Notification | None:
        # items due the same day under the same rules share their stage: found once a pass
        cache_key = (id(rules), snap.due)
        found = self._due_stages.get(cache_key, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._due_stages[cache_key] = self._due_stage(snap.due, rules, max_lead)
        if found is None:
            return None
        kind, stage, audience, trigger, days = found
        return self._note(snap, kind, stage, audience, trigger, days, "due")

    def _due_stage(
        self, due: date, rules: PlanRules, max_lead: int
    ) -> tuple[OutboxKind, str, tuple[Audience, ...], datetime, int] | None:
        """The latest due stage of the due ladder of an item due on `due`: (kind, stage,
        audience, trigger, days), or None."""
        days_left = (due - self.today).days
        if days_left > max_lead:
            return None
        at = self.at
        if days_left < 0:
            for day in overdue_days(rules, due, -days_left):
                trigger = self.opening(due + timedelta(days=day))
                if trigger <= at:
                    escalate = day >= rules.overdue_escalate_day
                    kind = ESCALATION if escalate else OVERDUE
                    audience = TO_ALL if escalate else TO_LIAISONS
                    return kind, self.stage(OVERDUE, day, due), audience, trigger, -days_left
        # reminders, nearest to the due date first
        for index in range(len(rules.reminder_days) - 1, -1, -1):
            before = rules.reminder_days[index]
            if before < days_left:
                continue
            trigger = self.opening(due - timedelta(days=before))
            if trigger > at:
                continue
            return REMINDER, self.stage(REMINDER, before, due), TO_LIAISONS, trigger, days_left
        return None

    def _ack_day(self, assigned_day: date, working_days: int) -> date:
        cache_key = (assigned_day, working_days)
        day = self._working.get(cache_key)
        if day is None:
            day = self._working[cache_key] = add_working_days(assigned_day, working_days)
        return day

    def _ack_trigger(self, assigned: datetime, day: date) -> datetime:
        """When an acknowledgement stage on working `day` becomes due (`assigned`: local)."""
        # `day` is a working day (so the window opens on it): same as
        # next_window_start(datetime.combine(day, assigned.timetz()), window)
        window = self.window
        clock = assigned.time()
        if clock < window.start:
            return self.opening(day)
        if clock < window.end:
            return datetime.combine(day, assigned.timetz()).astimezone(UTC)
        return self.opening(day + timedelta(days=1))

    # --- the acknowledgement ladder -------------------------------------------------------

    def ack_ladder(self, snap: AssignmentSnapshot, rules: PlanRules) -> Notification | None:
        """The latest due acknowledgement stage. A stage is due at the first window instant at
        or after (the `n`-th working day after assignment, at the time of day it was assigned);
        days are cached, so thousands of unacknowledged items cost a dict lookup each."""
        assigned = snap.assigned_at.astimezone(self.window.zone)
        assigned_day = assigned.date()
        for working_days, kind, audience in (
            (rules.ack_escalate_after, ESCALATION, TO_LEADERS),
            (rules.ack_chase_after, ACK_CHASE, TO_LIAISONS),
        ):
            day = self._ack_day(assigned_day, working_days)
            if day > self.today:
                continue
            trigger = self._ack_trigger(assigned, day)
            if trigger > self.at:
                continue
            stage = ack_stage(working_days)
            return self._note(snap, kind, stage, audience, trigger, working_days, "ack")
        return None

    # --- the periodic ladder ---------------------------------------------------------------

    def periodic(self, snap: AssignmentSnapshot, rules: PlanRules) -> Notification | None:
        first_year = (snap.plan_start or snap.assigned_at.date()).year
        start = snap.plan_start or date(first_year, 1, 1)
        end = snap.plan_end or snap.due
        # periods that ended before the assignment was made (the plan was loaded) are not asked
        loaded = snap.assigned_at.astimezone(self.window.zone).date()
        # many carriers share their plan's period and recurrence: computed once per pass
        cache_key = (id(rules), snap.recurrence, start, end, loaded)
        if cache_key in self._periods:
            found = self._periods[cache_key]
        else:
            found = self._periods[cache_key] = self._latest_period(snap, rules, start, end, loaded)
        if found is None:
            return None
        period_end, trigger = found
        stage = periodic_stage(period_end)
        days = (period_end - self.today).days
        return self._note(
            snap, PERIODIC, stage, TO_LIAISONS, trigger, days, "periodic", period_end
        )

    def _latest_period(
        self, snap: AssignmentSnapshot, rules: PlanRules, start: date, end: date, loaded: date
    ) -> tuple[date, datetime] | None:
        """The latest period end whose report request is due, and when it became due; None
        when it had already ended on the day `loaded` (the assignment was made)."""
        ends = _period_ends(snap, rules, start, end, min(end.year, self.today.year + 1))
        lead = timedelta(days=rules.periodic_lead_days)
        due_ends = [e for e in ends if self.opening(e - lead) <= self.at]
        if not due_ends or due_ends[-1] < loaded:
            return None
        return due_ends[-1], self.opening(due_ends[-1] - lead)

    # --- when the answer can next change ----------------------------------------------------

    def _due_ladder_next(self, due: date, rules: PlanRules) -> datetime | None:
        """The earliest trigger after `at` of the due ladder of an item due on `due`."""
        at = self.at
        found: datetime | None = None

        def consider(trigger: datetime) -> None:
            nonlocal found
            if trigger > at and (found is None or trigger < found):
                found = trigger

        # reminders, then the overdue notice and 督办 every repeat_days
        for before in rules.reminder_days:
            consider(self.opening(due - timedelta(days=before)))
        # the overdue notice, then 督办 from escalate_day every repeat_days, each on the weekly
        # chase day on or after it (the stage days of `overdue_days`, ascending)
        consider(self.opening(due + timedelta(days=rules.overdue_notice_day)))
        first, step = rules.overdue_escalate_day, rules.overdue_repeat_days

        def escalation(k: int) -> datetime:
            return self.opening(due + timedelta(days=_weekly(rules, due, first + k * step)))

        k = max(0, ((self.today - due).days - first) // step)
        # walk back over stages a holiday stretch still holds (their opening is after `at`)
        while k > 0 and escalation(k - 1) > at:
            k -= 1
        while escalation(k) <= at:
            k += 1
        consider(escalation(k))
        return found

    def next_instant(self, snap: AssignmentSnapshot, rules: PlanRules) -> datetime | None:
        """The earliest instant after `at` at which a stage of one of `snap`'s ladders becomes
        due (the triggers the ladders above compare with `at`), or None: nothing can become
        due until the assignment changes. Until then the planner's answer for `snap` is its
        answer at `at` (or nothing, outside the window)."""
        if snap.status in _SILENT:
            return None
        at = self.at
        found: datetime | None = snap.assigned_at if snap.assigned_at > at else None

        def consider(trigger: datetime) -> None:
            nonlocal found
            if trigger > at and (found is None or trigger < found):
                found = trigger

        # the due ladder: the same for every item due the same day (found once a pass)
        day_key = (id(rules), snap.due)
        due_next = self._due_next.get(day_key, _UNKNOWN)
        if due_next is _UNKNOWN:
            due_next = self._due_next[day_key] = self._due_ladder_next(snap.due, rules)
        if due_next is not None:
            consider(due_next)
        # the acknowledgement ladder (stopped by 签收 or any report: a change of the row)
        if snap.acknowledged_at is None and snap.status == NOT_STARTED:
            assigned = snap.assigned_at.astimezone(self.window.zone)
            for working_days in (rules.ack_chase_after, rules.ack_escalate_after):
                day_of = self._ack_day(assigned.date(), working_days)
                consider(self._ack_trigger(assigned, day_of))
        # report requests: every open assignment of a recurring duty may be its carrier
        if snap.recurrence:
            start = snap.plan_start or date(snap.assigned_at.date().year, 1, 1)
            end = snap.plan_end or snap.due
            lead = timedelta(days=rules.periodic_lead_days)
            cache_key = (id(rules), snap.recurrence, start, end)
            ends = self._all_ends.get(cache_key)
            if ends is None:
                ends = self._all_ends[cache_key] = _period_ends(snap, rules, start, end, end.year)
            for period_end in ends:
                # counted once its request is due and no earlier than the year before it ends
                counted = max(period_end - lead, date(period_end.year - 1, 1, 1))
                consider(self.opening(counted))
        return found


def _period_ends(
    snap: AssignmentSnapshot, rules: PlanRules, start: date, end: date, last_year: int
) -> list[date]:
    """The period ends of a recurring duty within [start, end], up to `last_year`, ascending
    (the planner counts a period no earlier than the year before it ends)."""
    specs = [rules.recurrences[w] for w in snap.recurrence if w in rules.recurrences]
    first_year = start.year
    ends: set[date] = set()
    for year in range(first_year, last_year + 1):
        for spec in specs:
            if (year - first_year) % spec.every_years:
                continue
            for month, day in spec.ends:
                period_end = _clamped(year, month, day)
                if start <= period_end <= end:
                    ends.add(period_end)
    return sorted(ends)


def _clamped(year: int, month: int, day: int) -> date:
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def due_notifications(
    snapshots: Iterable[AssignmentSnapshot],
    policy: Policy,
    at: datetime,
    *,
    stats: PlanningStats | None = None,
    next_at: dict[int, datetime | None] | None = None,
    planner: Planner | None = None,
) -> list[Notification]:
    """The notifications due at `at` (aware): at most one per assignment and ladder, the latest
    due stage. Empty outside the sending window. Pass `stats` to receive counts, and `next_at`
    to receive, for every snapshot, when its answer can next change (`Planner.next_instant`;
    not filled outside the window, where nothing is planned). A pass that plans its snapshots
    a part at a time passes one `Planner(policy, at)` to every call: its calendar caches are
    then computed once per pass."""
    if not in_window(at, policy.window):
        return []
    if planner is None or planner.at != at or planner.policy is not policy:
        planner = Planner(policy, at)
    if stats is not None:
        planner.stats = stats
    out: list[Notification] = []
    carriers: dict[tuple[int, int], AssignmentSnapshot] = {}
    for_plan = policy.for_plan
    rules_cache: dict[str, tuple[PlanRules, int]] = {}
    considered = 0
    for snap in snapshots:
        considered += 1
        cached = rules_cache.get(snap.plan)
        if cached is None:
            rules = for_plan(snap.plan)
            cached = rules_cache[snap.plan] = (rules, rules.max_lead_days)
        rules, max_lead = cached
        if next_at is not None:
            next_at[snap.id] = planner.next_instant(snap, rules)
        if snap.status in _SILENT or snap.assigned_at > at:
            continue
        found = planner.due_ladder(snap, rules, max_lead)
        if found is not None:
            out.append(found)
        overdue = found is not None and found.kind != REMINDER
        if snap.acknowledged_at is None and snap.status == NOT_STARTED and not overdue:
            chase = planner.ack_ladder(snap, rules)
            if chase is not None:
                out.append(chase)
        if snap.recurrence:
            key = (snap.task_id, snap.unit_id)
            current = carriers.get(key)
            if current is None or (snap.due, snap.id) > (current.due, current.id):
                carriers[key] = snap
    for snap in carriers.values():
        request = planner.periodic(snap, for_plan(snap.plan))
        if request is not None:
            out.append(request)
    planner.stats.considered += considered
    planner.stats.due += len(out)
    for note in out:
        planner.stats.by_kind[note.kind] = planner.stats.by_kind.get(note.kind, 0) + 1
    return out


# bump when the ladders' rules change in code: stored instants are then recomputed
SCHEDULE_VERSION = 1


def schedule_fingerprint(policy: Policy) -> str:
    """What the stored next instants depend on (the ladders of every plan, the sending
    window and its zone): a different fingerprint at start-up recomputes them all."""

    def rules(r: PlanRules) -> list[object]:
        recurrences = {
            w: [list(map(list, s.ends)), s.every_years] for w, s in r.recurrences.items()
        }
        return [
            list(r.reminder_days),
            r.ack_chase_after,
            r.ack_escalate_after,
            r.overdue_notice_day,
            r.overdue_escalate_day,
            r.overdue_repeat_days,
            r.liaison_weekday,
            r.periodic_lead_days,
            sorted(recurrences.items()),
        ]

    window = policy.window
    data = [
        SCHEDULE_VERSION,
        [window.start.isoformat(), window.end.isoformat(), window.zone.key],
        window.working_days_only,
        rules(policy.defaults),
        sorted((code, rules(r)) for code, r in policy.plans.items()),
    ]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:16]
