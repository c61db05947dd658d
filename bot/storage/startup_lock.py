"""Start-up work that must run once when several instances start at the same moment.

Migrations and the tasks_data load run under `startup_lock`: on PostgreSQL a session-level
advisory lock (`pg_advisory_lock`) held on a dedicated connection of its own (not the pool's,
so no other work can release it by accident), so the first instance migrates and loads while
the others wait, then find the schema at head and the plans unchanged and go on. A holder that
dies loses its connection, and PostgreSQL releases the lock with it. On SQLite (one process
per database) nothing is locked: today's behaviour.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# any 64-bit number no other code uses for an advisory lock on this database ("dubanSTA")
STARTUP_LOCK_KEY = 0x647562616E535441


@asynccontextmanager
async def startup_lock(database_url: str) -> AsyncIterator[None]:
    """Hold the database's start-up lock for the block (PostgreSQL); a no-op on SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield
        return
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            key = {"key": STARTUP_LOCK_KEY}
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key)).scalar()
            if not got:
                log.info("another instance is starting up on this database; waiting for it")
                await conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
            await conn.commit()
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                await conn.commit()
    finally:
        await engine.dispose()
