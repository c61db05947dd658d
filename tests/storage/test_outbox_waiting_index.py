"""The brief composer finds the waiting Outbox rows through an index (migration 0015): a
condition on `not_before` read from the row walks the overflow pages of the row's payload,
which comes before it (a pending brief of hundreds of items: tens of KiB)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.notices import OutboxKind
from bot.storage.db import make_engine
from bot.storage.migrate import upgrade_database
from bot.storage.outbox import briefs
from bot.storage.outbox.raw import sqlite_param
from tests.dbs import sqlite_url

AT = datetime(2025, 3, 24, 2, 0, tzinfo=UTC)


async def test_the_waiting_rows_are_found_by_status_and_instant_in_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqlite_url(tmp_path / "ledger.sqlite3")
    await upgrade_database(url)  # the migrations' schema, as a deployment has it
    engine = make_engine(url)
    seen: list[tuple[str, Any]] = []
    reading = briefs.fetch_ids

    async def record(conn: Any, sql: str, params: Any = ()) -> Any:
        seen.append((sql, [sqlite_param(p) for p in params]))
        return await reading(conn, sql, params)

    monkeypatch.setattr(briefs, "fetch_ids", record)  # the query that finds the rows
    try:
        async with engine.connect() as conn:
            async for _part in briefs.waiting_rows(
                conn, AT, [OutboxKind.REMINDER, OutboxKind.BRIEF]
            ):
                pass
            [(finding, params)] = seen
            plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + finding, tuple(params))
            details = " ".join(str(row[-1]) for row in plan.all())
    finally:
        await engine.dispose()
    assert "ix_outbox_status_not_before (status=? AND not_before<?)" in details, details
