"""aiogram's conversation state in the database (`fsm_state`): one row per storage key, so the
update that answers a question may reach another instance than the one that asked it (or the
same one after a restart). The adapter aiogram calls is `bot.telegram.fsm_storage`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, delete, select

from bot.storage.db import SessionMaker
from bot.storage.models import FsmState
from bot.storage.typed_sql import table_of


async def read(session_maker: SessionMaker, key: str) -> tuple[str | None, dict[str, Any]]:
    """(state, data) of `key`; (None, {}) when none is stored."""
    async with session_maker() as session:
        row = await session.get(FsmState, key)
        if row is None:
            return None, {}
        return row.state, dict(row.data or {})


async def write(session_maker: SessionMaker, key: str, now: datetime, **values: Any) -> None:
    """Set `state` and/or `data` of `key` in one statement (INSERT … ON CONFLICT DO UPDATE);
    a key left with no state and no data is deleted."""
    async with session_maker() as session:
        conn = await session.connection()
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        fresh = {"key": key, "state": None, "data": {}, "updated_at": now, **values}
        statement = insert(table_of(FsmState)).values(**fresh)
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={**values, "updated_at": now}
        )
        await session.exec(statement)
        row = await session.get(FsmState, key, populate_existing=True)
        if row is not None and row.state is None and not row.data:
            await session.exec(delete(FsmState).where(col(FsmState.key) == key))
        await session.commit()


async def keys(session_maker: SessionMaker) -> list[str]:
    """Every stored key (tests, operators)."""
    async with session_maker() as session:
        return list((await session.exec(select(FsmState.key))).all())
