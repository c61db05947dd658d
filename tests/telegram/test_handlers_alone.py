"""Handlers live at module level: each can be called alone with a fake message and the
keyword arguments the dispatcher would give it (no dispatcher, no Bot)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiogram.filters import CommandObject
from sqlmodel import select

from bot.clock import VirtualClock
from bot.core.roles import Roles
from bot.services.errors import ServiceError
from bot.storage.models import ChatSubscription
from bot.telegram import fallback, gate, reminders
from bot.telegram.coordinator import refuse
from bot.telegram.coordinator.texts import not_coordinator
from bot.telegram.errors import error_line
from tests.services.factories import NOW

GROUP = -1001


class FakeMessage:
    """What a handler uses of a Message: its chat and `answer`, which records the text."""

    def __init__(self, text: str = "", *, chat_id: int = 100, chat_type: str = "private"):
        self.text = text
        self.chat = SimpleNamespace(id=chat_id, type=chat_type, title="督办群")
        self.answers: list[str] = []

    async def answer(self, text: str, **kwargs: Any) -> None:
        self.answers.append(text)


async def test_a_reply_to_nothing_is_told_what_to_reply_to():
    message = FakeMessage("进展顺利")
    await fallback.reply_elsewhere(message, locale="en")
    assert message.answers == [error_line(ServiceError("not_about_assignment"), "en")]


async def test_coordinator_commands_of_others_get_one_polite_line():
    message = FakeMessage("/status")
    await refuse(message, locale="zh_CN")
    assert message.answers == [not_coordinator("zh_CN")]


async def test_a_stranger_gets_the_access_note(i18n):
    message = FakeMessage("hello")
    with i18n.context(), i18n.use_locale("en"):
        await gate.stranger(message)
    assert "invitation link" in message.answers[0]


async def test_a_group_subscribes_to_the_digest_and_leaves_it(ledger, i18n):
    clock = VirtualClock(NOW, rate=0)
    everything = Roles(coordinator_all=True)
    async with ledger.session_maker() as session:
        message = FakeMessage("/subscribe", chat_id=GROUP, chat_type="supergroup")
        with i18n.context(), i18n.use_locale("en"):
            await reminders.on_subscribe(
                message,
                command=CommandObject(prefix="/", command="subscribe"),
                session=session,
                clock=clock,
                roles=everything,
                locale="en",
            )
        assert message.answers == ["This group will receive the weekly digest of every plan."]
        found = await session.exec(
            select(ChatSubscription).where(ChatSubscription.chat_id == GROUP)
        )
        subscription = found.one()
        assert subscription.active and subscription.plan_id is None

        message = FakeMessage("/unsubscribe", chat_id=GROUP, chat_type="supergroup")
        with i18n.context(), i18n.use_locale("en"):
            await reminders.on_unsubscribe(message, session=session)
        assert message.answers == ["This group will no longer receive the weekly digest."]
        await session.refresh(subscription)
        assert not subscription.active
