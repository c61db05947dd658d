"""bot.services.stats (aggregate SQL) agrees with bot.core.stats and bot.core.lights (the
definitions) on random ledgers, for every scope; plus the overviews on a hand-built one."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from bot.core import stats as core
from bot.services import stats
from bot.storage.models import Membership, Person

from .ledger import AT, POLICY, TODAY, ZONE, random_world


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
            session, scope=scope, at=AT, zone=ZONE, policy=POLICY, ack_window=2,
            is_working_day=holidays, top_items=10,
        )  # fmt: skip
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


async def test_acknowledgement_on_its_own_with_open_windows(world):
    """Some windows still open today (assigned today or yesterday): they are not judged."""
    rows = world.active()
    async with world.session_maker() as session:
        for window in (0, 1, 3, 10):
            got = await stats.acknowledgement(
                session, scope=stats.Scope(), when=stats.When(AT, ZONE), window=window,
                is_working_day=holidays,
            )  # fmt: skip
            want = core.acknowledgement_rate(
                (core.AckGroup(world.facts(a).assigned_on, world.facts(a).acked_on) for a in rows),
                today=TODAY, window=window, is_working_day=holidays,
            )  # fmt: skip
            assert got == want, window


async def test_empty_ledger(tmp_path):
    from .ledger import World

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
        session.add(Membership(person_id=1, role="liaison", unit_id=4, created_at=AT,
                               revoked_at=AT))  # fmt: skip
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
    async with world.session_maker() as session:
        for window in (0, 3):
            got = await stats.acknowledgement(
                session, scope=stats.Scope(), when=stats.When(AT, ZONE), window=window,
                is_working_day=holidays,
            )  # fmt: skip
            want = core.acknowledgement_rate(
                (core.AckGroup(world.facts(a).assigned_on, world.facts(a).acked_on) for a in rows),
                today=TODAY, window=window, is_working_day=holidays,
            )  # fmt: skip
            assert got == want, window
