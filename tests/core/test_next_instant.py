"""The next instant (`bot.core.planner`): looking at an assignment only when its instant has
come plans exactly what looking at every assignment at every tick plans.

Pure: random assignments (every status, acknowledged or not, recurring or not, due dates
around holidays), random policies (ladders, windows, zones with daylight saving time) and
random clock walks (minutes to weeks, through nights, weekends and 国庆). The oracle is the
full recomputation: `due_notifications` over every snapshot at every step. The incremental
schedule asks only the snapshots whose next instant has come, and keeps the rest's instant.
A change of an assignment (a report, 签收, an extension) is what the services do: the
instant is forgotten (NULL) and the snapshot is looked at on the next step.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.planner import AssignmentSnapshot, due_notifications
from bot.core.policy import Policy, Recurrence, load_policy
from bot.core.status import BLOCKED, CLOSED, DONE_REPORTED, IN_PROGRESS, NOT_STARTED
from bot.core.workdays import SendingWindow

BASE = load_policy()
START = datetime(2025, 9, 1, tzinfo=UTC)
ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC")
STATUSES = (NOT_STARTED, NOT_STARTED, IN_PROGRESS, BLOCKED, DONE_REPORTED, CLOSED)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    reminders = tuple(
        sorted(draw(st.sets(st.integers(0, 40), min_size=0, max_size=4)), reverse=True)
    )
    chase = draw(st.integers(1, 4))
    notice = draw(st.integers(1, 3))
    rules = replace(
        BASE.defaults,
        reminder_days=reminders,
        ack_chase_after=chase,
        ack_escalate_after=chase + draw(st.integers(1, 3)),
        overdue_notice_day=notice,
        overdue_escalate_day=notice + draw(st.integers(1, 8)),
        overdue_repeat_days=draw(st.integers(1, 10)),
        liaison_weekday=draw(st.integers(0, 7)),
        periodic_lead_days=draw(st.sampled_from((0, 3, 14, 30, 90, 400))),
        recurrences={
            "每年": Recurrence(
                tuple(
                    sorted(
                        draw(
                            st.sets(
                                st.tuples(st.integers(1, 12), st.integers(1, 31)),
                                min_size=1,
                                max_size=3,
                            )
                        )
                    )
                ),
                draw(st.integers(1, 2)),
            )
        },
    )
    start = draw(st.sampled_from((time(9, 0), time(8, 30), time(0, 0))))
    window = SendingWindow(
        start=start,
        end=draw(st.sampled_from((time(18, 0), time(23, 59), time(12, 0)))),
        zone=ZoneInfo(draw(st.sampled_from(ZONES))),
        working_days_only=draw(st.booleans()),
    )
    return Policy(window, rules, BASE.digest)


@st.composite
def snapshots(draw: st.DrawFn, ident: int, start: datetime) -> AssignmentSnapshot:
    assigned = start + timedelta(minutes=draw(st.integers(-60 * 24 * 60, 60 * 24 * 40)))
    acked = draw(st.booleans())
    recurring = draw(st.booleans())
    return AssignmentSnapshot(
        id=ident,
        plan="SR",
        unit_id=draw(st.integers(1, 3)),
        status=draw(st.sampled_from(STATUSES)),
        due=start.date() + timedelta(days=draw(st.integers(-60, 120))),
        assigned_at=assigned,
        acknowledged_at=assigned + timedelta(hours=1) if acked else None,
        task_id=draw(st.integers(1, 3)),
        recurrence=("每年",) if recurring else (),
        plan_start=date(2024, 1, 1) if recurring else None,
        plan_end=date(2026, 12, 31) if recurring else None,
    )


@st.composite
def worlds(
    draw: st.DrawFn,
) -> tuple[Policy, datetime, list[AssignmentSnapshot], list[tuple[int, int]]]:
    policy = draw(policies())
    start = START + timedelta(hours=draw(st.integers(0, 24 * 400)))
    count = draw(st.integers(1, 8))
    snaps = [draw(snapshots(i + 1, start)) for i in range(count)]
    # (minutes to advance, index of an assignment to change or -1)
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from((1, 17, 60, 61, 180, 600, 1440, 1500, 4320, 10080, 43200)),
                st.integers(-4 * count, count - 1),
            ),
            min_size=1,
            max_size=60,
        )
    )
    return policy, start, snaps, steps


STATE_CHANGES = (
    {"status": IN_PROGRESS},
    {"status": DONE_REPORTED},
    {"status": NOT_STARTED},  # 退回
    {"status": CLOSED},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), st.randoms(use_true_random=False))
def test_the_incremental_schedule_plans_what_the_full_recomputation_plans(world, rnd):
    policy, at, snaps, steps = world
    full_sent: set[str] = set()
    inc_sent: set[str] = set()
    next_at: dict[int, datetime | None] = {}  # absent: NULL (look at it at the next tick)
    for minutes, changed in steps:
        # the full recomputation: every snapshot, every tick
        full_sent.update(n.key for n in due_notifications(snaps, policy, at))
        # the incremental schedule: only the snapshots whose instant has come
        due = [
            s
            for s in snaps
            if s.id not in next_at or (next_at[s.id] is not None and next_at[s.id] <= at)
        ]
        recurring_tasks = {s.task_id for s in due if s.recurrence}
        due += [s for s in snaps if s.task_id in recurring_tasks and s not in due]
        found: dict[int, datetime | None] = {}
        notes = due_notifications(due, policy, at, next_at=found)
        inc_sent.update(n.key for n in notes)
        next_at.update(found)
        assert inc_sent == full_sent, at
        # a change (what a liaison or coordinator does): the row's instant is forgotten
        if changed >= 0:
            snap = snaps[changed]
            change = rnd.choice(
                [
                    *STATE_CHANGES,
                    {"acknowledged_at": at},
                    {"due": snap.due + timedelta(days=rnd.randint(1, 40))},  # extension
                ]
            )
            snaps[changed] = replace(snap, **change)
            # the task's open assignments too (a periodic request's carrier may change)
            for other in snaps:
                if other.task_id == snap.task_id:
                    next_at.pop(other.id, None)
        at += timedelta(minutes=minutes)


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_the_next_instant_is_after_the_tick_and_the_answer_holds_until_then(world):
    policy, at, snaps, steps = world
    for minutes, _ in steps:
        found: dict[int, datetime | None] = {}
        now = {n.key for n in due_notifications(snaps, policy, at, next_at=found)}
        for snap in snaps:
            instant = found.get(snap.id)
            if instant is None:
                continue
            assert instant > at
            # just before the instant, the answer is the same (or nothing outside the window)
            before = instant - timedelta(microseconds=1)
            if before > at:
                # (a report request goes to the task's carrier: not this snapshot's alone)
                alone = due_notifications([snap], policy, before)
                then = {n.key for n in alone if n.ladder != "periodic"}
                mine = {k for k in now if f":{snap.id}:" in k}
                assert then <= mine
        at += timedelta(minutes=minutes)
