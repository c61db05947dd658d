from __future__ import annotations

from datetime import date

import pytest

from bot.core.status import Action
from bot.services.errors import ServiceError
from bot.telegram.callbacks import AssignmentAction, MyPage, OpenAssignment
from bot.telegram.keyboards import assignment_keyboard, my_keyboard
from bot.telegram.limits import MAX_CALLBACK
from bot.telegram.parsing import (
    InviteArgs,
    parse_date,
    parse_invite,
    parse_lang,
    parse_report,
    parse_single,
)


@pytest.mark.parametrize(
    ("args", "action", "progress", "due", "note"),
    [
        ("SR-12 进行中", Action.PROGRESS, None, None, ""),
        ("SR-12 进行中 60%", Action.PROGRESS, 60, None, ""),
        ("SR-12 doing 60％ 已部署", Action.PROGRESS, 60, None, "已部署"),
        ("SR-12 60%", Action.PROGRESS, 60, None, ""),
        ("sr-12 DONE 材料已报", Action.DONE, None, None, "材料已报"),
        ("SR-12 已完成", Action.DONE, None, None, ""),
        ("SR-12 有困难 缺少资金", Action.BLOCKED, None, None, "缺少资金"),
        ("SR-12 blocked", Action.BLOCKED, None, None, ""),
        ("SR-12 申请延期 2026-03-31 等待批复", Action.EXTEND, None, date(2026, 3, 31), "等待批复"),
        ("SR-12 extend 2026/3/31", Action.EXTEND, None, date(2026, 3, 31), ""),
        ("SR-12 签收", Action.ACK, None, None, ""),
        ("SR-12 note 见附件", Action.NOTE, None, None, "见附件"),
        # the percentage glued to the note or the status, in any width; the note as typed
        ("SR-12 进行中 50%今天开会", Action.PROGRESS, 50, None, "今天开会"),
        ("SR-12 进行中50%，今天开会", Action.PROGRESS, 50, None, "今天开会"),
        ("SR-12 进行中 ５０％ 今天开会", Action.PROGRESS, 50, None, "今天开会"),
        ("SR-12 有困难 30% 资金未到位（待批）", Action.BLOCKED, 30, None, "资金未到位（待批）"),
        ("SR-12 0%", Action.PROGRESS, 0, None, ""),
        ("SR-12 100%", Action.PROGRESS, 100, None, ""),
        ("SR-12 进行中 已开会，进度约一半", Action.PROGRESS, None, None, "已开会，进度约一半"),
        ("SR-12 已完成，材料已报", Action.DONE, None, None, "材料已报"),
        (
            "SR-12 申请延期 2026-03-31\n第一行\n第二行",
            Action.EXTEND,
            None,
            date(2026, 3, 31),
            "第一行\n第二行",
        ),
    ],
)
def test_parse_report(args, action, progress, due, note):
    parsed = parse_report(args)
    assert (parsed.action, parsed.progress, parsed.new_due, parsed.note) == (
        action,
        progress,
        due,
        note,
    )
    assert parsed.ref.upper() == "SR-12"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (None, "report_usage"),
        ("SR-12", "report_usage"),
        ("SR-12 maybe", "unknown_status"),
        ("SR-12 extend", "extension_date_required"),
        ("SR-12 extend soon", "bad_date"),
        ("SR-12 extend 2026-02-30", "bad_date"),
        ("SR-12 doing 150%", "progress_range"),
        # a percentage outside 0–100 is refused, never kept as a note
        ("SR-12 进行中 -5%", "progress_range"),
        ("SR-12 进行中 －5％", "progress_range"),
        ("SR-12 进行中-5%", "progress_range"),
        ("SR-12 -5%", "progress_range"),
        ("SR-12 有困难 101% 资金", "progress_range"),
        ("SR-12 进行中 50.5%", "progress_range"),
        ("SR-12 完成率50%", "unknown_status"),
        ("SR-12 note", "empty_note"),
    ],
)
def test_parse_report_errors(args, code):
    with pytest.raises(ServiceError) as err:
        parse_report(args)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-31", date(2026, 3, 31)),
        ("2026.3.1", date(2026, 3, 1)),
        ("2026年3月31日", date(2026, 3, 31)),
        ("２０２６－０３－３１", date(2026, 3, 31)),
        ("20260331", date(2026, 3, 31)),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "locale"), [("zh", "zh_CN"), ("中文", "zh_CN"), ("EN", "en"), ("english", "en")]
)
def test_parse_lang(text, locale):
    assert parse_lang(text) == locale


def test_parse_lang_usage():
    for bad in (None, "", "fr"):
        with pytest.raises(ServiceError, match="lang_usage"):
            parse_lang(bad)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("市卫健委", InviteArgs("liaison", "市卫健委", "")),
        ("市卫健委 张 三", InviteArgs("liaison", "市卫健委", "张 三")),
        ("liaison 市财政局 李四", InviteArgs("liaison", "市财政局", "李四")),
        ("leader SR 王书记", InviteArgs("leader", "SR", "王书记")),
        ("coordinator", InviteArgs("coordinator", "", "")),
        ("coordinator SR 赵六", InviteArgs("coordinator", "SR", "赵六")),
    ],
)
def test_parse_invite(args, expected):
    assert parse_invite(args) == expected


def test_parse_invite_usage():
    for bad in (None, "", "leader", "liaison"):
        with pytest.raises(ServiceError, match="invite_usage"):
            parse_invite(bad)
    with pytest.raises(ServiceError, match="task_usage"):
        parse_single("a b", "task_usage")


def test_callback_data_fits():
    big = 2**53
    for data in (
        AssignmentAction(code="x", assignment_id=big),
        OpenAssignment(assignment_id=big),
        MyPage(page=10_000),
    ):
        assert len(data.pack().encode()) <= MAX_CALLBACK


def test_assignment_keyboard_labels_per_locale():
    zh = assignment_keyboard(7, acknowledged=False, locale="zh_CN")
    labels = [b.text for row in zh.inline_keyboard for b in row]
    assert labels == ["进行中", "已完成", "有困难", "申请延期", "签收"]
    en = assignment_keyboard(7, acknowledged=True, locale="en", snooze=False)
    assert [b.text for row in en.inline_keyboard for b in row] == [
        "In progress",
        "Done",
        "Blocked",
        "Request extension",
    ]


def test_my_keyboard_pages():
    assert my_keyboard([], page=0, pages=1, locale="zh_CN") is None
    kb = my_keyboard(
        [(1, "red", "SR-1"), (2, "green", "SR-2"), (3, "yellow", "SR-3")],
        page=1,
        pages=3,
        locale="zh_CN",
    )
    rows = [[b.text for b in row] for row in kb.inline_keyboard]
    assert rows == [["🔴 SR-1", "🟢 SR-2"], ["🟡 SR-3"], ["◀", "2/3", "▶"]]
