"""Restarting local mode on the same data folder: same people, the clock resumes, and message
ids continue after those the database remembers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.localmode import LocalMode
from bot.localmode.people import COORDINATOR_ID, LOCAL_PEOPLE
from bot.storage.models import Assignment, Membership, Person, SentMessage
from tests.localmode.conftest import local_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _count(mode: LocalMode, table: type) -> int:
    async with mode.session_maker() as session:
        return (await session.exec(select(func.count()).select_from(table))).one()


async def test_a_restart_keeps_the_people_the_clock_and_the_message_ids(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = local_settings(tmp_path)
    async with LocalMode(settings) as first:
        assert first.clock_origin == "default"
        people, memberships = await _count(first, Person), await _count(first, Membership)
        assert people >= len(LOCAL_PEOPLE)
        moved = first.clock.advance(timedelta(days=2))
        async with first.session_maker() as session:
            assignment = (await session.exec(select(Assignment))).first()
            session.add(
                SentMessage(
                    chat_id=COORDINATOR_ID,
                    message_id=42,
                    assignment_id=assignment.id,
                    kind="reminder",
                    sent_at=moved,
                )
            )
            await session.commit()

    async with LocalMode(settings) as second:
        assert second.clock_origin == "resumed"
        assert second.clock.now() >= moved
        assert await _count(second, Person) == people
        assert await _count(second, Membership) == memberships
        assert second.world.chats[COORDINATOR_ID].next_message_id == 43
        assert second.world.users[COORDINATOR_ID].started
