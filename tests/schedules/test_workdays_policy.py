"""Working days (holidays, 调休, the fallback past the calendar's data) and policy loading."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from bot.core import workdays
from bot.core.policy import PolicyError, load_policy
from bot.core.workdays import (
    SendingWindow,
    add_working_days,
    in_window,
    is_working_day,
    next_window_start,
    next_working_morning,
)
from tests.schedules.sched_helpers import ZONE, local


def test_official_holidays_and_make_up_days():
    assert not is_working_day(date(2025, 10, 1))  # 国庆
    assert is_working_day(date(2025, 9, 28))  # 调休 Sunday
    assert is_working_day(date(2025, 10, 11))  # 调休 Saturday
    assert not is_working_day(date(2025, 6, 21))  # ordinary Saturday
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert add_working_days(date(2025, 6, 13), 0) == date(2025, 6, 13)


def test_next_window_start():
    window = SendingWindow(zone=ZONE)
    assert next_window_start(local("2025-06-10 10:30"), window) == local("2025-06-10 10:30")
    assert next_window_start(local("2025-06-10 07:00"), window) == local("2025-06-10 09:00")
    assert next_window_start(local("2025-06-10 18:00"), window) == local("2025-06-11 09:00")
    assert next_window_start(local("2025-09-30 19:00"), window) == local("2025-10-09 09:00")
    assert next_working_morning(local("2025-10-10 10:00"), window) == local("2025-10-11 09:00")
    assert in_window(local("2025-10-11 09:00"), window)
    assert not in_window(local("2025-10-12 09:00"), window)


def test_past_the_calendar_data_weekdays_are_assumed_with_one_warning(caplog, monkeypatch):
    monkeypatch.setattr(workdays, "_fallback_warned", False)
    workdays.is_working_day.cache_clear()
    with caplog.at_level(logging.WARNING, logger="bot.core.workdays"):
        assert is_working_day(date(2031, 1, 6))  # a Monday
        assert not is_working_day(date(2031, 1, 4))  # a Saturday
        assert add_working_days(date(2031, 1, 3), 1) == date(2031, 1, 6)
    warnings = [r for r in caplog.records if "chinese_calendar" in r.getMessage()]
    assert len(warnings) == 1
    assert 2031 in workdays.calendar_fallback_years()


def test_the_deployment_file_and_plan_overrides_merge(tmp_path):
    override = tmp_path / "policy.yaml"
    override.write_text(
        "window: {end: '17:30'}\n"
        "overdue: {repeat_every_days: 14}\n"
        "plans:\n  LN: {reminders: {days_before: [10, 0]}}\n",
        encoding="utf-8",
    )
    policy = load_policy(override)
    assert policy.window.end.isoformat() == "17:30:00"
    assert policy.window.start.isoformat() == "09:00:00"
    assert policy.defaults.reminder_days == (30, 7, 1, 0)
    assert policy.defaults.overdue_repeat_days == 14
    assert policy.for_plan("LN").reminder_days == (10, 0)
    assert policy.for_plan("LN").overdue_repeat_days == 14  # the deployment's value carries over
    assert policy.for_plan("SR") is policy.defaults


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reminders": {"days_before": [7, "soon"]}}, "reminders.days_before[1]"),
        ({"window": {"start": "nine"}}, "window.start"),
        ({"overdue": {"escalat_day": 3}}, "overdue.escalat_day"),
        ({"acknowledgement": {"escalate_after_working_days": 2}}, "escalate_after_working_days"),
        ({"plans": {"SR": {"overdue": {"notice_day": 0}}}}, "plans.SR.overdue.notice_day"),
        ({"periodic": {"recurrences": {"每年": {"ends": ["13-01"]}}}}, "每年.ends[0]"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"overdue": {"batch_for": ["leaders", "liaisons"]}}, "overdue.batch_for[1]"),
        ({"plans": {"SR": {"overdue": {"batch_for": 3}}}}, "plans.SR.overdue.batch_for"),
        ({"overdue": {"batch_max_items": 0}}, "overdue.batch_max_items"),
    ],
)
def test_validation_errors_name_the_field(overrides, field):
    with pytest.raises(PolicyError, match=field.replace("[", r"\[").replace("]", r"\]")):
        load_policy(overrides=overrides)


def test_escalation_batching_is_on_by_default_and_can_be_switched_off_per_plan():
    policy = load_policy(overrides={"plans": {"LN": {"overdue": {"batch_for": []}}}})
    assert policy.defaults.batch_for == {"leaders", "coordinators"}
    assert policy.for_plan("LN").batch_for == frozenset()
    assert load_policy(overrides={"overdue": {"batch_for": None}}).defaults.batch_for == set()


def test_a_missing_policy_file_is_one_clear_error(tmp_path):
    with pytest.raises(PolicyError, match="policy file"):
        load_policy(tmp_path / "nope.yaml")
