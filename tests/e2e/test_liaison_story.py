"""End to end: the real bot process against the local Bot API server.

The story of issue 3: a coordinator invites the 市卫健委 liaison, the liaison joins, lists the
items, reports with a button and with a photo, the coordinator sees it and confirms; a stranger
gets nothing but the access note; a liaison cannot touch another unit's item; /lang en switches
every line of /help and /status; /export opens with openpyxl, one row per assignment.
"""

from __future__ import annotations

import io
import re

import openpyxl

from tests.dbs import fetch

from .world import World, text_of

UNIT = "上饶市卫生健康委员会"
CJK = re.compile(r"[\u4e00-\u9fff]")


async def invite_liaison(world: World, name: str) -> str:
    """`/invite 市卫健委 NAME`; 市卫健委 exists in several cities, so pick 上饶's."""
    coordinator = world.coordinator
    answer = await coordinator.ask(
        f"/invite 市卫健委 {name}", match=lambda m: "市卫" in text_of(m)
    )
    if "/start " not in text_of(answer):
        assert "龙南市卫生健康委员会" in text_of(answer)  # the choice is offered
        await coordinator.press(answer, UNIT)
        answer = await coordinator.wait_for("/start ", after=answer.message_id)
    assert UNIT in text_of(answer) and name in text_of(answer)
    return re.search(r"/start (\S+)", text_of(answer)).group(1)


async def test_liaison_story(world: World):
    coordinator = world.coordinator

    status_before = await coordinator.ask("/status SR", match="SR")
    assert "无法识别" not in text_of(status_before)

    # invite → /start TOKEN
    token = await invite_liaison(world, "张三")
    liaison = await world.person("张三")
    welcome = await liaison.ask(f"/start {token}", match="张三")
    assert UNIT in text_of(welcome) and "/my" in text_of(welcome)

    # /my: most urgent first, a button per item
    my = await liaison.ask("/my", match="我的事项")
    assert "🔴" in text_of(my) and "逾期" in text_of(my)
    first_button = my.buttons[0][0]
    ref = first_button["text"].split()[-1]
    assert re.fullmatch(r"SR-\w+", ref), ref

    # open the first item: its card has the report buttons
    await liaison.press(my, ref)
    card = await liaison.wait_for("下方按钮对应", after=my.message_id)
    assert ref in text_of(card)
    labels = [b["text"] for row in card.buttons for b in row]
    assert {"进行中", "已完成", "有困难", "申请延期", "签收"} <= set(labels)

    # press 进行中: one line acknowledges it, 签收 leaves the keyboard
    answer = await liaison.press(card, "进行中")
    assert answer.answer is not None
    ack = await liaison.wait_for("已报送", after=card.message_id)
    assert ref in text_of(ack) and "进行中" in text_of(ack)
    card_now = await liaison.latest(card)
    assert "签收" not in [b["text"] for row in card_now.buttons for b in row]

    # reply to the card with a photo: a note with evidence
    photo = await liaison.send_photo(caption="现场照片", reply_to=card)
    noted = await liaison.wait_for("照片已记录", after=photo.message_id)
    assert ref in text_of(noted)

    # the coordinator sees it: /status moved (one more in progress, one more acknowledged)
    status = await coordinator.ask("/status SR", match="SR")
    assert status_before is not None and text_of(status) != text_of(status_before)
    seen = await coordinator.ask(f"/task {ref}", match=ref)
    assert "进行中" in text_of(seen) and "📷" in text_of(seen) and "现场照片" in text_of(seen)

    # 已完成 by command, then the coordinator's /confirm (办结)
    done = await liaison.ask(f"/report {ref} 已完成 验收材料已报", match="已报送完成")
    assert ref in text_of(done)
    # the pushed 待您决定 notice names the ref too: wait for the answer to /confirm itself
    await coordinator.ask(
        f"/confirm {ref} {UNIT}",
        match=lambda m: (
            ref in text_of(m) and "已办结" in text_of(m) and "待您决定" not in text_of(m)
        ),
    )
    after = await coordinator.ask(f"/task {ref}", match=ref)
    assert "已办结" in text_of(after), text_of(after)


async def test_strangers_and_other_units(world: World):
    stranger = await world.person("路人", language_code="zh-hans")
    for text in ("/start", "/my", "/task SR-1", "/help", "你好"):
        answer = await stranger.ask(text)
        assert "邀请" in text_of(answer) and "SR-" not in text_of(answer), text_of(answer)
        assert not answer.buttons
    messages = await stranger.messages()
    assert len(messages) == 5  # one note per message, nothing else

    token = await invite_liaison(world, "李四")
    liaison = await world.person("李四")
    await liaison.ask(f"/start {token}", match="李四")
    refused = await liaison.ask("/report LN-1 已完成", match="LN-1")
    assert "不是本单位" in text_of(refused)
    refused = await liaison.ask("/task LN-1", match="LN-1")
    assert "不是本单位" in text_of(refused)
    wrong_role = await liaison.ask("/invite 上饶市财政局", match="督办员")
    assert "仅限督办员" in text_of(wrong_role)


async def test_lang_switches_every_line_of_help(world: World):
    coordinator = world.coordinator
    menus = (await world.client.bot_info())["commands"]
    by_scope = {(m["scope"]["type"], m["language_code"]): m["commands"] for m in menus}
    assert {("default", "zh"), ("default", "en"), ("chat", "en")} <= set(by_scope)
    assert any(c["command"] == "status" for c in by_scope[("chat", "en")])
    assert by_scope[("default", "en")][0]["description"] == "My open items"
    zh = await coordinator.ask("/help", match="/lang")
    assert CJK.search(text_of(zh))
    switched = await coordinator.ask("/lang en", match="English")
    assert text_of(switched) == "From now on I will write to you in English."
    en = await coordinator.ask("/help", match="/lang")
    zh_lines, en_lines = text_of(zh).splitlines(), text_of(en).splitlines()
    assert len(en_lines) == len(zh_lines)
    assert not [line for line in en_lines if CJK.search(line)], text_of(en)


async def test_sigterm_stops_cleanly_and_restart_is_idempotent(world: World):
    assert await world.stop() == 0
    log = world.log()
    assert "Polling stopped" in log and log.count("INFO bot: plan ") >= 1
    await world.start()  # same database: plans unchanged, the coordinator answers again
    assert "(unchanged)" in world.log()
    assert await world.stop() == 0


async def test_export_opens_with_one_row_per_assignment(world: World):
    coordinator = world.coordinator
    answer = await coordinator.ask("/export SR", match=lambda m: m.document is not None)
    data = await world.client.download(answer.document["file_id"])
    assert answer.document["file_name"].endswith(".xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    rows = sheet.max_row - 1  # below the header
    ((assignments,),) = fetch(
        world.env["DATABASE_URL"],
        "SELECT count(*) FROM assignment a JOIN milestone m ON m.id = a.milestone_id "
        'JOIN task t ON t.id = m.task_id JOIN "plan" p ON p.id = t.plan_id '
        "WHERE p.code = 'SR' AND a.archived_at IS NULL",
    )
    assert rows == assignments > 1000


async def test_lang_en_switches_every_line_of_status(world: World):
    coordinator = world.coordinator
    zh = await coordinator.ask("/status SR", match="SR")
    await coordinator.ask("/lang en", match="English")
    en = await coordinator.ask("/status SR", match="SR")
    zh_lines, en_lines = text_of(zh).splitlines(), text_of(en).splitlines()
    assert len(en_lines) == len(zh_lines)
    # plan titles, item titles and unit names stay Chinese (they are data); no UI word does
    ui_words = ("已办结", "进行中", "未开始", "逾期", "按时办结率", "及时签收率", "完成率")
    for word in (*ui_words, "待确认"):
        assert word not in text_of(en), (word, text_of(en))
    labelled = [line for line in en_lines if re.search(r"[A-Za-z]{3,}", line)]
    assert len(labelled) >= len(en_lines) // 2, text_of(en)
    assert [b["text"] for row in en.buttons for b in row if CJK.search(b["text"])] == []
