"""Tables in plan text: tab-separated rows, one cell per line, or (already converted) pipes.

`collect_table(lines, start)` reads the table that begins at `lines[start]` and returns it with
the index of the first line after it. Two layouts exist in the wild:
- row per line: `1\\t持续提升…\\t根据…` (a page break repeats the header row);
- cell per line: every cell on its own line starting with a tab, rows separated by blank lines,
  a cell's overflow on a following line without a tab (`\\t2020年` + `基期值`).
Rows whose number cell is empty are kept as they are; the caller decides whether they continue
the previous row (`merged_rows`) or are something else (a 其中 sub-indicator).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.importer.lines import Line

_HEADER_WORDS = re.compile(
    r"序号|编号|指标|项目|任务|名称|内容|单位|时限|领域|事项|措施|目标|部门|分工|举措|实事"
)

# column role → header pattern; checked in this order, first match wins per column
_ROLE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"^(序号|编号|序|号|No\.?)$", re.I)),
    ("ignore", re.compile(r"情况$|^备注|^说明$|领导|联系人|联系电话|^电话$|责任人")),
    ("co", re.compile(r"配合|协办|协助|参与|协作")),
    (
        "units",
        re.compile(
            r"责任单位|牵头单位|责任部门|牵头部门|责任主体|主办单位|承办单位|"
            r"实施单位|责任科室|责任处室|牵头科室|牵头处室|主责单位|^单位$"
        ),
    ),
    (
        "due",
        re.compile(
            r"时限|完成时间|时间节点|时间安排|进度|截止|^时间$|完成期限|节点|"
            r"竣工|完工|建设期限|建设年限|实施期限|实施年限|建设周期|起止年限|起止时间"
        ),
    ),
    ("nature", re.compile(r"性质|属性")),
    ("domain", re.compile(r"领域|类别|分类|维度|板块|类型")),
    ("target", re.compile(r"目标值|规划值|预期值|\d{4}年(目标)?$|\d{4}年目标值")),
    ("baseline", re.compile(r"基期|基数|现状|基准|^\d{4}年")),
    ("name", re.compile(r"指标")),
    ("text", re.compile(r"目标|内容|措施|要求|举措|任务描述|具体|标准|分工|计划")),
    ("title", re.compile(r"项目|任务|名称|工作|事项|工程|实事")),
    ("remark", re.compile(r"备注|说明")),
]

# role → what a flattened-table reader needs to know of a column
_KIND = {
    "number": "number",
    "units": "units",
    "co": "co",
    "due": "due",
    "domain": "group",
    "title": "title",
    "text": "text",
    "name": "title",
}
_LABEL_MAX = 12


def _role_of(cell: str) -> str | None:
    cell = cell.replace(" ", "")
    for role, pattern in _ROLE_PATTERNS:
        if pattern.search(cell):
            return role
    return None


_LABEL_NOTE = re.compile(r"[（(][^）)]{0,8}[）)]$")  # 完成时限（月）
_NOT_LABEL = re.compile(r"[。，,；;：:、\d]")


def is_header_label(text: str) -> bool:
    """Is this short text a column header (序号, 工作任务, 责任单位, 完成时限, 备注 …)?"""
    text = text.strip().replace(" ", "")
    if len(text) > _LABEL_MAX + 10:
        return False
    text = _LABEL_NOTE.sub("", text)
    if not text or len(text) > _LABEL_MAX or _NOT_LABEL.search(text):
        return False
    return _role_of(text) is not None


def column_kinds(header: list[str]) -> list[str]:
    """What each header column holds: number, title, text, units, co, due, group or ignore."""
    roles = Table(header).roles()
    by_index = {index: role for role, index in roles.items()}
    return [_KIND.get(by_index.get(k, ""), "ignore") for k in range(len(header))]


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
                if not pattern.search(cell):
                    continue
                if role == "units" and "units" in out and "co" not in out:
                    role = "co"  # 牵头单位 | 责任单位: the second unit column co-operates
                if role not in out:
                    out[role] = index
                    break
        if (
            "number" in out
            and "title" in out
            and "text" in out
            and "domain" not in out
            and out["title"] < out["number"]
        ):
            out["domain"] = out.pop("title")  # 重点任务 | 序号 | 具体措施: left of 序号, a group
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


_TERMINAL = "。；;！？!?，,、：:"
_CN = "一二三四五六七八九十"
_HEADING = re.compile(rf"^([{_CN}]+[、.．]|[（(][{_CN}]+[）)]|第[{_CN}]+)")


@dataclass
class Row:
    """A table row after continuations are merged: its first line, cells and group."""

    line: int
    cells: list[str]
    section: str = ""


def _append(previous: str, cell: str, kind: str) -> str:
    if not previous:
        return cell
    if cell in previous:
        return previous  # a merged cell repeated on the continuation row
    if kind in ("units", "co"):
        return f"{previous}、{cell}"
    if kind == "due":
        return f"{previous}；{cell}"
    return previous + cell if previous[-1] in _TERMINAL else f"{previous}；{cell}"


def _section_row(cells: list[str], number: str, numbered: bool) -> str | None:
    """The group heading of a row that spans the table ('一、民生保障'), else None."""
    filled = [c.strip() for c in cells if c.strip()]
    values = set(filled)
    if len(values) != 1 or re.search(r"\d", number):
        return None
    if not cells[0].strip() and len(filled) < 2:
        return None  # one cell further right: a continuation, not a row spanning the table
    value = values.pop()
    if len(value) > 40 or "。" in value:
        return None
    if numbered or _HEADING.match(value):
        return value.rstrip("：:")
    return None


def merged_rows(table: Table) -> list[Row]:
    """Data rows with continuations merged and group cells carried down.

    A row whose number cell is empty, or repeats the number above (a cell merged over
    rows, as Word and Excel export it), continues the row above: its cells are appended
    (units with 、, dates with ；). A row that holds only one text and no number is the
    heading of the rows below it; so is a 类别/领域 cell, carried down while it is empty."""
    roles = table.roles()
    kinds = column_kinds(table.header) if table.header else []
    number_col = roles.get("number", 0)
    numbered = "number" in roles
    group_col = roles.get("domain")
    out: list[Row] = []
    section = ""
    for no, cells in zip(table.lines, table.rows, strict=True):
        number = cells[number_col].strip() if number_col < len(cells) else ""
        heading = _section_row(cells, number, numbered)
        if heading is not None:
            section = heading
            continue
        if group_col is not None and group_col < len(cells) and cells[group_col].strip():
            section = cells[group_col].strip()
        if out and (not number or number == out[-1].cells[number_col].strip()):
            previous = out[-1].cells
            for k, cell in enumerate(cells):
                cell = cell.strip()
                if cell and k < len(previous) and k != number_col and k != group_col:
                    kind = kinds[k] if k < len(kinds) else "text"
                    previous[k] = _append(previous[k].strip(), cell, kind)
            continue
        out.append(Row(no, list(cells), section))
    return out
