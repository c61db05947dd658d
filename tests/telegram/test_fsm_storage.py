"""aiogram's conversation state lives in the database: what one instance asked (/pending waiting
for the reason of a 退回), another instance on the same database — or this one after a restart —
reads when the answer arrives through it."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey

from bot.storage import fsm
from bot.storage.db import create_all, make_engine, make_session_maker
from bot.telegram.coordinator.pending import AwaitReason
from bot.telegram.fsm_storage import DatabaseStorage
from tests.dbs import database_url


async def test_a_question_asked_by_one_instance_is_answered_through_another(tmp_path):
    url = database_url(tmp_path / "fsm.sqlite3")
    first, second = make_engine(url), make_engine(url)  # two processes' engines
    try:
        await create_all(first)
        asking = DatabaseStorage(make_session_maker(first))
        answering = DatabaseStorage(make_session_maker(second))
        key = StorageKey(bot_id=42, chat_id=-1001234567890, user_id=7_000_000_001)
        other = StorageKey(bot_id=42, chat_id=-1001234567890, user_id=7_000_000_002)

        await asking.set_state(key, AwaitReason.reason)
        await asking.set_data(key, {"action": "return", "assignment_id": 5, "prompt": 99})

        assert await answering.get_state(key) == AwaitReason.reason.state
        assert await answering.get_data(key) == {
            "action": "return",
            "assignment_id": 5,
            "prompt": 99,
        }
        assert await answering.get_state(other) is None and await answering.get_data(other) == {}
        assert await answering.update_data(key, {"prompt": 100}) == {
            "action": "return",
            "assignment_id": 5,
            "prompt": 100,
        }

        await answering.set_state(key, None)  # FSMContext.clear()
        await answering.set_data(key, {})
        assert await asking.get_state(key) is None
        assert await fsm.keys(make_session_maker(first)) == []  # nothing left behind
    finally:
        await first.dispose()
        await second.dispose()
