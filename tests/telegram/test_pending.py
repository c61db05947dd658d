"""/pending: what waits for a coordinator's decision, within their plans, decided by buttons.

The ledger: plan SR involves 上饶's 市卫健委 (张三) and 市财政局 (李四, English); plan LN
involves 龙南's 市卫健委 (刘洋)."""

from __future__ import annotations

from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import ForceReply
from sqlmodel import select

from bot.storage.models import Assignment
from bot.telegram.coordinator import pending_render as pending
from tests.services.factories import add_person

from .conftest import COORDINATOR, FINANCE, LIAISON

SCOPED = 300  # 王督办, coordinator of plan SR only
LN_LIAISON = 400  # 刘洋, liaison of 龙南市卫生健康委员会 (plan LN)


def to(sent, chat_id: int) -> str:
    return "\n".join(m.text for m in sent.messages if int(m.chat_id) == chat_id)


async def setup(h):
    await add_person(h.ledger, SCOPED, "王督办", role="coordinator", plan="SR")
    await add_person(h.ledger, LN_LIAISON, "刘洋", role="liaison", unit="ln_health")
    await h.send(LIAISON, "/report SR-2 已完成")
    await h.send(FINANCE, "/report SR-1 extend 2026-03-31")
    await h.send(LN_LIAISON, "/report LN-1 已完成")


async def test_pending_lists_both_kinds_grouped_by_plan(h):
    await setup(h)
    sent = await h.send(COORDINATOR, "/pending")
    text = sent.text
    assert "SR-2" in text and "LN-1" in text and "SR-1" in text
    assert "待办结" in text and "申请延期至" in text
    assert text.index("<b>LN</b>") < text.index("LN-1") < text.index("<b>SR</b>")
    labels = [label for label, _ in sent.buttons()]
    assert sum("办结" in x for x in labels) == 2 and sum("退回" in x for x in labels) == 2
    assert sum("批准" in x for x in labels) == 1 and sum("驳回" in x for x in labels) == 1


async def test_a_scoped_coordinator_sees_only_their_plans(h):
    await setup(h)
    text = (await h.send(SCOPED, "/pending")).text
    assert "SR-2" in text and "SR-1" in text and "LN-1" not in text


async def test_nothing_pending_says_so(h):
    sent = await h.send(COORDINATOR, "/pending")
    assert "没有" in sent.text and not sent.buttons()


async def test_confirm_and_approve_buttons_decide_and_tell_the_liaison(h):
    await setup(h)
    listing = await h.send(SCOPED, "/pending")
    closed = await h.press(SCOPED, listing.button("办结 SR-2"))
    assert "SR-2" in to(closed, SCOPED) and to(closed, LIAISON)
    approved = await h.press(SCOPED, listing.button("批准 SR-1"))
    assert "2026" in to(approved, SCOPED) and "SR-1" in to(approved, FINANCE)
    after = await h.send(SCOPED, "/pending")
    assert "SR-2" not in after.text and "SR-1" not in after.text


async def test_return_and_deny_ask_the_reason_in_one_reply(h):
    await setup(h)
    listing = await h.send(SCOPED, "/pending")
    buttons = listing.buttons()
    close = next(i for i, (label, _) in enumerate(buttons) if "办结 SR-2" in label)
    asked = await h.press(SCOPED, buttons[close + 1][1])  # 退回, beside 办结 of SR-2
    assert isinstance(asked.messages[0].reply_markup, ForceReply)
    assert not to(asked, LIAISON)
    returned = await h.send(SCOPED, "材料不全，请补充照片", reply_to=asked.last_id)
    assert "材料不全，请补充照片" in to(returned, LIAISON)
    assert "SR-2" not in (await h.send(SCOPED, "/pending")).text
    listing = await h.send(SCOPED, "/pending")
    deny = next(d for label, d in listing.buttons() if "驳回" in label)
    asked = await h.press(SCOPED, deny)
    elsewhere = await h.send(SCOPED, "不同意延期")  # not a reply to the question: nothing decided
    assert not to(elsewhere, FINANCE) and "SR-1" in (await h.send(SCOPED, "/pending")).text
    denied = await h.send(SCOPED, "不同意延期", reply_to=asked.last_id)
    assert "不同意延期" in to(denied, FINANCE) and "SR-1" in to(denied, SCOPED)
    assert "SR-1" not in (await h.send(SCOPED, "/pending")).text


async def test_pending_pages(h, monkeypatch):
    monkeypatch.setattr(pending, "PAGE_SIZE", 2)
    async with h.ledger.session_maker() as s:
        rows = (await s.exec(select(Assignment))).all()
        for a in rows:
            a.status = "done_reported"
            s.add(a)
        await s.commit()
    sent = await h.send(COORDINATOR, "/pending")
    assert len(rows) > 2 and sum("办结" in label for label, _ in sent.buttons()) == 2
    nxt = sent.button("▶️")
    page2 = await h.press(COORDINATOR, nxt)
    edits = [c for c in page2.calls if isinstance(c, EditMessageText | SendMessage)]
    assert edits and "SR-" in edits[0].text + "LN-" and "◀️" in str(edits[0].reply_markup)
