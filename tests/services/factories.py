"""A small ledger written straight into a fresh SQLite file, for service and handler tests.

Plan SR (上饶市) with SR-1 (two milestones; 市卫健委 leads, 市财政局 co-operates) and SR-2
(due soon, 市卫健委 only); plan LN (龙南市) with LN-1 for 龙南's 市卫健委. The clock of the
tests reads 2025-12-20 09:00 in Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from bot.core.lights import LightPolicy
from bot.storage.db import SessionMaker, create_all, make_engine, make_session_maker
from bot.storage.models import Assignment, Milestone, Person, Plan, Task, Unit

NOW = datetime(2025, 12, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
TODAY = date(2025, 12, 20)
POLICY = LightPolicy()


@dataclass
class Ledger:
    session_maker: SessionMaker
    engine: object
    units: dict[str, int] = field(default_factory=dict)  # short key → unit id
    tasks: dict[str, int] = field(default_factory=dict)  # ref → task id
    assignments: dict[tuple[str, int, str], int] = field(default_factory=dict)
    # (ref, milestone seq, unit key) → assignment id
    plans: dict[str, int] = field(default_factory=dict)


async def build_ledger(path: Path) -> Ledger:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await create_all(engine)
    ledger = Ledger(session_maker=make_session_maker(engine), engine=engine)
    async with ledger.session_maker() as s:
        units = {
            "sr_health": Unit(
                name="上饶市卫生健康委员会", short_name="市卫健委", jurisdiction="上饶市"
            ),
            "sr_finance": Unit(name="上饶市财政局", short_name="市财政局", jurisdiction="上饶市"),
            "ln_health": Unit(
                name="龙南市卫生健康委员会", short_name="市卫健委", jurisdiction="龙南市"
            ),
        }
        s.add_all(units.values())
        sr = Plan(
            code="SR",
            title="上饶市实施意见",
            issuer="上饶市人民政府",
            period_start=date(2023, 1, 1),
            period_end=date(2025, 12, 31),
            loaded_at=NOW,
        )
        ln = Plan(
            code="LN",
            title="龙南市三年行动计划",
            issuer="龙南市人民政府",
            period_start=date(2024, 1, 1),
            period_end=date(2026, 12, 31),
            loaded_at=NOW,
        )
        s.add_all([sr, ln])
        await s.flush()
        ledger.units = {k: u.id for k, u in units.items()}
        ledger.plans = {"SR": sr.id, "LN": ln.id}
        specs = [
            # ref, plan, title, [(due, target)], [(unit key, role)]
            (
                "SR-1",
                sr,
                "设立公共卫生科 <b>&",
                [(date(2024, 12, 31), "60%"), (date(2026, 3, 31), "100%")],
                [("sr_health", "lead"), ("sr_finance", "co")],
            ),
            ("SR-2", sr, "建设区域医疗中心", [(date(2026, 1, 10), "")], [("sr_health", "lead")]),
            ("LN-1", ln, "建设紧密型医共体", [(date(2026, 6, 30), "")], [("ln_health", "lead")]),
        ]
        for position, (ref, plan, title, milestones, assignees) in enumerate(specs):
            task = Task(
                plan_id=plan.id,
                ref=ref,
                number=str(position + 1),
                section="一、重点任务",
                title=title,
                text=f"{title}的全文。",
                position=position,
            )
            s.add(task)
            await s.flush()
            ledger.tasks[ref] = task.id
            for seq, (due, target) in enumerate(milestones):
                m = Milestone(
                    task_id=task.id,
                    seq=seq,
                    due=due,
                    original_due=due,
                    phrase=f"{due.year}年底",
                    target=target,
                )
                s.add(m)
                await s.flush()
                for key, role in assignees:
                    a = Assignment(
                        milestone_id=m.id,
                        unit_id=ledger.units[key],
                        role=role,
                        due=due,
                        assigned_at=NOW,
                    )
                    s.add(a)
                    await s.flush()
                    ledger.assignments[(ref, seq, key)] = a.id
        await s.commit()
    return ledger


async def add_person(
    ledger: Ledger,
    telegram_id: int,
    name: str,
    *,
    role: str | None = None,
    unit: str | None = None,
    plan: str | None = None,
    locale: str | None = None,
) -> int:
    from bot.services.people import add_membership

    async with ledger.session_maker() as s:
        person = Person(telegram_id=telegram_id, name=name, created_at=NOW, locale=locale)
        s.add(person)
        await s.flush()
        if role:
            await add_membership(
                s,
                person,
                role=role,
                at=NOW,
                unit_id=ledger.units[unit] if unit else None,
                plan_id=ledger.plans[plan] if plan else None,
            )
        await s.commit()
        return person.id


def open_ledger(path: Path, template: Ledger) -> Ledger:
    """A ledger over a copy of `template`'s file (same ids)."""
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    return Ledger(
        session_maker=make_session_maker(engine),
        engine=engine,
        units=dict(template.units),
        tasks=dict(template.tasks),
        assignments=dict(template.assignments),
        plans=dict(template.plans),
    )
