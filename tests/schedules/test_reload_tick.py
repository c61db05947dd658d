"""A reloaded plan: the tick that reads only what is due still writes exactly the Outbox the
full recomputation writes.

Like tests/schedules/test_incremental_tick.py, two copies of the same ledger live through the
same random story, one planned with `plan_due(full=True)` (the reference), the other with the
production tick; here the story edits the plan and reloads it through the loader
(bot.storage.loader): deadlines move, recurrences change, units are dropped and added, items
are removed and come back, titles change, the plan's period ends sooner or later. The loader
makes the tick recompute only what it changed (bot.storage.next_at); this proves that what it
leaves alone could not have moved (tests/storage/test_loader_next_at.py says what it touches).
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.core.plan import Item, Milestone, Plan, PlanInfo, UnitRef
from bot.core.policy import load_policy
from bot.services.planning import plan_due
from bot.storage.loader import load_plans
from bot.storage.models import Outbox, StageMark
from tests.dbs import on_postgres
from tests.schedules.sched_world import PLAN, T0, World, staffed_world

POLICY = load_policy()
UNITS = ("上饶市卫健委", "上饶市财政局", "上饶市人社局")  # 人社局: nobody bound
RECURRENCES: tuple[tuple[str, ...], ...] = ((), ("每月",), ("每季度",), ("每年",))
ENDS = (date(2025, 12, 31), T0.date() + timedelta(days=25))  # the plan's period ends

items = st.lists(
    st.tuples(
        st.integers(-40, 60),  # due, days after the start
        st.sets(st.sampled_from(UNITS), min_size=1, max_size=3),
        st.sampled_from(RECURRENCES),
    ),
    min_size=1,
    max_size=5,
)
edits = st.lists(
    st.tuples(
        st.sampled_from((60, 240, 1440, 2880, 10080)),  # minutes to advance
        st.sampled_from(
            ("none", "move", "recur", "drop", "add", "remove", "back", "title", "period")
        ),
        st.integers(0, 20),  # which item
        st.integers(-20, 30),  # days a deadline moves
    ),
    min_size=1,
    max_size=12,
)


def _plan(spec: list[dict[str, Any]], end: date) -> Plan:
    info = PlanInfo(
        code=PLAN,
        title="上饶市 <实施意见>",
        issuer="",
        issued=date(2023, 1, 1),
        start=date(2023, 1, 1),
        end=end,
        source="",
    )
    tasks = [
        Item(
            ref=f"SR-{n + 1}",
            number=str(n + 1),
            section="",
            title=entry["title"],
            text="",
            units=[
                UnitRef(u, u, "lead" if i == 0 else "co") for i, u in enumerate(entry["units"])
            ],
            milestones=[Milestone(due=entry["due"])],
            recurrence=list(entry["recurrence"]),
        )
        for n, entry in enumerate(spec)
        if not entry["removed"]
    ]
    return Plan(info=info, tasks=tasks)


def _edit(spec: list[dict[str, Any]], kind: str, which: int, days: int) -> bool:
    """Apply one edit to `spec`; False when it changes nothing."""
    entry = spec[which % len(spec)]
    if kind == "move":
        entry["due"] += timedelta(days=days or 1)
    elif kind == "recur":
        entry["recurrence"] = RECURRENCES[(RECURRENCES.index(entry["recurrence"]) + 1) % 4]
    elif kind == "drop" and len(entry["units"]) > 1:
        entry["units"] = entry["units"][:-1]
    elif kind == "add" and len(entry["units"]) < len(UNITS):
        entry["units"] = [*entry["units"], next(u for u in UNITS if u not in entry["units"])]
    elif kind == "remove":
        entry["removed"] = True
    elif kind == "back":
        entry["removed"] = False
    elif kind == "title":
        entry["title"] += "（修订）"
    else:
        return kind == "period"
    return True


async def _keys(world: World) -> set[str]:
    async with world.session_maker() as s:
        rows = set((await s.exec(select(Outbox.key))).all())
        marks = {f"mark {m.key}" for m in (await s.exec(select(StageMark))).all()}
    return rows | marks


async def _story(folder: Path, items_spec: list, story: list) -> None:
    spec = [
        {
            "due": T0.date() + timedelta(days=days),
            "units": sorted(units),
            "recurrence": recurrence,
            "removed": False,
            "title": f"任务 {n}",
        }
        for n, (days, units, recurrence) in enumerate(items_spec)
    ]
    end = ENDS[0]
    worlds = [
        await staffed_world(folder / "full.sqlite3"),
        await staffed_world(folder / "incremental.sqlite3"),
    ]
    try:
        at = T0
        for world in worlds:
            await load_plans(world.session_maker, [_plan(spec, end)], None, at=at)
        for minutes, kind, which, days in story:
            await plan_due(worlds[0].session_maker, at, POLICY, full=True, digests=False)
            await plan_due(worlds[1].session_maker, at, POLICY, digests=False)
            assert await _keys(worlds[1]) == await _keys(worlds[0]), (at, kind)
            if _edit(spec, kind, which, days):
                if kind == "period":
                    end = ENDS[1] if end == ENDS[0] else ENDS[0]
                for world in worlds:
                    await load_plans(world.session_maker, [_plan(spec, end)], None, at=at)
            at += timedelta(minutes=minutes)
        await plan_due(worlds[0].session_maker, at, POLICY, full=True, digests=False)
        await plan_due(worlds[1].session_maker, at, POLICY, digests=False)
        assert await _keys(worlds[1]) == await _keys(worlds[0]), at
    finally:
        for world in worlds:
            await world.engine.dispose()


@pytest.mark.skipif(
    on_postgres(), reason="the reference (the full recomputation's SQL) is SQLite's"
)
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(items, edits)
def test_the_incremental_tick_after_reloads_writes_what_the_full_recomputation_writes(
    items_spec, story
):
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_story(Path(folder), items_spec, story))
