"""Decisions pushed: a liaison's 已完成 or 申请延期 (command, button or reply — all through the
report service) queues a "decision" notice for the plan's coordinators at once, with the
decision buttons; the sender delivers it and the buttons decide (the liaison is told).

The ledger: plan SR (上饶's 市卫健委 张三, 市财政局 李四), plan LN (龙南's 市卫健委)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram.types import ForceReply
from sqlmodel import select

from bot.storage.models import Outbox
from bot.telegram.delivery.sender import Sender
from tests.services.factories import add_person

from .conftest import COORDINATOR, FINANCE, LIAISON

SCOPED = 300  # 王督办, coordinator of plan SR only
LN_COORDINATOR = 500  # 赵督办, coordinator of plan LN only


async def decision_rows(h) -> list[Outbox]:
    async with h.ledger.session_maker() as s:
        found = await s.exec(select(Outbox).where(Outbox.kind == "decision").order_by(Outbox.id))
        return list(found.all())


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


async def staffed(h):
    await add_person(h.ledger, SCOPED, "王督办", role="coordinator", plan="SR")
    await add_person(h.ledger, LN_COORDINATOR, "赵督办", role="coordinator", plan="LN")
    return h


async def test_a_done_report_queues_the_coordinators_notice_with_buttons(h):
    await staffed(h)
    await h.send(LIAISON, "/report SR-2 已完成 已竣工验收")
    rows = await decision_rows(h)
    assert sorted(r.chat_id for r in rows) == [COORDINATOR, SCOPED]  # not LN's coordinator
    assert all(r.status == "pending" for r in rows)

    before = len(h.session.calls)
    await sender_for(h).drain()
    sent = [c for c in h.session.calls[before:] if hasattr(c, "chat_id")]
    to_scoped = [m for m in sent if int(m.chat_id) == SCOPED]
    assert len(to_scoped) == 1
    notice = to_scoped[0]
    assert "SR-2" in notice.text and "待办结" in notice.text and "已竣工验收" in notice.text
    labels = [b.text for row in notice.reply_markup.inline_keyboard for b in row]
    assert any("办结 SR-2" in x for x in labels) and any("退回" in x for x in labels)

    data = next(
        b.callback_data
        for row in notice.reply_markup.inline_keyboard
        for b in row
        if "办结" in b.text
    )
    closed = await h.press(SCOPED, data)
    assert any(int(m.chat_id) == LIAISON and "SR-2" in m.text for m in closed.messages)


async def test_an_extension_request_is_pushed_with_approve_and_deny(h):
    await staffed(h)
    await h.send(FINANCE, "/report SR-1 extend 2026-03-31 funds late")
    rows = await decision_rows(h)
    assert sorted(r.chat_id for r in rows) == [COORDINATOR, SCOPED]
    await sender_for(h).drain()
    notice = next(
        c for c in reversed(h.session.calls) if hasattr(c, "chat_id") and int(c.chat_id) == SCOPED
    )
    buttons = {b.text: b.callback_data for row in notice.reply_markup.inline_keyboard for b in row}
    deny = next(d for label, d in buttons.items() if "驳回" in label)
    asked = await h.press(SCOPED, deny)
    assert isinstance(asked.messages[0].reply_markup, ForceReply)
    denied = await h.send(SCOPED, "资金另行安排", reply_to=asked.last_id)
    assert any(int(m.chat_id) == FINANCE and "资金另行安排" in m.text for m in denied.messages)


async def test_reports_before_the_senders_tick_are_batched_into_one_notice(h):
    await staffed(h)
    await h.send(LIAISON, "/report SR-2 已完成")
    await h.send(FINANCE, "/report SR-1 extend 2026-03-31")
    rows = [r for r in await decision_rows(h) if r.chat_id == SCOPED]
    assert len(rows) == 1 and len(rows[0].payload["items"]) == 2
    await sender_for(h).drain()
    await h.send(LIAISON, "/report SR-1 已完成")  # after the tick: a new notice
    rows = [r for r in await decision_rows(h) if r.chat_id == SCOPED]
    assert len(rows) == 2 and [len(r.payload["items"]) for r in rows] == [2, 1]


async def test_a_progress_report_pushes_nothing(h):
    await staffed(h)
    await h.send(LIAISON, "/report SR-2 进行中 40%")
    assert await decision_rows(h) == []


async def test_a_plain_reply_naming_the_ref_pushes_as_well(h):
    await staffed(h)
    answer = await h.send(LIAISON, "SR-2 已完成，已竣工验收")
    assert "SR-2" in answer.text
    rows = await decision_rows(h)
    assert sorted(r.chat_id for r in rows) == [COORDINATOR, SCOPED]
    assert rows[0].payload["items"][0]["ref"] == "SR-2"
