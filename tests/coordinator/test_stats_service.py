"""bot.services.stats (aggregate SQL) agrees with bot.core.stats and bot.core.lights (the
definitions) on random ledgers, for every scope; plus the overviews on a hand-built one."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core import stats as core
from bot.core.lights import LightPolicy
from bot.services import stats
from bot.storage.models import Membership, Person

from .ledger import AT, POLICY, TODAY, ZONE, World, random_world


def holidays(day: date) -> bool:
    """Weekdays minus two made-up holidays, to exercise the deadline runs."""
    return day.weekday() < 5 and day not in {date(2025, 6, 16), date(2025, 6, 2)}


@pytest.fixture(params=[1, 2, 3])
async def world(request, tmp_path):
    w = await random_world(tmp_path / "w.sqlite3", request.param).write()
    yield w
    await w.engine.dispose()


@pytest.mark.parametrize("scope_kind", ["all", "plan", "unit", "allowed", "nothing"])
async def test_status_report_matches_the_definitions(world, scope_kind):
    if scope_kind == "all":
        scope, rows = stats.Scope(), world.active()
    elif scope_kind == "plan":
        scope, rows = stats.Scope(plan_id=2), world.active(plan_id=2)
    elif scope_kind == "unit":
        scope, rows = stats.Scope(unit_id=3), world.active(unit_id=3)
    elif scope_kind == "allowed":
        scope, rows = stats.Scope(plan_ids=frozenset({1})), world.active(plan_id=1)
    else:
        scope, rows = stats.Scope(plan_ids=frozenset()), []
    async with world.session_maker() as session:
        report = await stats.status_report(
            session,
            scope=scope,
            at=AT,
            zone=ZONE,
            policy=POLICY,
            ack_window=2,
            is_working_day=holidays,
            top_items=10,
        )
    expected = core.summarize(
        [world.facts(a) for a in rows], today=TODAY, ack_window=2, is_working_day=holidays
    )
    t = report.totals
    assert t.total == expected.total
    assert t.buckets == expected.buckets
    assert t.overdue == expected.overdue
    assert t.completion == expected.completion
    assert t.on_time == expected.on_time
    assert t.acknowledgement == expected.acknowledgement
    lights = Counter(world.light(a) for a in rows)
    assert t.lights == {k: lights.get(k, 0) for k in ("red", "yellow", "green", "grey")}
    per_unit = Counter(a["unit_id"] for a in rows)
    assert {u.unit_id: u.total for u in report.units} == dict(per_unit)
    overdue = sorted(
        (a for a in rows if core.is_overdue(a["status"], a["due"], TODAY)),
        key=lambda a: (a["due"], a["id"]),
    )
    assert [i.assignment_id for i in report.most_overdue] == [a["id"] for a in overdue[:10]]
    assert all(i.days_late == (TODAY - i.due).days for i in report.most_overdue)
    async with world.session_maker() as session:
        when = stats.When(AT, ZONE)
        assert await stats.count_overdue(session, scope=scope, when=when) == len(overdue)
        page = await stats.overdue_items(session, scope=scope, when=when, offset=5, limit=5)
        assert [i.assignment_id for i in page] == [a["id"] for a in overdue[5:10]]


SCOPES = {  # scope, and the filter of World.active that selects the same assignments
    "all": (stats.Scope(), {}),
    "plan": (stats.Scope(plan_id=2), {"plan_id": 2}),
    "unit": (stats.Scope(unit_id=3), {"unit_id": 3}),
}


@pytest.mark.parametrize("scope_kind", SCOPES)
async def test_acknowledgement_on_its_own_with_open_windows(world, scope_kind):
    """Some windows still open today (assigned today or yesterday): they are not judged."""
    scope, only = SCOPES[scope_kind]
    rows = world.active(**only)
    await assert_acknowledgement_matches(world, scope, rows, (0, 1, 3, 10))


async def test_empty_ledger(tmp_path):
    w = await World(tmp_path / "empty.sqlite3").write()
    async with w.session_maker() as session:
        report = await stats.status_report(
            session, scope=stats.Scope(), at=AT, zone=ZONE, policy=POLICY
        )
        assert report.totals.total == 0 and report.most_overdue == [] and report.units == []
        assert report.totals.acknowledgement == core.Rate(0, 0)
        assert await stats.plan_lines(session, when=stats.When(AT, ZONE)) == []
    await w.engine.dispose()


async def test_plans_and_units_overviews(world):
    rows = world.active()
    async with world.session_maker() as session:
        session.add(Person(id=1, telegram_id=11, name="张三", created_at=AT))
        await session.flush()
        session.add(Membership(person_id=1, role="liaison", unit_id=2, created_at=AT))
        session.add(
            Membership(person_id=1, role="liaison", unit_id=4, created_at=AT, revoked_at=AT)
        )
        await session.commit()
        plans = await stats.plan_lines(session, when=stats.When(AT, ZONE))
        assert [p.code for p in plans] == ["P1", "P2"]
        for p in plans:
            mine = world.active(plan_id=p.plan_id)
            assert p.total == len(mine)
            assert p.closed == sum(a["status"] == "closed" for a in mine)
            assert p.overdue == sum(core.is_overdue(a["status"], a["due"], TODAY) for a in mine)
        only = await stats.plan_lines(session, when=stats.When(AT, ZONE), plan_ids=frozenset({2}))
        assert [p.code for p in only] == ["P2"]
        units = await stats.unit_overview(session, when=stats.When(AT, ZONE))
    with_work = {a["unit_id"] for a in rows}
    assert {u.unit_id for u in units} == with_work
    by_id = {u.unit_id: u for u in units}
    if 2 in by_id:
        assert by_id[2].liaisons == 1
    if 4 in by_id:
        assert by_id[4].liaisons == 0  # the membership was revoked
    # units without a liaison first
    flags = [u.liaisons > 0 for u in units]
    assert flags == sorted(flags)


async def test_acknowledgement_in_several_statements(world, monkeypatch):
    """The per-run counts over the whole ledger split over several statements (a few runs
    each; the last run open-ended) add up to the same rate."""
    monkeypatch.setattr(stats, "_RUNS_PER_QUERY", 2)
    rows = world.active()
    await assert_acknowledgement_matches(world, stats.Scope(), rows, (0, 3))


async def test_the_whole_ledger_and_a_scope_of_every_plan_agree(world):
    """The whole ledger (statements over its indexes) and the scope of both plans (one pass
    over the scope's rows) are the same assignments: the reports must be the same."""
    reports = []
    async with world.session_maker() as session:
        for scope in (stats.Scope(), stats.Scope(plan_ids=frozenset({1, 2}))):
            report = await stats.status_report(
                session,
                scope=scope,
                at=AT,
                zone=ZONE,
                policy=POLICY,
                ack_window=2,
                is_working_day=holidays,
            )
            report.units.sort(key=lambda u: u.unit_id)
            reports.append(report)
    assert reports[0] == reports[1]
    assert reports[0].totals.total == len(world.active())


@pytest.mark.parametrize("scope_kind", SCOPES)
async def test_lights_under_another_policy(world, scope_kind):
    """Thresholds in another order (the yellow lag above the red one), a longer "due soon" and
    a shorter "stale report" than the defaults."""
    policy = LightPolicy(
        red_lag_points=20, yellow_lag_points=25, due_soon_days=60, stale_report_days=2
    )
    scope, only = SCOPES[scope_kind]
    async with world.session_maker() as session:
        report = await stats.status_report(
            session, scope=scope, at=AT, zone=ZONE, policy=policy, ack_window=2
        )
    want = Counter(world.light(a, policy) for a in world.active(**only))
    assert report.totals.lights == {k: want.get(k, 0) for k in ("red", "yellow", "green", "grey")}


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/Bogota"])
async def test_on_time_up_to_the_end_of_the_local_day(tmp_path, zone):
    """Finished at 23:59 local time on the original due date is on time, at 00:00 the next
    day is late: in a zone ahead of UTC, in UTC and behind it (the SQL has a branch for each
    sign of the offset)."""
    tz = ZoneInfo(zone)
    due = date(2025, 6, 10)

    def local(day: date, hour: int, minute: int) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)

    finished = [  # (reported done, closed): on time, late, on time, late, late (closed only)
        (local(due, 23, 59), local(due + timedelta(days=3), 9, 0)),
        (local(due + timedelta(days=1), 0, 0), local(due + timedelta(days=1), 9, 0)),
        (None, local(due, 23, 59)),
        (None, local(due + timedelta(days=1), 0, 0)),
        (None, local(due + timedelta(days=2), 12, 0)),
    ]
    w = World(tmp_path / "day-end.sqlite3")
    w.plans.append(
        dict(
            id=1,
            code="P1",
            title="计划",
            period_start=date(2025, 1, 1),
            period_end=date(2025, 12, 31),
            loaded_at=AT,
        )
    )
    w.tasks.append(dict(id=1, plan_id=1, ref="P1-1", title="任务", recurrence=[], position=1))
    for n, (done, closed) in enumerate(finished, start=1):
        w.units.append(dict(id=n, name=f"单位{n}"))
        w.milestones.append(dict(id=n, task_id=1, seq=n, due=due, original_due=due))
        w.assignments.append(
            dict(
                id=n,
                milestone_id=n,
                unit_id=n,
                status="closed",
                due=due,
                assigned_at=local(date(2025, 6, 2), 9, 0),
                done_reported_at=done,
                closed_at=closed,
            )
        )
    await w.write()
    when = stats.When(AT, tz)
    async with w.session_maker() as session:
        for scope in (stats.Scope(), stats.Scope(plan_id=1)):
            parts = await stats.on_time_parts(session, scope=scope, when=when)
            assert parts == stats.OnTimeParts(on_time=2, open_not_yet_due=0), scope
        for unit_id, on_time in ((1, 1), (2, 0)):
            parts = await stats.on_time_parts(
                session, scope=stats.Scope(unit_id=unit_id), when=when
            )
            assert parts.on_time == on_time, unit_id
    await w.engine.dispose()


async def test_lights_at_the_thresholds(tmp_path):
    """Lags of exactly the red and the yellow threshold, either side of them, and a window of
    no length (due on the window's first day): the SQL agrees with bot.core.lights."""
    w = World(tmp_path / "thresholds.sqlite3")
    w.plans.append(
        dict(
            id=1,
            code="P1",
            title="计划",
            period_start=TODAY - timedelta(days=10),
            period_end=date(2025, 12, 31),
            loaded_at=AT,
        )
    )
    w.plans.append(
        dict(
            id=2,
            code="P2",
            title="计划",
            period_start=TODAY,
            period_end=date(2025, 12, 31),
            loaded_at=AT,
        )
    )
    # Plan 1: half of a 20-day window has passed (50 %); plan 2: due on its first day (100 %).
    for plan_id in (1, 2):
        due = TODAY + timedelta(days=10) if plan_id == 1 else TODAY
        w.tasks.append(
            dict(
                id=plan_id,
                plan_id=plan_id,
                ref=f"P{plan_id}-1",
                title="任务",
                recurrence=[],
                position=1,
            )
        )
        w.milestones.append(
            dict(
                id=plan_id,
                task_id=plan_id,
                seq=0,
                due=due,
                original_due=due,
                window_start=None if plan_id == 1 else TODAY,
            )
        )
    expected = {  # (plan, progress): light (POLICY: red above 30 points, yellow from 10)
        (1, 19): "red",
        (1, 20): "yellow",
        (1, 40): "yellow",
        (1, 41): "green",
        (2, 69): "red",
        (2, 70): "yellow",
        (2, 90): "yellow",
        (2, 91): "green",
    }
    for n, (plan_id, progress) in enumerate(expected, start=1):
        w.units.append(dict(id=n, name=f"单位{n}"))
        w.assignments.append(
            dict(
                id=n,
                milestone_id=plan_id,
                unit_id=n,
                status="in_progress",
                progress=progress,
                due=w.milestones[plan_id - 1]["due"],
                assigned_at=AT - timedelta(days=30),
                acknowledged_at=AT - timedelta(days=29),
                last_report_at=AT,
            )
        )
    await w.write()
    assert [w.light(a) for a in w.assignments] == list(expected.values())
    async with w.session_maker() as session:
        for scope, rows in [
            (stats.Scope(), w.assignments),
            (stats.Scope(plan_id=2), w.assignments[4:]),
            (stats.Scope(unit_id=2), w.assignments[1:2]),
        ]:
            lights = await stats.live_lights(
                session, scope=scope, when=stats.When(AT, ZONE), policy=POLICY
            )
            want = Counter(w.light(a) for a in rows)
            assert lights == {k: want.get(k, 0) for k in ("red", "yellow", "green")}, scope
    await w.engine.dispose()


async def test_unit_names_short_unless_shared(tmp_path):
    """The short name, unless another unit (asked about or not) has the same short name, or
    there is none."""
    w = World(tmp_path / "names.sqlite3")
    w.units += [
        dict(id=1, name="上饶市卫生健康委员会", short_name="市卫健委"),
        dict(id=2, name="赣州市卫生健康委员会", short_name="市卫健委"),
        dict(id=3, name="上饶市财政局", short_name="市财政局"),
        dict(id=4, name="上饶市医疗保障局", short_name=""),
    ]
    await w.write()
    async with w.session_maker() as session:
        assert await stats.unit_names(session, [1, 3, 4, 4]) == {
            1: "上饶市卫生健康委员会",
            3: "市财政局",
            4: "上饶市医疗保障局",
        }
        assert await stats.unit_names(session, []) == {}
    await w.engine.dispose()


async def assert_acknowledgement_matches(world, scope, rows, windows) -> None:
    """stats.acknowledgement over `scope` equals core.acknowledgement_rate of its `rows`."""
    async with world.session_maker() as session:
        for window in windows:
            got = await stats.acknowledgement(
                session,
                scope=scope,
                when=stats.When(AT, ZONE),
                window=window,
                is_working_day=holidays,
            )
            want = core.acknowledgement_rate(
                (core.AckGroup(world.facts(a).assigned_on, world.facts(a).acked_on) for a in rows),
                today=TODAY,
                window=window,
                is_working_day=holidays,
            )
            assert got == want, window
