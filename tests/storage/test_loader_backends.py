"""The loader writes the same rows on PostgreSQL (COPY and UPDATE … FROM unnest) as on SQLite
(executemany). Runs in the PostgreSQL run of the suite (TEST_DATABASE_URL), where it loads the
same plans into an SQLite file and into the PostgreSQL database side by side."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlmodel import select

from bot.core.plan import Milestone, Plan
from bot.storage.db import SessionMaker, create_all, make_engine, make_session_maker
from bot.storage.loader import load_plans
from bot.storage.models import Assignment, PlanEvent, StatusEvent, Task, Unit
from bot.storage.models import Milestone as MilestoneRow
from bot.storage.models import Plan as PlanRow
from tests.dbs import database_url, on_postgres, sqlite_url

from .conftest import AT, DRC, FINANCE, GROUP, HEALTH, FakeDirectory, item, make_plan

pytestmark = pytest.mark.skipif(not on_postgres(), reason="compares PostgreSQL with SQLite")

ASSIGNMENT = Assignment.__table__  # type: ignore[attr-defined]
MODELS = (PlanRow, Unit, Task, MilestoneRow, Assignment, StatusEvent, PlanEvent)
UNITS = [HEALTH, FINANCE, DRC, GROUP, "市不存在局"]


def big_plan(n: int = 120) -> Plan:
    """`make_plan()` and `n` more items of 1–3 milestones and 1–3 units (groups, unknowns)."""
    plan = make_plan()
    for i in range(n):
        units = [UNITS[(i + k) % len(UNITS)] for k in range(1 + i % 3)]
        dues = [date(2024, 1 + (i + k) % 12, 28) for k in range(1 + i % 3)]
        plan.tasks.append(item(f"SR-X{i}", units, dues, title=f'任务 {i}\'s "标题"\t'))
    return plan


def changed(plan: Plan) -> Plan:
    """Titles changed, one item gone, deadlines moved, a milestone and a unit more, new items."""
    plan = dataclasses.replace(plan, tasks=list(plan.tasks))
    tasks = plan.tasks
    for index in range(3, len(tasks), 4):
        tasks[index] = dataclasses.replace(tasks[index], title=tasks[index].title + "（修订）")
    for index in range(5, len(tasks), 7):
        first = tasks[index].milestones[0]
        moved = dataclasses.replace(first, due=first.due + timedelta(days=45), phrase="推迟")
        tasks[index] = dataclasses.replace(
            tasks[index], milestones=[moved, *tasks[index].milestones[1:]]
        )
    for index in range(6, len(tasks), 9):
        extra = Milestone(due=date(2026, 3, 31), phrase="2026年一季度", target="")
        units = [*tasks[index].units, item("x", [DRC], []).units[0]]
        tasks[index] = dataclasses.replace(
            tasks[index], milestones=[*tasks[index].milestones, extra], units=units
        )
    del tasks[2]
    tasks.append(item("SR-NEW", [FINANCE, HEALTH], [date(2025, 3, 31)]))
    return plan


async def _maker(url: str) -> AsyncIterator[SessionMaker]:
    engine = make_engine(url)
    await create_all(engine)
    yield make_session_maker(engine)
    await engine.dispose()


@pytest.fixture
async def lite(tmp_path: Path) -> AsyncIterator[SessionMaker]:
    async for maker in _maker(sqlite_url(tmp_path / "lite.sqlite3")):
        yield maker


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[SessionMaker]:
    async for maker in _maker(database_url(tmp_path / "pg")):
        yield maker


async def snapshot(session_maker: SessionMaker) -> dict[str, list[dict[str, Any]]]:
    out = {}
    async with session_maker() as session:
        for model in MODELS:
            rows = (await session.exec(select(model).order_by(model.id))).all()  # type: ignore[attr-defined]
            out[model.__name__] = [r.model_dump() for r in rows]
    return out


async def test_postgres_writes_the_rows_sqlite_writes(lite, pg):
    directory = FakeDirectory()
    first, second = big_plan(), changed(big_plan())
    steps: list[tuple[list[Plan], Any]] = [
        ([first, make_plan("LN")], AT),
        ([second], AT + timedelta(days=10)),  # updates, archives, due changes, new rows
        ([first], AT + timedelta(days=20)),  # restores
    ]
    for plans, at in steps:
        for maker in (lite, pg):
            await load_plans(maker, plans, directory, at=at)
            async with maker() as session, session.begin():  # instants the tick would set
                conn = await session.connection()
                await conn.execute(
                    update(ASSIGNMENT).where(ASSIGNMENT.c.id % 2 == 0).values(next_at=at)
                )
        on_sqlite, on_pg = await snapshot(lite), await snapshot(pg)
        for model in MODELS:
            name = model.__name__
            assert on_pg[name] == on_sqlite[name], f"{name} differs after loading at {at}"
    assert {e["kind"] for e in on_pg["StatusEvent"]} == {"archive", "due_change", "restore"}
    loads = [(e["kind"], e["assignments"] > 0) for e in on_pg["PlanEvent"]]
    assert loads == [("load", True), ("load", True), ("load", True), ("load", False)]


async def test_postgres_sends_no_row_at_a_time(pg):
    """Inserts by COPY, updates by one statement per column set: no executemany."""
    engine = pg.kw["bind"].sync_engine
    statements: list[tuple[str, bool]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool) -> None:
        statements.append((statement, many))

    event.listen(engine, "before_cursor_execute", record)
    try:
        directory = FakeDirectory()
        await load_plans(pg, [big_plan()], directory, at=AT)
        await load_plans(pg, [changed(big_plan())], directory, at=AT + timedelta(days=1))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements
    assert [s for s, many in statements if many] == []
    assert any(s.startswith("UPDATE task SET") and "unnest" in s for s, _ in statements)


async def test_nul_is_dropped_on_postgres(lite, pg):
    plan = make_plan(items=[item("SR-1", [HEALTH], [date(2024, 12, 31)], title="标\x00题")])
    plan.tasks[0] = dataclasses.replace(plan.tasks[0], text="全\x00文")
    for maker in (lite, pg):
        await load_plans(maker, [plan], FakeDirectory(), at=AT)
    async with pg() as session:
        task = (await session.exec(select(Task))).one()
    assert (task.title, task.text) == ("标题", "全文")
