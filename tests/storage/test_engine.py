"""The PostgreSQL engine's sessions: JIT compilation off on every pooled connection, also after
the pool's rollback at check-in (bot.storage.db._pg_session)."""

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
