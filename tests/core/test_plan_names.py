"""Plans are named by code and short name in messages (issue 14), never the full title."""

from __future__ import annotations

import pytest

from bot.core.plan_names import plan_label, short_plan_name

SEED_TITLES = {
    "SR": "上饶市关于落实《江西省卫生健康服务能力全面提升三年行动计划（2023-2025年）》的实施意见",
    "JK": "赣州经开区卫生健康服务能力全面提升三年行动计划(2023-2025年)",
    "LN": "龙南市卫生健康服务能力全面提升三年行动计划（2023—2025年）（征求意见稿）",
    "NC": "南昌市“十四五”卫生…发展规划",
    "GZ": "赣州市“十四五”医疗卫生服务体系规划",
}


def test_the_seed_plans_get_short_names():
    names = {code: short_plan_name(title) for code, title in SEED_TITLES.items()}
    assert names == {
        "SR": "上饶市实施意见",
        "JK": "赣州经开区卫生健康服…行动计划",
        "LN": "龙南市卫生健康服务能…行动计划",
        "NC": "南昌市“十四五”卫生…发展规划",
        "GZ": "赣州市“十四五”医疗…体系规划",
    }
    assert plan_label("SR", SEED_TITLES["SR"]) == "SR 上饶市实施意见"


@pytest.mark.parametrize(
    "title",
    [
        "某市关于印发《某某工作方案》的通知",
        "关于落实《健康中国行动》的实施方案（试行）",
        "（征求意见稿）",
        "A" * 200,
        "卫生 健康 规划",
        "《某某规划》",
        "",
    ],
)
def test_any_title_becomes_short_and_never_empty_when_it_had_words(title):
    name = short_plan_name(title)
    assert len(name) <= 15
    assert bool(name) == bool(title.strip())


def test_a_missing_code_or_title_leaves_the_other():
    assert plan_label("SR", "") == "SR"
    assert plan_label("", "南昌市规划") == "南昌市规划"


@pytest.mark.parametrize("kind", ["reminder", "ack_chase", "overdue", "escalation", "periodic"])
def test_a_notice_names_its_plan_by_code_and_short_name(kind):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.storage.models import Outbox
    from bot.telegram.notices import render

    at = datetime(2025, 3, 1, tzinfo=UTC)
    payload = {"plan": "SR", "plan_title": SEED_TITLES["SR"], "ref": "SR-1", "title": "建立机制"}
    payload |= {"due": "2025-03-14", "days": 3, "unit": "市卫健委", "audience": "liaisons"}
    row = Outbox(
        key=f"{kind}:1:x",
        kind=kind,
        chat_id=1,
        assignment_id=1,
        payload=payload,
        created_at=at,
        not_before=at,
    )
    first = render(row, locale="zh_CN", zone=ZoneInfo("Asia/Shanghai")).text.splitlines()[0]
    assert first.endswith(" · SR 上饶市实施意见")
    assert "江西省" not in render(row, locale="en", zone=ZoneInfo("Asia/Shanghai")).text
