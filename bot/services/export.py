"""The 台账 (ledger) as an .xlsx workbook: one row per active assignment.

Columns: plan, ref, section, title, unit, liaison(s), milestone (phrase + target), due, original
due, status, progress, last report (time + note), days late, evidence (how many files and
photos the unit sent as evidence, and their names: text, never a link or a formula). The header
row is frozen, the auto-filter is on, widths follow the content (CJK characters count double,
capped).

A second sheet, 排名, ranks the units of the same scope (`bot.services.ranking`, the list of
/status's units page and of the scorecard picture): rank, unit, light, 按时办结率 and
及时签收率 (as percentages, with their parts), overdue, assignments, closed.

Every cell reaches the sheet through `_append_row`, the one guard for text (PITFALLS):
- text is stored as text, never as a formula or an error literal: a liaison's note, Telegram
  name, a task title or a unit name starting with `=` would otherwise be a live formula
  (`=HYPERLINK("http://…"&A2, …)` leaks neighbouring cells when clicked). Text starting with
  `=`, `+`, `-` or `@` also gets Excel's leading apostrophe (quotePrefix), so it stays text
  when someone edits the cell;
- text is cleaned (`clean`) of what an .xlsx cannot carry: C0 control characters except tab,
  newline and carriage return, U+FFFE/U+FFFF and lone surrogates, and cut to Excel's 32,767
  characters per cell. A note carrying a NUL must not break the whole export.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import stats as core
from bot.core.ranking import RankedUnit
from bot.services.stats import A, M, P, Scope, T, U, _scope_filters, unit_names
from bot.storage.models import CLOSED, Membership, Person, StatusEvent
from bot.storage.typed_sql import select_rows, table_of

if TYPE_CHECKING:  # openpyxl (with numpy, PIL, lxml: ~30 MB) is imported by the writer only
    from openpyxl.worksheet.worksheet import Worksheet

# What XML 1.0 (and so .xlsx) cannot carry: C0 controls except tab, newline and carriage return
# (openpyxl refuses them), U+FFFE, U+FFFF and lone surrogates (the writer fails on them).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_CELL_TEXT = 32_767  # Excel's limit of characters in one cell
FORMULA_LEADS = ("=", "+", "-", "@")  # what spreadsheet programs read as the start of a formula
MAX_WIDTH = 60
MIN_WIDTH = 6
REPORT_KINDS = ("report", "note")

COLUMNS = (
    "plan",
    "ref",
    "section",
    "title",
    "unit",
    "liaisons",
    "milestone",
    "due",
    "original_due",
    "status",
    "progress",
    "last_report_at",
    "last_report_note",
    "days_late",
    "evidence",
)


def clean(value: Any) -> Any:
    """A cell value an .xlsx can carry: text without the characters XML refuses, cut to
    MAX_CELL_TEXT characters; other values unchanged."""
    if isinstance(value, str):
        return _ILLEGAL.sub("", value)[:MAX_CELL_TEXT]
    return value


def _append_row(ws: Worksheet, row: int, values: list[Any]) -> list[Any]:
    """Write `values` as row number `row` (the next one); every text cell is cleaned and
    stored as text, never a formula.

    openpyxl makes a string starting with `=` a formula and `#N/A`-like strings error cells
    when they are assigned; setting the type back to "s" afterwards writes them as text.
    Returns the values as written."""
    cleaned = [clean(v) for v in values]
    ws.append(cleaned)
    for column, value in enumerate(cleaned, start=1):
        if isinstance(value, str):
            cell = ws.cell(row=row, column=column)  # a dict look-up, not a scan of the sheet
            cell.data_type = "s"
            if value.startswith(FORMULA_LEADS):
                cell.quotePrefix = True
    return cleaned


@dataclass(frozen=True)
class LedgerRow:
    plan: str
    ref: str
    section: str
    title: str
    unit: str
    liaisons: str
    milestone: str
    due: date
    original_due: date
    status: str
    progress: int | None
    last_report_at: datetime | None
    last_report_note: str
    days_late: int | None  # None once closed (办结): nothing is overdue any more
    # the evidence sent on the assignment, oldest first: (kind photo | document, file name)
    evidence: tuple[tuple[str, str], ...] = ()


def evidence_text(evidence: tuple[tuple[str, str], ...], photo: str = "photo") -> str:
    """How many pieces of evidence, and their names (a photo has none: `photo`)."""
    if not evidence:
        return ""
    names = "、".join(name or photo for _, name in evidence)
    return f"{len(evidence)}: {names}"


def _local_day(value: datetime | None, zone: ZoneInfo) -> date | None:
    if value is None:
        return None
    return value.astimezone(zone).date()


async def ledger_rows(
    session: AsyncSession, *, scope: Scope, at: datetime, zone: ZoneInfo
) -> list[tuple[LedgerRow, str]]:
    """(row, raw status) for every active assignment in scope, in plan order."""
    today = at.astimezone(zone).date()
    last = (
        select_rows(
            col(StatusEvent.assignment_id).label("aid"),
            func.max(col(StatusEvent.id)).label("eid"),
        )
        .where(col(StatusEvent.kind).in_(REPORT_KINDS))
        .group_by(col(StatusEvent.assignment_id))
        .subquery("last")
    )
    ev = table_of(StatusEvent).alias("ev")
    joined = (
        A.join(M, M.c.id == A.c.milestone_id)
        .join(T, T.c.id == M.c.task_id)
        .join(P, P.c.id == T.c.plan_id)
        .join(U, U.c.id == A.c.unit_id)
        .outerjoin(last, last.c.aid == A.c.id)
        .outerjoin(ev, ev.c.id == last.c.eid)
    )
    stmt = (
        select_rows(
            P.c.code,
            T.c.ref,
            T.c.section,
            T.c.title,
            U.c.name,
            U.c.short_name,
            A.c.unit_id,
            M.c.phrase,
            M.c.target,
            A.c.due,
            M.c.original_due,
            A.c.status,
            A.c.progress,
            ev.c.at,
            ev.c.note,
            A.c.done_reported_at,
            A.c.closed_at,
            A.c.id,
        )
        .select_from(joined)
        .where(*_scope_filters(scope))
        .order_by(P.c.code, T.c.position, T.c.id, M.c.seq, A.c.role != "lead", A.c.id)
    )
    result = (await session.exec(stmt)).all()
    names = await _liaison_names(session, {row[6] for row in result})
    evidence = await _evidence(session, scope)
    # the short name unless several units share it (市卫健委 of 上饶 and of 龙南): the full one
    labels = await unit_names(session, {row[6] for row in result})
    out: list[tuple[LedgerRow, str]] = []
    for (
        code,
        ref,
        section,
        title,
        unit,
        short_name,
        unit_id,
        phrase,
        target,
        due,
        original_due,
        status,
        progress,
        report_at,
        note,
        done_at,
        closed_at,
        assignment_id_,
    ) in result:
        milestone = " ".join(part for part in (phrase, target) if part)
        assignment_id = int(assignment_id_)
        late = core.days_late(
            status, due, today, _local_day(done_at, zone), _local_day(closed_at, zone)
        )
        out.append(
            (
                LedgerRow(
                    plan=code,
                    ref=ref,
                    section=section or "",
                    title=title,
                    unit=labels.get(unit_id) or short_name or unit,
                    liaisons="、".join(names.get(unit_id, [])),
                    milestone=milestone,
                    due=due,
                    original_due=original_due,
                    status=status,
                    progress=progress,
                    last_report_at=report_at,
                    last_report_note=note or "",
                    days_late=None if status == CLOSED else late,
                    evidence=tuple(evidence.get(assignment_id, ())),
                ),
                status,
            )
        )
    return out


async def _evidence(session: AsyncSession, scope: Scope) -> dict[int, list[tuple[str, str]]]:
    """The evidence (kind, file name) of every assignment in scope, oldest first."""
    ev = table_of(StatusEvent)
    joined = A.join(M, M.c.id == A.c.milestone_id).join(T, T.c.id == M.c.task_id)
    stmt = (
        select_rows(ev.c.assignment_id, ev.c.evidence_kind, ev.c.evidence_name)
        .select_from(joined.join(ev, ev.c.assignment_id == A.c.id))
        .where(*_scope_filters(scope), ev.c.evidence_file_id.is_not(None))
        .order_by(ev.c.assignment_id, ev.c.at, ev.c.id)
    )
    out: dict[int, list[tuple[str, str]]] = {}
    for assignment_id, kind, name in (await session.exec(stmt)).all():
        out.setdefault(int(assignment_id), []).append((kind or "document", name or ""))
    return out


async def _liaison_names(session: AsyncSession, unit_ids: set[int]) -> dict[int, list[str]]:
    if not unit_ids:
        return {}
    ms = table_of(Membership)
    pe = table_of(Person)
    stmt = (
        select_rows(ms.c.unit_id, pe.c.name, pe.c.username)
        .select_from(ms.join(pe, pe.c.id == ms.c.person_id))
        .where(
            and_(
                ms.c.role == "liaison",
                ms.c.revoked_at.is_(None),
                ms.c.unit_id.in_(sorted(unit_ids)),
            )
        )
        .order_by(ms.c.unit_id, pe.c.id)
    )
    out: dict[int, list[str]] = {}
    for unit_id, name, username in (await session.exec(stmt)).all():
        out.setdefault(unit_id, []).append(name or username or "")
    return out


def _width(value: Any) -> int:
    text = value if isinstance(value, str) else str(value if value is not None else "")
    longest = max((line for line in text.split("\n")), key=len, default="")
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in longest)


RANKING_COLUMNS = (
    "rank",
    "unit",
    "light",
    "on_time",
    "on_time_parts",
    "acknowledgement",
    "acknowledgement_parts",
    "overdue",
    "total",
    "closed",
)


@dataclass(frozen=True)
class RankingSheet:
    """The 排名 sheet: its title, column headers (RANKING_COLUMNS) and the ranked units;
    `light_label` names a light, `unranked` stands for the rank of a unit not ranked yet."""

    title: str
    headers: dict[str, str]
    rows: list[RankedUnit]
    light_label: Callable[[str], str] = str
    unranked: str = "—"


def _parts(rate: core.Rate) -> str:
    return f"{rate.numerator}/{rate.denominator}"


def _header_row(ws: Any, values: list[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    _append_row(ws, 1, values)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(vertical="center")


def ranking_rows(sheet: RankingSheet) -> list[list[Any]]:
    """The 排名 sheet's rows as written (rates as ratios, formatted as percentages)."""
    out = []
    for row in sheet.rows:
        out.append(
            [
                row.rank if row.rank is not None else sheet.unranked,
                row.name,
                sheet.light_label(row.light.value),
                row.on_time.value,
                _parts(row.on_time),
                row.acknowledgement.value,
                _parts(row.acknowledgement),
                row.overdue,
                row.total,
                row.closed,
            ]
        )
    return out


def _ranking_sheet(wb: Any, sheet: RankingSheet) -> None:
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(clean(sheet.title)[:31] or "Ranking")
    _header_row(ws, [sheet.headers[c] for c in RANKING_COLUMNS])
    widths = [_width(sheet.headers[c]) for c in RANKING_COLUMNS]
    for number, values in enumerate(ranking_rows(sheet), start=2):
        written = _append_row(ws, number, values)
        for i, v in enumerate(written):
            if isinstance(v, str):
                widths[i] = max(widths[i], _width(v))
    for i, column in enumerate(RANKING_COLUMNS, start=1):
        letter = get_column_letter(i)
        if column in ("on_time", "acknowledgement"):
            widths[i - 1] = max(widths[i - 1], 8)
            for cell in ws[letter][1:]:
                cell.number_format = "0.0%"
        ws.column_dimensions[letter].width = min(MAX_WIDTH, max(MIN_WIDTH, widths[i - 1] + 2))
    ws.freeze_panes = "A2"
    last = get_column_letter(len(RANKING_COLUMNS))
    ws.auto_filter.ref = f"A1:{last}{max(1, len(sheet.rows) + 1)}"


def workbook_bytes(
    rows: list[tuple[LedgerRow, str]],
    *,
    headers: dict[str, str],
    status_label: Callable[[str], str],
    zone: ZoneInfo,
    sheet_title: str,
    ranking: RankingSheet | None = None,
    photo_label: str = "photo",
) -> bytes:
    """The .xlsx file: header frozen, filter on, widths from the content, every text cell
    cleaned and stored as text (`_append_row`); the 排名 sheet after it when `ranking`."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    ws = wb.active
    if not isinstance(ws, Worksheet):  # pragma: no cover - a new workbook has one sheet
        raise TypeError("a new workbook has no worksheet")
    ws.title = clean(sheet_title)[:31] or "Sheet1"
    _header_row(ws, [headers[c] for c in COLUMNS])
    widths = [_width(headers[c]) for c in COLUMNS]
    for number, (row, status) in enumerate(rows, start=2):
        values: list[Any] = [
            row.plan,
            row.ref,
            row.section,
            row.title,
            row.unit,
            row.liaisons,
            row.milestone,
            row.due,
            row.original_due,
            status_label(status),
            row.progress,
            row.last_report_at.astimezone(zone).replace(tzinfo=None)
            if row.last_report_at
            else None,
            row.last_report_note,
            row.days_late,
            evidence_text(row.evidence, photo_label),
        ]
        values = _append_row(ws, number, values)
        for i, v in enumerate(values):
            if isinstance(v, str):
                widths[i] = max(widths[i], _width(v))
    for i, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(i)
        if column in ("due", "original_due"):
            widths[i - 1] = max(widths[i - 1], 11)
            for cell in ws[letter][1:]:
                cell.number_format = "yyyy-mm-dd"
        if column == "last_report_at":
            widths[i - 1] = max(widths[i - 1], 16)
            for cell in ws[letter][1:]:
                cell.number_format = "yyyy-mm-dd hh:mm"
        ws.column_dimensions[letter].width = min(MAX_WIDTH, max(MIN_WIDTH, widths[i - 1] + 2))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(rows) + 1)}"
    if ranking is not None:
        _ranking_sheet(wb, ranking)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# What file systems (Windows above all) refuse in a name, and what makes one hard to use.
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
MAX_NAME_PART = 40


def name_part(text: str) -> str:
    """`text` fit for a file name: no path separators, reserved or control characters, runs
    of spaces as one `_`, no leading or trailing dots, at most MAX_NAME_PART characters."""
    text = _UNSAFE_IN_NAME.sub("_", text)
    text = re.sub(r"\s+", "_", text.strip())
    return text[:MAX_NAME_PART].strip("._")


def file_name(at: datetime, zone: ZoneInfo, scope: str = "", word: str = "台账") -> str:
    """`台账-SR-20250618.xlsx`: the ledger `word`, the scope (a plan code, a unit's short
    name; left out when empty) and the local date, each made safe for a file name."""
    parts = [name_part(word) or "ledger", name_part(scope), f"{at.astimezone(zone):%Y%m%d}"]
    return "-".join(p for p in parts if p) + ".xlsx"
