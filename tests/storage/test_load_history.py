"""A load is the plan's event (one PlanEvent "load"), not each new assignment's: the loader no
longer writes an "import" StatusEvent per assignment. Databases loaded before keep theirs
(history is append-only), so every reader of the history must answer the same on a ledger
loaded the old way (`OldLoader`: each created assignment with its import event, no plan
event, as the loader of earlier releases wrote them) and on one loaded now, after the same
story: loads, reports, a decision, a moved deadline, a withdrawal and a restore."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func
from sqlmodel import col, select

from bot.core.lights import LightPolicy
from bot.core.roles import Roles
from bot.core.status import Action
from bot.services import assignments, coordination
from bot.services.export import ledger_rows
from bot.services.pending import pending_decisions
from bot.services.plan_withdraw import restore, withdraw
from bot.services.scope import PlanScope
from bot.services.stats import Scope
from bot.services.trend import trend
from bot.storage.db import SessionMaker, create_all, make_engine, make_session_maker
from bot.storage.loader import load_plans
from bot.storage.models import (
    NOT_STARTED,
    Assignment,
    Milestone,
    Person,
    PlanEvent,
    StatusEvent,
    Task,
    Unit,
)
from tests.dbs import database_url

from .conftest import AT, FINANCE, HEALTH, FakeDirectory, item, make_plan

ZONE = ZoneInfo("Asia/Shanghai")
POLICY = LightPolicy()
NOW = AT + timedelta(days=40)


async def _created_at(session_maker: SessionMaker, at: datetime) -> list[int]:
    async with session_maker() as s:
        found = await s.exec(
            select(Assignment.id).where(Assignment.assigned_at == at).order_by(col(Assignment.id))
        )
        return [int(i) for i in found.all() if i is not None]


class Loader:
    """Loads as today's loader does."""

    old = False

    def __init__(self, session_maker: SessionMaker) -> None:
        self.session_maker = session_maker

    async def load(self, plans: list[Any], at: datetime) -> None:
        await load_plans(self.session_maker, plans, FakeDirectory(), at=at)


class OldLoader(Loader):
    """Loads as the loader of earlier releases did: an "import" event for each assignment the
    load created (the columns it gave them), and no plan event."""

    old = True

    async def load(self, plans: list[Any], at: datetime) -> None:
        await super().load(plans, at)
        created = await _created_at(self.session_maker, at)
        async with self.session_maker() as s:
            await s.exec(delete(PlanEvent).where(col(PlanEvent.at) == at))  # type: ignore[call-overload]
            for aid in created:
                s.add(
                    StatusEvent(
                        assignment_id=aid,
                        at=at,
                        actor_id=None,
                        actor_label="import",
                        kind="import",
                        old_status=None,
                        new_status=NOT_STARTED,
                        note="",
                    )
                )
            await s.commit()


@pytest.fixture
async def ledgers(tmp_path: Path) -> AsyncIterator[list[Loader]]:
    engines, loaders = [], []
    for cls in (OldLoader, Loader):
        engine = make_engine(database_url(tmp_path / f"{cls.__name__}.sqlite3"))
        await create_all(engine)
        engines.append(engine)
        loaders.append(cls(make_session_maker(engine)))
    yield loaders
    for engine in engines:
        await engine.dispose()


async def _assignment(session_maker: SessionMaker, ref: str, unit: str, seq: int = 0) -> int:
    async with session_maker() as s:
        found = await s.exec(
            select(Assignment.id)
            .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
            .join(Task, col(Task.id) == Milestone.task_id)
            .join(Unit, col(Unit.id) == Assignment.unit_id)
            .where(Task.ref == ref, Milestone.seq == seq, Unit.name == unit)
        )
        return int(found.one() or 0)


async def _story(loader: Loader) -> None:
    """The same story on either ledger."""
    maker = loader.session_maker
    plan = make_plan()
    await loader.load([plan], AT)
    more = dataclasses.replace(
        plan,
        tasks=[
            *plan.tasks,
            item("SR-9", [HEALTH, FINANCE], [date(2025, 3, 31), date(2025, 12, 31)]),
        ],
    )
    await loader.load([more], AT + timedelta(days=1))  # new assignments among old ones
    async with maker() as s:
        liaison = Person(name="张联络", created_at=AT)
        boss = Person(name="李督办", created_at=AT)
        s.add_all([liaison, boss])
        unit_id = (await s.exec(select(Unit.id).where(Unit.name == HEALTH))).one()
        await s.commit()
    roles = Roles(liaison_unit_ids=frozenset({int(unit_id or 0)}))
    reports = [
        ("SR-1", Action.PROGRESS, {"progress": 40, "note": "已开工"}, 2),
        ("SR-3", Action.DONE, {"note": "已完成"}, 3),
        ("SR-9", Action.EXTEND, {"new_due": date(2025, 6, 30), "note": "需延期"}, 4),
        ("SR-P1", Action.ACK, {}, 5),
    ]
    for ref, action, extra, day in reports:
        at = AT + timedelta(days=day)
        async with maker() as s:
            await assignments.report(
                s,
                assignment_id=await _assignment(maker, ref, HEALTH),
                person=liaison,
                roles=roles,
                action=action,
                at=at,
                today=at.astimezone(ZONE).date(),
                policy=POLICY,
                **extra,
            )
            await s.commit()
    at = AT + timedelta(days=6)
    async with maker() as s:
        await coordination.act(
            s,
            assignment_id=await _assignment(maker, "SR-9", HEALTH),
            action=coordination.APPROVE,
            person=boss,
            roles=Roles(coordinator_all=True),
            at=at,
            today=at.astimezone(ZONE).date(),
        )
        await s.commit()
    moved = dataclasses.replace(more, tasks=list(more.tasks))
    moved.tasks[-1] = item("SR-9", [HEALTH, FINANCE], [date(2025, 4, 30), date(2025, 12, 31)])
    await loader.load([moved], AT + timedelta(days=8))  # a deadline moved: due_change events
    await withdraw(maker, "SR", at=AT + timedelta(days=10))
    await restore(maker, "SR", at=AT + timedelta(days=20))


async def _answers(session_maker: SessionMaker) -> dict[str, Any]:
    """What every reader of the history answers at NOW."""
    async with session_maker() as s:
        ids = (await s.exec(select(Assignment.id).order_by(col(Assignment.id)))).all()
        ids = [int(i) for i in ids if i is not None]
        tasks = (await s.exec(select(Task.id, Task.ref).order_by(col(Task.id)))).all()
        per_task = {}
        for task_id, ref in tasks:
            detail = await assignments.task_detail(
                s,
                roles=Roles(coordinator_all=True),
                today=NOW.astimezone(ZONE).date(),
                now=NOW,
                policy=POLICY,
                task_id=task_id,
                history_limit=50,
            )
            per_task[ref] = (detail.history, detail.milestones)
        return {
            "history": await assignments.task_history(s, ids, limit=500),
            "task": per_task,
            "export": await ledger_rows(s, scope=Scope(), at=NOW, zone=ZONE),
            "trend_week": await trend(s, scope=Scope(), at=NOW, zone=ZONE, period="week"),
            "trend_month": await trend(s, scope=Scope(), at=NOW, zone=ZONE, period="month"),
            "pending": await pending_decisions(s, PlanScope(Roles(coordinator_all=True))),
        }


async def _count(session_maker: SessionMaker, model: Any, *where: Any) -> int:
    async with session_maker() as s:
        return int((await s.exec(select(func.count()).select_from(model).where(*where))).one())


async def test_an_old_ledger_and_a_new_one_read_the_same(ledgers):
    old, new = ledgers
    for loader in ledgers:
        await _story(loader)

    # the old ledger holds an import event per assignment and no load; the new one the reverse
    total = await _count(new.session_maker, Assignment)
    is_import = col(StatusEvent.kind) == "import"
    assert await _count(old.session_maker, StatusEvent, is_import) == total
    assert await _count(new.session_maker, StatusEvent, is_import) == 0
    is_load = col(PlanEvent.kind) == "load"
    assert await _count(old.session_maker, PlanEvent, is_load) == 0
    assert await _count(new.session_maker, PlanEvent, is_load) == 3
    answers = await _answers(new.session_maker)
    assert answers["pending"] and answers["history"]  # the story gave them something to say
    assert any(h.kind == "due_change" for h in answers["history"])

    assert await _answers(old.session_maker) == answers


async def test_a_decision_waits_since_its_last_event_or_else_since_the_load(ledgers):
    """An assignment reported done without an event of its own (rows written by hand) waited
    since its import event before; since its load now."""
    for loader in ledgers:
        await loader.load([make_plan()], AT)
        aid = await _assignment(loader.session_maker, "SR-3", HEALTH)
        async with loader.session_maker() as s:
            row = await s.get(Assignment, aid)
            assert row is not None
            row.status = "done_reported"
            s.add(row)
            await s.commit()
        async with loader.session_maker() as s:
            [decision] = await pending_decisions(s, PlanScope(Roles(coordinator_all=True)))
        assert decision.since == AT, type(loader).__name__
