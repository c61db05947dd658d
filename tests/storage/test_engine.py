"""The engines' connection settings: on PostgreSQL, JIT compilation off on every pooled
connection, also after the pool's rollback at check-in (bot.storage.db._pg_session); on SQLite,
the write-ahead log cut back after a large transaction (journal_size_limit) and a small page
cache on every connection."""

from __future__ import annotations

import pytest

from bot.storage.db import make_engine
from tests.dbs import database_url, on_postgres


@pytest.mark.skipif(not on_postgres(), reason="PostgreSQL run only (SQLite has no JIT)")
async def test_jit_is_off_on_every_connection(tmp_path) -> None:
    engine = make_engine(database_url(tmp_path / "jit.sqlite3"))
    try:
        for _ in range(3):  # the same pooled connection, checked in (rolled back) each time
            async with engine.connect() as conn:
                assert (await conn.exec_driver_sql("SHOW jit")).scalar() == "off"
            async with engine.begin() as conn:
                assert (await conn.exec_driver_sql("SHOW jit")).scalar() == "off"
    finally:
        await engine.dispose()


@pytest.mark.skipif(on_postgres(), reason="SQLite's write-ahead log file")
async def test_sqlite_wal_is_cut_back_after_a_large_transaction(tmp_path) -> None:
    """A transaction of several MiB grows the -wal file; once checkpointed, the next write
    cuts it back to WAL_LIMIT_BYTES instead of leaving it at its largest size forever."""
    from bot.storage.db import WAL_LIMIT_BYTES

    path = tmp_path / "wal.sqlite3"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE blob (id INTEGER PRIMARY KEY, body TEXT)")
        async with engine.begin() as conn:  # about 6 MiB in one transaction
            await conn.exec_driver_sql(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)"
                " INSERT INTO blob (body) SELECT printf('%.2000c', 'x') FROM n"
            )
        wal = path.with_name(path.name + "-wal")
        assert wal.stat().st_size > 4 * WAL_LIMIT_BYTES
        async with engine.begin() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        async with engine.begin() as conn:  # the next writer restarts the log
            await conn.exec_driver_sql("INSERT INTO blob (body) VALUES ('y')")
        assert wal.stat().st_size <= WAL_LIMIT_BYTES
    finally:
        await engine.dispose()


def _sqlite_heap() -> int | None:
    """SQLite's heap in use in this process (the library Python's sqlite3 is linked with), or
    None when it cannot be read here."""
    import ctypes
    import ctypes.util
    import sqlite3

    name = ctypes.util.find_library("sqlite3")
    if not name:
        return None
    lib = ctypes.CDLL(name)
    if lib.sqlite3_libversion_number() != sqlite3.sqlite_version_info[0] * 1_000_000 + (
        sqlite3.sqlite_version_info[1] * 1000 + sqlite3.sqlite_version_info[2]
    ):
        return None  # another copy of the library than the one Python uses
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return int(lib.sqlite3_memory_used())


@pytest.mark.skipif(on_postgres(), reason="SQLite's page cache")
async def test_a_connection_keeps_a_small_page_cache_after_reading_a_large_table(
    tmp_path,
) -> None:
    """Every pooled connection keeps the pages it read up to its cache size, for the life of
    the process: reading 12 MiB leaves at most SQLite's default 2 MiB cached, not the table."""
    import sqlite3

    path = tmp_path / "big.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        db.executemany("INSERT INTO t (body) VALUES (?)", (("x" * 1200,) for _ in range(10_000)))
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:
            before = _sqlite_heap()
            if not before:
                pytest.skip("SQLite's heap cannot be read in this process")
            total = (await conn.exec_driver_sql("SELECT sum(length(body)) FROM t")).scalar()
            grown = (_sqlite_heap() or 0) - before
    finally:
        await engine.dispose()
    assert total == 12_000_000
    assert grown < 3 * 2**20, f"{grown / 2**20:.1f} MiB cached"


@pytest.mark.skipif(on_postgres(), reason="SQLite's write-ahead log file")
async def test_sqlite_commits_leave_the_checkpoint_to_the_background(tmp_path) -> None:
    """A commit that takes the log past SQLite's default 1,000 pages does not copy it into
    the database on the way (that commit took 10-40 ms); `checkpoint` does, PASSIVE."""
    from bot.storage.db import checkpoint

    path = tmp_path / "quiet.sqlite3"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE blob (id INTEGER PRIMARY KEY, body TEXT)")
        for _ in range(3):  # about 6 MiB, 1,500 pages, in small commits
            async with engine.begin() as conn:
                await conn.exec_driver_sql(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                    " WHERE i < 1000) INSERT INTO blob (body) SELECT printf('%.2000c', 'x')"
                    " FROM n"
                )
        assert path.stat().st_size < 1024 * 1024  # all of it still in the log
        frames, copied = await checkpoint(engine) or (0, 0)
        assert frames == copied > 1000
        assert path.stat().st_size > 5 * 1024 * 1024
    finally:
        await engine.dispose()
