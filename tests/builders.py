"""The suite's one way to write a ledger into a test database.

`LedgerBuilder` writes through the ORM, a call per fact, and keeps the ids it made under the
names a test speaks of (plan code, unit key, ref, Telegram id):

    ledger = await LedgerBuilder.create(tmp_path / "ledger.sqlite3", at=NOW)
    await ledger.unit("sr_health", "上饶市卫生健康委员会", short_name="市卫健委")
    await ledger.plan("SR", "上饶市实施意见", start=date(2023, 1, 1), end=date(2025, 12, 31))
    due = [(date(2024, 12, 31), "")]  # (due, target) of each milestone
    await ledger.item("SR-1", "SR", "设立公共卫生科", due, [("sr_health", "lead")])
    await ledger.person(100, "张三", role="liaison", unit="sr_health")

`insert_rows` writes many rows given as dicts (ids included) in one transaction, for the
randomised ledgers whose tests keep the rows to compute the expected answer themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from bot.storage.db import SessionMaker, create_all, make_engine, make_session_maker
from bot.storage.models import Assignment, Milestone, Person, Plan, Task, Unit
from bot.storage.typed_sql import stored_id, table_of
from tests.dbs import database_url


@dataclass
class LedgerBuilder:
    """A test ledger and the ids of what it holds."""

    session_maker: SessionMaker
    engine: AsyncEngine
    at: datetime  # when everything was loaded, assigned and created
    plans: dict[str, int] = field(default_factory=dict)  # code → plan id
    units: dict[str, int] = field(default_factory=dict)  # key → unit id
    tasks: dict[str, int] = field(default_factory=dict)  # ref → task id
    # (ref, milestone seq, unit key) → assignment id
    assignments: dict[tuple[str, int, str], int] = field(default_factory=dict)
    people: dict[int, int] = field(default_factory=dict)  # Telegram id → person id

    @classmethod
    async def create(cls, path: Path, *, at: datetime) -> LedgerBuilder:
        """An empty ledger (the tables, no rows) in a new SQLite file, or the PostgreSQL
        database of `path` in the PostgreSQL run (tests/dbs.py)."""
        engine = make_engine(database_url(path))
        await create_all(engine)
        return cls(session_maker=make_session_maker(engine), engine=engine, at=at)

    def reopen(self, path: Path) -> LedgerBuilder:
        """The same ledger over a copy of its database at `path` (`tests.dbs.copy_database`;
        same ids, its own engine)."""
        engine = make_engine(database_url(path))
        return LedgerBuilder(
            session_maker=make_session_maker(engine),
            engine=engine,
            at=self.at,
            plans=dict(self.plans),
            units=dict(self.units),
            tasks=dict(self.tasks),
            assignments=dict(self.assignments),
            people=dict(self.people),
        )

    async def dispose(self) -> None:
        await self.engine.dispose()

    # --- what the ledger holds ----------------------------------------------------------

    async def plan(
        self, code: str, title: str, *, start: date, end: date, issuer: str = ""
    ) -> int:
        async with self.session_maker() as s:
            plan = Plan(
                code=code,
                title=title,
                issuer=issuer,
                period_start=start,
                period_end=end,
                loaded_at=self.at,
            )
            s.add(plan)
            await s.commit()
            self.plans[code] = stored_id(plan.id)
        return self.plans[code]

    async def unit(
        self, key: str, name: str, *, short_name: str = "", jurisdiction: str = ""
    ) -> int:
        async with self.session_maker() as s:
            unit = Unit(name=name, short_name=short_name, jurisdiction=jurisdiction)
            s.add(unit)
            await s.commit()
            self.units[key] = stored_id(unit.id)
        return self.units[key]

    async def item(
        self,
        ref: str,
        plan: str,
        title: str,
        milestones: Sequence[tuple[date, str]],
        units: Sequence[tuple[str, str]],
        *,
        text: str | None = None,
        section: str = "一、重点任务",
        position: int | None = None,
        recurrence: Sequence[str] = (),
        status: str = "not_started",
        acknowledged: bool = False,
        assigned_at: datetime | None = None,
        phrase: str | None = None,
    ) -> int:
        """A task of `plan` with its milestones ((due, target), in order), each assigned to
        `units` ((unit key, role: lead / co)) with `status`, assigned at `assigned_at` (the
        ledger's time by default) and acknowledged then when `acknowledged`. Returns the task
        id."""
        assigned = self.at if assigned_at is None else assigned_at
        position = len(self.tasks) if position is None else position
        async with self.session_maker() as s:
            task = Task(
                plan_id=self.plans[plan],
                ref=ref,
                number=str(position + 1),
                section=section,
                title=title,
                text=f"{title}的全文。" if text is None else text,
                position=position,
                recurrence=list(recurrence),
            )
            s.add(task)
            await s.flush()
            for seq, (due, target) in enumerate(milestones):
                milestone = Milestone(
                    task_id=stored_id(task.id),
                    seq=seq,
                    due=due,
                    original_due=due,
                    phrase=f"{due.year}年底" if phrase is None else phrase,
                    target=target,
                )
                s.add(milestone)
                await s.flush()
                for key, role in units:
                    assignment = Assignment(
                        milestone_id=stored_id(milestone.id),
                        unit_id=self.units[key],
                        role=role,
                        status=status,
                        due=due,
                        assigned_at=assigned,
                        acknowledged_at=assigned if acknowledged else None,
                    )
                    s.add(assignment)
                    await s.flush()
                    self.assignments[(ref, seq, key)] = stored_id(assignment.id)
            await s.commit()
            self.tasks[ref] = stored_id(task.id)
        return self.tasks[ref]

    async def person(
        self,
        telegram_id: int,
        name: str,
        *,
        role: str | None = None,
        unit: str | None = None,
        plan: str | None = None,
        locale: str | None = None,
    ) -> int:
        """A person, with a role (of a unit or a plan) when given, granted as the service
        grants it. Returns the person id."""
        from bot.services.people import add_membership

        async with self.session_maker() as s:
            person = Person(telegram_id=telegram_id, name=name, created_at=self.at, locale=locale)
            s.add(person)
            await s.flush()
            if role:
                await add_membership(
                    s,
                    person,
                    role=role,
                    at=self.at,
                    unit_id=self.units[unit] if unit else None,
                    plan_id=self.plans[plan] if plan else None,
                )
            await s.commit()
            self.people[telegram_id] = stored_id(person.id)
        return self.people[telegram_id]


async def insert_rows(
    engine: AsyncEngine, rows: Mapping[type[SQLModel], Sequence[Mapping[str, Any]]]
) -> None:
    """Write rows given as column → value dicts (ids included), table by table in the order
    given (parents first), in one transaction."""
    async with engine.begin() as conn:
        for model, table_rows in rows.items():
            if table_rows:
                await conn.execute(insert(table_of(model)), list(table_rows))
