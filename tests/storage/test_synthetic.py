"""The benchmarks' synthetic ledger: readable by the ORM, consistent, exactly as large as asked."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlmodel import func, select

from benchmarks.synthetic import build_synthetic_ledger
from bot.storage.db import make_engine, make_session_maker
from bot.storage.migrate import upgrade_database
from bot.storage.models import Assignment, Membership, Person, StatusEvent, Task

AT = datetime(2025, 6, 1, 2, tzinfo=UTC)
MID = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


async def test_builds_exactly_the_asked_number_of_assignments(db_url):
    await upgrade_database(db_url)
    engine = make_engine(db_url)
    session_maker = make_session_maker(engine)

    info = await build_synthetic_ledger(session_maker, assignments=3_000, at=AT, seed=7)

    async with session_maker() as session:
        assignments = list((await session.exec(select(Assignment))).all())
        events = (await session.exec(select(func.count()).select_from(StatusEvent))).one()
        kinds = set((await session.exec(select(Task.kind))).all())
        roles = Counter((await session.exec(select(Membership.role))).all())
        persons = (await session.exec(select(func.count()).select_from(Person))).one()
        # SQL comparisons on the raw-inserted timestamps agree with Python's
        early = (
            await session.exec(
                select(func.count()).select_from(Assignment).where(Assignment.last_report_at < MID)
            )
        ).one()
    await engine.dispose()

    assert info.assignments == len(assignments) == 3_000
    assert events == info.events > 0 and persons == info.persons
    assert kinds == {"task", "project", "indicator"}
    assert set(roles) == {"liaison", "coordinator", "leader"}
    statuses = Counter(a.status for a in assignments)
    assert len(statuses) == 5 and statuses == Counter(info.status_counts)
    assert all(a.assigned_at.tzinfo is not None for a in assignments)
    assert any(a.acknowledged_at for a in assignments)
    assert any(a.progress for a in assignments)
    assert {a.due.year for a in assignments} == {2023, 2024, 2025, 2026}
    reported = [a for a in assignments if a.last_report_at]
    assert 0 < early == sum(a.last_report_at < MID for a in reported) < len(reported)
    assert all(a.last_report_at <= AT for a in reported)
