"""/find in the chat: one line per item with the match in bold on escaped text, a button per
item opening its card, pages, polite usage and refusal lines."""

from __future__ import annotations

from bot.storage.models import Milestone, Task
from bot.telegram.callbacks import FindPage
from tests.services.factories import TODAY

from .conftest import COORDINATOR, LIAISON


async def test_find_lists_items_with_the_match_in_bold_and_opens_them(h):
    sent = await h.send(COORDINATOR, "/find 公共卫生")
    assert "<b>SR-1</b> 设立<b>公共卫生</b>科 &lt;b&gt;&amp; · SR" in sent.text
    assert "未开始 2" in sent.text and "SR-2" not in sent.text
    card = await h.press(COORDINATOR, sent.button("SR-1"))
    assert "SR-1" in card.text and "设立公共卫生科" in card.text and "上饶市实施意见" in card.text


async def test_find_is_width_insensitive_and_shows_a_match_in_the_text(h):
    sent = await h.send(COORDINATOR, "/find 建设 的全文")
    assert "<b>SR-2</b> <b>建设</b>区域医疗中心 · SR" in sent.text
    assert "<b>LN-1</b>" in sent.text and "<b>的全文</b>" in sent.text
    sent = await h.send(COORDINATOR, "/find ＜Ｂ＞", language_code="en")  # full-width, upper
    assert (
        "设立公共卫生科 <b>&lt;b&gt;</b>&amp; · SR" in sent.text
        and "Items containing" in sent.text
    )
    sent = await h.send(COORDINATOR, "/find <i>无此事项", language_code="en")
    assert "Nothing found" in sent.text and "&lt;i&gt;无此事项" in sent.text


async def test_find_usage_and_refusal(h):
    for text in ("/find", "/find  ", "/find 卫"):
        assert "用法" in (await h.send(COORDINATOR, text)).text, text
    refused = await h.send(LIAISON, "/find 建设")
    assert "/my" in refused.text and "SR-2" not in refused.text
    assert "SR-2" not in (await h.press(LIAISON, FindPage(page=0, q="建设").pack())).alerts[0]


async def test_find_pages(h):
    async with h.ledger.session_maker() as s:
        for n in range(20):
            task = Task(
                plan_id=h.ledger.plans["SR"],
                ref=f"SR-{100 + n}",
                title=f"批量事项{n}",
                position=100 + n,
            )
            s.add(task)
            await s.flush()
            s.add(Milestone(task_id=task.id, seq=0, due=TODAY, original_due=TODAY))
        await s.commit()
    first = await h.send(COORDINATOR, "/find 批量事项")
    assert "20" in first.text and "SR-100" in first.text and "SR-119" not in first.text
    second = await h.press(COORDINATOR, first.button("▶"))
    page = second.calls[0].text
    assert "SR-119" in page and "SR-100" not in page and "第 2" in page
