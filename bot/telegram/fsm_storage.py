"""aiogram's FSM storage on the database (`bot.storage.fsm`): /pending waiting for the reason of
a 退回 or 驳回, and any later state, survive a restart and may be answered through another
instance behind the same webhook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StorageKey

from bot.clock import Clock, SystemClock
from bot.storage import fsm
from bot.storage.db import SessionMaker


def storage_key(key: StorageKey) -> str:
    return ":".join(
        str(part)
        for part in (
            key.bot_id,
            key.chat_id,
            key.user_id,
            key.thread_id or "",
            key.business_connection_id or "",
            key.destiny,
        )
    )


class DatabaseStorage(BaseStorage):
    """aiogram's BaseStorage over the `fsm_state` table. `clock` stamps `updated_at` (real
    time by default)."""

    def __init__(self, session_maker: SessionMaker, *, clock: Clock | None = None) -> None:
        self.session_maker = session_maker
        self.clock = clock or SystemClock()

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        value = state.state if isinstance(state, State) else state
        await fsm.write(self.session_maker, storage_key(key), self.clock.now(), state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await fsm.read(self.session_maker, storage_key(key)))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await fsm.write(self.session_maker, storage_key(key), self.clock.now(), data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return (await fsm.read(self.session_maker, storage_key(key)))[1]

    async def close(self) -> None:
        return None
