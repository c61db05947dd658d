"""The tick that reads only what is due writes exactly the Outbox the full recomputation writes.

Two copies of the same random ledger (items due around the clock's start, some recurring, some
not acknowledged; a unit with nobody bound) live through the same random story: the clock
walks (minutes to weeks, through nights and holidays), liaisons report, 签收, extensions are
approved, completions are sent back (退回) or confirmed, people are bound. One copy is planned
with `plan_due(full=True)` (every open assignment, every tick: the reference), the other with
the production tick (`plan_due`: only the rows whose next instant has come). After every tick
both Outboxes hold the same keys. The changes go through the ORM as the services make them, so
the test also proves that they keep the next instants current (bot.storage.next_at).
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.core.policy import load_policy
from bot.services.planning import plan_due
from bot.storage.models import (
    BLOCKED,
    CLOSED,
    DONE_REPORTED,
    IN_PROGRESS,
    NOT_STARTED,
    ROLE_LIAISON,
    Assignment,
    Outbox,
    StageMark,
)
from tests.dbs import on_postgres
from tests.schedules.sched_world import T0, World, staffed_world

POLICY = load_policy()
UNITS = ("市卫健委", "市财政局", "市人社局")  # 市人社局: nobody bound at first

items = st.lists(
    st.tuples(
        st.integers(-40, 60),  # due, days after the start
        st.sets(st.sampled_from(UNITS), min_size=1, max_size=3),
        st.booleans(),  # acknowledged
        st.booleans(),  # recurring (每年)
    ),
    min_size=1,
    max_size=6,
)
events = st.lists(
    st.tuples(
        st.sampled_from((30, 60, 240, 1000, 1440, 2880, 10080)),  # minutes to advance
        st.sampled_from(
            ("none", "none", "report", "ack", "extend", "done", "return", "close", "bind")
        ),
        st.integers(0, 50),  # which assignment
    ),
    min_size=1,
    max_size=25,
)


async def _build(path: Path, spec: list) -> World:
    world = await staffed_world(path)
    for n, (days, units, acked, recurring) in enumerate(spec):
        await world.item(
            f"SR-{n + 1}",
            T0.date() + timedelta(days=days),
            sorted(units),
            acknowledged=acked,
            recurrence=["每年"] if recurring else None,
        )
    return world


async def _keys(world: World) -> set[str]:
    """The Outbox's keys and the marks of stages that went only into summaries or lists."""
    async with world.session_maker() as s:
        rows = set((await s.exec(select(Outbox.key))).all())
        marks = {f"mark {m.key}" for m in (await s.exec(select(StageMark))).all()}
    return rows | marks


async def _apply(world: World, event: str, which: int, today: date) -> None:
    async with world.session_maker() as s:
        ids = sorted((await s.exec(select(Assignment.id))).all())
    aid = ids[which % len(ids)]
    if event == "bind":
        if "人社联络" not in world.people:
            await world.person("人社联络", ROLE_LIAISON, unit="市人社局")
        return
    changes = {
        "report": {"status": IN_PROGRESS, "acknowledged_at": T0},
        "ack": {"acknowledged_at": T0},
        "extend": {"due": today + timedelta(days=20)},
        "done": {"status": DONE_REPORTED},
        "return": {"status": NOT_STARTED},
        "close": {"status": CLOSED},
        "blocked": {"status": BLOCKED},
    }[event]
    await world.update(aid, **changes)


async def _story(folder: Path, spec: list, story: list) -> None:
    full = await _build(folder / "full.sqlite3", spec)
    incremental = await _build(folder / "incremental.sqlite3", spec)
    try:
        at = T0
        for minutes, event, which in story:
            await plan_due(full.session_maker, at, POLICY, full=True, digests=False)
            await plan_due(incremental.session_maker, at, POLICY, digests=False)
            assert await _keys(incremental) == await _keys(full), at
            if event != "none":
                today = at.astimezone(POLICY.zone).date()
                await _apply(full, event, which, today)
                await _apply(incremental, event, which, today)
            at += timedelta(minutes=minutes)
    finally:
        await full.engine.dispose()
        await incremental.engine.dispose()


@pytest.mark.skipif(
    on_postgres(), reason="the reference (the full recomputation's SQL) is SQLite's"
)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(items, events)
def test_the_incremental_tick_writes_what_the_full_recomputation_writes(spec, story):
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_story(Path(folder), spec, story))
