"""The reminder policy over a moving virtual clock: no sleeps, real 2025 holidays."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot.core.digest_slot import digest_due, ledger_had_the_week
from bot.core.planner import (
    COORDINATORS,
    LEADERS,
    LIAISONS,
    OVERDUE,
    due_notifications,
)
from bot.core.policy import PolicyError, load_policy
from bot.storage.models import BLOCKED, CLOSED, DONE_REPORTED, IN_PROGRESS
from tests.schedules.sched_helpers import ZONE, Ledger, local, snapshot


@pytest.fixture(scope="module")
def policy():
    return load_policy()


@pytest.fixture(scope="module")
def own_cycle():
    """The ladder on each item's own cycle (no weekly chase day)."""
    return load_policy(overrides={"overdue": {"liaison_weekday": False}})


def test_a_milestone_gets_exactly_its_30_7_1_0_day_reminders_in_the_window(policy):
    ledger = Ledger(policy, [snapshot(due=date(2025, 6, 20))], start="2025-05-01 00:00")
    ledger.run_until("2025-06-20 23:00")
    assert ledger.log() == [
        ("2025-05-21 09:00", "reminder:1:d30@2025-06-20"),
        ("2025-06-13 09:00", "reminder:1:d7@2025-06-20"),
        ("2025-06-19 09:00", "reminder:1:d1@2025-06-20"),
        ("2025-06-20 09:00", "reminder:1:d0@2025-06-20"),
    ]
    days_left = [note.days for _, note in ledger.sent.values()]
    assert days_left == [30, 7, 1, 0]


def test_a_holiday_reminder_waits_for_the_next_working_morning(policy):
    # d30 of 10-31 is 10-01 (国庆, holidays 10-01..10-08): sent on Thursday 10-09.
    # d7 of 10-18 is Saturday 10-11, a 调休 working day: sent that Saturday.
    # d7 of 06-28 is Saturday 06-21, an ordinary weekend: sent Monday 06-23.
    snaps = [
        snapshot(id=1, due=date(2025, 10, 31)),
        snapshot(id=2, due=date(2025, 10, 18)),
        snapshot(id=3, due=date(2025, 6, 28)),
    ]
    ledger = Ledger(policy, snaps, start="2025-05-25 00:00")
    ledger.run_until("2025-10-31 23:00")
    log = dict((key, at) for at, key in ledger.log())
    assert log["reminder:1:d30@2025-10-31"] == "2025-10-09 09:00"
    assert log["reminder:2:d7@2025-10-18"] == "2025-10-11 09:00"
    assert log["reminder:3:d7@2025-06-28"] == "2025-06-23 09:00"
    # nothing is ever planned outside 09:00-18:00 on a working day
    for at, _key in ledger.log():
        assert "09:00" <= at[11:] < "18:00"


def test_the_overdue_ladder_runs_on_days_1_7_14_21(own_cycle):
    policy = own_cycle
    # due Friday 2025-03-14; day 1 is a Saturday (→ Monday); day 21 is 清明 04-04 (→ 04-07)
    ledger = Ledger(policy, [snapshot(due=date(2025, 3, 14))], start="2025-03-14 19:00")
    ledger.run_until("2025-04-10 23:00")
    assert ledger.log() == [
        ("2025-03-17 09:00", "overdue:1:od1@2025-03-14"),
        ("2025-03-21 09:00", "escalation:1:od7@2025-03-14"),
        ("2025-03-28 09:00", "escalation:1:od14@2025-03-14"),
        ("2025-04-07 09:00", "escalation:1:od21@2025-03-14"),
    ]
    notes = {key: note for key, (_, note) in ledger.sent.items()}
    assert notes["overdue:1:od1@2025-03-14"].audience == (LIAISONS,)
    assert notes["overdue:1:od1@2025-03-14"].kind == OVERDUE
    assert notes["escalation:1:od7@2025-03-14"].audience == (LIAISONS, LEADERS, COORDINATORS)
    assert notes["escalation:1:od21@2025-03-14"].days == 24  # Monday 04-07: 24 days late


def test_every_supervision_notice_falls_on_the_weekly_chase_day(policy):
    # Monday by default: items due on different weekdays are chased together on Mondays
    snaps = [snapshot(id=i, due=date(2025, 3, 10) + timedelta(days=i)) for i in range(7)]
    ledger = Ledger(policy, snaps, start="2025-03-10 19:00")
    ledger.run_until("2025-04-30 23:00")
    chased = [(at, key) for at, key in ledger.log() if key.startswith("escalation")]
    assert chased and {date.fromisoformat(at[:10]).isoweekday() for at, _ in chased} == {1}
    # each item: its first 督办 on the first Monday on or after day 7, then every 7 days
    first = {key.split(":")[1]: at for at, key in reversed(chased)}
    assert first["0"] == "2025-03-17 09:00"  # due Monday 03-10: day 7 is a Monday
    assert first["1"] == "2025-03-24 09:00"  # due Tuesday 03-11: day 7 (03-18) → Monday
    assert ("2025-03-31 09:00", "escalation:1:od20@2025-03-11") in chased
    # the overdue notice (day 1) still comes the day after the due date
    notices = [at for at, key in ledger.log() if key.startswith("overdue:2:")]
    assert notices == ["2025-03-13 09:00"]


def test_the_weekly_chase_day_is_a_policy_setting_per_plan():
    policy = load_policy(overrides={"plans": {"LN": {"overdue": {"liaison_weekday": 3}}}})
    snaps = [snapshot(id=1, plan="SR"), snapshot(id=2, plan="LN")]  # due Friday 06-20
    ledger = Ledger(policy, snaps, start="2025-06-20 19:00")
    ledger.run_until("2025-07-10 23:00")
    log = dict((key, at) for at, key in ledger.log())
    assert log["escalation:1:od10@2025-06-20"] == "2025-06-30 09:00"  # Monday
    assert log["escalation:2:od12@2025-06-20"] == "2025-07-02 09:00"  # Wednesday
    with pytest.raises(PolicyError, match=r"overdue\.liaison_weekday"):
        load_policy(overrides={"overdue": {"liaison_weekday": 8}})


def test_a_confirmed_item_is_never_chased_again(policy):
    closed = snapshot(due=date(2025, 3, 14), status=CLOSED)
    ledger = Ledger(policy, [closed], start="2025-01-01 00:00")
    ledger.run_until("2025-06-30 23:00", step=timedelta(hours=3))
    assert ledger.sent == {}


def test_a_reported_completion_waiting_for_confirmation_is_not_chased(own_cycle):
    policy = own_cycle
    item = snapshot(due=date(2025, 3, 14))
    ledger = Ledger(policy, [item], start="2025-03-10 00:00")
    ledger.run_until("2025-03-14 23:00")
    assert [key for _, key in ledger.log()] == [
        "reminder:1:d7@2025-03-14",
        "reminder:1:d1@2025-03-14",
        "reminder:1:d0@2025-03-14",
    ]
    ledger.snaps = [
        replace(item, status=DONE_REPORTED, done_reported_at=local("2025-03-14 20:00"))
    ]
    assert ledger.run_until("2025-05-30 23:00") == []
    # sent back (退回) to 进行中: the ladder resumes with its latest stage only
    ledger.snaps = [replace(item, status=IN_PROGRESS)]
    ledger.jump("2025-06-02 09:00")  # 端午 holiday: nothing
    assert ledger.tick() == []
    ledger.jump("2025-06-03 09:00")
    assert [n.key for n in ledger.tick()] == ["escalation:1:od77@2025-03-14"]


def test_an_extension_moves_the_ladder(own_cycle):
    policy = own_cycle
    item = snapshot(due=date(2025, 3, 14))
    ledger = Ledger(policy, [item], start="2025-03-14 19:00")
    ledger.run_until("2025-03-17 12:00")
    assert [key for _, key in ledger.log()] == ["overdue:1:od1@2025-03-14"]
    ledger.snaps = [replace(item, due=date(2025, 4, 30), status=BLOCKED)]  # approved 延期
    ledger.run_until("2025-05-08 23:00")
    assert ledger.log() == [
        ("2025-03-17 09:00", "overdue:1:od1@2025-03-14"),
        ("2025-03-31 09:00", "reminder:1:d30@2025-04-30"),
        ("2025-04-23 09:00", "reminder:1:d7@2025-04-30"),
        ("2025-04-29 09:00", "reminder:1:d1@2025-04-30"),
        ("2025-04-30 09:00", "reminder:1:d0@2025-04-30"),
        ("2025-05-06 09:00", "overdue:1:od1@2025-04-30"),  # 05-01..05 劳动节
        ("2025-05-07 09:00", "escalation:1:od7@2025-04-30"),
    ]


def test_after_downtime_only_the_latest_stage_is_sent(own_cycle):
    policy = own_cycle
    item = snapshot(due=date(2025, 6, 20))
    ledger = Ledger(policy, [item], start="2025-05-21 08:00")
    ledger.run_until("2025-05-21 12:00")
    assert [key for _, key in ledger.log()] == ["reminder:1:d30@2025-06-20"]
    ledger.jump("2025-06-30 15:30")  # down from 05-21 to 06-30: d7, d1, d0, od1, od7 missed
    ledger.run_until("2025-07-03 23:00")
    assert ledger.log()[1:] == [("2025-06-30 15:30", "escalation:1:od7@2025-06-20")]


def test_the_acknowledgement_ladder_chases_then_escalates_and_stops_on_sign_off(policy):
    # assigned Monday 06-09 10:00, never 签收: 催办 after 3 working days, escalation after 5
    assigned = local("2025-06-09 10:00")
    silent = snapshot(id=1, assigned_at=assigned, acknowledged_at=None, due=date(2025, 12, 31))
    signs = replace(silent, id=2)
    ledger = Ledger(policy, [silent, signs], start="2025-06-09 00:00")

    def sign_off_on_friday(world: Ledger) -> None:
        if world.clock.now() >= local("2025-06-13 11:00"):
            world.snaps = [silent, replace(signs, acknowledged_at=local("2025-06-13 11:00"))]

    ledger.run_until("2025-06-18 23:00", each=sign_off_on_friday)
    assert ledger.log() == [
        ("2025-06-12 10:00", "ack_chase:1:ack3"),
        ("2025-06-12 10:00", "ack_chase:2:ack3"),
        ("2025-06-16 10:00", "escalation:1:ack5"),
    ]
    escalation = ledger.sent["escalation:1:ack5"][1]
    assert escalation.audience == (LEADERS,)


def test_the_acknowledgement_ladder_counts_working_days_across_a_holiday(policy):
    # assigned Tuesday 09-30; 10-01..10-08 off: 3 working days → 10-11 (调休 Saturday)
    item = snapshot(
        assigned_at=local("2025-09-30 15:00"), acknowledged_at=None, due=date(2025, 12, 31)
    )
    ledger = Ledger(policy, [item], start="2025-09-30 00:00")
    ledger.run_until("2025-10-15 23:00")
    log = dict((key, at) for at, key in ledger.log())
    assert log["ack_chase:1:ack3"] == "2025-10-11 15:00"
    assert log["escalation:1:ack5"] == "2025-10-14 15:00"


def test_planning_twice_at_the_same_instant_gives_the_same_keys(policy):
    snaps = [snapshot(id=i, due=date(2025, 3, 1 + i)) for i in range(20)]
    at = local("2025-03-31 10:00")
    first = due_notifications(snaps, policy, at)
    assert first and [n.key for n in first] == [
        n.key for n in due_notifications(snaps, policy, at)
    ]


def test_nothing_is_planned_outside_the_window(policy):
    snaps = [snapshot(due=date(2025, 3, 1))]
    assert due_notifications(snaps, policy, local("2025-03-31 18:00")) == []
    assert due_notifications(snaps, policy, local("2025-04-05 10:00")) == []  # 清明 Saturday
    assert due_notifications(snaps, policy, local("2025-03-31 17:59"))


def test_a_recurring_duty_gets_one_report_request_per_period(policy):
    yearly = snapshot(
        id=7,
        task_id=3,
        due=date(2025, 12, 31),
        recurrence=("每年",),
        plan_start=date(2023, 1, 1),
        plan_end=date(2025, 12, 31),
        assigned_at=local("2023-01-03 10:00"),
    )
    earlier = replace(yearly, id=6, due=date(2024, 12, 31))  # same task and unit: one carrier
    ledger = Ledger(policy, [earlier, yearly], start="2023-12-01 00:00")
    ledger.run_until("2023-12-31 23:00", step=timedelta(hours=3))
    ledger.jump("2024-12-01 00:00")
    ledger.run_until("2024-12-31 23:00", step=timedelta(hours=3))
    periodic = [(at, key) for at, key in ledger.log() if key.startswith("periodic")]
    assert periodic == [
        ("2023-12-18 09:00", "periodic:7:p2023-12-31"),  # 12-17 is a Sunday
        ("2024-12-17 09:00", "periodic:7:p2024-12-31"),
    ]


def test_a_plan_can_have_its_own_reminder_days():
    policy = load_policy(overrides={"plans": {"LN": {"reminders": {"days_before": [3]}}}})
    snaps = [snapshot(id=1, plan="SR"), snapshot(id=2, plan="LN")]
    ledger = Ledger(policy, snaps, start="2025-05-01 00:00")
    ledger.run_until("2025-06-20 12:00")
    keys = [key for _, key in ledger.log()]
    assert [k for k in keys if ":2:" in k] == ["reminder:2:d3@2025-06-20"]
    assert len([k for k in keys if ":1:" in k]) == 4


def test_the_digest_is_due_once_a_week_from_monday_morning(policy):
    ledger = Ledger(policy, [], start="2025-09-29 00:00")
    weeks: dict[str, str] = {}

    def collect(world: Ledger) -> None:
        slot = digest_due(policy, world.clock.now())
        if slot is not None:
            weeks.setdefault(slot.week, world.clock.now().astimezone(ZONE).strftime("%m-%d %H:%M"))

    ledger.run_until("2025-10-20 23:00", each=collect)
    # Monday 10-06 is 国庆: that week's digest waits for Thursday 10-09
    assert weeks == {
        "2025-W40": "09-29 09:00",
        "2025-W41": "10-09 09:00",
        "2025-W42": "10-13 09:00",
        "2025-W43": "10-20 09:00",
    }


def test_a_digest_is_owed_only_for_a_week_the_ledger_existed_at_its_trigger(policy):
    slot = digest_due(policy, local("2025-03-26 10:00"))
    assert slot is not None and slot.trigger == local("2025-03-24 09:00")
    for since, owed in (
        ("2024-01-01 00:00", True),  # downtime: the week's digest is sent late
        ("2025-03-24 09:00", True),
        ("2025-03-24 15:00", True),  # a first start on the digest's own day: on time
        ("2025-03-25 00:00", False),  # a first start later in the week: none
        ("2025-03-26 09:59", False),
    ):
        assert ledger_had_the_week(slot, local(since), ZONE) is owed, since
    assert not ledger_had_the_week(slot, None, ZONE)  # nothing loaded yet


def test_no_report_request_for_a_period_that_had_ended_when_the_plan_was_loaded(policy):
    # loaded 2025-12-24: 每学期's period ending 07-15 is long over (nothing to remind about);
    # 每年's period ending 12-31 is still open and its request (due 12-17) is sent at once
    semester = snapshot(
        id=8,
        task_id=4,
        due=date(2025, 12, 31),
        recurrence=("每学期",),
        plan_start=date(2023, 1, 1),
        plan_end=date(2025, 12, 31),
        assigned_at=local("2025-12-24 08:00"),
    )
    yearly = replace(semester, id=9, task_id=5, recurrence=("每年",))
    ledger = Ledger(policy, [semester, yearly], start="2025-12-24 08:00")
    ledger.run_until("2025-12-31 23:00")
    periodic = [(at, key) for at, key in ledger.log() if key.startswith("periodic")]
    assert periodic == [("2025-12-24 09:00", "periodic:9:p2025-12-31")]
    # loaded before 07-15, the same semester's request was due (and is still the latest)
    early = replace(semester, assigned_at=local("2025-06-02 10:00"))
    notes = due_notifications([early], policy, local("2025-12-24 10:00"))
    assert [n.key for n in notes if n.kind == "periodic"] == ["periodic:8:p2025-07-15"]
