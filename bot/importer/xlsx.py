"""An Excel 台账 (.xlsx) → the text lines the importer reads.

Each sheet is read as a grid: a merged range's value fills every cell it covers (so a group
cell or a unit cell merged over several rows belongs to each of them, and a task merged over
its continuation rows repeats its number, which the table reader merges). The header row is
the first row whose cells name columns (序号 / 工作任务 / 责任单位 / 完成时限 …); rows above it
(the title, a 填报单位 line) become plain lines so the plan's title and year are found; the
header and the rows below become tab rows. A header over two rows (责任单位 split into 牵头单位 /
配合单位 below) is read as one. Dates typed as Excel dates become 2024年6月30日.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.importer.cells import join_cell_lines
from bot.importer.errors import PlanInputError
from bot.importer.tables import is_header_label

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

MAX_ROWS = 20_000
MAX_COLUMNS = 60


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return join_cell_lines(str(value).replace("\r", "").split("\n"))


def _grid(sheet: Worksheet) -> list[list[str]]:
    rows = min(sheet.max_row or 0, MAX_ROWS)
    columns = min(sheet.max_column or 0, MAX_COLUMNS)
    grid = [["" for _ in range(columns)] for _ in range(rows)]
    for r, row in enumerate(
        sheet.iter_rows(min_row=1, max_row=rows, max_col=columns, values_only=True)
    ):
        for c, value in enumerate(row):
            grid[r][c] = _cell_text(value)
    for merged in sheet.merged_cells.ranges:
        top, left = merged.min_row - 1, merged.min_col - 1
        if top >= rows or left >= columns:
            continue
        value = grid[top][left]
        for r in range(top, min(merged.max_row, rows)):
            for c in range(left, min(merged.max_col, columns)):
                grid[r][c] = value
    return grid


def _is_header(row: list[str]) -> bool:
    labels = [c for c in row if c and is_header_label(c)]
    return len(set(labels)) >= 2 and len(labels) >= 0.5 * len([c for c in row if c])


def _sheet_lines(grid: list[list[str]]) -> list[str]:
    used = [k for k in range(len(grid[0]) if grid else 0) if any(row[k] for row in grid)]
    grid = [[row[k] for k in used] for row in grid]
    grid = [row for row in grid if any(row)]
    header_at = next((r for r, row in enumerate(grid) if _is_header(row)), None)
    out: list[str] = []
    above = grid if header_at is None else grid[:header_at]
    for row in above:
        seen: list[str] = []
        for cell in row:
            if cell and cell not in seen:
                seen.append(cell)
        out.append(" ".join(seen))
    if header_at is None:
        return out
    header = list(grid[header_at])
    body = grid[header_at + 1 :]
    if body and _is_subheader(header, body[0]):
        header = [below or above_cell for above_cell, below in zip(header, body[0], strict=True)]
        body = body[1:]
    out.append("\t".join(header))
    out += ["\t".join(row) for row in body]
    return out


def _is_subheader(header: list[str], row: list[str]) -> bool:
    """The second row of a two-row header: labels only under a header cell merged across
    columns (责任单位 over 牵头单位 | 配合单位), the other cells empty or repeating the header."""
    labels = [k for k, cell in enumerate(row) if cell and cell != header[k]]
    return (
        bool(labels)
        and all(is_header_label(row[k]) for k in labels)
        and any(
            (k + 1 < len(header) and header[k] == header[k + 1])
            or (k and header[k] == header[k - 1])
            for k in labels
        )
    )


def read_xlsx_text(path: Path) -> str:
    """The text of a workbook: each sheet's title rows, then its table as tab rows."""
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise PlanInputError(path, "openpyxl is not installed; cannot read .xlsx") from exc
    try:
        workbook = openpyxl.load_workbook(str(path), data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for bad files
        raise PlanInputError(
            path, f"unreadable .xlsx ({exc.__class__.__name__}); save it again as .xlsx"
        ) from exc
    out: list[str] = []
    try:
        for sheet in workbook.worksheets:
            lines = _sheet_lines(_grid(sheet))
            if lines:
                out += [*lines, ""]
    finally:
        workbook.close()
    return "\n".join(out)
