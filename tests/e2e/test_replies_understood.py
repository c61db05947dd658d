"""End to end: the real bot process against the local Bot API server. A liaison answers the
morning reminder the way people write, is asked back about an unclear reply, the bot restarts
before the answer, 撤销 restores the item, and a plain message naming the item is read too."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlmodel import select

from bot.storage.db import make_engine, make_session_maker
from bot.storage.models import SentMessage

from .world import TIMEOUT, World, text_of

UNIT = "上饶市卫生健康委员会"
REMINDER_MORNING = "2025-12-24T08:59:55+08:00"  # a Wednesday: 7 days before 2025-12-31
# one message per item and stage (the policy's brief switched off): the reminder itself
PER_ITEM = {"POLICY_FILE": str(Path(__file__).parents[1] / "fixtures" / "per_item_policy.yaml")}


async def remembered(world: World, chat_id: int, message_id: int) -> None:
    """Wait until the sender has stored what the message is about (it does so right after
    Telegram accepted it; a person who replies within that instant is told to reply to a
    message about an item)."""
    engine = make_engine(world.env["DATABASE_URL"])
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while loop.time() < deadline:
            async with make_session_maker(engine)() as session:
                found = await session.exec(
                    select(SentMessage.id).where(
                        SentMessage.chat_id == chat_id, SentMessage.message_id == message_id
                    )
                )
                if found.first() is not None:
                    return
            await asyncio.sleep(0.05)  # a condition polled, not a duration waited for
        raise AssertionError(f"message {message_id} never remembered")
    finally:
        await engine.dispose()


async def test_a_liaison_reports_in_words(make_world) -> None:
    world: World = await make_world(clock_start=REMINDER_MORNING, env=PER_ITEM)
    liaison = await world.liaison(UNIT, "张三")
    reminder = await liaison.next_message(match="⏰", timeout=90)
    ref = re.search(r"SR-\w+", text_of(reminder)).group(0)
    await remembered(world, liaison.id, reminder.message_id)

    # a reply to the reminder, as people write it: recorded at once, with 撤销
    recorded = await liaison.ask("已完成80%，月底前报送", reply_to=reminder, match="80%")
    assert ref in text_of(recorded) and "进行中 80%" in text_of(recorded)
    assert "撤销" in [b["text"] for row in recorded.buttons for b in row]

    # unclear: asked back, nothing recorded yet
    question = await liaison.ask("基本完成，还差验收", reply_to=reminder, match="哪一种")
    labels = [b["text"] for row in question.buttons for b in row]
    assert {"已完成", "进行中", "只记为备注"} <= set(labels), labels

    # the bot restarts before the answer: the question is in the database
    await world.restart()
    await liaison.press(question, "已完成")
    done = await liaison.wait_for("等待督办员确认办结", after=question.message_id, timeout=60)
    assert ref in text_of(done)

    # 撤销: back to 进行中 80%, the history shows it
    await liaison.press(done, "撤销")
    undone = await liaison.wait_for("已撤销", after=done.message_id, timeout=60)
    # the pushed 待您决定 notice names the ref too: wait for the /task card itself
    card = await world.coordinator.ask(
        f"/task {ref}", match=lambda m: ref in text_of(m) and "待您决定" not in text_of(m)
    )
    assert "已撤销 → 进行中 80%" in text_of(card), text_of(card)

    # a plain message naming the item, in any case and width, no slash command
    blocked = await liaison.ask(f"{ref.lower()}：资金未到位，推进困难", match="有困难")
    assert ref in text_of(blocked) and blocked.message_id > undone.message_id
