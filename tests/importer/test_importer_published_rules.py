"""Rules the acceptance corpus (tests/importer/corpus) showed missing, each on a made-up plan.

One test per rule: unit notes that also carry a date, unit lists named like offices, prose role
clauses, closing prose and colophon lines, non-task blocks, undated standing duties, year
ranges, flattened-table layouts, markdown bullets and item numbers glued to amounts.
"""

from __future__ import annotations

from datetime import date

from bot.core.plan import Item, Plan
from bot.importer import parse_plan_text

TODAY = date(2026, 3, 2)


def _plan(text: str) -> Plan:
    return parse_plan_text(text, source="rules.txt", today=TODAY)


def _units(item: Item) -> list[tuple[str, str]]:
    return [(u.as_written, u.role) for u in item.units]


def _dues(item: Item) -> list[date]:
    return [m.due for m in item.milestones]


HEAD = "某市2024年民政工作要点\n一、重点任务\n"


def test_a_role_note_may_carry_its_deadline() -> None:
    plan = _plan(
        HEAD + "1.发展老年助餐。新增助餐点100个。（养老服务处主办，"
        "各区（市）县民政局协办；9月底前完成）\n"
        "2.推进婚俗改革。（社会事务处主办；12月底前）\n"
    )
    first, second = plan.tasks
    assert _units(first) == [("养老服务处", "lead"), ("各区（市）县民政局", "co")]
    assert _dues(first) == [date(2024, 9, 30)]
    assert _units(second) == [("社会事务处", "lead")] and _dues(second) == [date(2024, 12, 31)]


def test_a_bare_list_of_offices_closing_an_item_names_its_units() -> None:
    plan = _plan(
        "某省2024年稳就业若干措施\n一、重点任务\n"
        "1.加大创业担保贷款支持，9月底前发放50亿元。（省人社厅、省财政厅、人行某省分行）\n"
        "2.建设区域医疗中心，新增10个重点专科（基层特色专科）。（省卫健委）\n"
    )
    first, second = plan.tasks
    assert [u for u, _ in _units(first)] == ["省人社厅", "省财政厅", "人行某省分行"]
    assert [u for u, _ in _units(second)] == ["省卫健委"]  # （基层特色专科） is no unit


def test_prose_role_clauses_name_the_units() -> None:
    plan = _plan(
        "某市2025年妇女儿童工作要点\n一、促进妇女发展\n"
        "（1）实施免费检查项目。检查5万人，11月底前完成，由市卫健委牵头，市妇联配合落实。\n"
        "（2）做好困境儿童保障。发放基本生活费，由市民政局负责，每月按时发放。\n"
    )
    first, second = plan.tasks
    assert _units(first) == [("市卫健委", "lead"), ("市妇联", "co")]
    assert _units(second) == [("市民政局", "lead")]
    assert "由市民政局" not in second.text


def test_numbered_items_naming_no_unit_are_tasks_not_a_refusal() -> None:
    plan = _plan(
        "某县2024年为民办实事项目\n一、教育\n1.新建幼儿园2所，8月底前完成。\n"
        "2.改造农村公路10公里，10月底前完成。\n"
    )
    assert [t.title for t in plan.tasks] == [
        "新建幼儿园2所，8月底前完成",
        "改造农村公路10公里，10月底前完成",
    ]
    assert all(not t.units for t in plan.tasks)


def test_colophon_lines_belong_to_no_item() -> None:
    plan = _plan(
        HEAD + "1.推进数字民政建设。年内建成平台。（责任单位：市民政局）\n"
        "抄送：市委办公室，市人大常委会办公室。\n"
        "某市民政局办公室        2024年2月14日印发\n"
    )
    assert _dues(plan.tasks[0]) == [date(2024, 12, 31)]
    levels = _plan(
        "某市交通运输局2023年重点工作责任清单\n"
        "一、推进国省道改造。完成改建工程交工验收。\n责任科室：公路科\n完成时限：2023年9月底\n"
        "二、推进数字交通建设。\n责任科室：科技信息科\n完成时限：2023年第四季度\n\n"
        "某市交通运输局办公室        2023年2月14日印发\n"
    )
    assert [_dues(t) for t in levels.tasks] == [[date(2023, 9, 30)], [date(2023, 12, 31)]]


def test_closing_prose_after_an_item_closed_by_its_unit_note_is_not_the_item() -> None:
    plan = _plan(
        "某省2024年稳就业若干措施\n一、重点任务\n"
        "1.延续稳岗返还政策，9月底前完成。（省人社厅、省财政厅等按职责分工负责，列第一位者为"
        "牵头单位，下同）\n"
        "2.实施技能提升行动，年底前培训30万人次。（省人社厅、省教育厅、省总工会）\n"
        "各地各有关部门要于每季度末将落实情况报送省人社厅。\n"
    )
    last = plan.tasks[-1]
    assert [u for u, _ in _units(last)] == ["省人社厅", "省教育厅", "省总工会"]
    assert "报送" not in last.text


def test_numbered_blocks_of_a_safeguards_section_are_no_tasks() -> None:
    plan = _plan(
        "某市2025年大气污染防治实施方案\n二、重点任务\n"
        "（一）实施工业污染治理。\n1.完成2家企业改造，6月底前完成。\n"
        "（牵头单位：市生态环境局；配合单位：市工业和信息化局）\n"
        "（二）推进移动源污染防治。年底前淘汰柴油货车1500辆。\n（牵头单位：市交通运输局）\n"
        "（三）强化扬尘管控。年底前清扫率达到95%。\n（牵头单位：市住建局）\n"
        "三、保障措施\n（一）压实工作责任。各区市政府是本辖区大气污染防治的责任主体。\n"
        "（二）强化督导考核。定期调度工作进展。\n"
    )
    assert [t.title for t in plan.tasks] == [
        "实施工业污染治理",
        "推进移动源污染防治",
        "强化扬尘管控",
    ]


def test_an_undated_task_opening_a_standing_duty_is_reported_periodically() -> None:
    plan = _plan(
        HEAD + "1.严格执法监管。长期坚持“双随机、一公开”监管，严打违法行为。"
        "（责任单位：市民政局）\n"
        "2.健全救助体系。完善制度。（责任单位：市民政局）\n"
    )
    duty, plain = plan.tasks
    assert duty.recurrence and _dues(duty) == [date(2024, 12, 31)]
    assert not plain.recurrence


def test_a_year_range_is_one_deadline_unless_each_year_is_meant() -> None:
    plan = _plan(
        "某市学前教育发展提升行动计划（2023—2025年）\n二、重点任务\n"
        "1.实施幼儿园改扩建。2023—2025年完成30所幼儿园改扩建。（责任单位：市教育局）\n"
        "2.增加普惠学位。2023—2025年每年新增学位3000个。（责任单位：市教育局）\n"
        "3.提升达标占比。2023-2025年达标占比分别为75%、90%、100%。（责任单位：市教育局）\n"
        "4.提高覆盖率。2023-2025年覆盖率为75%、90%、100%。（责任单位：市教育局）\n"
    )
    ends = [date(2023, 12, 31), date(2024, 12, 31), date(2025, 12, 31)]
    assert [_dues(t) for t in plan.tasks] == [[date(2025, 12, 31)], ends, ends, ends]


def test_bare_bar_lines_without_one_after_a_rows_last_cell() -> None:
    cells = [
        "序号",
        "工作任务",
        "责任单位",
        "完成时间",
        "1",
        "完善居家养老网络",
        "区民政局",
        "2025年10月",
        "2",
        "推进适老化改造",
        "区民政局、区残联",
        "2025年11月底前",
    ]
    rows = [cells[k : k + 4] for k in range(0, len(cells), 4)]
    text = "某区2025年养老服务工作台账\n" + "\n".join("\n|\n".join(row) for row in rows) + "\n"
    plan = _plan(text)
    assert [(t.title, [u for u, _ in _units(t)], _dues(t)) for t in plan.tasks] == [
        ("完善居家养老网络", ["区民政局"], [date(2025, 10, 31)]),
        ("推进适老化改造", ["区民政局", "区残联"], [date(2025, 11, 30)]),
    ]


def test_table_columns_construction_period_and_a_group_left_of_the_number() -> None:
    plan = _plan(
        "某市2024年教育改革任务分工\n"
        "| 重点任务 | 序号 | 具体措施 | 牵头单位 | 建设期限 |\n|---|---|---|---|---|\n"
        "| 深化基础教育改革 | 1 | 推进集团化办学 | 市教育局 | 2024—2025年 |\n"
        "|  | 2 | 开展划片招生改革 | 市教育局 | 2024年 |\n"
    )
    assert [(t.title, t.section, _dues(t)) for t in plan.tasks] == [
        ("推进集团化办学", "深化基础教育改革", [date(2025, 12, 31)]),
        ("开展划片招生改革", "深化基础教育改革", [date(2024, 12, 31)]),
    ]


def test_markdown_bullets_before_labels() -> None:
    plan = _plan(
        "# 某市2024年营商环境重点任务\n## 一、重点任务\n**1. 深化一网通办。**\n\n"
        "- 牵头单位：市数据局\n- 配合单位：市营商局\n- 完成时限：2024年6月底前\n"
    )
    assert _units(plan.tasks[0]) == [("市数据局", "lead"), ("市营商局", "co")]
    assert _dues(plan.tasks[0]) == [date(2024, 6, 30)]


def test_an_item_number_glued_to_an_amount_that_starts_a_sentence() -> None:
    plan = _plan(
        HEAD + "4.壮大集成电路产业。（市发展改革委牵头）\n"
        "5.10亿元以上重大项目招引。全年招引项目30个。（市投资促进局牵头）\n"
    )
    assert [(t.number, t.title) for t in plan.tasks] == [
        ("4", "壮大集成电路产业"),
        ("5", "10亿元以上重大项目招引"),
    ]


def test_dates_written_with_dots_or_dashes() -> None:
    plan = _plan(
        "某区2024年农业农村重点工作责任分解表\n序号\t重点工作\t牵头单位\t完成时限\n"
        "（1）\t新建高标准农田3万亩\t区农业农村局\t2024.10.31\n"
        "（2）\t创建特色田园乡村3个\t区农业农村局\t2024-9-30\n"
    )
    assert [_dues(t) for t in plan.tasks] == [[date(2024, 10, 31)], [date(2024, 9, 30)]]


def test_a_unit_list_beside_a_labelled_deadline_in_one_bracket() -> None:
    plan = _plan(
        "某市交通运输局2024年工作要点\n一、重点工作\n"
        "1．加快港区开发建设。（港航发展处、市港口与口岸局，完成时限：12月底）\n"
        "2．开展出租汽车行业专项整治。（城市客运处，完成时限：上半年）\n"
    )
    assert [(_units(t), _dues(t)) for t in plan.tasks] == [
        ([("港航发展处", "lead"), ("市港口与口岸局", "co")], [date(2024, 12, 31)]),
        ([("城市客运处", "lead")], [date(2024, 6, 30)]),
    ]


def test_a_markdown_alignment_row_with_single_dashes_is_no_row() -> None:
    plan = _plan(
        "### 某市2025年教育重点任务\n\n| 序号 | 任务名称 | 责任单位 | 完成时间 |\n"
        "| :-: | :-- | :-- | - |\n| 1 | 新建改扩建学校 | 市教育局 | 2025年8月31日前 |\n"
    )
    assert [(t.title, _dues(t)) for t in plan.tasks] == [("新建改扩建学校", [date(2025, 8, 31)])]


def test_a_line_wrapped_right_after_an_open_bracket_is_joined() -> None:
    plan = _plan(
        HEAD + "1.推进垃圾分类提质扩面。新建示范小区60个，年底前回收利用率达到40%。（\n"
        "牵头单位：市城管局；配合单位：市商务局、市机关事务管理局）\n"
    )
    assert _units(plan.tasks[0]) == [
        ("市城管局", "lead"),
        ("市商务局", "co"),
        ("市机关事务管理局", "co"),
    ]
