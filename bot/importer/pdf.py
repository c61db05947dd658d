"""A PDF with a text layer → the text lines the importer reads.

The text is read with PDFium (pypdfium2): Chrome's PDF engine, maintained, shipped as a
self-contained wheel, and it decodes the embedded CJK fonts that pdfminer-based readers
(pdfplumber) return as empty text for some producers. PDFium gives positioned text runs and
the page's drawn lines; tables are rebuilt from those:
- a run enclosed by drawn lines on all four sides sits in a table cell (the nearest line
  above, below, left and right of it bound the cell);
- cells whose boxes touch form one table; its columns are the cells' distinct left edges,
  its rows their distinct top edges; a cell merged over rows sits in its first row and is
  repeated on the numbered rows it also covers (a unit cell merged over two tasks);
- the lines of one cell are joined (`cells.join_wrapped`), a row becomes a tab row.
Text outside tables becomes lines in reading order (top to bottom, left to right); page
numbers ("- 3 -") are dropped. A PDF without any text (a scan) is refused with a message
saying so; PDFs over the page cap are refused before their text is read.
"""

from __future__ import annotations

import ctypes
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from bot.importer.cells import join_wrapped
from bot.importer.errors import PlanInputError
from bot.importer.limits import DEFAULT_LIMITS, FileLimits, check_pdf_pages
from bot.importer.tables import is_header_label

if TYPE_CHECKING:
    from pypdfium2 import PdfPage  # untyped: Any to mypy, named for the reader

# PDFium is not thread-safe and the bot parses uploads in worker threads: one at a time.
_PDFIUM = threading.Lock()
_TOL = 1.5
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–]\s*\d{1,4}\s*[-—–]|第\s*\d+\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|\d{1,4})$"
)
_NUMBER = re.compile(r"^\d{1,4}[.、．]?$")


@dataclass
class Run:
    """A piece of text on the page: its box (PDF units, y up) and text."""

    left: float
    bottom: float
    right: float
    top: float
    text: str

    @property
    def cx(self) -> float:
        return (self.left + self.right) / 2

    @property
    def cy(self) -> float:
        return (self.bottom + self.top) / 2


@dataclass
class Cell:
    top: float
    bottom: float
    left: float
    right: float
    runs: list[Run] = field(default_factory=list)

    def text(self) -> str:
        return join_wrapped([_line_text(line) for line in _visual_lines(self.runs)])


def _visual_lines(runs: list[Run]) -> list[list[Run]]:
    """Runs grouped into lines (top to bottom), each line left to right."""
    lines: list[list[Run]] = []
    for run in sorted(runs, key=lambda r: (-r.cy, r.left)):
        height = max(run.top - run.bottom, 1.0)
        if lines and abs(lines[-1][0].cy - run.cy) < height / 2:
            lines[-1].append(run)
        else:
            lines.append([run])
    return [sorted(line, key=lambda r: r.left) for line in lines]


def _line_text(line: list[Run]) -> str:
    """A line's runs joined; a wide gap (a borderless table's columns) becomes a tab."""
    out = ""
    previous: Run | None = None
    for run in line:
        if previous is not None:
            height = max(previous.top - previous.bottom, 1.0)
            out += "\t" if run.left - previous.right > 2.5 * height else ""
        out += run.text
        previous = run
    return out


Segment = tuple[float, float, float]  # a horizontal (y, x0, x1) or vertical (x, y0, y1) line


def _segments(page: PdfPage, raw: ModuleType) -> tuple[list[Segment], list[Segment]]:
    """Horizontal (y, x0, x1) and vertical (x, y0, y1) lines drawn on the page."""
    horizontal: list[tuple[float, float, float]] = []
    vertical: list[tuple[float, float, float]] = []
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_PATH], max_depth=2):
        a, b, c, d, e, f = obj.get_matrix().get()
        points: list[tuple[float, float]] = []
        start: tuple[float, float] | None = None
        x, y = ctypes.c_float(), ctypes.c_float()
        for k in range(raw.FPDFPath_CountSegments(obj.raw)):
            segment = raw.FPDFPath_GetPathSegment(obj.raw, k)
            if not raw.FPDFPathSegment_GetPoint(segment, x, y):
                continue
            point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
            if raw.FPDFPathSegment_GetType(segment) == raw.FPDF_SEGMENT_MOVETO or not points:
                start = point
            elif raw.FPDFPathSegment_GetType(segment) == raw.FPDF_SEGMENT_LINETO:
                _add_segment(points[-1], point, horizontal, vertical)
            points.append(point)
            if raw.FPDFPathSegment_GetClose(segment) and start is not None:
                _add_segment(point, start, horizontal, vertical)
    return horizontal, vertical


def _add_segment(
    p: tuple[float, float],
    q: tuple[float, float],
    horizontal: list[tuple[float, float, float]],
    vertical: list[tuple[float, float, float]],
) -> None:
    if abs(p[1] - q[1]) < 0.8 and abs(p[0] - q[0]) > 2:
        horizontal.append((p[1], min(p[0], q[0]), max(p[0], q[0])))
    elif abs(p[0] - q[0]) < 0.8 and abs(p[1] - q[1]) > 2:
        vertical.append((p[0], min(p[1], q[1]), max(p[1], q[1])))


def _enclosing(
    run: Run, horizontal: list[Segment], vertical: list[Segment]
) -> tuple[float, float, float, float] | None:
    """(top, bottom, left, right) of the drawn box around a run, or None."""
    cx, cy = run.cx, run.cy
    across = [(y, x0 - _TOL <= cx <= x1 + _TOL) for y, x0, x1 in horizontal]
    along = [(x, y0 - _TOL <= cy <= y1 + _TOL) for x, y0, y1 in vertical]
    above = [y for y, hit in across if hit and y >= run.top - _TOL]
    below = [y for y, hit in across if hit and y <= run.bottom + _TOL]
    left = [x for x, hit in along if hit and x <= run.left + _TOL]
    right = [x for x, hit in along if hit and x >= run.right - _TOL]
    if not (above and below and left and right):
        return None
    return round(min(above), 1), round(max(below), 1), round(max(left), 1), round(min(right), 1)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 2 * _TOL


def _table_rows(cells: list[Cell]) -> list[str]:
    """Tab rows of one table's cells (see the module docstring)."""
    columns: list[float] = []
    for left in sorted(c.left for c in cells):
        if not columns or not _same(columns[-1], left):
            columns.append(left)
    tops: list[float] = []
    for top in sorted((c.top for c in cells), reverse=True):
        if not tops or not _same(tops[-1], top):
            tops.append(top)
    grid = [[""] * len(columns) for _ in tops]
    placed: dict[tuple[int, int], Cell] = {}
    for cell in cells:
        r = next(k for k, t in enumerate(tops) if _same(t, cell.top))
        c = next(k for k, x in enumerate(columns) if _same(x, cell.left))
        placed[(r, c)] = cell
        grid[r][c] = cell.text()
    for r, top in enumerate(tops):
        if not _NUMBER.match(grid[r][0]):
            continue
        for c in range(1, len(columns)):
            if (r, c) in placed:
                continue
            over = [
                cell
                for (r2, c2), cell in placed.items()
                if c2 == c and r2 < r and cell.bottom < top - _TOL
            ]
            if over:
                grid[r][c] = over[-1].text()  # a cell merged over this numbered row too
    return ["\t".join(row) for row in grid]


def _page_lines(page: PdfPage, raw: ModuleType) -> list[str]:
    textpage = page.get_textpage()
    try:
        runs: list[Run] = []
        for k in range(textpage.count_rects()):
            left, bottom, right, top = textpage.get_rect(k)
            text = textpage.get_text_bounded(left, bottom, right, top).strip()
            if text:
                text = text.replace("\r", "").replace("\n", "")
                runs.append(Run(left, bottom, right, top, text))
    finally:
        textpage.close()
    horizontal, vertical = _segments(page, raw)
    cells: dict[tuple[float, float], Cell] = {}
    loose: list[Run] = []
    for run in runs:
        box = _enclosing(run, horizontal, vertical) if horizontal and vertical else None
        if box is None:
            loose.append(run)
            continue
        top, bottom, left, right = box
        cell = cells.setdefault((top, left), Cell(top, bottom, left, right))
        cell.runs.append(run)
    # tables: cells whose vertical extents touch, top to bottom
    tables: list[list[Cell]] = []
    for cell in sorted(cells.values(), key=lambda c: -c.top):
        if tables and min(c.bottom for c in tables[-1]) <= cell.top + _TOL:
            tables[-1].append(cell)
        else:
            tables.append([cell])
    blocks: list[tuple[float, list[str]]] = [(t[0].top, [*_table_rows(t), ""]) for t in tables]
    lines = _visual_lines(loose)
    k = 0
    while k < len(lines):
        borderless = _borderless_table(lines, k)
        if borderless is not None:
            rows, end = borderless
            blocks.append((lines[k][0].cy, [*rows, ""]))
            k = end
            continue
        text = _line_text(lines[k]).strip()
        if text and not _PAGE_NUMBER.match(text):
            blocks.append((lines[k][0].cy, [text]))
        k += 1
    blocks.sort(key=lambda block: -block[0])
    return [text for _, lines in blocks for text in lines]


def _borderless_table(lines: list[list[Run]], start: int) -> tuple[list[str], int] | None:
    """A table drawn without lines: a header line of column names set apart by wide gaps,
    then lines whose runs fall under those columns. A line with text under the first column
    starts a row; the others carry on its cells (wrapped text, a second date)."""
    header = lines[start]
    if len(header) < 3 or not all(is_header_label(run.text) for run in header):
        return None
    if "\t" not in _line_text(header):
        return None
    lefts = [run.left for run in header]
    numbered = header[0].text in ("序号", "编号")
    height = max(header[0].top - header[0].bottom, 1.0)
    rows: list[list[list[str]]] = []
    previous = header
    end = start + 1
    for line in lines[start + 1 :]:
        gap = min(r.bottom for r in previous) - max(r.top for r in line)
        if gap > 2.5 * height or line[0].left < lefts[0] - 2 * height:
            break
        cells: list[list[str]] = [[] for _ in lefts]
        for run in line:
            column = max((k for k, x in enumerate(lefts) if run.left >= x - height), default=0)
            cells[column].append(run.text)
        if cells[0] and numbered and not _NUMBER.match("".join(cells[0])):
            break  # prose under the table
        if cells[0] or not rows:
            rows.append(cells)
        else:
            for column, parts in enumerate(cells):
                rows[-1][column] += parts
        previous = line
        end += 1
    if not rows:
        return None
    out = ["\t".join(run.text for run in header)]
    out += ["\t".join(join_wrapped(parts) for parts in row) for row in rows]
    return out, end


def read_pdf_text(path: Path, limits: FileLimits = DEFAULT_LIMITS) -> str:
    """The text of a PDF's text layer, tables as tab rows (see the module docstring)."""
    try:
        import pypdfium2 as pdfium
        import pypdfium2.raw as raw
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise PlanInputError(path, "pypdfium2 is not installed; cannot read .pdf") from exc
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(str(path))
        except Exception as exc:  # PdfiumError and friends for broken or encrypted files
            raise PlanInputError(
                path, f"unreadable .pdf ({exc}); save it again as PDF or send the .docx"
            ) from exc
        try:
            check_pdf_pages(path, len(document), limits)
            out: list[str] = []
            chars = 0
            for index in range(len(document)):
                page = document[index]
                try:
                    lines = _page_lines(page, raw)
                finally:
                    page.close()
                chars += sum(len(line) for line in lines)
                if chars > limits.max_text_chars:
                    raise PlanInputError(
                        path,
                        "refused: the PDF holds more text than a plan "
                        f"({limits.max_text_chars // 1_000_000} million "
                        "characters at most)",
                    )
                out += lines
        finally:
            document.close()
    if not any(line.strip() for line in out):
        raise PlanInputError(
            path,
            "this PDF has no text layer (a scanned image): the importer "
            "reads text, not pictures. Send the .docx or .txt of the "
            "plan, or run text recognition (OCR) on the PDF first",
        )
    return "\n".join(out)
