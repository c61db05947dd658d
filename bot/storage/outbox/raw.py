"""Plain tuples straight from the driver, and the fast INSERT of planned Outbox rows.

The planning pass reads and writes tens of thousands of rows: SQLAlchemy's Row objects and
per-row parameter processing were most of its cost, so these go to the driver directly, in the
exact formats the engine uses for these columns (JSON as `dump_json`, datetimes as naive UTC
text with microseconds), on the caller's connection and transaction.

One SQL text for both backends: write it with qmark (`?`) parameters and pass dates and aware
datetimes as such. On SQLite they become the stored text and go to aiosqlite; on PostgreSQL the
`?` become `$1, $2…` and the statement runs through SQLAlchemy's asyncpg adapter (inside the
caller's transaction: the adapter begins it), where dates and timestamptz are native. What
comes back differs in the same way (text on SQLite, `date` / aware `datetime` on PostgreSQL):
read it with `as_date` and `parse_datetime`.
"""

from __future__ import annotations

import asyncio
import json
import re
from array import array
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.notices import OutboxStatus
from bot.storage.jsontext import dump_json

CHUNK = 500  # ids per IN (...) list, under SQLite's variable limit
_INSERT_CHUNK = 200  # rows encoded and inserted at a time


def db_datetime(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def parse_datetime(value: str | datetime | None) -> datetime | None:
    """A stored instant as an aware UTC datetime (SQLite's text, or PostgreSQL's value)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def as_date(value: str | date | None) -> date | None:
    """A stored calendar date (SQLite's ISO text, or PostgreSQL's date)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def as_json(value: Any) -> Any:
    """A stored JSON value (SQLite's text; PostgreSQL's driver already decodes it)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def is_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


_QMARK = re.compile(r"'[^']*'|\?")


def numbered(sql: str) -> str:
    """qmark SQL in PostgreSQL's numbered style (`?` inside string literals stay)."""
    counter = 0

    def number(match: re.Match[str]) -> str:
        nonlocal counter
        if match.group(0) != "?":
            return match.group(0)
        counter += 1
        return f"${counter}"

    return _QMARK.sub(number, sql)


def sqlite_param(value: Any) -> Any:
    """A parameter as SQLite stores it: instants as naive UTC text, dates as ISO text."""
    if isinstance(value, datetime):
        return db_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


_PLAIN = (int, str)  # what SQLite takes as it is (ids, keys): most parameters


def sqlite_params(params: Sequence[Any]) -> list[Any]:
    """`sqlite_param` of each (the ids of a first pass's IN lists: a hundred thousand)."""
    return [p if p.__class__ in _PLAIN else sqlite_param(p) for p in params]


_T = TypeVar("_T")


def chunks(values: Sequence[_T], size: int = CHUNK) -> Iterable[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def id_clauses(column: str, ids: Iterable[int]) -> Iterator[tuple[str, tuple[int, ...]]]:
    """WHERE clauses (qmark SQL, parameters) that together select `ids` of `column`: a range
    for each run of consecutive ids (a first pass asks for thousands of them), a list of at
    most CHUNK for the rest."""
    ordered = sorted(set(ids))
    loose: list[int] = []
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        if end - start >= 15:  # a run: one range
            yield f"{column} >= ? AND {column} <= ?", (ordered[start], ordered[end])
        else:
            loose.extend(ordered[start : end + 1])
        start = end + 1
    for chunk in chunks(loose):
        yield in_list(column, chunk)


_LIST_SIZES = (8, 32, 128, CHUNK)


def in_list(column: str, ids: Sequence[int]) -> tuple[str, tuple[int, ...]]:
    """`column IN (?, …)` for at most CHUNK ids, padded (with the last id again) to one of a
    few lengths: every distinct SQL text is a statement the driver prepares and keeps (SQLite's
    cache holds 128 of them per connection, some hundred kilobytes each for long lists; a
    first pass would fill it with one per length)."""
    size = next(n for n in _LIST_SIZES if n >= len(ids))
    padded = tuple(ids) + (ids[-1],) * (size - len(ids))
    return f"{column} IN ({','.join('?' * size)})", padded


async def driver(conn: AsyncConnection) -> Any:
    """The driver's own connection (aiosqlite's) under `conn`, in the same transaction."""
    found = (await conn.get_raw_connection()).driver_connection
    if found is None:  # pragma: no cover - an open connection always has one
        raise RuntimeError("the connection is closed")
    return found


class PageCache:
    """SQLite: this connection's page cache held to `kib` KiB from `limit()` until
    `restore()` (whatever size `bot.storage.db` gives the bot's connections). A
    pass that reads and writes every page of the ledger once gains nothing from keeping them
    all: it would only fill the process's memory with them. PostgreSQL: nothing (the server
    caches)."""

    def __init__(self, conn: AsyncConnection, kib: int) -> None:
        self.conn, self.kib = conn, kib
        self._previous: int | None = None

    async def limit(self) -> None:
        if self._previous is not None or is_postgres(self.conn):
            return
        raw = await driver(self.conn)
        cursor = await raw.execute("PRAGMA cache_size")
        [(previous,)] = list(await cursor.fetchall())
        await cursor.close()
        await raw.execute(f"PRAGMA cache_size=-{int(self.kib)}")
        self._previous = int(previous)

    async def restore(self) -> None:
        if self._previous is not None:
            await (await driver(self.conn)).execute(f"PRAGMA cache_size={self._previous}")
            self._previous = None


async def fetch(conn: AsyncConnection, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """Plain tuples straight from the driver: no Row objects, no type processing (the hot path
    reads 100,000 rows). `sql` in qmark style, on either backend (see the module docstring)."""
    if is_postgres(conn):
        result = await conn.exec_driver_sql(numbered(sql), tuple(params))
        return [tuple(row) for row in result.all()]
    # one call to the driver's thread, not three (execute, fetchall, close): each costs
    # ~70 µs of CPU, and a first pass reads in hundreds of queries
    return list(await (await driver(conn)).execute_fetchall(sql, sqlite_params(params)))


async def fetch_parts(
    conn: AsyncConnection, sql: str, params: Sequence[Any] = (), *, size: int = 5000
) -> AsyncIterator[list[tuple]]:
    """`fetch`'s tuples `size` rows at a time: a caller that keeps a little of each row never
    holds all of them (a digest's 100,000 rows as tuples: ~18 MiB, which the process keeps
    as fragments once freed). The cursor stays open between parts: write nothing meanwhile."""
    if is_postgres(conn):
        stream = await conn.stream(text(numbered_named(sql)), _named(params))
        async for part in stream.partitions(size):
            yield [tuple(row) for row in part]
        return
    cursor = await (await driver(conn)).execute(sql, sqlite_params(params))
    try:
        while part := await cursor.fetchmany(size):
            yield list(part)
    finally:
        await cursor.close()


async def fetch_ids(conn: AsyncConnection, sql: str, params: Sequence[Any] = ()) -> array[int]:
    """The first column of a query's rows (ids) as a compact array, read a few thousand rows
    at a time (100,000 ids as tuples of Python ints would take ten times the memory)."""
    out: array[int] = array("q")
    if is_postgres(conn):
        stream = await conn.stream(text(numbered_named(sql)), _named(params))
        async for part in stream.partitions(5000):
            out.extend(row[0] for row in part)
        return out
    cursor = await (await driver(conn)).execute(sql, sqlite_params(params))
    try:
        while part := await cursor.fetchmany(5000):
            out.extend(row[0] for row in part)
    finally:
        await cursor.close()
    return out


def numbered_named(sql: str) -> str:
    """qmark SQL with SQLAlchemy's named parameters (:p1, :p2…) for `text()`."""
    counter = 0

    def name(match: re.Match[str]) -> str:
        nonlocal counter
        if match.group(0) != "?":
            return match.group(0)
        counter += 1
        return f":p{counter}"

    return _QMARK.sub(name, sql)


def _named(params: Sequence[Any]) -> dict[str, Any]:
    return {f"p{k}": value for k, value in enumerate(params, 1)}


async def execute(conn: AsyncConnection, sql: str, params: Sequence[Any] = ()) -> int:
    """One qmark statement that returns no rows, on either backend; the rows it changed."""
    if is_postgres(conn):
        result = await conn.exec_driver_sql(numbered(sql), tuple(params))
        return max(result.rowcount or 0, 0)
    cursor = await (await driver(conn)).execute(sql, sqlite_params(params))
    try:
        return max(cursor.rowcount or 0, 0)
    finally:
        await cursor.close()


_INSERT_SQL = (
    "INSERT INTO outbox (key, kind, chat_id, person_id, assignment_id, stage, locale, payload, "
    "created_at, not_before, status, attempts, last_error, parts_sent) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', 0) ON CONFLICT(key) DO NOTHING"
)


# PostgreSQL: one statement per batch, the columns as arrays (executemany has no row count)
_INSERT_PG = (
    "INSERT INTO outbox (key, kind, chat_id, person_id, assignment_id, stage, locale, payload, "
    "created_at, not_before, status, attempts, last_error, parts_sent) "
    "SELECT k, kd, c, p, a, sg, l, pl::json, ca, nb, st, 0, '', 0 FROM unnest("
    "$1::text[], $2::text[], $3::bigint[], $4::int[], $5::int[], $6::text[], $7::text[], "
    "$8::text[], $9::timestamptz[], $10::timestamptz[], $11::text[]) "
    "AS r(k, kd, c, p, a, sg, l, pl, ca, nb, st) ON CONFLICT (key) DO NOTHING"
)


def _shared_dumps() -> Any:
    """`dump_json` for the payloads of one call: the rows of one stage's recipients share their
    payload object (`bot.services.planning`), encoded once (the rows hold them meanwhile)."""
    encoded: dict[int, str] = {}

    def dumps(payload: Any) -> str:
        found = encoded.get(id(payload))
        if found is None:
            found = encoded[id(payload)] = dump_json(payload)
        return found

    return dumps


async def _insert_rows_pg(conn: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    dumps = _shared_dumps()
    pending = str(OutboxStatus.PENDING)
    inserted = 0
    for start in range(0, len(rows), 5000):
        chunk = rows[start : start + 5000]
        columns = (
            [row["key"] for row in chunk],
            [str(row["kind"]) for row in chunk],
            [row["chat_id"] for row in chunk],
            [row["person_id"] for row in chunk],
            [row["assignment_id"] for row in chunk],
            [row["stage"] for row in chunk],
            [row["locale"] for row in chunk],
            [dumps(row["payload"]) for row in chunk],
            [row["created_at"] for row in chunk],
            [row["not_before"] for row in chunk],
            [str(row.get("status", pending)) for row in chunk],
        )
        result = await conn.exec_driver_sql(_INSERT_PG, columns)
        inserted += max(result.rowcount or 0, 0)
    return inserted


async def insert_rows(conn: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT(key) DO NOTHING; returns how many rows were new. A row is a dict
    of the Outbox columns, its payload already `to_json()`-ed (default status: pending)."""
    if not rows:
        return 0
    if is_postgres(conn):
        return await _insert_rows_pg(conn, rows)
    raw = await driver(conn)
    dumps = _shared_dumps()
    pending = str(OutboxStatus.PENDING)
    texts: dict[datetime, str] = {}  # a pass writes most rows with the same instants

    def stamp(value: datetime) -> str:
        text = texts.get(value)
        if text is None:
            text = texts[value] = db_datetime(value)
        return text

    inserted = 0
    for start in range(0, len(rows), _INSERT_CHUNK):
        if start:
            await asyncio.sleep(0)  # the loop runs between chunks (payloads are encoded here)
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
            for row in rows[start : start + _INSERT_CHUNK]
        ]
        cursor = await raw.executemany(_INSERT_SQL, params)
        inserted += max(cursor.rowcount or 0, 0)
        await cursor.close()
    return inserted
