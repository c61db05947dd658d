"""End to end (issue 14's acceptance): the real bot process, the local Bot API server, the seed
plans, the clock at 2025-12-24 08:59:30. The liaison of 上饶市卫生健康委员会 gets at most 3
messages in the 09:00 burst (in fact the one brief), which lists item refs with buttons; a
button opens the item's card (with its report buttons), another opens a whole section, and
全部签收 records 签收 for each waiting item before saying how many."""

from __future__ import annotations

import asyncio
import re

from sqlmodel import col, select

from bot.core.notices import BriefNotice
from bot.storage.db import make_engine, make_session_maker
from bot.storage.models import Assignment, Outbox

from .world import TIMEOUT, World, text_of

UNIT = "上饶市卫生健康委员会"
BRIEF_MORNING = "2025-12-24T08:59:30+08:00"


async def burst_settled(world: World, chat_id: int) -> list[Outbox]:
    """Wait until nothing planned for the chat waits to be sent (the 09:00 burst is over);
    the rows that reached the chat as messages of their own (briefs included, carried rows
    not)."""
    engine = make_engine(world.env["DATABASE_URL"])
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while loop.time() < deadline:
            async with make_session_maker(engine)() as session:
                rows = list(
                    (await session.exec(select(Outbox).where(Outbox.chat_id == chat_id))).all()
                )
            waiting = [r for r in rows if r.status in ("pending", "sending")]
            if rows and not waiting:
                return [r for r in rows if r.status == "sent" and r.via is None]
            await asyncio.sleep(0.05)  # a condition polled, not a duration waited for
        raise AssertionError("the burst never settled")
    finally:
        await engine.dispose()


async def unacknowledged(world: World, ids: list[int]) -> int:
    engine = make_engine(world.env["DATABASE_URL"])
    try:
        async with make_session_maker(engine)() as session:
            found = await session.exec(
                select(Assignment.id).where(
                    col(Assignment.id).in_(ids), col(Assignment.acknowledged_at).is_(None)
                )
            )
            return len(list(found.all()))
    finally:
        await engine.dispose()


async def test_the_liaison_gets_one_brief_whose_buttons_lead_to_the_items(make_world) -> None:
    world: World = await make_world(clock_start=BRIEF_MORNING)
    liaison = await world.liaison(UNIT, "张三")
    welcome = liaison.cursor

    brief = await liaison.next_message(match="今日待办", timeout=90)
    text = text_of(brief)
    refs = re.findall(r"SR-[\w.]+", text)
    assert refs, text
    assert "上饶市实施意见" not in text or "SR 上饶市实施意见" in text  # code + short name only

    sent = await burst_settled(world, liaison.id)
    assert 1 <= len(sent) <= 3, [(r.kind, r.key) for r in sent]
    assert [r.kind for r in sent].count("brief") == 1
    messages = [m for m in await liaison.messages() if m.message_id > welcome]
    assert len(messages) <= 3, [text_of(m)[:40] for m in messages]
    # every stage planned for the liaison this morning is carried by the brief
    row = next(r for r in sent if r.kind == "brief")
    assert row.payload["stages"] >= len(row.payload["items"]) > 0

    # an item's button opens its card, with the report buttons
    label = next(b["text"] for row in brief.buttons for b in row if "SR-" in b.get("text", ""))
    first = re.search(r"SR-[\w.]+", label).group(0)
    assert first in refs
    answer = await liaison.press(brief, label)
    assert answer.answer is not None
    card = await liaison.wait_for(lambda m: first in text_of(m), after=brief.message_id)
    assert card.button_data("进行中")

    # a section's button lists it page by page, each item with its button
    section = await liaison.press(brief, "›")
    assert section.answer is not None
    listing = await liaison.wait_for(lambda m: "1. " in text_of(m), after=card.message_id)
    assert listing.button_data(re.findall(r"SR-[\w.]+", text_of(listing))[0])

    # 全部签收: recorded for every waiting item, then the count
    lines = [i for i in BriefNotice.from_json(row.payload).items if not i.acknowledged]
    waiting = [a for i in lines for a in (i.id, *i.also)]
    assert waiting and await unacknowledged(world, waiting) == len(waiting)
    pressed = await liaison.press(brief, "全部签收")
    assert pressed.answer is not None
    told = await liaison.wait_for(lambda m: "已签收" in text_of(m), after=listing.message_id)
    assert f"已签收 {len(lines)} 项" in text_of(told)  # items: an item's milestones count once
    assert await unacknowledged(world, waiting) == 0
