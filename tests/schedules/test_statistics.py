"""After a pass that rewrote much of a table, PostgreSQL's planner learns it at once (else the
ticks that follow plan their queries on what the table was before: every instant NULL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text, update

from bot.storage.models import Assignment
from bot.storage.statistics import BULK, refresh_statistics
from tests.dbs import on_postgres

A = Assignment.__table__  # type: ignore[attr-defined]

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="PostgreSQL's statistics (SQLite keeps none unless asked)"
)

NULL_FRAC = text(
    "SELECT null_frac FROM pg_stats WHERE tablename = 'assignment' AND attname = 'next_at'"
)


async def test_a_bulk_write_refreshes_the_statistics_of_its_table(world):
    for n in range(5):
        await world.item(f"SR-{n}", date(2025, 3, 31), ["市卫健委", "市财政局"])
    async with world.engine.begin() as conn:
        await conn.execute(update(A).values(next_at=None))
        assert await refresh_statistics(conn, assignment=BULK, outbox=0) == ["assignment"]
        assert (await conn.execute(NULL_FRAC)).scalar_one() == 1.0
        # every instant stored, but fewer rows said written than BULK: the statistics stay
        await conn.execute(update(A).values(next_at=text("now()")))
        assert await refresh_statistics(conn, assignment=BULK - 1, outbox=BULK - 1) == []
        assert (await conn.execute(NULL_FRAC)).scalar_one() == 1.0
        # BULK rows written: refreshed
        assert await refresh_statistics(conn, assignment=BULK, outbox=0) == ["assignment"]
        assert (await conn.execute(NULL_FRAC)).scalar_one() == 0.0
