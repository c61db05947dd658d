"""The 台账 workbook: one row per assignment, frozen header, filter, cleaned text."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.services import export
from bot.services.stats import Scope

from .ledger import AT, ZONE, random_world

HEADERS = {c: c.upper() for c in export.COLUMNS}


def row(note: str = "", title: str = "任务") -> tuple[export.LedgerRow, str]:
    return (
        export.LedgerRow(
            plan="SR", ref="SR-1", section="一、", title=title, unit="市卫健委",
            liaisons="张三、李四", milestone="2024年底 60%", due=date(2024, 12, 31),
            original_due=date(2024, 12, 31), status="in_progress", progress=40,
            last_report_at=datetime(2025, 1, 2, 3, 4, tzinfo=UTC), last_report_note=note,
            days_late=12,
        ),
        "in_progress",
    )  # fmt: skip


def test_clean_removes_what_openpyxl_refuses():
    assert export.clean("a\x00b\x07c\x1fd\te\nf\rg") == "abcd\te\nf\rg"
    assert export.clean(5) == 5 and export.clean(None) is None


def test_workbook_shape():
    rows = [row("进度\x00说明\x0b"), row(title="很长的标题" * 40), row()]
    data = export.workbook_bytes(
        rows, headers=HEADERS, status_label=lambda s: f"<{s}>", zone=ZoneInfo("Asia/Shanghai"),
        sheet_title="台账\x01",
    )  # fmt: skip
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.title == "台账"
    assert [c.value for c in ws[1]] == [HEADERS[c] for c in export.COLUMNS]
    assert ws.max_row == 4 and ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:N4"
    assert ws["M2"].value == "进度说明"
    assert ws["J2"].value == "<in_progress>"
    assert ws["L2"].value == datetime(2025, 1, 2, 11, 4)  # local time in the sheet
    assert ws["H2"].value.date() == date(2024, 12, 31)
    assert ws.column_dimensions["D"].width == export.MAX_WIDTH  # capped
    assert 6 <= ws.column_dimensions["B"].width < 20


def test_empty_workbook_still_has_its_header():
    data = export.workbook_bytes(
        [], headers=HEADERS, status_label=str, zone=ZoneInfo("Asia/Shanghai"), sheet_title="x"
    )
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.max_row == 1 and ws.freeze_panes == "A2"


async def test_ledger_rows_one_per_active_assignment(tmp_path):
    w = await random_world(tmp_path / "x.sqlite3", 7).write()
    async with w.session_maker() as s:
        rows = await export.ledger_rows(s, scope=Scope(), at=AT, zone=ZONE)
        plan_rows = await export.ledger_rows(s, scope=Scope(plan_id=1), at=AT, zone=ZONE)
    await w.engine.dispose()
    assert len(rows) == len(w.active())
    assert len(plan_rows) == len(w.active(plan_id=1))
    assert all(r.plan == "P1" for r, _ in plan_rows)
    assert export.file_name(AT, ZONE) == "台账-20250618.xlsx"
