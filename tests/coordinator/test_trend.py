"""The trend from history: the last point is /status's counts; earlier points read the
assignments' events back (status changes, due dates moved by an extension)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert

from bot.core.status import CLOSED, DONE_REPORTED, IN_PROGRESS, NOT_STARTED
from bot.services import stats, trend
from bot.storage.models import StatusEvent

from .ledger import AT, POLICY, ZONE, World, instant, random_world


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("period", ["week", "month"])
async def test_the_last_point_is_the_status_of_now(tmp_path, seed, period):
    world = await random_world(tmp_path / "w.sqlite3", seed).write()
    try:
        for scope in (stats.Scope(), stats.Scope(plan_id=1)):
            async with world.session_maker() as session:
                result = await trend.trend(session, scope=scope, at=AT, zone=ZONE, period=period)
                report = await stats.status_report(
                    session, scope=scope, at=AT, zone=ZONE, policy=POLICY
                )
            last = result.points[-1]
            assert last.end == AT
            assert last.closed == report.totals.buckets["closed"]
            assert last.overdue == report.totals.overdue
            if period == "week":  # assigned from 2024-11-30 on: more weeks than are drawn
                assert len(result.points) == trend.MAX_POINTS
            starts = [p.start for p in result.points]
            assert starts == sorted(starts)
    finally:
        await world.engine.dispose()


def test_periods():
    assert trend.period_start(date(2025, 6, 18), "week") == date(2025, 6, 16)
    assert trend.period_start(date(2025, 6, 18), "month") == date(2025, 6, 1)
    assert trend.next_period(date(2025, 12, 1), "month") == date(2026, 1, 1)
    assert trend.period_starts(date(2025, 5, 30), date(2025, 6, 18), "week") == [
        date(2025, 5, 26),
        date(2025, 6, 2),
        date(2025, 6, 9),
        date(2025, 6, 16),
    ]


async def test_history_is_read_back_from_events(tmp_path):
    loaded = instant(date(2025, 5, 5))
    w = World(tmp_path / "h.sqlite3")
    w.plans.append(
        dict(
            id=1,
            code="H",
            title="计划",
            period_start=date(2025, 1, 1),
            period_end=date(2025, 12, 31),
            loaded_at=AT,  # reloaded since: the assignments say when it came
        )
    )
    w.units.append(dict(id=1, name="单位", short_name=""))
    w.tasks.append(
        dict(id=1, plan_id=1, ref="H-1", title="任务", position=1, section="", recurrence=[])
    )
    base = dict(role="lead", assigned_at=loaded, archived_at=None, progress=None)
    never = dict(closed_at=None, done_reported_at=None)
    w.milestones += [
        dict(id=1, task_id=1, seq=0, due=date(2025, 5, 20), original_due=date(2025, 5, 20)),
        dict(id=2, task_id=1, seq=1, due=date(2025, 5, 20), original_due=date(2025, 5, 20)),
    ]
    # 1: extended on 5-16 to 6-30, reported done 6-10, returned 6-11, closed 6-17
    # 2: never touched: overdue since 5-21
    w.assignments += [
        dict(id=1, milestone_id=1, unit_id=1, status=CLOSED, due=date(2025, 6, 30), **base)
        | dict(closed_at=instant(date(2025, 6, 17)), done_reported_at=None),
        dict(id=2, milestone_id=2, unit_id=1, status=NOT_STARTED, due=date(2025, 5, 20), **base)
        | never,
    ]
    await w.write()

    def event(aid, day, old, new, due_before=None, due_after=None):
        return dict(
            assignment_id=aid,
            at=instant(day),
            kind="status",
            old_status=old,
            new_status=new,
            due_before=due_before,
            due_after=due_after,
        )

    async with w.engine.begin() as conn:
        await conn.execute(
            insert(StatusEvent.__table__),
            [
                event(
                    1,
                    date(2025, 5, 16),
                    NOT_STARTED,
                    IN_PROGRESS,
                    date(2025, 5, 20),
                    date(2025, 6, 30),
                ),
                event(1, date(2025, 6, 10), IN_PROGRESS, DONE_REPORTED),
                event(1, date(2025, 6, 11), DONE_REPORTED, IN_PROGRESS),
                event(1, date(2025, 6, 17), IN_PROGRESS, CLOSED),
            ],
        )
    try:
        async with w.session_maker() as session:
            result = await trend.trend(session, scope=stats.Scope(), at=AT, zone=ZONE)
        assert result.since == date(2025, 5, 5)
        got = [(p.start.isoformat(), p.closed, p.overdue) for p in result.points]
        assert got == [
            ("2025-05-05", 0, 0),
            ("2025-05-12", 0, 0),
            ("2025-05-19", 0, 1),  # only the untouched one: the other was extended
            ("2025-05-26", 0, 1),
            ("2025-06-02", 0, 1),
            ("2025-06-09", 0, 1),
            ("2025-06-16", 1, 1),  # closed on 6-17 (AT is 6-18)
        ]
        assert result.points[-1].end == AT
        assert result.points[0].end == datetime(2025, 5, 11, 16, 0, tzinfo=UTC)
    finally:
        await w.engine.dispose()
