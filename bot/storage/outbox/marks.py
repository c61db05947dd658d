"""The planner's marks of batched stages (`bot.storage.models.StageMark`): a stage that went
only into 督办汇总 / 逾期事项清单 is planned once it has a mark (see `bot.services.planning`).
SQLAlchemy Core, portable (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.models import StageMark
from bot.storage.outbox.raw import chunks, is_postgres

MARK = StageMark.__table__  # type: ignore[attr-defined]


async def insert_marks(conn: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT(key) DO NOTHING of marks (dicts of StageMark's columns); returns
    how many were new."""
    if not rows:
        return 0
    insert = pg_insert if is_postgres(conn) else sqlite_insert
    statement = insert(MARK).on_conflict_do_nothing(index_elements=["key"]).returning(MARK.c.key)
    return len((await conn.execute(statement, rows)).all())


async def marked_keys(conn: AsyncConnection, assignment_ids: Iterable[int]) -> set[str]:
    """The notification keys marked for these assignments."""
    found: set[str] = set()
    for chunk in chunks(sorted(set(assignment_ids))):
        for (key,) in await conn.execute(
            select(MARK.c.key).where(MARK.c.assignment_id.in_(chunk))
        ):
            found.add(key)
    return found


async def marks_of(
    conn: AsyncConnection, assignment_ids: Iterable[int]
) -> list[tuple[int, str, str, dict[str, Any], Any]]:
    """(assignment id, kind, stage, payload, created_at) of these assignments' marks."""
    out: list[tuple[int, str, str, dict[str, Any], Any]] = []
    for chunk in chunks(sorted(set(assignment_ids))):
        query = select(
            MARK.c.assignment_id, MARK.c.kind, MARK.c.stage, MARK.c.payload, MARK.c.created_at
        ).where(MARK.c.assignment_id.in_(chunk))
        out.extend(tuple(row) for row in await conn.execute(query))
    return out
