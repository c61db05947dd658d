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
from bot.importer.errors import PlanInputError
from bot.importer.summary import render_summary

PLANS = Path(__file__).resolve().parent / "plans"
DIRECTORY = load_unit_directory()
TODAY = date(2031, 3, 5)

Expected = dict[str, tuple[str | None, set[str], list[str]]]  # number: (lead, co, dues)


def _plan(name: str, **options: object) -> Plan:
    return import_plan(PLANS / name, directory=DIRECTORY, today=TODAY, **options)


def _text(text: str, **options: object) -> Plan:
    return parse_plan_text(text, source="made-up.txt", directory=DIRECTORY, today=TODAY, **options)


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
    _check(
        plan,
        {
            "1": ("市卫健委", {"市财政局", "市发展改革委"}, ["2024-11-30"]),
            "2": ("市卫健委", {"市人社局", "市医保局"}, ["2024-06-30"]),
            "3": ("市卫健委", {"市医保局"}, ["2024-06-30", "2024-12-31"]),
            "4": ("市卫健委", {"市教育局"}, ["2024-09-30"]),  # co label before the lead label
        },
    )
    assert plan.tasks[1].text.endswith("完善基层首诊制度。")  # "— 3 —" between the halves


def test_labels_followed_by_spaces_instead_of_colons() -> None:
    plan = _plan("labels_spaced.md")
    assert plan.info.title == "某县2025年民生实事项目任务清单"
    _check(
        plan,
        {
            "1": ("县教育局", {"县住建局", "县自然资源局"}, ["2025-10-31"]),
            "2": ("县住建局城建股", {"县财政局预算股"}, ["2025-06-30"]),
            "3": ("县民政局", {"各乡镇人民政府"}, ["2025-12-31"]),
        },
    )


def test_inline_notes_with_other_verbs_and_the_same_below_rule() -> None:
    plan = _plan("inline_verbs.txt")
    assert plan.info.title == "某省2024年促进就业工作要点"
    _check(
        plan,
        {
            "1": ("省人社厅", {"省教育厅", "各设区市政府"}, ["2024-12-31"]),
            "2": ("省发展改革委", {"省财政厅"}, ["2024-12-31"]),
            "3": ("省发展改革委", {"省财政厅"}, ["2024-09-30"]),  # 下同
            "4": ("省民政厅", {"省残联"}, ["2024-12-31"]),
            "5": ("省妇联", set(), ["2024-12-31"]),  # "…，省妇联配合落实。"
        },
    )
    assert all("下同" not in t.text and "协办" not in t.text for t in plan.tasks)
    assert plan.tasks[4].text.endswith("建设妇女就业帮扶基地。")


def test_a_heading_note_holds_until_another_note() -> None:
    plan = _plan("heading_carry.txt")
    _check(
        plan,
        {
            "1": ("市政务服务管理局", {"市大数据发展管理局"}, ["2024-12-31"]),
            "2": ("市政务服务管理局", {"市大数据发展管理局"}, ["2024-06-30"]),
            "3": ("市市场监管局", set(), ["2024-12-31"]),
            "4": (None, set(), ["2024-12-31"]),  # item 3's own note ended the 下同 rule
        },
    )
    assert any("-4: no responsible unit" in w.message for w in plan.warnings)


@pytest.mark.parametrize("colon", ["：", ":", " ：", "  "])
def test_label_spellings_and_colons(colon: str) -> None:
    text = (
        f"某区2024年重点工作清单\n1.推进社区治理。\n主办单位{colon}区民政局\n"
        f"配合单位{colon}区财政局,区司法局\n完成时限{colon}2024年9月底\n"
        f"2.推进养老服务。\n责任处室{colon}区民政局养老科\n协作单位{colon}各街道办事处\n"
        f"时间节点{colon}10月底前\n"
    )
    _check(
        _text(text),
        {
            "1": ("区民政局", {"区财政局", "区司法局"}, ["2024-09-30"]),
            "2": ("区民政局养老科", {"各街道办事处"}, ["2024-10-31"]),
        },
    )


# --- family 2: numbering of every kind ------------------------------------------------------


def test_units_hanging_on_sub_items_make_them_the_tasks() -> None:
    plan = _plan("sub_level.txt")
    assert plan.info.title == "某市2024年城市更新行动任务分工"
    assert [t.ref for t in plan.tasks] == ["SL-1", "SL-2", "SL-3", "SL-4"]
    sections = ["实施老旧小区改造"] * 2 + ["推进城市基础设施建设"] * 2
    assert [t.section for t in plan.tasks] == sections
    assert [_units(t) for t in plan.tasks] == [
        ("市住建局", {"各区政府"}),
        ("市住建局", {"市市场监管局"}),
        ("市城管局", {"市交通运输局"}),
        ("市城管局", set()),
    ]
    assert [[m.due.isoformat() for m in t.milestones] for t in plan.tasks] == [
        ["2024-06-30"],
        ["2024-12-31"],
        ["2024-11-30"],
        ["2024-12-31"],
    ]


def test_circled_numbers_with_inline_labels() -> None:
    plan = _plan("circles.txt")
    _check(
        plan,
        {
            "①": ("县农业农村局", {"县财政局"}, ["2023-10-31"]),
            "②": ("县农业农村局", set(), ["2023-12-31"]),
            "③": ("县乡村振兴局", {"县卫健委"}, ["2023-09-30"]),
        },
    )
    assert [t.section for t in plan.tasks] == ["产业发展", "产业发展", "乡村建设"]
    assert "牵头单位" not in plan.tasks[0].text and "完成时限" not in plan.tasks[0].text


def test_chinese_numbered_items_and_a_title_year() -> None:
    plan = _plan("chinese_numbered.txt")
    assert plan.info.title == "某市2022年为民办实事项目责任分解表"
    assert (plan.info.start, plan.info.end) == (date(2022, 1, 1), date(2022, 12, 31))
    _check(
        plan,
        {
            "一": ("市教育局", {"市住建局"}, ["2022-08-31"]),
            "二": ("市卫健委", set(), ["2022-12-31"]),
            "三": ("市城管局", set(), ["2022-12-31"]),
        },
    )


def test_an_excerpt_starting_at_item_57_under_an_attachment_label() -> None:
    plan = _plan("excerpt_57.txt", code="QX")
    assert [t.ref for t in plan.tasks] == ["QX-57", "QX-58", "QX-59"]
    _check(
        plan,
        {
            "57": ("区教体局", set(), ["2024-09-30"]),
            "58": ("区卫健委", set(), ["2024-06-30"]),
            "59": ("区医保局", {"区人社局"}, ["2024-12-31"]),
        },
    )


def test_a_number_glued_to_digits_in_the_text() -> None:
    plan = _plan("glued_numbers.txt")
    assert [t.number for t in plan.tasks] == ["6", "7", "8", "9"]
    assert plan.tasks[2].title == "1+N服务体系建设"
    assert _units(plan.tasks[2]) == ("市民政局", {"各区政府"})


def test_half_width_parenthesis_numbers() -> None:
    plan = _plan("paren_half.txt")
    assert plan.info.title == "某县2025年重点民生工作任务"
    _check(
        plan,
        {
            "1": ("县住建局", {"县生态环境分局"}, ["2025-06-30"]),
            "2": ("县水利局", set(), ["2025-12-31"]),
        },
    )


@pytest.mark.parametrize("number", ["（{}）", "({})", "{}.", "{}、", "{}．"])
def test_every_arabic_numbering_style(number: str) -> None:
    lines = ["某区2024年重点工作任务", "一、重点任务"]
    for k, unit in ((1, "区发改委"), (2, "区财政局"), (3, "区教体局")):
        lines.append(
            f"{number.format(k)}推进第{k}项工作，{k + 3}月底前完成。（{unit}牵头，区审计局配合）"
        )
    plan = _text("\n".join(lines))
    titles = [f"推进第{k}项工作，{k + 3}月底前完成" for k in (1, 2, 3)]
    assert [t.title for t in plan.tasks] == titles
    assert [_units(t)[0] for t in plan.tasks] == ["区发改委", "区财政局", "区教体局"]
    assert [t.milestones[0].due for t in plan.tasks] == [
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
    ]


# --- family 5: dates without a year, quarters, halves, ranges, standing duties --------------


def test_month_only_quarter_and_half_year_dates() -> None:
    plan = _plan("dates_month.txt")
    _check(
        plan,
        {
            "1": ("市住建局", set(), ["2024-03-31", "2024-06-30"]),
            "2": ("市大数据局", {"市财政局"}, ["2024-06-30", "2024-12-31"]),
            "3": ("市发改委", set(), ["2024-05-31", "2024-07-31"]),
            "4": ("市应急局", set(), ["2024-06-30", "2024-09-30"]),
            "5": ("市林业局", set(), ["2024-06-30", "2024-12-31"]),
            "6": ("市住建局", set(), ["2024-12-31"]),  # 截至3月 is where things stand, not a date
        },
    )
    assert plan.tasks[5].milestones[0].phrase == ""


def test_a_month_takes_the_year_named_before_it() -> None:
    plan = _text(
        "某市2023-2025年数字政府建设方案\n一、重点任务\n"
        "1.建设政务云。分别于2024年6月底、12月底前完成一期、二期。（市大数据局牵头）\n"
        "2.建设数据中台。2025年3月启动，9月底前上线。（市大数据局牵头）\n"
    )
    assert [[m.due.isoformat() for m in t.milestones] for t in plan.tasks] == [
        ["2024-06-30", "2024-12-31"],
        ["2025-03-31", "2025-09-30"],
    ]


def test_standing_duties_are_periodic_reports_not_deadlines() -> None:
    plan = _plan("standing.txt")
    by_number = {t.number: t for t in plan.tasks}
    want = {"1": ["每季度"], "2": ["每季度"], "3": ["每季度"], "4": ["每月"], "5": ["每季度"]}
    assert {n: t.recurrence for n, t in by_number.items()} == want
    for number in "1234":
        (milestone,) = by_number[number].milestones
        assert milestone.due == date(2025, 12, 31) and milestone.phrase  # not an implied date
    assert [m.due for m in by_number["5"].milestones] == [date(2025, 10, 31)]
    assert not any("no deadline of its own" in w.message for w in plan.warnings)


def test_year_ranges_each_year_and_respectively() -> None:
    plan = _plan("dates_range.txt")
    years = ["2023-12-31", "2024-12-31", "2025-12-31"]
    _check(
        plan,
        {
            "1": ("县教育局", set(), years),
            "2": ("县教育局", {"县财政局"}, years),
            "3": ("县教育局", set(), ["2025-12-31"]),
        },
    )
    assert plan.tasks[0].recurrence == ["每年"] and plan.tasks[2].recurrence == ["每年"]
    assert [m.target for m in plan.tasks[1].milestones][-1].endswith("完成30所学校校舍改造")


# --- family 4: the year when the body has none ----------------------------------------------


def test_a_relative_period_anchors_a_later_one() -> None:
    plan = _plan("relative_period.txt")
    assert (plan.info.start, plan.info.end) == (date(2020, 1, 1), date(2022, 12, 31))
    _check(
        plan,
        {
            "1": ("县教育局", set(), ["2022-12-31"]),
            "2": ("县教育局", {"县人社局"}, ["2021-12-31"]),
        },
    )


def test_the_year_of_publication_metadata() -> None:
    plan = _plan("metadata_year.txt")
    assert plan.info.issued == date(2021, 3, 8)
    assert [[m.due.isoformat() for m in t.milestones] for t in plan.tasks] == [
        ["2021-11-30"],
        ["2021-06-30"],
    ]


def test_the_year_of_a_date_line_at_the_end() -> None:
    plan = _plan("dated_at_end.txt")
    assert plan.info.issued == date(2022, 4, 12)
    _check(
        plan,
        {
            "1": ("镇村建办", set(), ["2022-09-30"]),
            "2": ("镇党政办", set(), ["2022-12-31"]),  # the signature date is not a milestone
        },
    )
    assert "人民政府" not in plan.tasks[1].text


def test_the_year_of_a_title() -> None:
    plan = _text(
        "关于印发某市2024年工作要点的通知\n某市2024年卫生健康工作要点\n"
        "1.推进医联体建设，10月底前完成。责任单位：市卫健委\n"
    )
    assert plan.info.title == "某市2024年卫生健康工作要点"
    assert plan.tasks[0].milestones[0].due == date(2024, 10, 31)


YEARLESS = "区卫健委重点工作任务\n1.推进医联体建设，10月底前完成。\n责任单位：区卫健委\n"


def test_no_year_anywhere_uses_today_with_a_warning() -> None:
    plan = _text(YEARLESS)
    assert plan.tasks[0].milestones[0].due == date(2031, 10, 31)
    notes = [w.message for w in plan.warnings if "no year" in w.message]
    assert len(notes) == 1 and "2031" in notes[0]


def test_the_year_given_overrides_the_document() -> None:
    plan = _text("某区2019年重点工作任务\n" + YEARLESS.split("\n", 1)[1], year=2024)
    assert (plan.info.start, plan.info.end) == (date(2024, 1, 1), date(2024, 12, 31))
    assert plan.tasks[0].milestones[0].due == date(2024, 10, 31)
    assert not any("no year" in w.message for w in plan.warnings)
    ranged = _text(
        "某县2023—2025年行动方案\n1.推进医联体建设，10月底前完成。责任单位：县卫健委\n", year=2024
    )
    assert (ranged.info.start.year, ranged.info.end.year) == (2023, 2025)
    assert ranged.tasks[0].milestones[0].due == date(2024, 10, 31)


def test_without_a_year_or_today_the_error_says_what_to_give() -> None:
    with pytest.raises(PlanInputError) as caught:
        parse_plan_text(YEARLESS, source="noyear.txt", directory=DIRECTORY)
    assert caught.value.field == "year" and "--year" in str(caught.value)


def test_a_plan_without_dates_needs_no_year() -> None:
    plan = _text("区卫健委重点工作任务\n1.推进医联体建设。\n责任单位：区卫健委\n")
    assert not any("no year" in w.message for w in plan.warnings)
    assert plan.tasks[0].milestones[0].due == date(2031, 12, 31)


# --- family 6: implied deadlines are visible ------------------------------------------------


def test_implied_deadlines_are_warned_and_counted_in_the_summary() -> None:
    plan = _plan("inline_verbs.txt")
    implied = [w.message for w in plan.warnings if "no deadline of its own" in w.message]
    assert implied == [
        f"IV-{n}: no deadline of its own: plan end 2024-12-31 used" for n in (1, 4, 5)
    ]
    assert "3 items have no deadline of their own: plan end 2024-12-31 used" in render_summary(
        plan
    )


def test_a_title_broken_over_two_lines_is_whole() -> None:
    plan = _text(
        "各区人民政府，市直各单位：\n"
        "现将《某市城市更新三年行动计划(2024-2026年)》印发给你们。\n某市城市更新\n三年行动计划(2024-2026年)\n一、重点任务\n"
        "1.改造老旧小区。2024年底前完成120个。（市住建局牵头）\n"
    )
    assert plan.info.title == "某市城市更新三年行动计划(2024-2026年)"
    assert (plan.info.start.year, plan.info.end.year) == (2024, 2026)


def test_a_date_or_standing_duty_inside_a_unit_note_is_no_unit() -> None:
    plan = _text(
        "某市2024年河湖治理工作方案\n一、重点任务\n"
        "1.落实河湖长制。（市水利局牵头，各县区政府配合，长期推进）\n"
        "2.完成河道清淤。（市水利局牵头，2024年10月底前完成）\n"
    )
    assert [_units(t) for t in plan.tasks] == [("市水利局", {"各县区政府"}), ("市水利局", set())]
    assert plan.tasks[0].recurrence == ["每季度"]
    assert [(m.due, m.phrase) for m in plan.tasks[0].milestones] == [
        (date(2024, 12, 31), "长期推进")
    ]
    assert [m.due for m in plan.tasks[1].milestones] == [date(2024, 10, 31)]


def test_labels_in_brackets_of_their_own_on_chinese_numbered_blocks() -> None:
    plan = _plan("bracketed_labels.txt")
    _check(
        plan,
        {
            "一": ("区行政审批局", {"区大数据中心"}, ["2024-06-30"]),
            "二": ("区自然资源局", {"区发改局"}, ["2024-12-31"]),
            "三": ("区司法局", set(), ["2024-09-30"]),
        },
    )
    assert plan.tasks[1].recurrence == ["每季度"]
    assert all("】" not in t.text for t in plan.tasks)


def test_a_day_of_the_month_is_kept() -> None:
    plan = _text(
        "某区2024年重点工作任务\n一、重点任务\n"
        "1.召开动员大会，3月15日前完成部署。（区委办牵头）\n"
        "2.完成年度考核，2024年12月20日前报送结果。（区考核办牵头）\n"
        "3.完成普查登记，6月31日前完成。（区统计局牵头）\n"
    )
    assert [[m.due for m in t.milestones] for t in plan.tasks] == [
        [date(2024, 3, 15)],
        [date(2024, 12, 20)],
        [date(2024, 6, 30)],
    ]


def test_stray_spaces_and_mixed_punctuation_around_numbers_and_labels() -> None:
    text = (
        "某市 2024 年 重点工作任务清单\n一 、重点任务\n"
        "1 . 推进 医联体 建设 ， 10 月底前 完成 。\n牵头单位 ：市卫健委\n"
        "配合单位: 市医保局 , 市财政局\n"
        "2 、 推进 家庭医生 签约 ， 第三 季度 完成 。（ 市卫健委牵头 ， 市民政局配合 ）\n"
    )
    _check(
        _text(text),
        {
            "1": ("市卫健委", {"市医保局", "市财政局"}, ["2024-10-31"]),
            "2": ("市卫健委", {"市民政局"}, ["2024-09-30"]),
        },
    )


def test_a_standing_duty_closing_the_item_text() -> None:
    plan = _text(
        "某区2025年重点工作任务\n一、重点任务\n"
        "1.加强食品安全监管，长期坚持。（区市场监管局牵头）\n"
        "2.开展环境巡查。（常态化推进）〔责任单位：区生态环境分局〕\n"
        "3.持续推进河湖治理，10月底前完成清淤。（区水利局牵头）\n"
    )
    assert [t.recurrence for t in plan.tasks] == [["每季度"], ["每季度"], []]
    assert [[(m.due.isoformat(), m.phrase) for m in t.milestones] for t in plan.tasks] == [
        [("2025-12-31", "长期坚持")],
        [("2025-12-31", "常态化推进")],
        [("2025-10-31", "10月底前")],
    ]


def test_a_whole_notice_keeps_only_the_task_sections() -> None:
    plan = _plan("full_notice.txt")
    assert plan.info.title == "某市2024年城乡环境整治工作方案"
    assert plan.info.issued == date(2024, 2, 20)
    _check(
        plan,
        {
            "1": ("市城管局", {"市住建局"}, ["2024-03-31", "2024-10-31"]),
            "2": ("市城管局", {"市住建局"}, ["2024-06-30"]),
            "3": ("市农业农村局", {"市卫健委", "市乡村振兴局"}, ["2024-12-31"]),
            "4": ("市生态环境局", {"各县（市、区）政府"}, ["2024-06-30", "2024-11-30"]),
            "5": ("市乡村振兴局", set(), ["2024-12-31"]),
        },
    )
    assert plan.tasks[4].recurrence == ["每季度"]
    assert plan.tasks[4].milestones[0].phrase == "常态化开展"
    assert not any("no deadline of its own" in w.message for w in plan.warnings)
