"""Family 3 of issue 11: a 责任分解表 flattened to text in every way web pages, PDFs and Word
exports flatten it. One made-up table, written out in each layout (with mixed punctuation,
stray spaces and page-break debris), must give the same four tasks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.importer import PlanInputError, import_plan, parse_plan_text
from bot.importer.layouts import align_cells, index_metadata_date, normalize_tables
from bot.importer.reader import split_lines

TITLE = "上饶市2024年民生实事项目工作方案"
HEADER = ["序号", "类别", "工作任务", "牵头单位", "配合单位", "完成时限", "备注"]
# number, group, task, lead, co (one per line), due, remark; a row of None continues the last
ROWS: list[list[str | list[str]]] = [
    ["1", "教育卫生", "新建普惠性幼儿园3所。", "市教育局", ["市财政局"], "2024年8月底前", ""],
    [
        "2",
        "",
        "为65岁以上老年人免费体检。",
        "市卫健委",
        ["市财政局", "市人社局"],
        "2024年12月底前",
        "",
    ],
    ["", "", "完成体检10万人次。", "", [], "2024年6月底前", ""],
    ["3", "城乡建设", "改造老旧小区20个。", "市住建局", ["市财政局"], "2024年11月底前", "已开工"],
    ["4", "", "新增停车位500个。", "市公安局", ["市住建局"], "2024年10月底前", ""],
]
EXPECTED = {
    "1": ("教育卫生", "市教育局", ["市财政局"], [date(2024, 8, 31)]),
    "2": (
        "教育卫生",
        "市卫健委",
        ["市财政局", "市人社局"],
        [date(2024, 6, 30), date(2024, 12, 31)],
    ),
    "3": ("城乡建设", "市住建局", ["市财政局"], [date(2024, 11, 30)]),
    "4": ("城乡建设", "市公安局", ["市住建局"], [date(2024, 10, 31)]),
}


def _cells(row: list[str | list[str]], joiner: str) -> list[str]:
    return [joiner.join(c) if isinstance(c, list) else c for c in row]


def pipes() -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_cells(r, "，")) + " |" for r in ROWS]
    return "\n".join(lines)


def pipes_without_edges() -> str:  # full-width bars, stray spaces, a page break inside
    lines = [" ｜ ".join(HEADER) + " ｜"]
    for k, row in enumerate(ROWS):
        lines.append(" ｜ ".join(_cells(row, ",")) + " ｜")
        if k == 2:
            lines += ["", "- 2 -", ""]
    return "\n".join(lines)


def bar_end() -> str:  # one cell per line ending in " |"; a cell's units one per line
    lines = [f"{h} |" for h in HEADER]
    for k, row in enumerate(ROWS):
        for cell in row:
            if isinstance(cell, list):
                lines += [*cell[:-1], f"{cell[-1]} |"] if cell else ["|"]
            else:
                lines.append(f"{cell} |" if cell else "|")
        if k == 1:
            lines += ["第 2 页", *[f"{h} |" for h in HEADER]]  # page break repeats the header
    return "\n".join(lines)


def bar_between() -> str:  # one cell per line with a bare | line between cells
    lines: list[str] = []
    for h in HEADER:
        lines += [h, "|"]
    for row in ROWS:
        for cell in row:
            lines += [*(cell if isinstance(cell, list) else [cell] if cell else []), "|"]
    return "\n".join(lines)


def bare() -> str:  # one cell per line, no separator: empty cells simply missing
    lines = list(HEADER)
    for row in ROWS:
        for cell in row:
            lines += cell if isinstance(cell, list) else [cell] if cell else []
    return "\n".join(lines)


def tabs() -> str:
    rows = ["\t".join(HEADER)] + ["\t".join(_cells(r, "、")) for r in ROWS]
    return "\n".join(rows)


def excel_copy() -> str:  # cells pasted from Excel: a cell with line breaks comes quoted
    def cell(c: str | list[str]) -> str:
        text = "\n".join(c) if isinstance(c, list) else c
        return f'"{text}"' if "\n" in text else text

    return "\n".join(["\t".join(HEADER), *("\t".join(cell(c) for c in r) for r in ROWS)])


def _pad(text: str, width: int) -> str:
    return text + " " * (
        width - sum(2 if "\u4e00" <= ch <= "\u9fff" or ch in "。，" else 1 for ch in text)
    )


def spaced() -> str:  # text of a PDF "with layout": columns aligned with spaces, lines wrapped
    widths = [6, 12, 30, 12, 12, 18, 8]
    lines = ["".join(_pad(h, w) for h, w in zip(HEADER, widths, strict=True)).rstrip()]
    for row in ROWS:
        stacked = [c if isinstance(c, list) else [c] for c in row]
        for k in range(max(len(c) for c in stacked)):
            parts = [c[k] if k < len(c) else "" for c in stacked]
            lines.append("".join(_pad(p, w) for p, w in zip(parts, widths, strict=True)).rstrip())
    return "\n".join(lines)


LAYOUTS = {
    "excel_copy": excel_copy,
    "spaced": spaced,
    "pipes": pipes,
    "pipes_without_edges": pipes_without_edges,
    "bar_end": bar_end,
    "bar_between": bar_between,
    "bare": bare,
    "tabs": tabs,
}


def _check(plan) -> None:
    tasks = {t.number: t for t in plan.tasks}
    assert sorted(tasks) == sorted(EXPECTED), [t.title for t in plan.tasks]
    assert not plan.key_projects
    for number, (section, lead, co, dues) in EXPECTED.items():
        task = tasks[number]
        assert task.section == section, number
        assert [(u.as_written, u.role) for u in task.units] == [(lead, "lead")] + [
            (c, "co") for c in co
        ], number
        assert sorted(m.due for m in task.milestones) == dues, number
        assert "已开工" not in task.text  # 备注 is not part of the task
    assert "完成体检10万人次" in tasks["2"].text  # the continuation row: a second milestone


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_flattened_layout_gives_the_same_tasks(layout: str) -> None:
    text = f"{TITLE}\n\n{LAYOUTS[layout]()}\n\n相关文章\n"
    _check(parse_plan_text(text, source=f"{layout}.txt"))


def test_index_metadata_above_the_table_is_not_a_task() -> None:
    head = (
        "索引号 | 014000000/2021-00012 | 发布机构 | 上饶市人民政府办公室 |\n"
        "成文日期 | 2021-03-08 | 发文字号 | 饶府办字〔2021〕5号 |\n"
    )
    text = f"{head}{TITLE}\n{pipes()}\n"
    plan = parse_plan_text(text, source="meta.txt")
    _check(plan)
    assert plan.info.issued == date(2021, 3, 8)
    assert plan.info.title == TITLE
    assert not any("索引号" in ln.text for ln in normalize_tables(split_lines(text)))
    assert index_metadata_date(split_lines(text)) == date(2021, 3, 8)
    tabbed = split_lines("索引号\t0140/2021-1\n发布日期\t2021年3月9日\n成文日期\t2021年3月8日\n")
    assert index_metadata_date(tabbed) == date(2021, 3, 8)


def test_one_cell_per_line_with_a_group_heading_row_and_units_one_per_line() -> None:
    text = "\n".join(
        [
            TITLE,
            "序号 |",
            "工作任务 |",
            "责任单位 |",
            "时间节点 |",
            "一、教育卫生 |",
            "|",
            "|",
            "|",
            "1 |",
            "新建普惠性幼儿园3所。 |",
            "市教育局",
            "市财政局 |",
            "2024年8月底前 |",
            "2 |",
            "新建社区卫生服务站2个。 |",
            "市卫健委 |",
            "2024年9月底前 |",
        ]
    )
    plan = parse_plan_text(text, source="groups.txt")
    one, two = plan.tasks
    assert one.section == two.section == "一、教育卫生"
    assert [u.as_written for u in one.units] == ["市教育局", "市财政局"]
    assert [m.due for m in two.milestones] == [date(2024, 9, 30)]


@pytest.mark.parametrize(
    ("cells", "kinds", "placed"),
    [
        (
            ["新建幼儿园3所。", "市教育局", "2024年8月底前"],
            ["text", "units", "co", "due"],
            ["新建幼儿园3所。", "市教育局", "", "2024年8月底前"],
        ),
        (
            ["教育", "新建幼儿园3所。", "市教育局", "市财政局", "6月底前"],
            ["group", "text", "units", "due"],
            ["教育", "新建幼儿园3所。", "市教育局、市财政局", "6月底前"],
        ),
        (
            ["完成体检10万人次。", "2024年6月底前"],
            ["group", "text", "units", "due", "ignore"],
            ["", "完成体检10万人次。", "", "2024年6月底前", ""],
        ),
    ],
)
def test_cells_are_placed_by_what_they_look_like(cells, kinds, placed) -> None:
    assert align_cells(cells, kinds) == placed


def _docx_with_merged_cells(path: Path) -> Path:
    """The table of ROWS in Word, its group cells and the continued task merged over rows."""
    document = docx.Document()
    document.add_paragraph(TITLE)
    table = document.add_table(rows=len(ROWS) + 1, cols=len(HEADER))
    for c, text in enumerate(HEADER):
        table.cell(0, c).text = text
    for r, row in enumerate(ROWS, start=1):
        for c, cell in enumerate(_cells(row, "\n")):
            if cell:
                table.cell(r, c).text = cell
    table.cell(1, 1).merge(table.cell(3, 1))  # 教育卫生 over rows 1-2 (and 2's continuation)
    table.cell(4, 1).merge(table.cell(5, 1))  # 城乡建设
    table.cell(2, 0).merge(table.cell(3, 0))  # number 2 over its continuation row
    table.cell(2, 3).merge(table.cell(3, 3))  # its lead unit too
    document.save(str(path))
    return path


def test_docx_table_with_cells_merged_across_rows(tmp_path: Path) -> None:
    _check(import_plan(_docx_with_merged_cells(tmp_path / "merged.docx")))


# A second made-up table in the words of another office: 重点任务 / 具体措施 / 责任部门 / 时间节点,
# the lead and co units in one cell with mixed punctuation, a 完成情况 column to ignore.
COUNTY = "玉山县2024年重点工作任务落实方案"
COUNTY_HEADER = ["序号", "重点任务", "具体措施", "责任部门", "时间节点", "完成情况"]
COUNTY_ROWS = [
    [
        "1",
        "改善人居环境",
        "完成农村改厕1000户。",
        "县农业农村局牵头,县财政局、县卫健委配合",
        "2024年9月底前",
        "已完成",
    ],
    ["2", "提升医疗服务", "建成胸痛中心。", "县卫健委", "2024年12月底前", "推进中"],
    [
        "3",
        "发展教育事业",
        "新建公办幼儿园2所。",
        "县教育体育局牵头，县财政局配合",
        "2024年8月底前",
        "",
    ],
]


def _county_check(plan) -> None:
    tasks = {t.number: t for t in plan.tasks}
    assert sorted(tasks) == ["1", "2", "3"], [t.title for t in plan.tasks]
    one, two, three = tasks["1"], tasks["2"], tasks["3"]
    assert one.title == "改善人居环境" and "完成农村改厕1000户" in one.text
    assert [(u.as_written, u.role) for u in one.units] == [
        ("县农业农村局", "lead"),
        ("县财政局", "co"),
        ("县卫健委", "co"),
    ]
    assert [m.due for m in one.milestones] == [date(2024, 9, 30)]
    assert [u.as_written for u in two.units] == ["县卫健委"]
    assert [m.due for m in three.milestones] == [date(2024, 8, 31)]
    assert all("已完成" not in t.text and "推进中" not in t.text for t in plan.tasks)


def county_tabs_with_a_page_break() -> str:
    rows = [
        "\t".join(COUNTY_HEADER),
        "\t".join(COUNTY_ROWS[0]),
        "",
        "— 2 —",
        "",
        "\t".join(COUNTY_HEADER),
        *("\t".join(r) for r in COUNTY_ROWS[1:]),
    ]
    return "\n".join(rows)


def county_pipes_with_br() -> str:  # a web page: units over two lines inside one cell
    units = "县农业农村局牵头<br>县财政局、县卫健委配合"
    rows = [[*COUNTY_ROWS[0][:3], units, *COUNTY_ROWS[0][4:]], *COUNTY_ROWS[1:]]
    lines = ["|" + "|".join(COUNTY_HEADER) + "|", "|:--|:--|:--|:--|:--|:--|"]
    return "\n".join([*lines, *("| " + " |  ".join(r) + " |" for r in rows)])


def county_bar_end_with_stray_spaces() -> str:
    lines = [f" {h}  | " for h in COUNTY_HEADER]
    for row in COUNTY_ROWS:
        lines += [f"{c} |" if c else "|" for c in row]
    return "\n".join(lines).replace("2024年", "２０２４ 年")  # full-width digits, a stray space


def county_bare_with_debris() -> str:
    lines = list(COUNTY_HEADER)
    for k, row in enumerate(COUNTY_ROWS):
        lines += [f"（{c}）" if c.isdigit() else c for c in row if c]  # numbers as （1）
        if k == 0:
            lines += ["", "第 1 页 共 2 页", ""]
    return "\n".join(lines)


COUNTY_LAYOUTS = {
    "tabs": county_tabs_with_a_page_break,
    "pipes_br": county_pipes_with_br,
    "bar_end": county_bar_end_with_stray_spaces,
    "bare": county_bare_with_debris,
}


@pytest.mark.parametrize("layout", sorted(COUNTY_LAYOUTS))
def test_a_second_office_table_in_every_layout(layout: str) -> None:
    text = f"{COUNTY}\n{COUNTY_LAYOUTS[layout]()}\n\n抄送：县委办公室。\n"
    _county_check(parse_plan_text(text, source=f"county_{layout}.txt"))


def test_two_unit_columns_and_a_completion_date_column() -> None:
    """牵头单位 then 责任单位: the second column co-operates; 竣工时间 is the due date; money
    columns are neither units nor dates."""
    text = "\n".join(
        [
            "上饶市2024年重点项目建设方案",
            "序号\t项目名称\t建设内容\t总投资（万元）\t牵头单位\t责任单位\t开工时间\t竣工时间",
            "1\t市体育中心\t新建体育馆1座\t52000\t市教育局\t市住建局、市财政局\t2024年3月\t2024年12月",
            "2\t城南污水厂\t日处理5万吨\t30000\t市住建局\t市生态环境局\t2024年5月\t2024年10月",
        ]
    )
    one, two = parse_plan_text(text, source="projects.txt").tasks
    assert [(u.as_written, u.role) for u in one.units] == [
        ("市教育局", "lead"),
        ("市住建局", "co"),
        ("市财政局", "co"),
    ]
    assert [m.due for m in one.milestones] == [date(2024, 12, 31)]
    assert [m.due for m in two.milestones] == [date(2024, 10, 31)]
    assert one.title == "市体育中心" and "52000" not in one.text


TABLE_PIECES = st.sampled_from(
    [
        "序号",
        "工作任务",
        "责任单位",
        "配合单位",
        "完成时限",
        "备注",
        "类别",
        "一、教育",
        " |",
        "|",
        "||",
        "｜",
        "\t",
        "\n",
        "\n\n",
        "1",
        "2",
        "3",
        "57",
        "市教育局",
        "市财政局、市人社局",
        "2024年6月底前",
        "新建幼儿园3所。",
        "<br>",
        "- 2 -",
        "第 2 页",
        "索引号",
        "成文日期",
        "2021-03-08",
        "---",
        ":--",
        "   ",
        "\u3000\u3000",
    ]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TABLE_PIECES | st.text(max_size=6), max_size=120).map("".join))
def test_table_like_noise_never_crashes(text: str) -> None:
    lines = split_lines(text)
    normalized = normalize_tables(lines)
    assert {ln.no for ln in normalized} <= {ln.no for ln in lines}
    try:
        plan = parse_plan_text(f"{TITLE}\n{text}", source="noise.txt")
    except PlanInputError as exc:
        assert str(exc).startswith("noise.txt")
        return
    assert all(item.milestones for item in plan.items())
