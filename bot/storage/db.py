"""Engine and session maker, for SQLite (the default) and PostgreSQL. One session per update or
job run; `expire_on_commit=False` because async sessions cannot lazy-load after commit
(PITFALLS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Insert, Table, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage import (
    models,  # noqa: F401  (registers the tables on SQLModel.metadata)
    next_at,  # noqa: F401  (the session listeners that keep next_at current)
)
from bot.storage.jsontext import dump_json

SessionMaker = async_sessionmaker[AsyncSession]
WAL_LIMIT_BYTES = 1024 * 1024  # SQLite: the -wal file's size kept after a checkpoint
PAGE_CACHE_KIB = 2000  # SQLite: each connection's page cache (SQLite's default; see below)
# SQLite copies the write-ahead log into the database inside the commit that takes the log past
# wal_autocheckpoint pages (1,000 by default): that commit then writes and syncs megabytes
# (10-40 ms instead of 1-2 for a plan's withdrawal or an approve). The bot checkpoints in the
# background instead (`checkpoint`, after every scheduler tick); the automatic one is only a
# bound for a process that writes much without ticking (a benchmark, a long command).
WAL_AUTOCHECKPOINT_PAGES = 10_000  # 40 MiB of 4 KiB pages


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite leaves foreign keys off per connection; WAL lets a reader run beside the writer.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # SQLite's own page cache stays at its default (2 MiB a connection), which the OS's file
    # cache backs: a cache of 32 MiB saved /status over 100,000 assignments ~5 ms of its ~50 ms
    # CPU (benchmarks/status_bench.py) but each pooled connection kept what it once read, so
    # the bot's process held ~30 MiB more after one digest pass at that size (143 -> 116 MB).
    cursor.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
    # The WAL file keeps the size of the largest transaction it ever held (a first pass after
    # loading writes megabytes in one) until something truncates it: once checkpointed, it is
    # cut back to 1 MiB, so the store on disk is the database and a small log.
    cursor.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cursor.close()


async def checkpoint(engine: AsyncEngine) -> tuple[int, int] | None:
    """SQLite: copy the write-ahead log into the database, PASSIVE (what no reader still needs;
    it waits for no reader or writer), on a connection of its own, outside any transaction.
    Returns (frames in the log, frames copied); None on other databases. Once everything is
    copied, the next writer starts the log again and cuts its file to WAL_LIMIT_BYTES."""
    if engine.dialect.name != "sqlite":
        return None
    async with engine.connect() as conn:
        result = await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        _busy, frames, copied = tuple[Any, ...](result.one())
    return int(frames), int(copied)


CLOSE_AT_CHECKIN = "duban_close_at_checkin"  # a connection's info key: close it when returned


def close_when_returned(conn: Any) -> None:
    """SQLite file databases: close this pooled connection when it goes back to the pool
    (the pool opens a new one when it is next needed), and with it what its caches hold (up
    to 2 MiB of pages and its prepared statements: after a digest pass at 100,000
    assignments ~2.5 MB of the bot's process). Elsewhere nothing (PostgreSQL's server caches;
    an in-memory database is its connection). `conn`: a Connection or AsyncConnection."""
    if conn.dialect.name == "sqlite":
        conn.info[CLOSE_AT_CHECKIN] = True


def _close_if_asked(_dbapi_connection: DBAPIConnection, record: Any) -> None:
    if record.info.pop(CLOSE_AT_CHECKIN, False):
        record.invalidate()


# PostgreSQL connections per process: the bot runs one session per update or job, a few at a
# time; the overflow absorbs a burst of updates and is closed again when idle.
PG_POOL_SIZE = 5
PG_MAX_OVERFLOW = 10


def make_engine(database_url: str | URL, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for SQLite (`sqlite+aiosqlite:///path`, the default) or
    PostgreSQL (`postgresql+asyncpg://user@host:port/db`). SQLite: the file's folder is
    created and every connection gets the pragmas above. PostgreSQL: a pool whose connections
    are checked before use (a restarted or failed-over server costs a retry, not an error)."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, json_serializer=dump_json)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if url.database and url.database != ":memory:" and "mode=memory" not in str(url):
            # (an in-memory database lives in its one connection: never closed on request)
            event.listen(engine.sync_engine, "checkin", _close_if_asked)
        return engine
    if backend != "postgresql":
        return create_async_engine(url, echo=echo, json_serializer=dump_json)
    engine = create_async_engine(
        url,
        echo=echo,
        json_serializer=dump_json,
        pool_size=PG_POOL_SIZE,
        max_overflow=PG_MAX_OVERFLOW,
        pool_pre_ping=True,
        pool_recycle=1800,  # behind a proxy or a firewall that drops idle connections
    )
    if url.get_driver_name() == "asyncpg":
        event.listen(engine.sync_engine, "connect", _pg_session)
    event.listen(engine.sync_engine, "before_cursor_execute", _drop_nul, retval=True)
    return engine


def _pg_session(dbapi_connection: DBAPIConnection, _record: object) -> None:
    """The server's JIT compiler off for this connection. The bot's statements touch at most a
    few hundred thousand rows, yet the planner's cost of a correlated subquery per row passes
    `jit_above_cost`: compiling /status's lights statement took 0.7–1.4 s, running it 30 ms
    (EXPLAIN ANALYZE, 100,000 assignments). A SET, not a startup parameter: PgBouncer refuses
    startup parameters it does not know."""
    # on the driver's own connection: through the DB-API adapter the SET would open a
    # transaction, and the pool's rollback at check-in would undo it
    dbapi_connection.run_async(lambda raw: raw.execute("SET jit = off"))


def _clean(value: Any) -> Any:
    """`value` without NUL characters: a string, or the strings of a row or of rows."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list | tuple):
        return type(value)(_clean(v) for v in value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _drop_nul(
    conn: Connection,
    cursor: object,
    statement: str,
    parameters: Any,
    context: object,
    executemany: bool,
) -> tuple[str, Any]:
    """PostgreSQL's text cannot hold NUL (U+0000) and refuses the whole statement: a user's
    note that carries one is stored without it (SQLite keeps it; every reader of the text
    already drops control characters where they matter, e.g. the .xlsx export)."""
    parameters = _clean(parameters)
    return statement, parameters


def is_postgres(engine_or_connection: AsyncEngine | AsyncConnection | Connection) -> bool:
    return engine_or_connection.dialect.name == "postgresql"


def insert_unless_exists(table: Table, dialect_name: str, *, key: list[str]) -> Insert:
    """INSERT … ON CONFLICT (key) DO NOTHING in the dialect's own words (SQLite and
    PostgreSQL spell it alike, but SQLAlchemy builds it per dialect); add `.values(...)`."""
    insert = pg_insert if dialect_name == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=key)


def make_session_maker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def create_all(engine: AsyncEngine) -> None:
    """Create every table directly (tests, fresh throw-away databases). Real databases are
    created and upgraded by the migrations (`python -m bot migrate`)."""
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
