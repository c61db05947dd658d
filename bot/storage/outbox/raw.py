"""Plain tuples straight from the driver, and the fast INSERT of planned Outbox rows.

The planning pass reads and writes tens of thousands of rows: SQLAlchemy's Row objects and
per-row parameter processing were most of its cost, so these go to the driver directly, in the
exact formats SQLAlchemy uses for these columns (JSON as `json.dumps`, datetimes as naive UTC
text with microseconds), on the caller's connection and transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.notices import OutboxStatus

CHUNK = 500  # ids per IN (...) list, under SQLite's variable limit


def db_datetime(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def parse_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def chunks(values: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def driver(conn: AsyncConnection) -> Any:
    """The driver's own connection (aiosqlite's) under `conn`, in the same transaction."""
    found = (await conn.get_raw_connection()).driver_connection
    if found is None:  # pragma: no cover - an open connection always has one
        raise RuntimeError("the connection is closed")
    return found


async def fetch(conn: AsyncConnection, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """Plain tuples straight from the driver: no Row objects, no type processing (the hot path
    reads 100,000 rows)."""
    cursor = await (await driver(conn)).execute(sql, params)
    try:
        return list(await cursor.fetchall())
    finally:
        await cursor.close()


_INSERT_SQL = (
    "INSERT INTO outbox (key, kind, chat_id, person_id, assignment_id, stage, locale, payload, "
    "created_at, not_before, status, attempts, last_error, parts_sent) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', 0) ON CONFLICT(key) DO NOTHING"
)


async def insert_rows(conn: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT(key) DO NOTHING; returns how many rows were new. A row is a dict
    of the Outbox columns, its payload already `to_json()`-ed (default status: pending)."""
    if not rows:
        return 0
    raw = await driver(conn)
    dumps = json.dumps
    pending = str(OutboxStatus.PENDING)
    texts: dict[datetime, str] = {}  # a pass writes most rows with the same instants

    def stamp(value: datetime) -> str:
        text = texts.get(value)
        if text is None:
            text = texts[value] = db_datetime(value)
        return text

    inserted = 0
    for start in range(0, len(rows), 5000):
        params = [
            (
                row["key"],
                str(row["kind"]),
                row["chat_id"],
                row["person_id"],
                row["assignment_id"],
                row["stage"],
                row["locale"],
                dumps(row["payload"]),
                stamp(row["created_at"]),
                stamp(row["not_before"]),
                str(row.get("status", pending)),
            )
            for row in rows[start : start + 5000]
        ]
        cursor = await raw.executemany(_INSERT_SQL, params)
        inserted += max(cursor.rowcount or 0, 0)
        await cursor.close()
    return inserted
