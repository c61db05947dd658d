"""Family 3 of issue 11: a 责任分解表 flattened to text in every way web pages, PDFs and Word
exports flatten it. One made-up table, written out in each layout (with mixed punctuation,
stray spaces and page-break debris), must give the same four tasks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import docx
import pytest

from bot.importer import import_plan, parse_plan_text
from bot.importer.layouts import align_cells, index_metadata_date, normalize_tables
from bot.importer.reader import split_lines

TITLE = "上饶市2024年民生实事项目工作方案"
HEADER = ["序号", "类别", "工作任务", "牵头单位", "配合单位", "完成时限", "备注"]
# number, group, task, lead, co (one per line), due, remark; a row of None continues the last
ROWS: list[list[str | list[str]]] = [
    ["1", "教育卫生", "新建普惠性幼儿园3所。", "市教育局", ["市财政局"], "2024年8月底前", ""],
    ["2", "", "为65岁以上老年人免费体检。", "市卫健委", ["市财政局", "市人社局"],
     "2024年12月底前", ""],
    ["", "", "完成体检10万人次。", "", [], "2024年6月底前", ""],
    ["3", "城乡建设", "改造老旧小区20个。", "市住建局", ["市财政局"], "2024年11月底前", "已开工"],
    ["4", "", "新增停车位500个。", "市公安局", ["市住建局"], "2024年10月底前", ""],
]
EXPECTED = {
    "1": ("教育卫生", "市教育局", ["市财政局"], [date(2024, 8, 31)]),
    "2": ("教育卫生", "市卫健委", ["市财政局", "市人社局"],
          [date(2024, 6, 30), date(2024, 12, 31)]),
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


LAYOUTS = {"pipes": pipes, "pipes_without_edges": pipes_without_edges, "bar_end": bar_end,
           "bar_between": bar_between, "bare": bare, "tabs": tabs}


def _check(plan) -> None:
    tasks = {t.number: t for t in plan.tasks}
    assert sorted(tasks) == sorted(EXPECTED), [t.title for t in plan.tasks]
    assert not plan.key_projects
    for number, (section, lead, co, dues) in EXPECTED.items():
        task = tasks[number]
        assert task.section == section, number
        assert [(u.as_written, u.role) for u in task.units] == [(lead, "lead")] + [
            (c, "co") for c in co], number
        assert sorted(m.due for m in task.milestones) == dues, number
        assert "已开工" not in task.text  # 备注 is not part of the task
    assert "完成体检10万人次" in tasks["2"].text  # the continuation row: a second milestone


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_flattened_layout_gives_the_same_tasks(layout: str) -> None:
    text = f"{TITLE}\n\n{LAYOUTS[layout]()}\n\n相关文章\n"
    _check(parse_plan_text(text, source=f"{layout}.txt"))


def test_index_metadata_above_the_table_is_not_a_task() -> None:
    head = ("索引号 | 014000000/2021-00012 | 发布机构 | 上饶市人民政府办公室 |\n"
            "成文日期 | 2021-03-08 | 发文字号 | 饶府办字〔2021〕5号 |\n")
    text = f"{head}{TITLE}\n{pipes()}\n"
    plan = parse_plan_text(text, source="meta.txt")
    _check(plan)
    lines = normalize_tables(split_lines(text))
    assert "成文日期：2021-03-08" in [ln.text for ln in lines]
    assert index_metadata_date(split_lines(text)) == date(2021, 3, 8)
    assert index_metadata_date(lines) == date(2021, 3, 8)


def test_one_cell_per_line_with_a_group_heading_row_and_units_one_per_line() -> None:
    text = "\n".join([
        TITLE, "序号 |", "工作任务 |", "责任单位 |", "时间节点 |",
        "一、教育卫生 |", "|", "|", "|",
        "1 |", "新建普惠性幼儿园3所。 |", "市教育局", "市财政局 |", "2024年8月底前 |",
        "2 |", "新建社区卫生服务站2个。 |", "市卫健委 |", "2024年9月底前 |",
    ])
    plan = parse_plan_text(text, source="groups.txt")
    one, two = plan.tasks
    assert one.section == two.section == "一、教育卫生"
    assert [u.as_written for u in one.units] == ["市教育局", "市财政局"]
    assert [m.due for m in two.milestones] == [date(2024, 9, 30)]


@pytest.mark.parametrize(("cells", "kinds", "placed"), [
    (["新建幼儿园3所。", "市教育局", "2024年8月底前"], ["text", "units", "co", "due"],
     ["新建幼儿园3所。", "市教育局", "", "2024年8月底前"]),
    (["教育", "新建幼儿园3所。", "市教育局", "市财政局", "6月底前"],
     ["group", "text", "units", "due"],
     ["教育", "新建幼儿园3所。", "市教育局、市财政局", "6月底前"]),
    (["完成体检10万人次。", "2024年6月底前"], ["group", "text", "units", "due", "ignore"],
     ["", "完成体检10万人次。", "", "2024年6月底前", ""]),
])
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
