"""A liaison is told "recorded" only once the report is stored, and a failure to tell them
never undoes it (issue 10, finding 7).

Every path that answers a report with "✅ …" is driven through the real dispatcher: the
/report command, the status buttons, and replies with text, a photo or a document. The
recording session looks at the database from another connection at the moment the
acknowledgement leaves, and can make that request fail.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import SendMessage
from sqlmodel import func, select

from bot.app import load_deployment_policy
from bot.storage.models import StatusEvent

from .conftest import LIAISON

ACK_MARK = "✅"


async def stored_events(h) -> int:
    """Committed events, as another connection sees them."""
    async with h.ledger.session_maker() as s:
        return (await s.exec(select(func.count()).select_from(StatusEvent))).one()


def watch_acknowledgements(h, *, fail: bool = False) -> list[int]:
    """At every "✅" message that leaves, note the events stored by then; with `fail`, the
    request then fails the way a network error does."""
    seen: list[int] = []
    session = h.session
    original = session.make_request

    async def make_request(bot, method, timeout=None) -> Any:
        if isinstance(method, SendMessage) and method.text.startswith(ACK_MARK):
            seen.append(await stored_events(h))
            if fail:
                session.calls.append(method)
                raise TelegramNetworkError(method=method, message="ServerDisconnectedError")
        return await original(bot, method, timeout)

    session.make_request = make_request  # type: ignore[method-assign]
    return seen


async def task_card(h) -> Any:
    return await h.send(LIAISON, "/task SR-2")


REPORTS = {
    "command": lambda h, card: h.send(LIAISON, "/report SR-1 进行中 60% 已召开部署会"),
    "button": lambda h, card: h.press(LIAISON, card.button("有困难")),
    "ack button": lambda h, card: h.press(LIAISON, card.button("签收")),
    "text reply": lambda h, card: h.send(LIAISON, "已协调土地指标", reply_to=card.last_id),
    "photo reply": lambda h, card: h.send(
        LIAISON, reply_to=card.last_id, photo=True, caption="现场照片"
    ),
    "document reply": lambda h, card: h.send(
        LIAISON, reply_to=card.last_id, document=("方案.pdf", 1000)
    ),
}


@pytest.mark.parametrize("path", list(REPORTS))
async def test_the_report_is_stored_before_the_liaison_is_told(h, path):
    card = await task_card(h)
    before = await stored_events(h)
    seen = watch_acknowledgements(h)

    sent = await REPORTS[path](h, card)

    assert any(t.startswith(ACK_MARK) for t in sent.texts), sent.texts
    assert seen == [before + 1]  # committed when the acknowledgement left, not after


@pytest.mark.parametrize("path", list(REPORTS))
async def test_a_failed_acknowledgement_keeps_the_report(h, path, caplog):
    card = await task_card(h)
    before = await stored_events(h)
    watch_acknowledgements(h, fail=True)

    sent = await REPORTS[path](h, card)

    assert await stored_events(h) == before + 1
    # no apology saying "something went wrong, try again": that would make them report twice
    assert not any("抱歉" in t for t in sent.texts), sent.texts
    assert "acknowledgement" in caplog.text and "stored" in caplog.text


async def test_a_handler_that_answers_first_gets_its_writes_committed_first(
    ledger, i18n, directory, caplog
):
    """The general guard (what `python -m bot run` installs): whatever a handler forgets, its
    writes are committed before any request of its update leaves."""
    from aiogram import Bot, Router
    from aiogram.client.default import DefaultBotProperties
    from aiogram.filters import Command
    from aiogram.types import Message

    from bot.clock import VirtualClock
    from bot.config import load_settings
    from bot.storage.models import Person
    from bot.telegram.middlewares import CommitBeforeAnswer
    from bot.telegram.setup import build_dispatcher
    from tests.services.factories import NOW, add_person

    from .harness import Harness, RecordingSession

    await add_person(ledger, LIAISON, "张三", role="liaison", unit="sr_health")
    careless = Router(name="careless")

    @careless.message(Command("rename"))
    async def rename(message: Message, session, person: Person) -> None:
        person.name = "张三丰"
        session.add(person)
        await message.answer("✅ renamed")  # before the commit: the bug the guard catches
        await session.commit()

    settings = load_settings(env_file=None, bot_token="42:TEST")
    dp = build_dispatcher(
        settings=settings,
        policy=load_deployment_policy(settings),
        tz=settings.clock.zone,
        clock=VirtualClock(NOW, rate=0),
        session_maker=ledger.session_maker,
        directory=directory,
        i18n=i18n,
        extra_routers=[careless],
    )
    recording = RecordingSession()
    recording.middleware(CommitBeforeAnswer())
    h = Harness(
        bot=Bot("42:TEST", session=recording, default=DefaultBotProperties()),
        dispatcher=dp,
        session=recording,
    )
    names: list[str] = []
    original = recording.make_request

    async def make_request(bot, method, timeout=None) -> Any:
        if isinstance(method, SendMessage):
            async with ledger.session_maker() as s:
                found = await s.exec(select(Person.name).where(Person.telegram_id == LIAISON))
                names.append(found.one())
        return await original(bot, method, timeout)

    recording.make_request = make_request  # type: ignore[method-assign]

    sent = await h.send(LIAISON, "/rename")

    assert sent.texts == ["✅ renamed"] and names == ["张三丰"]
    assert "before the update's writes were committed" in caplog.text
