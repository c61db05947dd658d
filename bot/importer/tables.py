"""Tables in plan text: tab-separated rows, one cell per line, or (already converted) pipes.

`collect_table(lines, start)` reads the table that begins at `lines[start]` and returns it with
the index of the first line after it. Two layouts exist in the wild:
- row per line: `1\\t持续提升…\\t根据…` (a page break repeats the header row);
- cell per line: every cell on its own line starting with a tab, rows separated by blank lines,
  a cell's overflow on a following line without a tab (`\\t2020年` + `基期值`).
Rows whose number cell is empty are kept as they are; the caller decides whether they continue
the previous row (`merge_continuations`) or are something else (a 其中 sub-indicator).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.importer.reader import Line

_HEADER_WORDS = re.compile(r"序号|编号|指标|项目|任务|名称|内容|单位|时限|领域|事项|措施|目标")

# column role → header pattern; checked in this order, first match wins per column
_ROLE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"^(序号|编号|序|号|No\.?)$", re.I)),
    ("co", re.compile(r"配合|协办|协助|参与")),
    ("units", re.compile(r"责任单位|牵头单位|责任部门|牵头部门|责任主体|主办单位|责任人|^单位$")),
    ("due", re.compile(r"时限|完成时间|时间节点|时间安排|进度|截止|^时间$")),
    ("nature", re.compile(r"性质|属性")),
    ("domain", re.compile(r"领域|类别|分类|维度")),
    ("target", re.compile(r"目标值|规划值|预期值|\d{4}年(目标)?$|\d{4}年目标值")),
    ("baseline", re.compile(r"基期|基数|现状|基准|^\d{4}年")),
    ("name", re.compile(r"指标")),
    ("text", re.compile(r"目标|内容|措施|要求|举措|任务描述|具体|标准")),
    ("title", re.compile(r"项目|任务|名称|工作|事项|工程")),
    ("remark", re.compile(r"备注|说明")),
]


@dataclass
class Table:
    """A parsed table: `header` (may be empty), data `rows` and each row's source line."""

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    line: int = 0  # first line of the table

    def roles(self) -> dict[str, int]:
        """Column index per role (number, title, text, units, co, due, domain, name,
        baseline, target, nature, remark); a later year column wins `target`."""
        out: dict[str, int] = {}
        years: list[tuple[int, int]] = []
        for index, cell in enumerate(self.header):
            cell = cell.replace(" ", "")
            year = re.match(r"^(\d{4})年", cell)
            if year and "目标" not in cell and "基期" not in cell:
                years.append((int(year.group(1)), index))
                continue
            for role, pattern in _ROLE_PATTERNS:
                if pattern.search(cell) and role not in out:
                    out[role] = index
                    break
        if years:
            years.sort()
            if "target" not in out:
                out["target"] = years[-1][1]
            if "baseline" not in out and len(years) > 1:
                out["baseline"] = years[0][1]
            elif "baseline" not in out and "target" in out and out["target"] != years[0][1]:
                out["baseline"] = years[0][1]
        return out

    def is_indicator_table(self) -> bool:
        roles = self.roles()
        return "name" in roles and ("nature" in roles or "target" in roles)


def _cell_per_line(region: list[Line]) -> bool:
    tab_lines = [ln.text for ln in region if "\t" in ln.text]
    single = sum(1 for t in tab_lines if t.startswith("\t") and t.count("\t") == 1)
    return bool(tab_lines) and single >= 0.6 * len(tab_lines)


def _rows_cell_per_line(region: list[Line]) -> list[tuple[int, list[str]]]:
    rows: list[tuple[int, list[str]]] = []
    cells: list[str] = []
    first = 0
    for ln in [*region, Line(0, "")]:
        if not ln.text.strip() and not ln.text.startswith("\t"):
            if cells:
                rows.append((first, cells))
            cells = []
            continue
        if not cells:
            first = ln.no
        if ln.text.startswith("\t"):
            cells.append(ln.text[1:].replace("\t", " ").strip())
        elif cells:
            cells[-1] += ln.text.strip()
        else:
            cells.append(ln.text.strip())
    return rows


def collect_table(lines: list[Line], start: int) -> tuple[Table, int]:
    """The table starting at `lines[start]` and the index just after it."""
    region: list[Line] = []
    j = start
    n = len(lines)
    while j < n:
        text = lines[j].text
        if "\t" in text or not text:
            region.append(lines[j])
        elif region and region[-1].text and "\t" in region[-1].text and len(text) <= 12:
            region.append(lines[j])  # a cell's overflow line ("基期值")
        else:
            break
        j += 1
    while region and not region[-1].text.strip() and not region[-1].text.startswith("\t"):
        region.pop()
    end = start + len(region)
    if _cell_per_line(region):
        raw = _rows_cell_per_line(region)
    else:
        raw = [(ln.no, [c.strip() for c in ln.text.split("\t")]) for ln in region if ln.text]
    raw = [(no, cells) for no, cells in raw if any(c for c in cells)]
    table = Table(header=[], line=lines[start].no if start < n else 0)
    if raw and len(_HEADER_WORDS.findall("".join(raw[0][1]))) >= 2:
        table.header = raw[0][1]
        raw = raw[1:]
    width = len(table.header)
    header_key = "".join(table.header).replace(" ", "")
    for no, cells in raw:
        if header_key and "".join(cells).replace(" ", "") == header_key:
            continue  # the header repeated after a page break
        if width and len(cells) > width:
            cells = [*cells[: width - 1], "".join(cells[width - 1 :])]
        if width and len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        table.rows.append(cells)
        table.lines.append(no)
    return table, max(end, start + 1)


def merge_continuations(table: Table, number_col: int) -> list[tuple[int, list[str]]]:
    """Rows with an empty number cell appended onto the previous numbered row."""
    out: list[tuple[int, list[str]]] = []
    for no, cells in zip(table.lines, table.rows, strict=True):
        number = cells[number_col].strip() if number_col < len(cells) else ""
        if not number and out:
            previous = out[-1][1]
            for k, cell in enumerate(cells):
                if cell and k < len(previous):
                    previous[k] = f"{previous[k]}{cell}" if previous[k] else cell
            continue
        out.append((no, list(cells)))
    return out
