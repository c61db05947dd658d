"""Text layouts of published plans (issue 11, families 1, 2, 4, 5, 6), on made-up plans in
tests/importer/plans/: for each task its lead unit, co-operating units (as written) and due
dates; titles and warnings where they matter.

Expected values were written by reading the plan texts, not from importer output.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.core.plan import Item, Plan
from bot.core.units import load_unit_directory
from bot.importer import import_plan, parse_plan_text

PLANS = Path(__file__).resolve().parent / "plans"
DIRECTORY = load_unit_directory()
TODAY = date(2031, 3, 5)

Expected = dict[str, tuple[str | None, set[str], list[str]]]  # number: (lead, co, dues)


def _plan(name: str, **options: object) -> Plan:
    return import_plan(PLANS / name, directory=DIRECTORY, today=TODAY, **options)


def _text(text: str, **options: object) -> Plan:
    return parse_plan_text(text, source="made-up.txt", directory=DIRECTORY, today=TODAY,
                           **options)


def _units(item: Item) -> tuple[str | None, set[str]]:
    leads = [u.as_written for u in item.units if u.role == "lead"]
    assert len(leads) <= 1, item.units
    return (leads[0] if leads else None), {u.as_written for u in item.units if u.role == "co"}


def _check(plan: Plan, expected: Expected) -> None:
    tasks = {t.number: t for t in plan.tasks}
    assert list(tasks) == list(expected)
    for number, (lead, co, dues) in expected.items():
        task = tasks[number]
        assert _units(task) == (lead, co), f"task {number}: {task.units}"
        assert [m.due.isoformat() for m in task.milestones] == dues, f"task {number}"


# --- family 1: unit labels on lines of their own, inline notes with other verbs -------------


def test_labels_on_lines_after_the_item() -> None:
    plan = _plan("labels_after.txt")
    assert plan.info.title == "某市2024年卫生健康重点工作任务分解方案"
    _check(plan, {
        "1": ("市卫健委", {"市财政局", "市发展改革委"}, ["2024-11-30"]),
        "2": ("市卫健委", {"市人社局", "市医保局"}, ["2024-06-30"]),
        "3": ("市卫健委", {"市医保局"}, ["2024-06-30", "2024-12-31"]),
        "4": ("市卫健委", {"市教育局"}, ["2024-09-30"]),  # co label before the lead label
    })
    assert plan.tasks[1].text.endswith("完善基层首诊制度。")  # "— 3 —" between the halves


def test_labels_followed_by_spaces_instead_of_colons() -> None:
    plan = _plan("labels_spaced.md")
    assert plan.info.title == "某县2025年民生实事项目任务清单"
    _check(plan, {
        "1": ("县教育局", {"县住建局", "县自然资源局"}, ["2025-10-31"]),
        "2": ("县住建局城建股", {"县财政局预算股"}, ["2025-06-30"]),
        "3": ("县民政局", {"各乡镇人民政府"}, ["2025-12-31"]),
    })


def test_inline_notes_with_other_verbs_and_the_same_below_rule() -> None:
    plan = _plan("inline_verbs.txt")
    assert plan.info.title == "某省2024年促进就业工作要点"
    _check(plan, {
        "1": ("省人社厅", {"省教育厅", "各设区市政府"}, ["2024-12-31"]),
        "2": ("省发展改革委", {"省财政厅"}, ["2024-12-31"]),
        "3": ("省发展改革委", {"省财政厅"}, ["2024-09-30"]),  # 下同
        "4": ("省民政厅", {"省残联"}, ["2024-12-31"]),
        "5": ("省妇联", set(), ["2024-12-31"]),  # "…，省妇联配合落实。"
    })
    assert all("下同" not in t.text and "协办" not in t.text for t in plan.tasks)
    assert plan.tasks[4].text.endswith("建设妇女就业帮扶基地。")


def test_a_heading_note_holds_until_another_note() -> None:
    plan = _plan("heading_carry.txt")
    _check(plan, {
        "1": ("市政务服务管理局", {"市大数据发展管理局"}, ["2024-12-31"]),
        "2": ("市政务服务管理局", {"市大数据发展管理局"}, ["2024-06-30"]),
        "3": ("市市场监管局", set(), ["2024-12-31"]),
        "4": (None, set(), ["2024-12-31"]),  # item 3's own note ended the 下同 rule
    })
    assert any("-4: no responsible unit" in w.message for w in plan.warnings)


@pytest.mark.parametrize("colon", ["：", ":", " ：", "  "])
def test_label_spellings_and_colons(colon: str) -> None:
    text = (f"某区2024年重点工作清单\n1.推进社区治理。\n主办单位{colon}区民政局\n"
            f"配合单位{colon}区财政局,区司法局\n完成时限{colon}2024年9月底\n"
            f"2.推进养老服务。\n责任处室{colon}区民政局养老科\n协作单位{colon}各街道办事处\n"
            f"时间节点{colon}10月底前\n")
    _check(_text(text), {
        "1": ("区民政局", {"区财政局", "区司法局"}, ["2024-09-30"]),
        "2": ("区民政局养老科", {"各街道办事处"}, ["2024-10-31"]),
    })
