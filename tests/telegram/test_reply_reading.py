"""Replies understood, end to end through the dispatcher: a liaison's free text is read, an
unambiguous reading is recorded at once with 撤销, an ambiguous one is asked back first."""

from __future__ import annotations

from sqlmodel import select

from bot.storage.models import Assignment, ReplyReading, StatusEvent

from .conftest import FINANCE, LIAISON

SR1 = ("SR-1", 0, "sr_health")
SR2 = ("SR-2", 0, "sr_health")


async def _assignment(h, key) -> Assignment:
    async with h.ledger.session_maker() as s:
        return await s.get(Assignment, h.ledger.assignments[key])


async def _events(h, key) -> list[StatusEvent]:
    async with h.ledger.session_maker() as s:
        aid = h.ledger.assignments[key]
        result = await s.exec(
            select(StatusEvent).where(StatusEvent.assignment_id == aid).order_by(StatusEvent.id)
        )
        return list(result.all())


async def _card(h, ref: str) -> int:
    return (await h.send(LIAISON, f"/task {ref}")).last_id


async def test_reply_done_at_80_percent_is_doing_80_with_the_text_as_note(h):
    card = await _card(h, "SR-2")
    sent = await h.send(LIAISON, "已完成80%，月底前报送", reply_to=card)
    assert "进行中 80%" in sent.text, sent.text
    assert [label for label, _ in sent.buttons()] == ["撤销"]
    a = await _assignment(h, SR2)
    assert a.status == "in_progress" and a.progress == 80
    last = (await _events(h, SR2))[-1]
    assert last.kind == "report" and last.note == "已完成80%，月底前报送"


async def test_plain_message_naming_a_ref_without_a_slash(h):
    sent = await h.send(LIAISON, "ｓｒ－２ 进行中 50%")
    assert "SR-2" in sent.text and "进行中 50%" in sent.text
    a = await _assignment(h, SR2)
    assert a.status == "in_progress" and a.progress == 50


async def test_two_refs_in_one_message(h):
    sent = await h.send(LIAISON, "SR-1 已完成；SR-2 进行中60%")
    assert "SR-1" in sent.text and "SR-2" in sent.text
    assert (await _assignment(h, SR1)).status == "done_reported"
    a2 = await _assignment(h, SR2)
    assert a2.status == "in_progress" and a2.progress == 60


async def test_ambiguous_reply_asks_then_records_the_choice(h):
    card = await _card(h, "SR-2")
    sent = await h.send(LIAISON, "基本完成了，还差验收", reply_to=card)
    labels = [label for label, _ in sent.buttons()]
    assert any("已完成" in x for x in labels) and any("备注" in x for x in labels), labels
    assert (await _assignment(h, SR2)).status == "not_started"  # nothing recorded yet
    assert await _events(h, SR2) == [] or all(e.kind != "report" for e in await _events(h, SR2))
    async with h.ledger.session_maker() as s:
        pending = (await s.exec(select(ReplyReading))).all()
    assert [p.state for p in pending] == ["asking"]  # the question lives in the database
    picked = await h.press(LIAISON, sent.button("进行中"))
    assert "进行中" in picked.text
    assert (await _assignment(h, SR2)).status == "in_progress"
    again = await h.press(LIAISON, sent.button("已完成"))  # answered already
    assert again.alerts and "已" in again.alerts[0]
    assert (await _assignment(h, SR2)).status == "in_progress"


async def test_ambiguous_reply_kept_only_as_a_note(h):
    card = await _card(h, "SR-2")
    sent = await h.send(LIAISON, "✅", reply_to=card)
    picked = await h.press(LIAISON, sent.button("备注"))
    assert "说明已记录" in picked.text
    a = await _assignment(h, SR2)
    assert a.status == "not_started"
    assert [e.kind for e in await _events(h, SR2)] == ["note"]


async def test_undo_restores_and_appends_a_compensating_event(h):
    await h.send(LIAISON, "/report SR-2 进行中 30%")
    sent = await h.send(LIAISON, "SR-2 已完成")
    assert (await _assignment(h, SR2)).status == "done_reported"
    undone = await h.press(LIAISON, sent.button("撤销"))
    assert "撤销" in undone.text or "恢复" in undone.text, undone.text
    a = await _assignment(h, SR2)
    assert a.status == "in_progress" and a.progress == 30 and a.done_reported_at is None
    kinds = [e.kind for e in await _events(h, SR2)]
    assert kinds == ["report", "report", "undo"]  # history only grows
    twice = await h.press(LIAISON, sent.button("撤销"))
    assert twice.alerts and (await _assignment(h, SR2)).status == "in_progress"


async def test_undo_leaves_a_newer_change_alone(h):
    sent = await h.send(LIAISON, "SR-2 进行中 40%")
    await h.send(LIAISON, "/report SR-2 有困难")
    undone = await h.press(LIAISON, sent.button("撤销"))
    assert "SR-2" in undone.text
    assert (await _assignment(h, SR2)).status == "blocked"


async def test_someone_else_cannot_answer_or_undo(h):
    sent = await h.send(LIAISON, "SR-2 进行中 40%")
    other = await h.press(FINANCE, sent.button("撤销"))
    assert other.alerts and (await _assignment(h, SR2)).progress == 40


async def test_other_units_item_and_unknown_ref_are_told(h):
    sent = await h.send(FINANCE, "SR-2 已完成；SR-99 进行中")
    assert "SR-2" in sent.text and "SR-99" in sent.text
    assert (await _assignment(h, SR2)).status == "not_started"


async def test_extension_with_a_date_and_without_one(h):
    sent = await h.send(LIAISON, "SR-2 申请延期至2026年3月31日")
    assert "2026年3月31日" in sent.text
    assert (await _assignment(h, SR2)).extension_requested_to.isoformat() == "2026-03-31"
    card = await _card(h, "SR-1")
    asked = await h.send(LIAISON, "需要申请延期", reply_to=card)
    assert "回复本消息" in asked.text  # the date prompt: the existing extension flow


async def test_text_that_reports_nothing_stays_a_note(h):
    card = await _card(h, "SR-2")
    sent = await h.send(LIAISON, "已协调土地指标，下周开会", reply_to=card)
    assert "说明已记录" in sent.text
    assert (await _assignment(h, SR2)).status == "not_started"
    hint = await h.send(LIAISON, "你好")
    assert "回复对应事项" in hint.text
    question = await h.send(LIAISON, "SR-2 完成了吗？")
    assert "回复对应事项" in question.text


async def test_two_ambiguous_refs_are_asked_in_turn(h):
    sent = await h.send(LIAISON, "SR-1 基本完成；SR-2 还没完成")
    assert "SR-1" in sent.text and (await _assignment(h, SR1)).status == "not_started"
    second = await h.press(LIAISON, sent.button("已完成"))
    assert "SR-2" in second.text and (await _assignment(h, SR1)).status == "not_started"
    done = await h.press(LIAISON, second.button("有困难"))
    assert "SR-1" in done.text and "SR-2" in done.text
    assert (await _assignment(h, SR1)).status == "done_reported"
    assert (await _assignment(h, SR2)).status == "blocked"


async def test_another_instance_answers_the_question(h, ledger, i18n, directory):
    """The question lives in the database: a restarted bot (a fresh dispatcher) takes the
    answer."""
    from .conftest import make_harness

    sent = await h.send(LIAISON, "SR-2 基本完成")
    restarted = make_harness(ledger, i18n, directory)
    picked = await restarted.press(LIAISON, sent.button("进行中"))
    assert "进行中" in picked.text
    assert (await _assignment(h, SR2)).status == "in_progress"


async def test_a_refused_reading_is_kept_as_a_note(h):
    sent = await h.send(LIAISON, "SR-2 申请延期至2025年6月30日")
    assert "SR-2" in sent.text and "撤销" not in str(sent.buttons())
    a = await _assignment(h, SR2)
    assert a.extension_requested_to is None
    events = await _events(h, SR2)
    assert [e.kind for e in events] == ["note"]
    assert events[0].note == "SR-2 申请延期至2025年6月30日"


async def test_history_shows_the_undo_in_the_readers_language(h):
    sent = await h.send(LIAISON, "SR-2 进行中 70%")
    await h.press(LIAISON, sent.button("撤销"))
    card = await h.send(LIAISON, "/task SR-2")
    assert "已撤销 → 未开始" in card.text, card.text


async def test_a_stale_second_undo_or_answer_changes_nothing(h):
    """Two presses at once (a double tap, two instances): both may read the record before
    either writes; the conditional claim lets exactly one through."""
    import pytest

    from bot.services.errors import ServiceError
    from bot.services.replies import NOTE_ONLY, answer, undo
    from bot.storage.models import Person
    from tests.services.factories import NOW

    recorded = await h.send(LIAISON, "SR-2 进行中 40%")
    asked = await h.send(LIAISON, "SR-1 基本完成")
    async with h.ledger.session_maker() as s:
        person = (await s.exec(select(Person).where(Person.telegram_id == LIAISON))).one()
        records = {r.state: r for r in (await s.exec(select(ReplyReading))).all()}
        assert set(records) == {"recorded", "asking"}  # both read before anyone writes
        await h.press(LIAISON, recorded.button("撤销"))
        await h.press(LIAISON, asked.button("进行中"))
        with pytest.raises(ServiceError) as gone:
            await undo(
                s,
                record_id=records["recorded"].id,
                person=person,
                at=NOW,
                today=NOW.date(),
                policy=None,
            )
        assert gone.value.code == "undo_gone"
        with pytest.raises(ServiceError) as gone:
            await answer(s, record_id=records["asking"].id, person=person, choice=NOTE_ONLY)
        assert gone.value.code == "reply_gone"
    kinds = [e.kind for e in await _events(h, SR2)]
    assert kinds == ["report", "undo"]
    assert [e.kind for e in await _events(h, SR1)] == ["report"]


async def test_a_photo_whose_caption_reports_is_the_evidence(h):
    card = await _card(h, "SR-2")
    sent = await h.send(LIAISON, reply_to=card, photo=True, caption="已全部完成，见现场照片")
    assert "等待督办员确认办结" in sent.text
    (event,) = await _events(h, SR2)
    assert (event.kind, event.new_status, event.evidence_kind, event.evidence_file_id) == (
        "report",
        "done_reported",
        "photo",
        "PHOTO-BIG",
    )
    assert event.note == "已全部完成，见现场照片"
    asked = await h.send(LIAISON, reply_to=card, document=("验收.pdf", 1000), caption="基本完成")
    await h.press(LIAISON, asked.button("备注"))
    last = (await _events(h, SR2))[-1]
    assert (last.kind, last.evidence_kind, last.evidence_name) == ("note", "document", "验收.pdf")


async def test_received_acknowledges_once_then_is_a_note(h):
    card = await _card(h, "SR-2")
    first = await h.send(LIAISON, "收到", reply_to=card)
    assert "已签收" in first.text and (await _assignment(h, SR2)).acknowledged_at is not None
    again = await h.send(LIAISON, "好的，收到", reply_to=card)
    assert "说明已记录" in again.text and "撤销" not in str(again.buttons())
    assert [e.kind for e in await _events(h, SR2)] == ["ack", "note"]
