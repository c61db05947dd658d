"""The pure statistics: every classifier on small exhaustive cases, the rates, the ranking."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from bot.core import stats as s
from bot.core.status import BLOCKED, CLOSED, DONE_REPORTED, IN_PROGRESS, NOT_STARTED, STATUSES

TODAY = date(2025, 6, 18)  # a Wednesday
D = timedelta(days=1)


def test_rate_keeps_its_parts_and_zero_over_zero_is_unknown():
    assert s.Rate(0, 0).value is None and s.Rate(0, 0).percent is None
    assert s.Rate(1, 4).value == 0.25 and s.Rate(1, 4).percent == 25.0
    assert s.Rate(1, 2) + s.Rate(2, 3) == s.Rate(3, 5)


def test_buckets_cover_every_status_once():
    assert {s.bucket_of(st) for st in STATUSES} == set(s.BUCKETS)
    assert s.bucket_of(CLOSED) == s.BUCKET_CLOSED
    assert s.bucket_of(DONE_REPORTED) == s.BUCKET_AWAITING
    assert s.bucket_of(IN_PROGRESS) == s.bucket_of(BLOCKED) == s.BUCKET_IN_PROGRESS
    assert s.bucket_of(NOT_STARTED) == s.BUCKET_NOT_STARTED


@pytest.mark.parametrize(("status", "offset"), list(itertools.product(STATUSES, (-3, -1, 0, 1))))
def test_overdue_is_open_and_past_due(status, offset):
    due = TODAY + offset * D
    expected = status in (NOT_STARTED, IN_PROGRESS, BLOCKED) and offset < 0
    assert s.is_overdue(status, due, TODAY) is expected


@pytest.mark.parametrize(
    ("status", "done", "closed", "expected"),
    [
        (CLOSED, TODAY - 2 * D, TODAY + 5 * D, True),  # reported in time, confirmed late: on time
        (CLOSED, TODAY, TODAY, True),  # on the due day itself
        (CLOSED, TODAY + D, TODAY + D, False),
        (CLOSED, None, TODAY - D, True),  # no report: the day of 办结 counts
        (CLOSED, None, TODAY + D, False),
        (CLOSED, None, None, False),
        (DONE_REPORTED, TODAY - D, None, False),  # not closed yet
        (IN_PROGRESS, None, None, False),
    ],
)
def test_on_time_uses_the_report_day_against_the_original_due(status, done, closed, expected):
    assert s.is_on_time(status, TODAY, done, closed) is expected


@pytest.mark.parametrize(("status", "offset"), list(itertools.product(STATUSES, (-1, 0, 1))))
def test_on_time_denominator_is_closed_or_originally_due_before_today(status, offset):
    expected = status == CLOSED or offset < 0
    assert s.counts_for_on_time(status, TODAY + offset * D, TODAY) is expected


def test_days_late():
    assert s.days_late(IN_PROGRESS, TODAY - 5 * D, TODAY) == 5
    assert s.days_late(IN_PROGRESS, TODAY + 5 * D, TODAY) == 0
    assert s.days_late(NOT_STARTED, TODAY, TODAY) == 0
    # finished items stop counting on the day they were finished
    assert s.days_late(CLOSED, TODAY - 5 * D, TODAY, TODAY - 3 * D, TODAY - D) == 2
    assert s.days_late(DONE_REPORTED, TODAY - 5 * D, TODAY, TODAY - 6 * D) == 0
    assert s.days_late(CLOSED, TODAY - 5 * D, TODAY, None, TODAY - 4 * D) == 1


def test_working_days_skip_weekends_and_holidays():
    friday = date(2025, 6, 20)
    assert s.add_working_days(friday, 0) == friday
    assert s.add_working_days(friday, 1) == date(2025, 6, 23)
    assert s.add_working_days(friday, 2) == date(2025, 6, 24)
    holiday = {date(2025, 6, 23)}
    assert s.add_working_days(friday, 1, lambda d: d.weekday() < 5 and d not in holiday) == (
        date(2025, 6, 24)
    )
    with pytest.raises(ValueError):
        s.add_working_days(friday, -1)


def test_ack_outcome_exhaustive_small_window():
    monday = date(2025, 6, 16)
    for window in range(4):
        deadline = s.ack_deadline(monday, window)
        assert deadline == monday + window * D  # no weekend inside Mon..Thu
        for ack_offset in (None, 0, 1, 2, 3, 4, 5):
            acked = None if ack_offset is None else monday + ack_offset * D
            for today_offset in range(0, 7):
                today = monday + today_offset * D
                if acked is not None and acked > today:
                    continue  # cannot acknowledge in the future
                timely, counted = s.ack_outcome(monday, acked, today, window)
                assert timely is (acked is not None and acked <= deadline)
                assert counted is (timely or deadline < today)


def test_acknowledgement_rate_counts_only_judged_items():
    friday = date(2025, 6, 20)
    groups = [
        s.AckGroup(friday, friday, 3),  # same day: timely
        s.AckGroup(friday, date(2025, 6, 23), 2),  # Monday: within 1 working day
        s.AckGroup(friday, date(2025, 6, 24), 1),  # Tuesday: late
        s.AckGroup(friday, None, 4),  # never: window over on Tuesday → counted
    ]
    rate = s.acknowledgement_rate(groups, today=date(2025, 6, 24), window=1)
    assert rate == s.Rate(5, 10)
    # on Monday the window is still open: the 4 silent ones are not judged yet
    rate = s.acknowledgement_rate(groups[:2] + groups[3:], today=date(2025, 6, 23), window=1)
    assert rate == s.Rate(5, 5)


def test_summarize_reference():
    items = [
        s.ItemFacts(
            CLOSED, TODAY - D, TODAY - D, TODAY - 30 * D, TODAY - 29 * D, TODAY - 2 * D, TODAY - D
        ),
        s.ItemFacts(
            CLOSED, TODAY + 60 * D, TODAY - 5 * D, TODAY - 30 * D, None, TODAY - D, TODAY
        ),  # extended, finished after the original date: late
        s.ItemFacts(IN_PROGRESS, TODAY - 3 * D, TODAY - 3 * D, TODAY - 30 * D, TODAY - 20 * D),
        s.ItemFacts(NOT_STARTED, TODAY + 10 * D, TODAY + 10 * D, TODAY - D),
        s.ItemFacts(
            DONE_REPORTED, TODAY - D, TODAY - D, TODAY - 30 * D, TODAY - 30 * D, TODAY - 2 * D
        ),
    ]
    out = s.summarize(items, today=TODAY, ack_window=2)
    assert out.total == 5
    assert out.buckets == {"closed": 2, "awaiting": 1, "in_progress": 1, "not_started": 1}
    assert out.overdue == 1
    assert out.completion == s.Rate(2, 5)
    assert out.on_time == s.Rate(1, 4)  # the NOT_STARTED one is not due yet
    # acked in time: #1 (1 day), #5 (same day); late: #3 (10 days); #2 never, window over;
    # #4 assigned yesterday, window still open → not judged
    assert out.acknowledgement == s.Rate(2, 4)
