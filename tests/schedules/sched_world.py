"""A small real database for the scheduler's tests: one plan, units, people with roles, built
with the suite's one ledger builder (tests/builders.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.storage.db import SessionMaker
from bot.storage.models import (
    ROLE_COORDINATOR,
    ROLE_LEADER,
    ROLE_LIAISON,
    Assignment,
    ChatSubscription,
    Outbox,
    Person,
    StageMark,
)
from bot.storage.outbox.delivery import as_rendered
from tests.builders import LedgerBuilder

T0 = datetime(2024, 1, 2, 2, 0, tzinfo=UTC)
PLAN = "SR"


@dataclass
class World:
    """The scheduler's view of a `LedgerBuilder` ledger: one plan (SR), units by short name,
    people by name, items as lists of assignments."""

    ledger: LedgerBuilder
    plan_id: int = 0
    units: dict[str, int] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    _next_tg: int = 1000

    @property
    def session_maker(self) -> SessionMaker:
        return self.ledger.session_maker

    @property
    def engine(self) -> AsyncEngine:
        return self.ledger.engine

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
        person_id = await self.ledger.person(
            self._next_tg, name, role=role, unit=unit, plan=PLAN if plan else None, locale=locale
        )
        async with self.session_maker() as s:
            person = await s.get(Person, person_id)
        assert person is not None
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
        await self.ledger.item(
            ref,
            PLAN,
            title or f"任务 {ref}",
            [(due, target)],
            [(unit, "lead" if i == 0 else "co") for i, unit in enumerate(units)],
            text="",
            section="",
            recurrence=recurrence or [],
            status=status,
            acknowledged=acknowledged,
            assigned_at=assigned_at,
            phrase="",
        )
        async with self.session_maker() as s:
            return [
                row
                for unit in units
                if (row := await s.get(Assignment, self.ledger.assignments[(ref, 0, unit)]))
            ]

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

    async def shown(self) -> list[Outbox]:
        """The Outbox as the sender renders it: planned rows refer to their items, and are
        completed with them from the ledger (`bot.storage.outbox.delivery.as_rendered`)."""
        async with self.session_maker() as s:
            rows = (await s.exec(select(Outbox).order_by(Outbox.id))).all()
            return [await as_rendered(s, row) for row in rows]

    async def marks(self) -> list[StageMark]:
        """The planner's marks of stages that went only into summaries or lists."""
        async with self.session_maker() as s:
            return list(
                (
                    await s.exec(
                        select(StageMark).order_by(
                            StageMark.assignment_id, StageMark.kind, StageMark.stage
                        )
                    )
                ).all()
            )

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
    ledger = await LedgerBuilder.create(path, at=T0)
    plan_id = await ledger.plan(
        PLAN, "上饶市 <实施意见>", start=date(2023, 1, 1), end=date(2025, 12, 31)
    )
    world = World(ledger, plan_id)
    for name in ("市卫健委", "市财政局", "市人社局"):
        world.units[name] = await ledger.unit(name, f"上饶{name}", short_name=name)
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
