"""Decisions pushed: a liaison's 已完成 or 申请延期 (command, button or reply — all through the
report service) queues a "decision" notice for the plan's coordinators at once, with the
decision buttons; the sender delivers it and the buttons decide (the liaison is told).

The ledger: plan SR (上饶's 市卫健委 张三, 市财政局 李四), plan LN (龙南's 市卫健委)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from aiogram.types import ForceReply
from sqlmodel import select

from bot.core.notices import DecisionNotice
from bot.core.roles import Roles
from bot.services import assignments as assignments_service
from bot.services import coordination as co
from bot.services.decision_push import item_payload
from bot.services.errors import ServiceError
from bot.storage.models import Assignment, Outbox, StatusEvent
from bot.storage.outbox.delivery import as_rendered
from bot.telegram.delivery.sender import Sender
from bot.telegram.notices import render
from tests.services.factories import NOW, TODAY, add_person
from tests.services.racing import Rendezvous, racing_session_maker

from .conftest import COORDINATOR, FINANCE, LIAISON

ZONE = ZoneInfo("Asia/Shanghai")
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
    async with h.ledger.session_maker() as session:  # as the sender renders it
        shown = await as_rendered(session, rows[0])
    assert shown.payload["items"][0]["ref"] == "SR-2"


async def test_a_lean_decision_notice_reads_as_the_full_one_of_the_previous_release(
    h, monkeypatch
):
    """A notice queued now stores [assignment, kind, since, requested to, note]: plan, ref and
    unit are the ledger's when it is sent; the previous release copied them. Same ledger, same
    message, buttons included, in both languages; batching more items keeps a row's form."""
    from bot.services import decision_push

    await staffed(h)
    pushed: list = []
    push = decision_push.push_decision

    async def recording(session, decision, **kwargs):
        pushed.append(decision)
        return await push(session, decision, **kwargs)

    monkeypatch.setattr(assignments_service, "push_decision", recording)
    await h.send(LIAISON, "/report SR-2 已完成 已竣工验收")
    await h.send(FINANCE, "/report SR-1 extend 2026-03-31 funds late")
    rows = [r for r in await decision_rows(h) if r.chat_id == SCOPED]
    assert len(rows) == 1 and len(pushed) == 2
    [row] = rows
    assert all(isinstance(i, list) for i in row.payload["items"])
    assert "SR-" not in json.dumps(row.payload) and "市" not in json.dumps(row.payload)
    previous = DecisionNotice(tuple(item_payload(d) for d in pushed)).to_json()
    old = Outbox(**{**row.model_dump(), "payload": previous})
    async with h.ledger.session_maker() as session:
        shown = await as_rendered(session, row)
        assert await as_rendered(session, old) is old  # sent as it was stored
    assert shown.payload == previous
    for locale in ("zh_CN", "en"):
        assert render(shown, locale=locale, zone=ZONE) == render(old, locale=locale, zone=ZONE)
    assert len(json.dumps(row.payload)) < len(json.dumps(previous)) / 2


def buttons_of(message) -> dict[str, str]:
    return {b.text: b.callback_data for row in message.reply_markup.inline_keyboard for b in row}


def sent_to(h, chat_id: int, since: int) -> list:
    return [
        c
        for c in h.session.calls[since:]
        if hasattr(c, "chat_id") and hasattr(c, "text") and int(c.chat_id) == chat_id
    ]


async def decision_events(h, kind: str) -> list[StatusEvent]:
    async with h.ledger.session_maker() as s:
        found = await s.exec(select(StatusEvent).where(StatusEvent.kind == kind))
        return list(found.all())


async def test_the_second_coordinator_is_told_who_decided_instead_of_deciding_twice(h):
    await staffed(h)
    await h.send(LIAISON, "/report SR-2 已完成 已竣工验收")
    before = len(h.session.calls)
    await sender_for(h).drain()
    mine = sent_to(h, SCOPED, before)[0]
    theirs = sent_to(h, COORDINATOR, before)[0]

    closed = await h.press(SCOPED, next(d for t, d in buttons_of(mine).items() if "办结" in t))
    assert any(int(m.chat_id) == LIAISON for m in closed.messages)
    again = await h.press(
        COORDINATOR, next(d for t, d in buttons_of(theirs).items() if "办结" in t)
    )
    assert again.alerts and "已由 王督办" in again.alerts[-1] and "办结" in again.alerts[-1]
    assert not any(int(m.chat_id) == LIAISON for m in again.messages)  # told once, not twice
    # 退回 on the other notice: no reason is asked for a decision already taken
    asked = await h.press(
        COORDINATOR, next(d for t, d in buttons_of(theirs).items() if "退回" in t)
    )
    assert not asked.messages and "已由 王督办" in asked.alerts[-1]
    assert len(await decision_events(h, "confirm")) == 1
    assert await decision_events(h, "return") == []


async def test_a_decision_taken_before_the_tick_leaves_the_notice(h):
    await staffed(h)
    await h.send(LIAISON, "/report SR-2 已完成")
    await h.send(FINANCE, "/report SR-1 extend 2026-03-31")
    # the admin decides SR-2 by command before the sender's tick
    await h.send(COORDINATOR, "/confirm SR-2")
    before = len(h.session.calls)
    await sender_for(h).drain()
    notice = sent_to(h, SCOPED, before)
    assert len(notice) == 1
    assert "SR-1" in notice[0].text and "SR-2" not in notice[0].text
    assert not any("SR-2" in t for t in buttons_of(notice[0]))

    # everything decided before the tick: no message at all, the row is cancelled
    await h.send(LIAISON, "/report SR-1 已完成")
    await h.send(COORDINATOR, "/confirm SR-1 市卫健委")
    before = len(h.session.calls)
    await sender_for(h).drain()
    assert sent_to(h, SCOPED, before) == []
    last = [r for r in await decision_rows(h) if r.chat_id == SCOPED][-1]
    assert last.status == "cancelled" and "decided" in (last.last_error or "")


async def test_pending_buttons_answer_politely_after_a_decision_elsewhere(h):
    await staffed(h)
    await h.send(FINANCE, "/report SR-1 extend 2026-03-31 资金未到位")
    listing = await h.send(SCOPED, "/pending")
    approve = listing.button("批准")
    await h.send(COORDINATOR, "/deny SR-1 市财政局 另行安排")
    late = await h.press(SCOPED, approve)
    assert "已由" in late.alerts[-1] and "驳回" in late.alerts[-1], late.alerts
    assert await decision_events(h, "extension_approve") == []


async def test_two_coordinators_deciding_at_the_same_instant_decide_once(h):
    """Both have read the item as waiting before either writes: exactly one 办结 is
    recorded, the other is told who decided (the conditional update)."""
    await h.send(LIAISON, "/report SR-2 已完成")
    async with h.ledger.session_maker() as s:
        aid = (
            await s.exec(select(Outbox.assignment_id).where(Outbox.kind == "decision").limit(1))
        ).one()
    rendezvous = Rendezvous(racers=2)
    racing = racing_session_maker(h.ledger.engine, rendezvous, Assignment)
    everyone = Roles(coordinator_all=True)

    async def decide(action: str) -> object:
        async with racing() as s:
            outcome = await co.act(
                s,
                assignment_id=aid,
                action=action,
                person=None,
                roles=everyone,
                at=NOW,
                today=TODAY,
                reason="材料不全" if action == "return" else "",
            )
            await s.commit()
            return outcome

    outcomes = await rendezvous.race(decide("confirm"), decide("return"))
    assert isinstance(outcomes[0], co.ActOutcome), outcomes
    assert isinstance(outcomes[1], ServiceError) and outcomes[1].code == "already_decided"
    assert outcomes[1].params["act"] == "confirm"
    assert len(await decision_events(h, "confirm")) == 1
    assert await decision_events(h, "return") == []
    async with h.ledger.session_maker() as s:
        assert (await s.get(Assignment, aid)).status == "closed"
