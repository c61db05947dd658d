"""The brief composer finds the waiting Outbox rows through an index (migration 0015): a
condition on `not_before` read from the row walks the overflow pages of the row's payload,
which comes before it (a pending brief of hundreds of items: tens of KiB)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bot.core.notices import OutboxKind
from bot.storage.db import make_engine
from bot.storage.migrate import upgrade_database
from bot.storage.outbox.briefs import waiting_rows
from tests.dbs import sqlite_url

AT = datetime(2025, 3, 24, 2, 0, tzinfo=UTC)


async def test_the_waiting_rows_are_found_by_status_and_instant_in_the_index(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path / "ledger.sqlite3")
    await upgrade_database(url)  # the migrations' schema, as a deployment has it
    engine = make_engine(url)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with engine.connect() as conn:
            async for _part in waiting_rows(conn, AT, [OutboxKind.REMINDER, OutboxKind.BRIEF]):
                pass
            finding = next(s for s in seen if s[0].lstrip().startswith("SELECT outbox.id"))
            plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + finding[0], finding[1])
            details = " ".join(str(row[-1]) for row in plan.all())
    finally:
        await engine.dispose()
    assert "ix_outbox_status_not_before (status=? AND not_before<?)" in details, details
