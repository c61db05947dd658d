"""A small real database for the scheduler's tests: one plan, units, people with roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlmodel import select

from bot.storage.db import SessionMaker, create_all, make_engine, make_session_maker
from bot.storage.models import (
    ROLE_COORDINATOR,
    ROLE_LEADER,
    ROLE_LIAISON,
    Assignment,
    ChatSubscription,
    Membership,
    Milestone,
    Outbox,
    Person,
    Plan,
    Task,
    Unit,
)
from tests.dbs import database_url

T0 = datetime(2024, 1, 2, 2, 0, tzinfo=UTC)


@dataclass
class World:
    session_maker: SessionMaker
    engine: object
    plan_id: int = 0
    units: dict[str, int] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    _next_tg: int = 1000

    async def add(self, *objs):
        async with self.session_maker() as s:
            for o in objs:
                s.add(o)
            await s.commit()
            for o in objs:
                await s.refresh(o)
        return objs[0] if len(objs) == 1 else objs

    async def person(
        self,
        name: str,
        role: str,
        *,
        unit: str | None = None,
        plan: bool = False,
        locale: str | None = None,
    ) -> Person:
        self._next_tg += 1
        person = await self.add(
            Person(telegram_id=self._next_tg, name=name, locale=locale, created_at=T0)
        )
        await self.add(
            Membership(
                person_id=person.id,
                role=role,
                unit_id=self.units[unit] if unit else None,
                plan_id=self.plan_id if plan else None,
                created_at=T0,
            )
        )
        self.people[name] = person
        return person

    async def item(
        self,
        ref: str,
        due: date,
        units: list[str],
        *,
        title: str = "",
        target: str = "",
        recurrence: list[str] | None = None,
        status: str = "not_started",
        acknowledged: bool = True,
        assigned_at: datetime = T0,
    ) -> list[Assignment]:
        task = await self.add(
            Task(
                plan_id=self.plan_id,
                ref=ref,
                title=title or f"任务 {ref}",
                recurrence=recurrence or [],
            )
        )
        milestone = await self.add(
            Milestone(task_id=task.id, due=due, original_due=due, target=target)
        )
        out = []
        for i, unit in enumerate(units):
            out.append(
                await self.add(
                    Assignment(
                        milestone_id=milestone.id,
                        unit_id=self.units[unit],
                        role="lead" if i == 0 else "co",
                        status=status,
                        due=due,
                        assigned_at=assigned_at,
                        acknowledged_at=assigned_at if acknowledged else None,
                    )
                )
            )
        return out

    async def update(self, assignment_id: int, **changes) -> None:
        async with self.session_maker() as s:
            row = await s.get(Assignment, assignment_id)
            for k, v in changes.items():
                setattr(row, k, v)
            s.add(row)
            await s.commit()

    async def outbox(self) -> list[Outbox]:
        async with self.session_maker() as s:
            return list((await s.exec(select(Outbox).order_by(Outbox.id))).all())

    async def subscribe(self, chat_id: int, *, plan: bool = False) -> None:
        await self.add(
            ChatSubscription(
                chat_id=chat_id,
                title="督办群",
                created_at=T0,
                plan_id=self.plan_id if plan else None,
            )
        )

    async def mark_sent(self) -> None:
        async with self.session_maker() as s:
            for row in (await s.exec(select(Outbox).where(Outbox.status == "pending"))).all():
                row.status, row.sent_at = "sent", row.not_before
                s.add(row)
            await s.commit()


async def make_world(path) -> World:
    engine = make_engine(database_url(path))
    await create_all(engine)
    world = World(make_session_maker(engine), engine)
    plan = await world.add(
        Plan(
            code="SR",
            title="上饶市 <实施意见>",
            period_start=date(2023, 1, 1),
            period_end=date(2025, 12, 31),
            loaded_at=T0,
        )
    )
    world.plan_id = plan.id
    for name in ("市卫健委", "市财政局", "市人社局"):
        unit = await world.add(Unit(name=f"上饶{name}", short_name=name))
        world.units[name] = unit.id
    return world


async def staffed_world(path) -> World:
    """A world with the usual cast: liaisons of 市卫健委 (zh) and 市财政局 (en), the 市卫健委
    leader and a coordinator of the plan."""
    w = await make_world(path)
    await w.person("张联络", ROLE_LIAISON, unit="市卫健委")
    await w.person("Li Liaison", ROLE_LIAISON, unit="市财政局", locale="en")
    await w.person("王领导", ROLE_LEADER, unit="市卫健委")
    await w.person("赵督办", ROLE_COORDINATOR, plan=True)
    return w
