"""bot.services.ranking (one grouped statement) agrees with bot.core.stats (the definitions)
and bot.core.ranking on random ledgers, for every scope; its sums are /status's rates."""

from __future__ import annotations

from collections import defaultdict

import pytest

from bot.core import stats as core
from bot.core.ranking import UnitScore, rank_units
from bot.core.roles import Roles
from bot.services import ranking, stats

from .ledger import AT, POLICY, TODAY, ZONE, random_world
from .test_stats_service import holidays


@pytest.fixture(params=[1, 2, 3])
async def world(request, tmp_path):
    w = await random_world(tmp_path / "w.sqlite3", request.param).write()
    yield w
    await w.engine.dispose()


def expected_ranking(world, rows):
    per_unit = defaultdict(list)
    for a in rows:
        per_unit[a["unit_id"]].append(world.facts(a))
    names = {u["id"]: u["short_name"] or u["name"] for u in world.units}
    scores = []
    for unit_id, facts in per_unit.items():
        s = core.summarize(facts, today=TODAY, ack_window=2, is_working_day=holidays)
        scores.append(
            UnitScore(
                unit_id,
                names[unit_id],
                s.total,
                s.buckets[core.BUCKET_CLOSED],
                s.overdue,
                s.on_time,
                s.acknowledgement,
            )
        )
    return rank_units(scores)


@pytest.mark.parametrize("scope_kind", ["all", "plan", "unit", "allowed", "both", "nothing"])
async def test_unit_ranking_matches_the_definitions(world, scope_kind):
    scope, rows = {
        "all": (stats.Scope(), world.active()),
        "plan": (stats.Scope(plan_id=2), world.active(plan_id=2)),
        "unit": (stats.Scope(unit_id=3), world.active(unit_id=3)),
        "allowed": (stats.Scope(plan_ids=frozenset({1})), world.active(plan_id=1)),
        "both": (stats.Scope(plan_ids=frozenset({1, 2})), world.active()),
        "nothing": (stats.Scope(plan_ids=frozenset()), []),
    }[scope_kind]
    async with world.session_maker() as session:
        result = await ranking.unit_ranking(
            session, scope=scope, at=AT, zone=ZONE, ack_window=2, is_working_day=holidays
        )
        report = await stats.status_report(
            session,
            scope=scope,
            at=AT,
            zone=ZONE,
            policy=POLICY,
            ack_window=2,
            is_working_day=holidays,
        )
    assert result.rows == expected_ranking(world, rows)
    # a unit with items in both plans is one line over all of them
    assert len({r.unit_id for r in result.rows}) == len(result.rows)
    # the sums are /status's numbers for the same scope
    assert result.on_time == report.totals.on_time
    assert result.acknowledgement == report.totals.acknowledgement
    assert result.overdue == report.totals.overdue
    assert result.total == report.totals.total
    assert result.today == TODAY


async def test_scope_plans_and_reach_of_a_leader(world):
    async with world.session_maker() as session:
        plans = await ranking.scope_plans(session, stats.Scope(plan_id=2))
        assert [p.code for p in plans] == ["P2"]
        every = await ranking.scope_plans(session, stats.Scope())
        assert [p.code for p in every] == ["P1", "P2"]
        assert await ranking.scorecard_plan_ids(session, Roles(coordinator_all=True)) is None
        coordinator = Roles(coordinator_plan_ids=frozenset({1}))
        assert await ranking.scorecard_plan_ids(session, coordinator) == {1}
        unit_plans = {
            t["plan_id"]
            for a in world.active(unit_id=3)
            for m in world.milestones
            if m["id"] == a["milestone_id"]
            for t in world.tasks
            if t["id"] == m["task_id"]
        }
        leader = Roles(leader_unit_ids=frozenset({3}))
        assert await ranking.scorecard_plan_ids(session, leader) == unit_plans
        assert await ranking.scorecard_plan_ids(session, Roles()) == frozenset()
