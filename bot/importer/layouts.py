"""Tables flattened to text, rewritten as tab rows before the outline is built.

Web pages, PDF copies and Word exports flatten a table in several ways; `normalize_tables`
finds each one by its header row (序号 / 工作任务 / 责任单位 / 完成时限 …) and rewrites it as one
tab-separated line per row — the layout `tables.collect_table` reads — keeping each row's
first line number. The layouts:
- one cell per line, each ending in `|` (`序号 |` `工作任务 |` …; `|` alone is an empty cell);
- one cell per line with a bare `|` line between cells;
- one cell per line with no separator at all (the header row gives the column count);
- pipe rows without the leading pipe (`1 | 新建… | 市民政局 | 6月底前 |`), `<br>` inside cells;
- columns aligned with spaces (a PDF's text "with layout"), cells wrapped over lines;
- tab rows pasted from Excel, a cell with line breaks quoted over several lines.
A row starts at its number (序号 1, 2, 3 … in sequence); cells that follow a complete row
before the next number form a continuation row (a second milestone, a merged cell's rest).
When a row's cells do not fill the columns one by one (empty cells left out, a cell over
several lines), they are placed by what they look like: dates in the date column, unit names
in the unit column, sentences in the task column (`align_cells`).
Index metadata of government web pages (`索引号 | … | 成文日期 | 2021-03-08 |`) is not part
of the plan: it is dropped; `index_metadata_date` (run on the lines as read) returns its date.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import overload

from bot.importer.cells import join_cell_lines, join_wrapped
from bot.importer.clean import clean_text
from bot.importer.lines import Line
from bot.importer.tables import column_kinds, is_header_label

_NUMBER = re.compile(r"^[（(]?(\d{1,4})[）)]?\s*[.、．]?$")
# a page number left by a page break ("- 2 -", "第 2 页 共 5 页", "2/5"); a bare number is a cell
_PAGE_DEBRIS = re.compile(
    r"^(?:[-—–_]+\s*\d{1,4}\s*[-—–_]+|第\s*\d+\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?"
    r"|\d+\s*/\s*\d+)$"
)
_BLOCK_END = re.compile(
    r"^(第[一二三四五六七八九十百]+[章节部分篇]|[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[）)]"
    r"|专栏|附件|附表|抄送|联系人|注[:：]|说明[:：]|备注[:：])"
)
_DATE_WORDS = re.compile(
    r"\d{4}\s*年|\d{1,2}\s*月|季度|上半年|下半年|年底|年末|年内|底前|前完成|长期|持续|常态化|每月|每季|每年"
    r"|\d{4}[-./]\d{1,2}|全年|即时|立即"
)
_UNIT_END = re.compile(
    r"(局|委|办|厅|院|中心|政府|集团|公司|会|部|所|队|站|室|科|处|馆|校|街道|镇|乡|管委会|单位|部门"
    r"|区|县|市)(牵头|配合|负责)?$"
)
_META_KEYS = re.compile(
    r"^(索引号|发布机构|发文机关|发文单位|成文日期|发布日期|发文日期|印发日期|生成日期|文号|发文字号|"
    r"主题分类|主题词|组配分类|体裁分类|服务对象|公开方式|公开范围|有效性|信息来源|信息名称|标题|名称|"
    r"时效性|统一编号)[:：]?$"
)
_META_DATE = re.compile(
    r"^(成文日期|发文日期|印发日期|发布日期|生成日期)[:：](?P<y>(?:19|20)\d{2})\s*[-年./]\s*"
    r"(?P<m>\d{1,2})\s*[-月./]\s*(?P<d>\d{1,2})"
)
_LOOKAHEAD = 4
_MAX_COLUMNS = 30  # a longer run of header words is not a header row
_QUOTED_LINES = 20  # the lines one quoted Excel cell may run over
_SPACED = re.compile(r"\S(?: {2,}|\u3000+)\S")
_SPACED_PART = re.compile(r"\S+(?: ?\S+)*")
# a line break inside a cell (<br> of a web page's table) until the cell is joined
BREAK = "\u2028"
_BR = re.compile(r"<br\s*/?>", re.I)
_CN = "一二三四五六七八九十"
_HEADING = re.compile(rf"^([{_CN}]+[、.．]|[（(][{_CN}]+[）)])")


def _text(line: Line) -> str:
    return line.text.strip()


def _cell(text: str) -> str:
    """A cell's text, its own line breaks joined."""
    return join_cell_lines(text.split(BREAK)) if BREAK in text else text.strip()


def _skip(text: str) -> bool:
    return not text or bool(_PAGE_DEBRIS.match(text))


# --- index metadata ---------------------------------------------------------------------------


def metadata_pairs(text: str) -> list[tuple[str, str]] | None:
    """'索引号 | X | 成文日期 | 2021-03-08 |' → [('索引号', 'X'), ('成文日期', '2021-03-08')];
    None when the line is not a row of a web page's index metadata."""
    cells = [c.strip() for c in re.split(r"[|\t]", text.strip().strip("|"))]
    cells = [c for c in cells if c]
    if len(cells) < 2:
        return None
    pairs: list[tuple[str, str]] = []
    k = 0
    while k < len(cells):
        if not _META_KEYS.match(cells[k]):
            return None
        value = cells[k + 1] if k + 1 < len(cells) and not _META_KEYS.match(cells[k + 1]) else ""
        pairs.append((cells[k].rstrip(":："), value))
        k += 2 if value else 1
    return (
        pairs
        if any(
            key in ("索引号", "成文日期", "发文字号", "文号", "发布机构") or "日期" in key
            for key, _ in pairs
        )
        else None
    )


def index_metadata_date(lines: list[Line]) -> date | None:
    """The 成文日期 (else 发文/印发/发布日期) of a web page's index metadata, or None.

    Works on lines before or after `normalize_tables` (pipe, tab or `key：value` form)."""
    found: dict[str, date] = {}
    for line in lines[:200]:
        text = line.text.strip()
        pairs = metadata_pairs(text) if ("|" in text or "\t" in text) else None
        candidates = [f"{k}：{v}" for k, v in pairs] if pairs else [text]
        for candidate in candidates:
            match = _META_DATE.match(candidate.replace(" ", ""))
            if match:
                try:
                    day = date(int(match["y"]), int(match["m"]), int(match["d"]))
                except ValueError:
                    continue
                found.setdefault(match.group(1), day)
    for key in ("成文日期", "发文日期", "印发日期", "发布日期", "生成日期"):
        if key in found:
            return found[key]
    return None


# --- cell streams -----------------------------------------------------------------------------


def _header_cells(lines: Sequence[Line], start: int) -> tuple[str, list[str], int] | int | None:
    """(layout, header cells, index after the header) when a flattened header starts here;
    the index after the run when header words run on longer than any header."""
    n = len(lines)
    first = _text(lines[start])
    if "\t" in lines[start].text:
        return None
    if first.endswith("|") and first.count("|") == 1 and is_header_label(first[:-1]):
        cells: list[str] = []
        j = start
        while j < n and len(cells) < _MAX_COLUMNS:
            text = _text(lines[j])
            if not (text.endswith("|") and text.count("|") == 1 and is_header_label(text[:-1])):
                break
            cells.append(text[:-1].strip())
            j += 1
        if len(cells) >= _MAX_COLUMNS:
            return j
        return ("bar-end", cells, j) if _valid_header(cells) else None
    if not is_header_label(first):
        return None
    cells = [first]
    j = start + 1
    separated = j < n and _text(lines[j]) == "|"
    while j < n and len(cells) < _MAX_COLUMNS:
        if separated:
            if _text(lines[j]) != "|" or j + 1 >= n or not is_header_label(_text(lines[j + 1])):
                break
            cells.append(_text(lines[j + 1]))
            j += 2
        else:
            text = _text(lines[j])
            if not is_header_label(text) or "|" in text or "\t" in lines[j].text:
                break
            cells.append(text)
            j += 1
    if separated and j < n and _text(lines[j]) == "|":
        j += 1  # the separator after the last header cell
    if len(cells) >= _MAX_COLUMNS:
        return j
    layout = "bar-sep" if separated else "bare"
    return (layout, cells, j) if _valid_header(cells) else None


def _valid_header(cells: list[str]) -> bool:
    if len(cells) < 2 or len(set(cells)) < len(cells) - 1:
        return False
    kinds = column_kinds(cells)
    has_task = any(k in ("title", "text") for k in kinds)
    has_other = any(k in ("number", "units", "co", "due") for k in kinds)
    return has_task and has_other and (len(cells) >= 3 or kinds[0] == "number")


Cell = tuple[str, int]  # text, line number


def _bar_end_cells(lines: Sequence[Line], j: int) -> tuple[list[Cell], int]:
    """Cells of the `… |` layout from lines[j]; a cell's lines end at the line ending in |."""
    n = len(lines)
    cells: list[Cell] = []
    pending: list[str] = []
    pending_no = 0
    while j < n:
        text = _text(lines[j])
        if "\t" in lines[j].text:
            break
        if _skip(text):
            j += 1
            continue
        if text.endswith("|"):
            parts = text[:-1].split("|")
            first = join_cell_lines([*pending, *parts[0].split(BREAK)])
            cells.append((first, pending_no or lines[j].no))
            cells += [(_cell(p), lines[j].no) for p in parts[1:]]
            pending, pending_no = [], 0
            j += 1
            continue
        if not _closes_soon(lines, j) or _BLOCK_END.match(text):
            break
        pending += text.split(BREAK)
        pending_no = pending_no or lines[j].no
        j += 1
    return cells, j - len(pending) if pending else j


def _closes_soon(lines: Sequence[Line], j: int) -> bool:
    """Is some line ending in | among the next few non-blank lines (a multi-line cell)?"""
    seen = 0
    for line in lines[j : j + 10 * _LOOKAHEAD]:
        text = _text(line)
        if not text:
            continue
        if text.endswith("|"):
            return True
        seen += 1
        if seen > _LOOKAHEAD:
            return False
    return False


def _bar_sep_cells(lines: Sequence[Line], j: int, width: int) -> tuple[list[Cell], int]:
    """Cells of the layout with a bare | line between cells."""
    n = len(lines)
    cells: list[Cell] = []
    pending: list[str] = []
    pending_no = 0
    bars = 0
    while j < n:
        text = _text(lines[j])
        if "\t" in lines[j].text:
            break
        if _skip(text) and text != "|":
            j += 1
            continue
        if set(text) == {"|"}:
            for _ in range(len(text) if not pending else 1):
                cells.append((join_cell_lines(pending), pending_no or lines[j].no))
                pending, pending_no = [], 0
            bars += 1
            j += 1
            continue
        if (
            pending and _NUMBER.match(text) and _cells_since_number(cells) + 1 >= width
        ):  # no | after a row's last cell
            cells.append((join_cell_lines(pending), pending_no))
            pending, pending_no = [], 0
        if _BLOCK_END.match(text) or (pending and not _bar_follows(lines, j)):
            break
        pending += text.split(BREAK)
        pending_no = pending_no or lines[j].no
        j += 1
    if pending and len(pending) <= 2 and _cells_since_number(cells) < width:
        cells.append((join_cell_lines(pending), pending_no))  # the last cell has no | after it
        pending = []
    return cells, j - len(pending) if pending else j


def _bar_follows(lines: Sequence[Line], j: int) -> bool:
    for line in lines[j : j + _LOOKAHEAD]:
        if set(_text(line)) == {"|"}:
            return True
    return False


def _bare_cells(lines: Sequence[Line], j: int, header: list[str]) -> tuple[list[Cell], int]:
    """Cells of the layout with one cell per line and no separator. After a blank line the
    table goes on only with the next row's number, or while the current row lacks cells."""
    n = len(lines)
    cells: list[Cell] = []
    needed = _needed_cells(header)
    expected: int | None = None
    blank = False
    while j < n:
        raw = lines[j].text
        text = raw.strip()
        if "\t" in raw or "|" in text:
            break
        if _BLOCK_END.match(text) and not (
            _group_heading(text) and _next_is(lines, j + 1, expected)
        ):
            break
        if not text or _PAGE_DEBRIS.match(text):
            blank = blank or not text
            j += 1
            continue
        number = _NUMBER.match(text)
        is_next = number is not None and (expected is None or int(number.group(1)) == expected)
        if blank and not is_next and _cells_since_number(cells) >= needed:
            break
        if is_next and number:
            expected = int(number.group(1)) + 1
        blank = False
        cells.append((_cell(text), lines[j].no))
        j += 1
    while j > 0 and not lines[j - 1].text.strip():
        j -= 1
    return cells, j


def _next_is(lines: Sequence[Line], j: int, expected: int | None) -> bool:
    """Is the next non-blank line the number of the next row?"""
    for line in lines[j : j + _LOOKAHEAD]:
        text = line.text.strip()
        if text:
            number = _NUMBER.match(text)
            return number is not None and (
                expected is None or int(number.group(1)) in (expected, 1)
            )
    return False


def _group_heading(text: str) -> bool:
    """A row of its own that heads the rows below it: '一、教育卫生', '（二）城乡建设'."""
    return bool(_HEADING.match(text)) and len(text) <= 40 and "。" not in text


def _needed_cells(header: list[str]) -> int:
    """Cells a complete row has at least: its number, its task, and its units or date."""
    kinds = set(column_kinds(header))
    return ("number" in kinds) + bool(kinds & {"title", "text"}) + bool(kinds & {"units", "due"})


def _cells_since_number(cells: list[Cell]) -> int:
    for k in range(len(cells) - 1, -1, -1):
        if _NUMBER.match(cells[k][0]):
            return len(cells) - k
    return len(cells)


# --- rows -------------------------------------------------------------------------------------


def _cell_type(text: str) -> str:
    if not text:
        return "empty"
    if len(text) <= 30 and _DATE_WORDS.search(text) and "。" not in text:
        return "date"
    pieces = [p for p in re.split(r"[、，,；;/\s]", text) if p]
    if (
        len(text) <= 60
        and "。" not in text
        and pieces
        and all(_UNIT_END.search(p) and len(p) <= 20 for p in pieces)
    ):
        return "unit"
    return "short" if len(text) <= 15 and "。" not in text else "long"


# cost of a cell of each type in a column of each kind (lower is better)
_COST: dict[str, dict[str, float]] = {
    "date": {"due": 0, "ignore": 2, "text": 3, "title": 4, "group": 5, "units": 5, "co": 5},
    "unit": {"units": 0, "co": 0, "ignore": 2, "text": 3, "title": 3, "group": 4, "due": 5},
    "long": {"text": 0, "title": 1, "ignore": 2, "group": 4, "units": 6, "co": 6, "due": 6},
    "short": {"title": 0, "group": 0.5, "text": 0.5, "ignore": 1, "units": 3, "co": 3, "due": 4},
}
_JOIN_COST = {"units": 0.25, "co": 0.2, "text": 0.3, "due": 0.4}
_NEW_ROW_COST = 2.0


def align_cells(cells: list[str], kinds: list[str]) -> list[str]:
    """Places row cells into columns of `kinds` in order (several cells may share a column,
    a column may stay empty), choosing the cheapest placement by what each cell looks like."""
    return align_rows(cells, kinds, wrap=False)[0]


def align_rows(cells: list[str], kinds: list[str], *, wrap: bool = True) -> list[list[str]]:
    """Like `align_cells`, but cells that fit better as a new row (a continuation row whose
    empty cells were left out: 'new text', 'second date') start one when `wrap` is set."""
    m = len(kinds)
    k = len(cells)
    if k == 0 or m == 0:
        return [[""] * m]
    types = [_cell_type(c) for c in cells]

    def cost(i: int, j: int) -> float:
        if types[i] == "empty":
            return 0.0
        base = _COST[types[i]].get(kinds[j], 3.0)
        return base - (0.25 if k == m and i == j else 0.0)

    inf = float("inf")
    best = [[inf] * m for _ in range(k)]
    back: list[list[tuple[int, bool]]] = [[(-1, False)] * m for _ in range(k)]
    for j in range(m):
        best[0][j] = cost(0, j)
    for i in range(1, k):
        for j in range(m):
            for p in range(m):
                options: list[tuple[float, bool]] = []
                if p <= j:
                    joined = p == j and types[i] != "empty"
                    options.append((_JOIN_COST.get(kinds[j], 1.0) if joined else 0.0, False))
                if wrap and types[i] != "empty":
                    options.append((_NEW_ROW_COST, True))
                for extra, new_row in options:
                    total = best[i - 1][p] + extra + cost(i, j)
                    if total < best[i][j]:
                        best[i][j], back[i][j] = total, (p, new_row)
    j = min(range(m), key=lambda c: best[k - 1][c])
    rows: list[list[list[str]]] = [[[] for _ in range(m)]]
    for i in range(k - 1, -1, -1):
        rows[0][j].insert(0, cells[i])
        p, new_row = back[i][j]
        if i and new_row:
            rows.insert(0, [[] for _ in range(m)])
        j = p if i else j
    return [[join_cell_lines(parts) for parts in row] for row in rows]


def _rows(cells: list[Cell], header: list[str], explicit: bool) -> list[tuple[int, list[str]]]:
    """Rows of a cell stream: a row starts at the next number in sequence; with explicit
    empty cells a row takes the header's width and what follows it before the next number is
    a continuation row (number cell empty)."""
    kinds = column_kinds(header)
    width = len(header)
    number_col = kinds.index("number") if "number" in kinds else None
    others = [k for c, k in enumerate(kinds) if c != number_col]

    def place(row: list[str]) -> list[list[str]]:
        """The row's cells in columns; without explicit empty cells, also the continuation
        rows its cells hold."""
        if number_col is None:
            if explicit and len(row) == width:
                return [row]
            return align_rows(row, kinds, wrap=not explicit)
        if explicit and len(row) == width - 1:
            placed = [row]
        else:
            placed = align_rows(row, others, wrap=not explicit)
        return [[*p[:number_col], "", *p[number_col:]] for p in placed]

    groups: list[tuple[int, str | None, list[Cell]]] = []
    expected: int | None = None
    for text, no in cells:
        if _group_heading(text):
            groups.append((no, "§", [(text, no)]))  # its own row, positional
            continue
        number = _NUMBER.match(text)
        if (
            number_col is not None
            and number
            and (expected is None or int(number.group(1)) == expected)
        ):
            expected = int(number.group(1)) + 1
            groups.append((no, number.group(1), []))
            continue
        if not groups:
            groups.append((no, None, []))
        groups[-1][2].append((text, no))

    out: list[tuple[int, list[str]]] = []
    for no, label, group in groups:
        texts = [t for t, _ in group]
        if label == "§":
            out.append((no, [texts[0]] + [""] * (width - 1)))
            continue
        if label is None and explicit:
            out += [
                (group[k][1], (texts[k : k + width] + [""] * width)[:width])
                for k in range(0, len(texts), width)
                if any(texts[k : k + width])
            ]
            continue
        if number_col is None:
            step = width if explicit else max(len(texts), 1)
            for k in range(0, len(texts), step):
                if any(texts[k : k + step]):
                    out += [(group[k][1], row) for row in place(texts[k : k + step])]
            continue
        own = width - 1 if explicit else len(texts)
        head, rest = texts[:own], texts[own:]
        first, *more = place(head)
        first[number_col] = label or ""
        out.append((no, first))
        out += [(no, row) for row in more]
        for k in range(0, len(rest), width):
            if any(rest[k : k + width]):
                out += [(group[own + k][1], row) for row in place(rest[k : k + width])]
    return out


def _drop_repeated_headers(cells: list[Cell], header: list[str]) -> list[Cell]:
    """The cells without the header row a page break repeated."""
    width = len(header)
    out: list[Cell] = []
    k = 0
    while k < len(cells):
        if [t for t, _ in cells[k : k + width]] == header:
            k += width
            continue
        out.append(cells[k])
        k += 1
    return out


def _flat_table(lines: Sequence[Line], start: int) -> tuple[list[Line], int] | int | None:
    """The tab rows of the flattened table starting at lines[start] and the index after it;
    None when there is none; the index after a run of header words too long to be a header
    (so the caller skips it at once)."""
    found = _header_cells(lines, start)
    if isinstance(found, int):
        return found
    if found is None:
        return None
    layout, header, j = found
    width = len(header)
    if layout == "bar-end":
        cells, end = _bar_end_cells(lines, j)
    elif layout == "bar-sep":
        cells, end = _bar_sep_cells(lines, j, width)
    else:
        cells, end = _bare_cells(lines, j, header)
    if not any(_NUMBER.match(t) for t, _ in cells) and len(cells) < width:
        return None
    cells = _drop_repeated_headers(cells, header)
    rows = _rows(cells, header, explicit=layout != "bare")
    if not rows:
        return None
    out = [Line(lines[start].no, "\t".join(header))]
    out += [Line(no, "\t".join(c.replace("\t", " ") for c in row)) for no, row in rows]
    out.append(Line(lines[end - 1].no, ""))
    return out, end


# --- columns aligned with spaces (text taken from a PDF "with layout") ---------------------------


def _width(text: str) -> int:
    """Display width: a Chinese character takes two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _spaced_parts(text: str) -> list[tuple[int, str]]:
    """(display column, text) of the pieces of a line set apart by 2+ spaces or tabs."""
    out: list[tuple[int, str]] = []
    for match in _SPACED_PART.finditer(text.replace("\u3000", "  ")):
        out.append((_width(text[: match.start()]), clean_text(match.group()).strip()))
    return [(col, part) for col, part in out if part]


def _spaced_table(lines: list[Line], start: int) -> tuple[list[Line], int] | None:
    """A table whose columns are aligned with spaces: the header's words give each column's
    position; a line whose first column holds the next number starts a row, other lines
    carry on the cells of the row above them, piece by piece under the header's columns."""
    header = _spaced_parts(lines[start].text)
    names = [part for _, part in header]
    if len(header) < 3 or not all(is_header_label(p) for p in names) or not _valid_header(names):
        return None
    kinds = column_kinds(names)
    numbered = kinds[0] == "number"
    starts = [col for col, _ in header]
    rows: list[tuple[int, list[list[str]]]] = []
    expected: int | None = None
    blank = False
    j = start + 1
    while j < len(lines):
        raw = lines[j].text
        if not raw.strip():
            blank = True
            j += 1
            continue
        parts = _spaced_parts(raw)
        first = parts[0][1] if parts else ""
        if "|" in raw or _PAGE_DEBRIS.match(raw.strip()):
            if "|" in raw:
                break
            j += 1
            continue
        cells: list[list[str]] = [[] for _ in starts]
        for col, part in parts:
            column = max((k for k, x in enumerate(starts) if col >= x - 2), default=0)
            cells[column].append(part)
        number = _NUMBER.match(first) if cells[0] else None
        is_next = number is not None and (expected is None or int(number.group(1)) == expected)
        if numbered and cells[0] and not is_next:
            break  # prose, a heading or another table below this one
        if blank and not is_next and not numbered:
            break
        if is_next and number:
            expected = int(number.group(1)) + 1
            cells[0] = [number.group(1)]
        if is_next or (not numbered and cells[0]) or not rows:
            rows.append((lines[j].no, cells))
        else:
            for column, pieces in enumerate(cells):
                rows[-1][1][column] += pieces
        blank = False
        j += 1
    if not rows:
        return None
    while j > start and not lines[j - 1].text.strip():
        j -= 1
    out = [Line(lines[start].no, "\t".join(names))]
    out += [Line(no, "\t".join(join_wrapped(p) for p in cells)) for no, cells in rows]
    out.append(Line(lines[j - 1].no, ""))
    return out, j


def _pipe_row(text: str, edged: bool) -> str | None:
    """'| a | b |' or 'a | b |' → 'a\\tb'. Without edges (`edged` False: the table's header
    row did not start with a bar) a leading bar is an empty first cell."""
    inner = text.strip()
    if inner.count("|") < 2 or not (inner.endswith("|") or inner.startswith("|")):
        return None
    inner = inner[1:] if inner.startswith("|") and edged else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    cells = [_cell(c) for c in inner.split("|")]
    if all(re.fullmatch(r":?-+:?|", c) for c in cells):
        return ""  # a markdown separator row
    return "\t".join(cells) if any(cells) else ""


class _CleanView(Sequence[Line]):
    """The lines as the table readers see them (markup out, full-width digits and bars
    ASCII, <br> kept as a cell break), each cleaned only when first looked at."""

    def __init__(self, lines: list[Line]) -> None:
        self._lines = lines
        self._done: dict[int, Line] = {}

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> Line: ...

    @overload
    def __getitem__(self, index: slice) -> list[Line]: ...

    def __getitem__(self, index: int | slice) -> Line | list[Line]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        line = self._done.get(index)
        if line is None:
            raw = self._lines[index]
            text = clean_text(_BR.sub(BREAK, raw.text.replace("｜", "|")))
            line = self._done[index] = Line(raw.no, text)
        return line


def _join_quoted(lines: list[Line]) -> list[Line]:
    """Tab rows copied from Excel: a cell with line breaks is quoted and runs over several
    lines ('1\\t"市财政局' / '市人社局"\\t6月底前'); such a row is joined back into one line."""
    out: list[Line] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        i += 1
        if "\t" not in line.text or line.text.count('"') % 2 == 0:
            out.append(line)
            continue
        start = i - 1
        parts = [line.text]
        quotes = line.text.count('"')
        while i < n and quotes % 2 and len(parts) < _QUOTED_LINES:
            parts.append(lines[i].text)
            quotes += lines[i].text.count('"')
            i += 1
        if quotes % 2:
            out.append(line)  # never closed: not a quoted cell after all
            i -= len(parts) - 1
            continue
        try:
            row = next(csv.reader(io.StringIO("\n".join(parts)), delimiter="\t"))
        except (csv.Error, StopIteration):
            out += lines[start:i]
            continue
        out.append(Line(line.no, "\t".join(join_cell_lines(c.split("\n")) for c in row)))
    return out


def _plain(text: str) -> bool:
    """A line that can neither be a table row nor start a flattened table (most prose)."""
    return len(text) > 80 and "|" not in text and "｜" not in text and "\t" not in text


def normalize_tables(lines: list[Line]) -> list[Line]:
    """Every flattened table rewritten as tab rows; index metadata rows dropped.

    Runs on the lines as read, before the cleaner mends page breaks (which would glue a
    cell line onto the next). Page numbers between the rows of a table are dropped. Lines
    that are not part of a table are passed on as they came."""
    out: list[Line] = []
    if any('"' in ln.text and "\t" in ln.text for ln in lines):
        lines = _join_quoted(lines)
    view = _CleanView(lines)
    edged = True
    in_table = False  # inside a table of pipe or tab rows
    i = 0
    n = len(view)
    while i < n:
        if _plain(lines[i].text):
            out.append(lines[i])
            in_table = False
            i += 1
            continue
        line = view[i]
        text = line.text.strip()
        i += 1
        if ("|" in text or "\t" in line.text) and metadata_pairs(text):
            continue  # the page's index metadata: `index_metadata_date` reads it, not the plan
        if "|" in text and "\t" not in line.text:
            if not in_table:
                edged = text.startswith("|")
            row = _pipe_row(text, edged)
            if row is not None:
                out.append(Line(line.no, row))
                in_table = True
                continue
        if "\t" in line.text or not text:
            in_table = in_table or "\t" in line.text
            out.append(lines[i - 1])
            continue
        if in_table and _PAGE_DEBRIS.match(text):
            continue
        in_table = False
        if _SPACED.search(lines[i - 1].text) and (spaced := _spaced_table(lines, i - 1)):
            rows, i = spaced
            out += rows
            continue
        if len(text) <= 30:
            found = _flat_table(view, i - 1)
            if isinstance(found, int):
                out += lines[i - 1 : found]  # a run of header words that is not a header
                i = found
                continue
            if found is not None:
                rows, i = found
                out += rows
                continue
        out.append(lines[i - 1])
    return out
