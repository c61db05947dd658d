"""The scorecard picture sent before a digest (and a leader's 督办汇总), by the outbox sender
against the in-process local Bot API server: photo first, then the whole text, each part once,
each distinct picture drawn once and uploaded once (a file_id afterwards); text only without a
CJK font, and the text goes even when the photo cannot."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import date, timedelta

import pytest

from bot.core.notices import DigestNotice, DigestPlan, RankingBlock, ScoreRow
from bot.storage.models import Outbox
from bot.telegram import charts
from bot.telegram.charts import Pictures
from bot.telegram.charts.fonts import NO_FONT_WARNING
from tests.schedules import test_sender
from tests.schedules.test_sender import START, Env

env = test_sender.env  # the fixture: a database, the in-process server and a bot

ROWS = (
    ScoreRow(1, 1, "市财政局", 4, 4, 0, 0, (4, 4), (4, 4)),
    ScoreRow(2, 2, "市卫健委", 5, 2, 2, 2, (2, 4), (3, 5)),
    ScoreRow(3, 3, "市人社局", 3, 0, 3, 3, (0, 3), (1, 3)),
    ScoreRow(None, 4, "市教育局", 2, 0, 0, 0, (0, 0), (0, 0)),
)


def digest_payload(plan: str = "SR", title: str = "实施意见") -> dict:
    notice = DigestNotice(
        week="2025-W52",
        week_start=date(2025, 12, 22),
        today=date(2025, 12, 24),
        audience="leaders",
        unit_ids=None,
        plans=(DigestPlan(plan, title, {}, {}, {}),),
        ranking=RankingBlock(START, ((plan, title),), ROWS, closed_week=2, overdue_week=1),
    )
    return notice.to_json()


async def add_digest(env: Env, chat_id: int, payload: dict) -> int:
    async with env.db() as session:
        row = Outbox(
            key=f"digest:2025-W52:{chat_id}",
            kind="digest",
            chat_id=chat_id,
            payload=payload,
            locale="zh_CN",
            created_at=START,
            not_before=START,
        )
        session.add(row)
        await session.commit()
        return row.id


def bot_messages(env: Env, chat_id: int) -> list:
    return [m for m in env.server.world.chat_messages(chat_id) if m.from_bot]


def photo_sends(env: Env) -> list:
    return [c for c in env.server.calls.calls("sendPhoto") if c.status == 200]


async def test_the_picture_goes_first_drawn_once_and_uploaded_once(env: Env) -> None:
    chats = [env.user(f"领导{i}") for i in range(4)]
    other = env.user("另一计划的领导")
    for chat in chats:
        await add_digest(env, chat, digest_payload())
    await add_digest(env, other, digest_payload("LN", "另一计划"))
    pictures = Pictures()
    report = await env.sender(pictures=pictures).drain()

    for chat in [*chats, other]:
        first, second = bot_messages(env, chat)
        assert first.photo and first.text is None
        assert "逾期最多：市人社局 (3)、市卫健委 (2)" in (first.caption or "")
        assert "本周：办结 2 项 · 新增逾期 1 项" in (first.caption or "")
        assert second.text and "督办周报" in second.text and "市人社局" in second.text
        # the caption is the text's headline: the same numbers in both
        for line in (first.caption or "").splitlines()[1:]:
            assert line in second.text
    # two distinct pictures (two plans): each drawn once, uploaded once, then its file_id
    assert pictures.drawn == 2
    assert (report.photos, report.uploads) == (5, 2)
    uploads = [c for c in photo_sends(env) if str(c.params["photo"]).startswith("attach://")]
    assert len(uploads) == 2 and len(photo_sends(env)) == 5
    rows = await env.rows()
    assert all((r.status, r.parts_sent, len(r.parts or ())) == ("sent", 2, 2) for r in rows)


async def test_a_restart_after_the_photo_does_not_send_it_again(env: Env) -> None:
    alice = env.user("Alice")
    row_id = await add_digest(env, alice, digest_payload())
    hang = env.server.faults.add("sendMessage", "hang", chat_id=alice)
    sender = env.sender(pictures=Pictures())
    task = asyncio.create_task(sender.drain())
    assert await env.server.world.wait_until(lambda: env.server.faults.hanging, 10)
    task.cancel()  # the process dies with the text in flight, after the photo was recorded
    with pytest.raises(asyncio.CancelledError):
        await task
    row = await env.row(row_id)
    assert (row.status, row.parts_sent) == ("sending", 1)
    env.server.faults.release(hang.id)
    await env.server.world.wait_until(lambda: len(bot_messages(env, alice)) == 2, 5)

    restarted = env.sender(pictures=Pictures())
    assert await restarted.recover() == 0  # the dead sender's claim still runs
    env.wall.advance(timedelta(seconds=61))  # its lease (claim_seconds, 60) has passed
    assert await restarted.recover() == 1
    await restarted.drain()
    kinds = Counter("photo" if m.photo else "text" for m in bot_messages(env, alice))
    assert kinds == {"photo": 1, "text": 2}  # the text in flight at the kill: the one duplicate
    row = await env.row(row_id)
    assert (row.status, row.parts_sent) == ("sent", 2)


async def test_without_a_cjk_font_the_digest_is_text_only(env: Env, monkeypatch, caplog) -> None:
    monkeypatch.setattr(charts, "find_font", lambda name=None: None)
    chats = [env.user(f"领导{i}") for i in range(2)]
    for chat in chats:
        await add_digest(env, chat, digest_payload())
    pictures = Pictures()
    sender = env.sender(pictures=pictures)
    with caplog.at_level(logging.WARNING):
        await sender.drain()
        await sender.drain()
    for chat in chats:
        [message] = bot_messages(env, chat)
        assert message.text and "督办周报" in message.text and "逾期最多" in message.text
    assert not env.server.calls.calls("sendPhoto")
    assert [r.message for r in caplog.records].count(NO_FONT_WARNING) == 1
    rows = await env.rows()
    assert all((r.status, r.parts) == ("sent", None) for r in rows)  # one part, as before


async def test_a_refused_photo_is_skipped_and_the_text_still_goes(env: Env, monkeypatch) -> None:
    alice = env.user("Alice")
    row_id = await add_digest(env, alice, digest_payload())

    async def not_an_image(self, view):
        return b"not a picture"

    monkeypatch.setattr(Pictures, "scorecard_once", not_an_image)
    await env.sender(pictures=Pictures()).drain()
    [message] = bot_messages(env, alice)
    assert message.text and "督办周报" in message.text
    assert [c.status for c in env.server.calls.calls("sendPhoto")] == [400]
    row = await env.row(row_id)
    assert (row.status, row.parts_sent) == ("sent", 2)
