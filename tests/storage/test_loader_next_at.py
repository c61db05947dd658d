"""A reload makes the next tick recompute what it changed, and nothing else (bot.storage.loader,
bot.storage.next_at): every row it leaves NULL is written three times more (claimed, planned,
stored), each write costing all of the assignment's indexes on PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from sqlalchemy import update
from sqlmodel import select

from bot.core.plan import Plan
from bot.storage.db import SessionMaker
from bot.storage.loader import load_plans
from bot.storage.models import Assignment, Milestone, Task

from .conftest import AT, DRC, FINANCE, HEALTH, item, make_plan

ASSIGNMENT = Assignment.__table__  # type: ignore[attr-defined]
SET = AT - timedelta(days=1)  # an instant the tick stored


async def all_set(session_maker: SessionMaker) -> None:
    async with session_maker() as session, session.begin():
        conn = await session.connection()
        await conn.execute(update(ASSIGNMENT).values(next_at=SET))


async def touched(session_maker: SessionMaker) -> dict[str, int]:
    """ref → how many of its assignments (archived or not) the next tick recomputes; each
    touched item has all of its assignments touched."""
    query = (
        select(Task.ref, Assignment.next_at)
        .join(Milestone, Milestone.task_id == Task.id)
        .join(Assignment, Assignment.milestone_id == Milestone.id)
    )
    by_ref: dict[str, list[bool]] = {}
    async with session_maker() as session:
        for ref, next_at in (await session.exec(query)).all():
            by_ref.setdefault(ref, []).append(next_at is None)
    out = {ref: sum(flags) for ref, flags in by_ref.items() if any(flags)}
    assert all(all(by_ref[ref]) for ref in out), by_ref
    return out


def plan_with(**edits: object) -> Plan:
    plan = make_plan()
    for ref, change in edits.items():
        index = next(i for i, t in enumerate(plan.tasks) if t.ref == ref.replace("_", "-"))
        plan.tasks[index] = dataclasses.replace(plan.tasks[index], **change)  # type: ignore[arg-type]
    return plan


async def reload(session_maker: SessionMaker, directory: object, plan: Plan, days: int) -> None:
    await all_set(session_maker)
    await load_plans(session_maker, [plan], directory, at=AT + timedelta(days=days))  # type: ignore[arg-type]


async def test_a_new_plan_touches_nothing_it_did_not_create(session_maker, directory):
    await load_plans(session_maker, [make_plan("LN")], directory, at=AT)
    await all_set(session_maker)
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    refs = await touched(session_maker)
    assert refs and all(ref.startswith("SR-") for ref in refs)


async def test_edited_texts_touch_nothing(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    edited = plan_with(SR_1={"title": "新标题", "text": "新全文"})
    await reload(session_maker, directory, edited, 1)
    assert await touched(session_maker) == {}


async def test_a_moved_deadline_touches_its_item(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    moved = item("SR-2", [DRC, "市不存在局"], [date(2025, 3, 31)])
    await reload(session_maker, directory, plan_with(SR_2={"milestones": moved.milestones}), 1)
    assert await touched(session_maker) == {"SR-2": 2}


async def test_a_changed_recurrence_touches_its_item(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    await reload(session_maker, directory, plan_with(SR_3={"recurrence": ["每月"]}), 1)
    assert await touched(session_maker) == {"SR-3": 1}


async def test_a_unit_dropped_or_added_touches_its_item(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    fewer = item("SR-1", [HEALTH], [date(2023, 12, 31), date(2024, 12, 31)])
    await reload(session_maker, directory, plan_with(SR_1={"units": fewer.units}), 1)
    assert await touched(session_maker) == {"SR-1": 4}  # 2 archived, 2 kept
    more = item("SR-3", [HEALTH, FINANCE], [date(2025, 12, 31)])
    await reload(session_maker, directory, plan_with(SR_3={"units": more.units}), 2)
    assert await touched(session_maker) == {"SR-1": 4, "SR-3": 2}  # SR-1's come back


async def test_a_removed_item_touches_its_assignments(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    shorter = make_plan()
    del shorter.tasks[1]
    await reload(session_maker, directory, shorter, 1)
    assert await touched(session_maker) == {"SR-2": 2}


async def test_a_changed_period_touches_the_plan(session_maker, directory):
    await load_plans(session_maker, [make_plan("LN"), make_plan()], directory, at=AT)
    longer = make_plan()
    longer.info = dataclasses.replace(longer.info, end=date(2026, 12, 31))
    await reload(session_maker, directory, longer, 1)
    refs = await touched(session_maker)
    assert set(refs) == {"SR-1", "SR-2", "SR-3", "SR-P1", "SR-I1"}
