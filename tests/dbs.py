"""The database of a test: an SQLite file by default, a fresh PostgreSQL database when
`TEST_DATABASE_URL` names a PostgreSQL server (`postgresql+asyncpg://USER@HOST:PORT/DB`).

Every test that needs a database asks `database_url(path)` for one (the path names the SQLite
file, and on PostgreSQL keys the database, so that asking twice gives the same one). On
PostgreSQL the databases are made by `CREATE DATABASE … TEMPLATE` from a template migrated to
head once per session, and recycled between tests: after a test its connections are ended and,
when its schema is still the template's, its rows are deleted and its sequences reset (a few
milliseconds; DROP DATABASE forces a checkpoint, about a second here). A database whose schema
the test changed, or one asked for `empty`, is dropped instead. At the end of the session every
database made here is dropped. `TEST_DATABASE_URL`'s own database is only the place the
administrative statements run in: the PostgreSQL run of .ci/run creates it and drops it.

Tests that are about SQLite itself (migrating a real SQLite file, reading it with sqlite3) ask
for `sqlite_url(path)` instead and say why.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def on_postgres() -> bool:
    """The suite runs against the PostgreSQL server of TEST_DATABASE_URL."""
    return (
        make_url(TEST_DATABASE_URL).get_backend_name() == "postgresql"
        if TEST_DATABASE_URL
        else False
    )


def sqlite_url(path: Path | str) -> str:
    """An SQLite file, whatever the run: for tests about SQLite itself."""
    return f"sqlite+aiosqlite:///{path}"


def database_url(path: Path | str, *, empty: bool = False) -> str:
    """The database of `path` for this test: the SQLite file at `path`, or on PostgreSQL a fresh
    database with the schema at head (`empty`: without any table), the same one for the same
    path."""
    if not on_postgres():
        return sqlite_url(path)
    return _pool().url_for(str(path), empty=empty)


def copy_database(source_path: Path | str, target_path: Path | str) -> str:
    """A copy of the database of `source_path` (nobody connected to it) as that of
    `target_path`: a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL."""
    if not on_postgres():
        shutil.copyfile(source_path, target_path)
        return sqlite_url(target_path)
    return _pool().copy(str(source_path), str(target_path))


def fetch(url: str, statement: str) -> list[tuple[Any, ...]]:
    """The rows of `statement` on the database at `url`, read beside the code under test (with
    sqlite3, or asyncpg); [] when an SQLite file does not exist yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.exists():
            return []
        with sqlite3.connect(path) as conn:
            return conn.execute(statement).fetchall()
    return _pool().fetch(parsed.database or "", statement)


def table_names(url: str) -> set[str]:
    """The tables of the database at `url`."""
    if make_url(url).get_backend_name() == "sqlite":
        return {r[0] for r in fetch(url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {
        r[0] for r in fetch(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }


def release_test_databases(mark: int) -> None:
    """Give back the databases made since `mark` (`acquired_mark()`): recycled or dropped."""
    if on_postgres() and _POOL is not None:
        _POOL.release_since(mark)


def acquired_mark() -> int:
    return _POOL.counter if _POOL is not None else 0


def drop_all_test_databases() -> None:
    if _POOL is not None:
        _POOL.close()


# --- PostgreSQL --------------------------------------------------------------------------------

_POOL: _Pool | None = None
_LOCK = threading.Lock()


def _pool() -> _Pool:
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = _Pool(make_url(TEST_DATABASE_URL))
        return _POOL


_FINGERPRINT = """
SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
  SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
    || ':' || coalesce(column_default, '') AS x
  FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT conname || ':' || pg_get_constraintdef(c.oid) FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'
) s
"""


class _Pool:
    """The PostgreSQL databases of this session. Administrative statements run on an asyncpg
    connection of a thread of its own, so that sync fixtures and running event loops alike can
    wait for them."""

    def __init__(self, admin: URL) -> None:
        self.admin = admin
        base = admin.database or "postgres"
        self.prefix = f"{base}_t{os.getpid()}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.counter = 0
        self.by_path: dict[str, tuple[int, str]] = {}  # path → (order made, database)
        self.free: list[str] = []
        self.made: list[str] = []
        self.template = f"{self.prefix}_head"
        self.fingerprint = ""
        self.head = ""
        self.conn: Any = None
        self._run(self._start())

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def url(self, database: str) -> str:
        return self.admin.set(database=database).render_as_string(hide_password=False)

    def _dsn(self, database: str) -> str:
        return self.admin.set(drivername="postgresql", database=database).render_as_string(
            hide_password=False
        )

    async def _start(self) -> None:
        import asyncpg

        from bot.storage.migrate import head_revision, upgrade_database

        self.conn = await asyncpg.connect(self._dsn(self.admin.database or "postgres"))
        await self._create(self.template)
        await upgrade_database(self.url(self.template))
        self.head = head_revision() or ""
        self.fingerprint = await self._fingerprint(self.template)

    async def _create(self, name: str, template: str | None = None) -> None:
        await self.conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        suffix = f" TEMPLATE {template}" if template else ""
        await self.conn.execute(f"CREATE DATABASE {name}{suffix}")
        self.made.append(name)

    async def _clear(self, name: str) -> None:
        """Drop every table of the database `name` (and its migration history)."""
        import asyncpg

        conn = await asyncpg.connect(self._dsn(name))
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await conn.close()

    async def _fingerprint(self, name: str) -> str:
        import asyncpg

        conn = await asyncpg.connect(self._dsn(name))
        try:
            shape = await conn.fetchval(_FINGERPRINT) or ""
            try:
                version = await conn.fetchval("SELECT version_num FROM alembic_version")
            except asyncpg.UndefinedTableError:
                version = None
        finally:
            await conn.close()
        return hashlib.sha256(f"{shape}\n{version}".encode()).hexdigest()

    def url_for(self, path: str, *, empty: bool) -> str:
        with _LOCK:
            if path in self.by_path:
                return self.url(self.by_path[path][1])
            self.counter += 1
            order = self.counter
            if self.free:
                name = self.free.pop()
                if empty:
                    self._run(self._clear(name))
            else:
                name = f"{self.prefix}_{order}"
                self._run(self._create(name, None if empty else self.template))
            self.by_path[path] = (order, name)
            return self.url(name)

    def copy(self, source: str, target: str) -> str:
        with _LOCK:
            self.counter += 1
            name = f"{self.prefix}_{self.counter}"
            self._run(self._create(name, self.by_path[source][1]))
            self.by_path[target] = (self.counter, name)
            return self.url(name)

    def fetch(self, database: str, statement: str) -> list[tuple[Any, ...]]:
        async def run() -> list[tuple[Any, ...]]:
            import asyncpg

            conn = await asyncpg.connect(self._dsn(database))
            try:
                return [tuple(r) for r in await conn.fetch(statement)]
            finally:
                await conn.close()

        return self._run(run())

    def release_since(self, mark: int) -> None:
        with _LOCK:
            done = [(p, n) for p, (order, n) in self.by_path.items() if order > mark]
            for path, name in done:
                del self.by_path[path]
                if self._run(self._recycle(name)):
                    self.free.append(name)

    async def _recycle(self, name: str) -> bool:
        """Empty the database `name` for the next test; False: it was dropped instead."""
        import asyncpg

        await self.conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        if await self._fingerprint(name) != self.fingerprint:
            await self.conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self.made.remove(name)
            return False
        conn = await asyncpg.connect(self._dsn(name))
        try:
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'alembic_version'"
            )
            sequences = await conn.fetch(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            )
            async with conn.transaction():
                # foreign keys are triggers: off for this transaction (the server's superuser)
                await conn.execute("SET LOCAL session_replication_role = replica")
                for t in tables:
                    await conn.execute(f'DELETE FROM "{t["tablename"]}"')
                for s in sequences:
                    await conn.execute(f'ALTER SEQUENCE "{s["sequencename"]}" RESTART')
        finally:
            await conn.close()
        return True

    def close(self) -> None:
        global _POOL

        async def drop() -> None:
            for name in reversed(self.made):
                await self.conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await self.conn.close()

        self._run(drop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        _POOL = None
