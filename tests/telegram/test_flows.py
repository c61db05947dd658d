from __future__ import annotations

import re
from datetime import date, timedelta

from sqlmodel import select

from bot.services.people import liaisons_of_units
from bot.storage.models import Assignment, StatusEvent
from bot.telegram.callbacks import AssignmentAction
from tests.services.racing import Rendezvous, racing_session_maker
from tests.telegram.harness import Sent

from .conftest import COORDINATOR, FINANCE, LIAISON, STRANGER, make_harness


async def test_stranger_gets_only_the_access_note(h):
    for text in ("/my", "/task SR-1", "hello", "/help", "/start", "/report SR-1 done"):
        sent = await h.send(STRANGER, text)
        assert len(sent.messages) == 1, text
        assert "邀请" in sent.text and "SR-1" not in sent.text
    sent = await h.send(STRANGER, "/my", language_code="en")
    assert "invitation link" in sent.text
    data = AssignmentAction(code="d", assignment_id=1).pack()
    sent = await h.press(STRANGER, data)
    assert sent.messages == [] and "邀请" in sent.alerts[0]


async def test_stranger_in_a_group_gets_nothing(h):
    sent = await h.send(STRANGER, "hello", chat_type="group")
    assert sent.calls == []


async def test_invite_then_start_binds_the_liaison(h):
    sent = await h.send(COORDINATOR, "/invite 上饶市卫健委 王五")
    assert "上饶市卫生健康委员会" in sent.text and "王五" in sent.text
    token = re.search(r"/start (\S+?)</code>", sent.text).group(1)
    assert f"https://t.me/duban_bot?start={token}" in sent.text
    sent = await h.send(555, f"/start {token}")
    assert "王五" in sent.text and "联络员" in sent.text
    sent = await h.send(555, "/my")
    assert "SR-1" in sent.text and "SR-2" in sent.text and "LN-1" not in sent.text
    again = await h.send(556, f"/start {token}")
    assert "已被使用" in again.text


async def test_two_people_opening_one_invitation_at_once_make_one_liaison(h, i18n, directory):
    """Both /start TOKEN updates look the invitation up before either is stored (the race a
    check-then-update loses): one is welcomed, the other is told the link was used."""
    sent = await h.send(COORDINATOR, "/invite 上饶市财政局 王五")
    token = re.search(r"/start (\S+?)</code>", sent.text).group(1)
    rendezvous = Rendezvous(racers=2)
    racing = make_harness(
        h.ledger, i18n, directory, session_maker=racing_session_maker(h.ledger.engine, rendezvous)
    )
    await rendezvous.race(racing.send(601, f"/start {token}"), racing.send(602, f"/start {token}"))
    answers = {
        user: [m.text for m in Sent(racing.session.calls).messages if int(m.chat_id) == user]
        for user in (601, 602)
    }
    assert sorted(len(a) for a in answers.values()) == [1, 1], answers
    winners = [u for u, a in answers.items() if "王五" in a[0] and "联络员" in a[0]]
    losers = [u for u, a in answers.items() if "已被使用" in a[0]]
    assert len(winners) == 1 and len(losers) == 1, answers
    async with h.ledger.session_maker() as s:
        finance = h.ledger.units["sr_finance"]
        bound = (await liaisons_of_units(s, [finance]))[finance]
    assert sorted(p.telegram_id for p in bound) == sorted([FINANCE, *winners])
    assert "邀请" in (await h.send(losers[0], "/my")).text  # still a stranger


async def test_invite_ambiguous_unknown_and_wrong_role(h):
    sent = await h.send(COORDINATOR, "/invite 市卫健委 王五")
    assert "上饶市卫生健康委员会" in sent.text and "龙南市卫生健康委员会" in sent.text
    assert "/start" not in sent.text
    picked = await h.press(COORDINATOR, sent.button("龙南市卫生健康委员会"))
    assert "龙南市卫生健康委员会 联络员邀请（王五）" in picked.text and "/start" in picked.text
    assert "未找到" in (await h.send(COORDINATOR, "/invite 不存在的局")).text
    assert "用法" in (await h.send(COORDINATOR, "/invite")).text
    assert "仅限督办员" in (await h.send(LIAISON, "/invite 上饶市财政局")).text


async def test_invite_leader_and_coordinator_then_revoke(h):
    sent = await h.send(COORDINATOR, "/invite leader sr 赵六")
    assert "上饶市实施意见" in sent.text
    sent = await h.send(COORDINATOR, "/invite coordinator SR")
    token = re.search(r"/start (\S+?)</code>", sent.text).group(1)
    assert "撤销" in (await h.send(COORDINATOR, f"/revoke {token}")).text
    assert "已撤销" in (await h.send(777, f"/start {token}")).text
    assert "无效" in (await h.send(COORDINATOR, "/revoke nope")).text


async def test_start_plain_for_registered(h):
    sent = await h.send(LIAISON, "/start")
    assert "张三" in sent.text and "上饶市卫生健康委员会" in sent.text


async def test_my_lists_by_urgency_with_buttons(h):
    sent = await h.send(LIAISON, "/my")
    text = sent.text
    assert text.index("SR-1") < text.index("SR-2")
    assert "🔴" in text and "逾期" in text
    assert "设立公共卫生科 &lt;b&gt;&amp;" in text  # plan text escaped
    labels = [label for label, _ in sent.buttons()]
    assert any("SR-2" in label for label in labels)
    sent = await h.press(LIAISON, sent.button("SR-2"))
    assert "SR-2" in sent.text and "建设区域医疗中心" in sent.text
    assert {"进行中", "已完成", "有困难", "申请延期", "签收"} <= {b for b, _ in sent.buttons()}


async def test_my_for_someone_without_units(h):
    assert "不是任何单位的联络员" in (await h.send(COORDINATOR, "/my")).text


async def test_task_card_and_errors(h):
    sent = await h.send(LIAISON, "/task sr-1")
    assert "时间节点" in sent.text and "市财政局 (配合)" in sent.text
    assert sent.buttons()
    assert "不是本单位" in (await h.send(LIAISON, "/task LN-1")).text
    assert "没有编号" in (await h.send(LIAISON, "/task XX-9")).text
    assert "用法" in (await h.send(LIAISON, "/task")).text
    coordinator = await h.send(COORDINATOR, "/task LN-1")
    assert "LN-1" in coordinator.text and coordinator.buttons() == []


async def _assignment(h, key):
    async with h.ledger.session_maker() as s:
        return await s.get(Assignment, h.ledger.assignments[key])


async def _events(h):
    async with h.ledger.session_maker() as s:
        return list((await s.exec(select(StatusEvent))).all())


async def test_report_command_paths(h):
    sent = await h.send(LIAISON, "/report SR-1 进行中 60% 已召开部署会")
    assert len(sent.messages) == 1 and "进行中 60%" in sent.text
    a = await _assignment(h, ("SR-1", 0, "sr_health"))
    assert a.status == "in_progress" and a.progress == 60 and a.acknowledged_at is not None
    sent = await h.send(LIAISON, "/report SR-1 进行中 70%今天开会")
    assert "进行中 70%" in sent.text
    assert (await _assignment(h, ("SR-1", 0, "sr_health"))).progress == 70
    assert (await _events(h))[-1].note == "今天开会"
    sent = await h.send(LIAISON, "/report sr-1 done")
    assert "等待督办员确认办结" in sent.text
    sent = await h.send(LIAISON, "/report SR-1 done")
    assert "已报送完成" in sent.text
    sent = await h.send(LIAISON, "/report SR-2 申请延期 2026-02-28 资金未到位")
    assert "2026年2月28日" in sent.text
    a = await _assignment(h, ("SR-2", 0, "sr_health"))
    assert str(a.extension_requested_to) == "2026-02-28" and a.status == "not_started"


async def test_bad_reports_change_nothing(h):
    before = len(await _events(h))
    cases = {
        "/report": "用法",
        "/report SR-1": "用法",
        "/report SR-1 maybe": "不是有效状态",
        "/report SR-1 extend": "请写明延期至的日期",
        "/report SR-1 extend 2025-02-30": "不是有效日期",
        "/report SR-1 extend 2025-01-01": "不晚于今天",
        "/report SR-1 进行中 120%": "0% 至 100%",
        "/report SR-1 进行中 -5%": "-5%",
        "/report SR-1 -5% 已开会": "0% 至 100%",
        "/report SR-9 done": "没有编号",
        "/report LN-1 done": "不是本单位",
    }
    for text, expected in cases.items():
        sent = await h.send(LIAISON, text)
        assert len(sent.messages) == 1 and expected in sent.text, (text, sent.text)
    assert "只有责任单位联络员" in (await h.send(COORDINATOR, "/report SR-1 done")).text
    assert len(await _events(h)) == before


async def test_buttons_report_and_ack(h):
    sent = await h.send(LIAISON, "/task SR-2")
    ack = await h.press(LIAISON, sent.button("签收"))
    assert "已签收" in ack.text
    assert any(type(c).__name__ == "EditMessageReplyMarkup" for c in ack.calls)
    again = await h.press(LIAISON, sent.button("签收"))
    assert again.messages == [] and "已签收" in again.alerts[0]
    blocked = await h.press(LIAISON, sent.button("有困难"))
    assert "有困难" in blocked.text
    assert (await _assignment(h, ("SR-2", 0, "sr_health"))).status == "blocked"


async def test_other_units_button_is_refused(h):
    data = AssignmentAction(
        code="d", assignment_id=h.ledger.assignments[("SR-1", 0, "sr_finance")]
    )
    sent = await h.press(LIAISON, data.pack())
    assert sent.messages == [] and "不属于您" in sent.alerts[0]
    assert (await _assignment(h, ("SR-1", 0, "sr_finance"))).status == "not_started"
    sent = await h.press(FINANCE, data.pack())
    assert "等待督办员确认办结" in sent.text


async def test_reply_with_photo_document_text_and_extension(h):
    sent = await h.send(LIAISON, "/task SR-2")
    card_id = sent.last_id
    photo = await h.send(LIAISON, reply_to=card_id, photo=True, caption="现场照片")
    assert "照片" in photo.text
    doc = await h.send(LIAISON, reply_to=card_id, document=("方案.pdf", 1000))
    assert "文件" in doc.text
    big = await h.send(LIAISON, reply_to=card_id, document=("大.zip", 30 * 1024 * 1024))
    assert "文件过大" in big.text
    sticker = await h.send(LIAISON, reply_to=card_id, sticker=True)
    assert "佐证材料" in sticker.text
    text = await h.send(LIAISON, "已协调土地指标", reply_to=card_id)
    assert "说明已记录" in text.text
    events = [e for e in await _events(h) if e.kind == "note"]
    assert [(e.evidence_kind, e.evidence_file_id) for e in events] == [
        ("photo", "PHOTO-BIG"),
        ("document", "DOC-1"),
        (None, None),
    ]
    assert events[0].note == "现场照片"

    prompt = await h.press(LIAISON, sent.button("申请延期"))
    assert "回复本消息" in prompt.text
    prompt_id = prompt.last_id
    bad = await h.send(LIAISON, "下个月", reply_to=prompt_id)
    assert "不是有效日期" in bad.text
    ok = await h.send(LIAISON, "2026-03-15 需要更多时间", reply_to=prompt_id)
    assert "已申请延期至 2026年3月15日" in ok.text


async def test_reply_to_unrelated_message_and_other_text(h):
    sent = await h.send(LIAISON, "补充", reply_to=4242)
    assert "不对应具体事项" in sent.text
    assert "回复对应事项" in (await h.send(LIAISON, "你好")).text
    assert "无法识别该命令" in (await h.send(LIAISON, "/nonsense")).text


async def test_lang_switches_and_help_follows(h):
    zh = await h.send(COORDINATOR, "/help")
    assert "督办员" in zh.text
    sent = await h.send(COORDINATOR, "/lang en")
    assert sent.text == "From now on I will write to you in English."
    en = await h.send(COORDINATOR, "/help")
    assert len(en.text.splitlines()) == len(zh.text.splitlines())
    assert not re.search(r"[\u4e00-\u9fff]", en.text), en.text
    assert "用法" in (await h.send(LIAISON, "/lang klingon")).text
    assert "中文" in (await h.send(COORDINATOR, "/lang zh")).text


async def test_liaison_help_has_no_coordinator_lines(h):
    text = (await h.send(LIAISON, "/help")).text
    assert "/my" in text and "/invite" not in text


async def test_errors_are_apologised_for(h, monkeypatch):
    import bot.telegram.help as help_module

    def boom(roles):
        raise RuntimeError("boom")

    monkeypatch.setattr(help_module, "help_text", boom)
    sent = await h.send(LIAISON, "/help")
    assert "抱歉" in sent.text
    sent = await h.send(LIAISON, "/help", language_code="en")
    assert "Sorry" in sent.text  # no language saved: Telegram's language decides
    assert "SR-1" in (await h.send(LIAISON, "/my")).text  # the bot keeps going


async def test_subscribe_echoes_what_was_typed_as_text(h):
    """A plan code that is not one comes back escaped and short, never as broken HTML."""
    for typed in ("<b>", "SR&LN", "<a href='x'>SR</a>", "X" * 4000):
        sent = await h.send(COORDINATOR, f"/subscribe {typed}", chat_type="group")
        assert h.session.refused == [], typed[:20]
        assert len(sent.messages) == 1 and "抱歉" not in sent.text, sent.text[:80]
        assert "没有代码为" in sent.text and len(sent.text) < 200
    assert "&lt;B&gt;" in (await h.send(COORDINATOR, "/subscribe <b>", chat_type="group")).text
    ok = await h.send(COORDINATOR, "/subscribe sr", chat_type="group")
    assert "SR" in ok.text and "周报" in ok.text


async def test_a_huge_argument_gets_one_short_answer(h):
    """Whatever a command echoes back of what was typed fits one message."""
    huge = "<b>未知" * 1000  # 4000 characters: the command still fits one Telegram message
    for user, command in (
        (LIAISON, "/task"),
        (LIAISON, "/report SR-2"),
        (LIAISON, "/report"),
        (COORDINATOR, "/unit"),
        (COORDINATOR, "/status"),
        (COORDINATOR, "/invite"),
        (COORDINATOR, "/confirm"),
        (COORDINATOR, "/export"),
        (COORDINATOR, "/overdue"),
    ):
        sent = await h.send(user, f"{command} {huge}")
        assert h.session.refused == [], command
        assert len(sent.messages) == 1 and "抱歉" not in sent.text, (command, sent.text[:80])
        assert len(sent.text) < 1000, command


async def test_a_long_text_split_by_telegram_keeps_its_second_part(h):
    """Telegram cuts a text over 4096 characters into messages sent together; only the first
    is the reply. The second part is recorded on the same item, never lost to a hint."""
    card = await h.send(LIAISON, "/task SR-2")
    first = "第一部分。" * 800  # 4000 characters
    sent = await h.send(LIAISON, first, reply_to=card.last_id)
    assert "说明已记录" in sent.text
    second = "第二部分" * 1000
    sent = await h.send(LIAISON, second)
    assert len(sent.messages) == 1 and "SR-2" in sent.text and "其余部分" in sent.text
    notes = [e for e in await _events(h) if e.kind == "note"]
    assert [e.note for e in notes] == [first, second]
    assert notes[0].assignment_id == notes[1].assignment_id
    # a third part (a text over 8192 characters) continues the second one
    sent = await h.send(LIAISON, "第三部分：结论。")
    assert "其余部分" in sent.text
    assert len([e for e in await _events(h) if e.kind == "note"]) == 3


async def test_a_plain_text_long_after_or_after_a_short_note_is_not_a_continuation(h):
    card = await h.send(LIAISON, "/task SR-2")
    await h.send(LIAISON, "长" * 4000, reply_to=card.last_id)
    h.clock.advance(timedelta(minutes=30))
    assert "回复对应事项" in (await h.send(LIAISON, "你好")).text
    await h.send(LIAISON, "短说明", reply_to=card.last_id)
    assert "回复对应事项" in (await h.send(LIAISON, "你好")).text
    assert "回复对应事项" in (await h.send(FINANCE, "你好")).text  # someone else's note
    assert len([e for e in await _events(h) if e.kind == "note"]) == 2


async def test_evidence_files_are_limited_to_documents_images_and_archives(h):
    card = (await h.send(LIAISON, "/task SR-2")).last_id
    refused = {
        ("setup.exe", 1000): "setup.exe",
        ("run.bat", 10, "application/x-bat"): "run.bat",
        ("报告.pdf", 1000, "application/x-msdownload"): "报告.pdf",  # a program named .pdf
        ("无扩展名", 1000, "application/pdf"): "无扩展名",
        ("<b>.js", 10): "&lt;b&gt;.js",
    }
    for document, shown in refused.items():
        sent = await h.send(LIAISON, reply_to=card, document=document, caption="见附件")
        assert len(sent.messages) == 1, document
        assert shown in sent.text and "PDF" in sent.text and "Word (doc, docx)" in sent.text
        assert "说明已记录" not in sent.text
    assert [e for e in await _events(h) if e.kind == "note"] == []
    accepted = [
        ("方案.PDF", 1000, "application/pdf"),
        ("台账.xlsx", 1000, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("通知.wps", 1000, "application/octet-stream"),
        ("现场.jpeg", 1000, "image/jpeg"),
        ("材料.zip", 1000),
    ]
    for document in accepted:
        sent = await h.send(LIAISON, reply_to=card, document=document)
        assert "文件" in sent.text and "已记录" in sent.text, document
    notes = [e for e in await _events(h) if e.kind == "note"]
    assert [e.evidence_name for e in notes] == [d[0] for d in accepted]
    en = await h.send(LIAISON, reply_to=card, document=("tool.exe", 10), language_code="en")
    assert "not accepted" in en.text


async def test_a_file_sent_without_a_reply_is_told_how_to_attach_it(h):
    for kw in ({"document": ("方案.pdf", 1000)}, {"photo": True}):
        sent = await h.send(LIAISON, **kw)
        assert len(sent.messages) == 1
        assert "回复" in sent.text and "/task" in sent.text and "佐证材料" not in sent.text
    assert [e for e in await _events(h) if e.kind == "note"] == []


async def test_history_written_by_the_loader_is_shown_in_the_users_language(h):
    """Events keep machine-readable kinds, labels and notes (as the loader wrote them before
    this change too); /task translates them."""
    aid = h.ledger.assignments[("SR-2", 0, "sr_health")]
    async with h.ledger.session_maker() as s:
        for note, after in (
            ("milestone due 2025-12-31 → 2026-06-30", date(2026, 6, 30)),
            ("milestone due 2026-06-30 → 2026-03-31; extension to 2026-09-30 kept", None),
        ):
            s.add(
                StatusEvent(
                    assignment_id=aid,
                    at=h.clock.now(),
                    actor_label="import",
                    kind="due_change",
                    old_status="not_started",
                    new_status="not_started",
                    note=note,
                    due_before=date(2025, 12, 31),
                    due_after=after,
                )
            )
        await s.commit()
    zh = await h.send(LIAISON, "/task SR-2")
    assert "milestone due" not in zh.text and "import" not in zh.text, zh.text
    moved = "计划调整完成时限：2025年12月31日 → 2026年6月30日"
    assert f"计划导入 (上饶市卫生健康委员会): {moved}" in zh.text
    assert "已批准的延期至 2026年9月30日继续有效" in zh.text
    en = await h.send(LIAISON, "/task SR-2", language_code="en")
    assert "plan import" in en.text and "the plan moved the due date" in en.text


async def test_task_reads_the_same_with_the_import_event_of_an_earlier_load(h):
    """Loads write no event per assignment now; a ledger loaded by an earlier release keeps
    each assignment's "import" event, which /task does not show (nor the load twice)."""
    await h.send(LIAISON, "/report SR-2 进行中 30% 已开工")
    before = {
        lang: (await h.send(LIAISON, "/task SR-2", language_code=lang)).text
        for lang in ("zh", "en")
    }
    async with h.ledger.session_maker() as s:
        for a in (await s.exec(select(Assignment))).all():
            s.add(
                StatusEvent(
                    assignment_id=a.id,
                    at=a.assigned_at,
                    actor_label="import",
                    kind="import",
                    old_status=None,
                    new_status="not_started",
                )
            )
        await s.commit()
    for lang, text in before.items():
        assert (await h.send(LIAISON, "/task SR-2", language_code=lang)).text == text
    assert "已开工" in before["zh"] and "计划导入" not in before["zh"]
