"""PostgreSQL's planner statistics after a pass that rewrote much of a table.

A first pass after loading plans stores every assignment's next instant and writes thousands
of Outbox rows. Until autovacuum analyzes the tables again (a minute or more later), the
planner still believes what it saw before: every `next_at` NULL, no pending rows. Then every
tick's lock of the NULL instants scans the whole assignment table and the brief composer's
read walks the Outbox's superseded row versions: the tick with nothing due costs 16 ms at 100k
assignments instead of 3. ANALYZE in the pass's own transaction (it counts the transaction's
rows as they will be; 50-90 ms at 100k) gives the next tick the right plan.

SQLite keeps no statistics unless asked (ANALYZE was never run on it): nothing to refresh."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

BULK = 5000  # rows written to a table in one pass from which its statistics are refreshed


async def refresh_statistics(conn: AsyncConnection, *, assignment: int, outbox: int) -> list[str]:
    """ANALYZE (PostgreSQL) each table of which the caller wrote at least `BULK` rows, in the
    caller's transaction. Returns the tables analyzed."""
    if conn.dialect.name != "postgresql":
        return []
    tables = [
        name for name, rows in (("assignment", assignment), ("outbox", outbox)) if rows >= BULK
    ]
    for table in tables:
        await conn.exec_driver_sql(f"ANALYZE {table}")
    return tables
