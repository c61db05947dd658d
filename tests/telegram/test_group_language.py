"""Per-group language: `/lang` in a group, by a coordinator, sets the group's own language
(stored per chat); the weekly digest and other messages to the group use it instead of the
language of whoever subscribed the group or writes there."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.core.notices import DigestNotice
from bot.storage.chats import chat_locale
from bot.storage.models import ChatSetting, ChatSubscription, Outbox
from bot.telegram.delivery.sender import Sender
from tests.services.factories import NOW, add_person

from .conftest import COORDINATOR, LIAISON

GROUP = -100  # the harness's group chat
EN_COORDINATOR = 600  # a coordinator who reads English


def sender_for(h) -> Sender:
    ticks = iter(range(10**6))

    async def no_sleep(_: float) -> None:
        return None

    return Sender(
        bot=h.bot,
        session_maker=h.ledger.session_maker,
        clock=h.clock,
        zone=ZoneInfo("Asia/Shanghai"),
        sleep=no_sleep,
        monotonic=lambda: float(next(ticks)),
        rng=lambda: 0.5,
    )


async def queue_digest(h, locale: str, key: str) -> None:
    notice = DigestNotice(
        week="2025-W51",
        week_start=date(2025, 12, 15),
        today=date(2025, 12, 20),
        audience="group",
        unit_ids=None,
        plans=(),
    )
    async with h.ledger.session_maker() as s:
        s.add(
            Outbox(
                key=key,
                kind="digest",
                chat_id=GROUP,
                locale=locale,  # what planning wrote: the subscriber's language
                payload=notice.to_json(),
                created_at=NOW,
                not_before=NOW,
            )
        )
        await s.commit()


async def group_texts(h, since: int) -> list[str]:
    return [
        c.text
        for c in h.session.calls[since:]
        if hasattr(c, "chat_id") and hasattr(c, "text") and int(c.chat_id) == GROUP
    ]


async def test_a_coordinator_sets_the_groups_language_and_the_digest_follows_it(h):
    # subscribed by a coordinator who reads Chinese: the subscription carries zh_CN
    await h.send(COORDINATOR, "/subscribe SR", chat_type="group")
    async with h.ledger.session_maker() as s:
        sub = (await s.exec(select(ChatSubscription))).one()
        assert sub.locale == "zh_CN"

    answer = await h.send(COORDINATOR, "/lang en", chat_type="group")
    assert "this group in English" in answer.text
    async with h.ledger.session_maker() as s:
        assert await chat_locale(s, GROUP) == "en"
        assert await chat_locale(s, COORDINATOR) is None  # the person's own is untouched
    assert "切换语言" in (await h.send(COORDINATOR, "/help")).text  # privately still Chinese

    await queue_digest(h, "zh_CN", "digest:first")
    before = len(h.session.calls)
    await sender_for(h).drain()
    texts = await group_texts(h, before)
    assert texts and texts[0].startswith("📊 <b>Weekly digest</b>"), texts

    # back to Chinese, by another coordinator whose own language is English
    await add_person(h.ledger, EN_COORDINATOR, "Smith", role="coordinator", locale="en")
    answer = await h.send(EN_COORDINATOR, "/lang zh", chat_type="group", language_code="en")
    assert "本群" in answer.text
    # planned in the English reader's language: the group's own wins
    await queue_digest(h, "en", "digest:second")
    before = len(h.session.calls)
    await sender_for(h).drain()
    assert (await group_texts(h, before))[0].startswith("📊 <b>督办周报</b>")


async def test_answers_in_the_group_use_its_language(h):
    await h.send(COORDINATOR, "/lang en", chat_type="group")
    answer = await h.send(COORDINATOR, "/help", chat_type="group")
    assert "/lang" in answer.text and "切换语言" not in answer.text, answer.text


async def test_only_a_coordinator_chooses_the_groups_language(h):
    answer = await h.send(LIAISON, "/lang en", chat_type="group")
    assert "督办员" in answer.text
    async with h.ledger.session_maker() as s:
        assert (await s.exec(select(ChatSetting))).all() == []
    # the liaison's own language is untouched as well
    assert "切换语言" in (await h.send(LIAISON, "/help")).text
