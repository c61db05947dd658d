"""`python -m bot copy-db FROM_URL TO_URL`: move a deployment to another database (SQLite to
PostgreSQL, or back) with all its history.

The target gets the schema at head through the migrations (so it is upgraded as any other
database later), and must hold no rows yet: a copy never merges. Every table of the models is
copied in dependency order (a row's foreign keys point at rows copied before it), in batches by
primary key, all in one transaction on the target: a failed copy leaves nothing behind. Then
PostgreSQL's id sequences are moved past the copied ids, and the row count of every table is
checked against the source.

The source is read in one transaction, a consistent snapshot: it may be a running bot's
database (SQLite's WAL lets the reader and the writer go on side by side), but what the bot
writes after the snapshot is not in the copy. To move a deployment: stop the bot, copy, start it
with the new DATABASE_URL. The source must be at the head revision (`python -m bot migrate`
first). `instance_lock` (the sender's lease, state of the running processes) is not copied: the
target keeps its own free row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, insert, select, text, tuple_
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from bot.core.errors import DubanError
from bot.storage import models  # noqa: F401  (registers the tables)
from bot.storage.db import make_engine
from bot.storage.migrate import current_revision, head_revision, upgrade_database

BATCH = 2000  # rows per SELECT and per INSERT
NOT_COPIED = frozenset({"instance_lock"})  # runtime state of the processes, not history


class CopyError(DubanError):
    """The copy cannot be made (or did not check out); the message says why."""


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)  # table → rows copied

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def copied_tables() -> list[Table]:
    """The tables to copy, each after every table its foreign keys point at."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in NOT_COPIED]


def _order(table: Table) -> list[Any]:
    return list(table.primary_key.columns)


async def _count(conn: AsyncConnection, table: Table) -> int:
    return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _copy_table(
    source: AsyncConnection, target: AsyncConnection, table: Table, batch: int
) -> int:
    """Copy `table` in batches of `batch` rows, by primary key (keyset pagination; a key of
    several columns, as stagemark's, compared as a row value)."""
    keys = _order(table)
    if not keys:
        raise CopyError(f"table {table.name}: a copy needs a primary key")
    position = tuple_(*keys) if len(keys) > 1 else keys[0]
    copied = 0
    last: Any = None
    while True:
        query = select(table).order_by(*keys).limit(batch)
        if last is not None:
            query = query.where(position > last)
        rows = [dict(r._mapping) for r in (await source.execute(query)).all()]
        if not rows:
            return copied
        await target.execute(insert(table), rows)
        copied += len(rows)
        values = tuple(rows[-1][key.name] for key in keys)
        last = tuple_(*values) if len(keys) > 1 else values[0]


async def _reset_sequences(target: AsyncConnection, tables: list[Table]) -> None:
    """PostgreSQL: the next id of each table after the largest one copied."""
    if target.dialect.name != "postgresql":
        return  # SQLite's next rowid is past the largest one by itself
    for table in tables:
        keys = _order(table)
        if len(keys) != 1:  # a key of several columns has no sequence
            continue
        (key,) = keys
        if not key.autoincrement or not isinstance(key.type.python_type, type):
            continue
        if key.type.python_type is not int:
            continue
        await target.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{key.name}'),"
                f' coalesce(max("{key.name}"), 1), max("{key.name}") IS NOT NULL)'
                f' FROM "{table.name}"'
            )
        )


def _where(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def copy_database(
    source_url: str,
    target_url: str,
    *,
    batch: int = BATCH,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy every row of the ledger at `source_url` into the empty database at `target_url`
    (created or upgraded to head first). Raises CopyError when the source is not at head, the
    target has rows, or the counts differ afterwards; `progress(table, rows)` after each table.
    """
    if make_url(source_url) == make_url(target_url):
        raise CopyError("the source and the target are the same database")
    head = head_revision()
    at = await current_revision(source_url)
    if at != head:
        raise CopyError(
            f"the source {_where(source_url)} is at revision {at}, not {head}: upgrade it first"
            " (python -m bot migrate)"
        )
    await upgrade_database(target_url)
    tables = copied_tables()
    report = CopyReport()
    source_engine, target_engine = make_engine(source_url), make_engine(target_url)
    try:
        async with source_engine.connect() as source, target_engine.begin() as target:
            await source.begin()  # one snapshot of the source for the whole copy
            for table in tables:
                if await _count(target, table):
                    raise CopyError(
                        f"the target {_where(target_url)} is not empty (table {table.name}"
                        " has rows): a copy never merges; give it an empty database"
                    )
            for table in tables:
                report.rows[table.name] = await _copy_table(source, target, table, batch)
                if progress is not None:
                    progress(table.name, report.rows[table.name])
            await _reset_sequences(target, tables)
            for table in tables:
                want, got = await _count(source, table), await _count(target, table)
                if want != got or got != report.rows[table.name]:
                    raise CopyError(f"table {table.name}: {want} rows in the source, {got} copied")
            await source.rollback()
    finally:
        await source_engine.dispose()
        await target_engine.dispose()
    return report
