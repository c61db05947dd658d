"""Milestone.window_start (the lights' window start, read by bot.services.stats) is kept by the
loader: after every load it equals the definition (latest due of the active milestones before,
else the plan's first day), through due moves, archives and restores."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import select

from bot.storage.db import create_all, make_engine, make_session_maker
from bot.storage.loader import load_plans
from bot.storage.models import Milestone, Plan, Task
from tests.dbs import database_url
from tests.storage.conftest import AT, FINANCE, HEALTH, FakeDirectory, item, make_plan


async def _check(session_maker) -> int:  # type: ignore[no-untyped-def]
    async with session_maker() as session:
        rows = (await session.exec(select(Milestone, Task.plan_id).join(Task))).all()
        starts = {p.id: p.period_start for p in (await session.exec(select(Plan))).all()}
    for m, plan_id in rows:
        earlier = [
            o.due
            for o, _ in rows
            if o.task_id == m.task_id and o.seq < m.seq and o.archived_at is None
        ]
        assert m.window_start == (max(earlier) if earlier else starts[plan_id]), m
    return len(rows)


async def test_loader_keeps_window_start(tmp_path: Path) -> None:
    engine = make_engine(database_url(tmp_path / "ws.sqlite3"))
    await create_all(engine)
    session_maker = make_session_maker(engine)
    directory = FakeDirectory()
    steps = [
        [date(2024, 12, 31), date(2023, 12, 31), date(2025, 6, 30)],  # not in date order
        [date(2024, 6, 30)],  # later milestones archived
        [date(2024, 6, 30), date(2025, 3, 31)],  # one restored, with a new due
        [date(2023, 9, 30), date(2025, 3, 31), date(2025, 12, 31)],
    ]
    for n, dues in enumerate(steps):
        plan = make_plan(
            items=[item("SR-1", [HEALTH, FINANCE], dues), item("SR-2", [HEALTH], dues[:1])]
        )
        if n == 3:  # the plan's first day moves
            plan = dataclasses.replace(
                plan, info=dataclasses.replace(plan.info, start=date(2023, 6, 1))
            )
        await load_plans(session_maker, [plan], directory, at=AT + timedelta(days=n))
        assert await _check(session_maker) >= len(dues)
    await engine.dispose()
