"""The planner's marks of batched stages (`bot.storage.models.StageMark`): a stage that went
only into 督办汇总 / 逾期事项清单 is planned once it has a mark (see `bot.services.planning`).
SQLAlchemy Core, portable (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.jsontext import dump_json
from bot.storage.models import StageMark
from bot.storage.outbox.raw import chunks, db_datetime, driver, fetch, id_clauses, is_postgres

MARK = StageMark.__table__  # type: ignore[attr-defined]


_INSERT_SQL = (
    "INSERT INTO stagemark (assignment_id, kind, stage, liaisons, created_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(assignment_id, kind, stage) DO NOTHING"
)
# PostgreSQL: one statement per batch, the columns as arrays (executemany has no row count)
_INSERT_PG = (
    "INSERT INTO stagemark (assignment_id, kind, stage, liaisons, created_at) "
    "SELECT a, kd, sg, l::json, ca FROM unnest($1::int[], $2::text[], $3::text[], "
    "$4::text[], $5::timestamptz[]) AS r(a, kd, sg, l, ca) "
    "ON CONFLICT (assignment_id, kind, stage) DO NOTHING"
)


async def insert_marks(conn: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING of marks (dicts of StageMark's columns, straight to
    the driver: a first pass writes tens of thousands); returns how many were new."""
    if not rows:
        return 0
    encoded: dict[int, str] = {}  # marks listed to the same liaisons share their list

    def dumps(liaisons: list[Any]) -> str:
        found = encoded.get(id(liaisons))
        if found is None:
            found = encoded[id(liaisons)] = dump_json(liaisons)
        return found

    if is_postgres(conn):
        columns = (
            [row["assignment_id"] for row in rows],
            [str(row["kind"]) for row in rows],
            [row["stage"] for row in rows],
            [dumps(row["liaisons"]) for row in rows],
            [row["created_at"] for row in rows],
        )
        result = await conn.exec_driver_sql(_INSERT_PG, columns)
        return max(result.rowcount or 0, 0)
    stamps: dict[datetime, str] = {}  # a pass writes its marks with one instant
    params = [
        (
            row["assignment_id"],
            str(row["kind"]),
            row["stage"],
            dumps(row["liaisons"]),
            stamps.get(row["created_at"])
            or stamps.setdefault(row["created_at"], db_datetime(row["created_at"])),
        )
        for row in rows
    ]
    cursor = await (await driver(conn)).executemany(_INSERT_SQL, params)
    try:
        return max(cursor.rowcount or 0, 0)
    finally:
        await cursor.close()


async def marked_keys(conn: AsyncConnection, assignment_ids: Iterable[int]) -> set[str]:
    """The notification keys (f"{kind}:{assignment_id}:{stage}") marked for these
    assignments."""
    found: set[str] = set()
    for where, params in id_clauses("assignment_id", assignment_ids):
        sql = f"SELECT kind, assignment_id, stage FROM stagemark WHERE {where}"
        for kind, aid, stage in await fetch(conn, sql, params):
            found.add(f"{kind}:{aid}:{stage}")
    return found


async def marks_of(
    conn: AsyncConnection, assignment_ids: Iterable[int]
) -> list[tuple[int, str, str, list[Any], Any]]:
    """(assignment id, kind, stage, liaisons, created_at) of these assignments' marks;
    liaisons: person ids, or the names marks of earlier releases recorded."""
    out: list[tuple[int, str, str, list[Any], Any]] = []
    for chunk in chunks(sorted(set(assignment_ids))):
        query = select(
            MARK.c.assignment_id, MARK.c.kind, MARK.c.stage, MARK.c.liaisons, MARK.c.created_at
        ).where(MARK.c.assignment_id.in_(chunk))
        out.extend(tuple(row) for row in await conn.execute(query))
    return out
