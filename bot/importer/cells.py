"""Joining the lines of one table cell, shared by every reader and table layout.

A cell that held several lines (a .docx cell of several paragraphs, an Excel cell with
Alt+Enter breaks, a PDF cell wrapped over lines, a flattened table's overflow lines) has to
become one piece of text: tab rows cannot hold line breaks, and spaces next to Chinese text
are removed by the cleaner. A list of names (units, one per line) is joined with 、 so the
unit parser still sees several units; sentences are joined so their words stay whole.
"""

from __future__ import annotations

import re

_UNIT_END = re.compile(
    r"(局|委|办|厅|院|中心|政府|集团|公司|会|部|所|队|站|室|科|处|馆|校|街道|乡镇|镇|乡|管委会|分局|"
    r"单位|部门|各县区|各县（市、区）|县（市、区）)$"
)
_LISTY = re.compile(r"[。；;，,：:！？!?]")
_TERMINAL = "。；;！？!?，,、：:"


def _clean(part: str) -> str:
    return part.replace("\t", " ").strip()


def join_cell_lines(parts: list[str]) -> str:
    """Explicit lines of one cell (paragraphs, Excel line breaks): a list of short names or
    dates → 'A、B'; sentences → joined, with ； where a line did not end its sentence."""
    pieces = [p for p in (_clean(p) for p in parts) if p]
    if len(pieces) <= 1:
        return pieces[0] if pieces else ""
    if all(len(p) <= 25 and not _LISTY.search(p) for p in pieces):
        return "、".join(pieces)
    out = pieces[0]
    for piece in pieces[1:]:
        out += piece if out[-1] in _TERMINAL else f"；{piece}"
    return out


def join_wrapped(parts: list[str]) -> str:
    """Visual lines of one cell (a PDF wraps long text at the cell's width): joined as one
    text, unless every line is a short unit name (one unit per line → 'A、B')."""
    pieces = [p for p in (_clean(p) for p in parts) if p]
    if len(pieces) > 1 and all(len(p) <= 16 and _UNIT_END.search(p) for p in pieces):
        return "、".join(pieces)
    return "".join(pieces)
