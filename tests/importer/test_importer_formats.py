"""Family 7 of issue 11 and the upload inspection of issue 10: .xlsx 台账, PDFs with a text
layer, scanned PDFs, .doc/.wps, and Office zips that expand past the limits.

Every file here is made by the test: openpyxl writes the workbooks, fpdf2 writes the PDFs
with the Noto Sans CJK font of Debian's fonts-noto-cjk."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from bot.importer import PlanInputError, import_plan
from bot.importer.limits import FileLimits, ZipLimits, check_zip
from bot.importer.reader import SUPPORTED, read_source
from tests.importer.test_importer_tables import EXPECTED, HEADER, ROWS, TITLE, _cells, _check

REPO = Path(__file__).resolve().parents[2]
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


# --- .xlsx --------------------------------------------------------------------------------------


def write_ledger(path: Path) -> Path:
    """A 台账 as offices keep it: a merged title row and a 填报 line above a two-row header
    (责任单位 over 牵头单位 | 配合单位), group and number cells merged over rows, units one per
    line in a cell, one date typed as an Excel date, a remark column."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "台账"
    sheet["A1"] = TITLE
    sheet.merge_cells("A1:G1")
    sheet["A2"] = "填报单位：市政府督查室"
    top = ["序号", "类别", "工作任务", "责任单位", "责任单位", "完成时限", "备注"]
    for c, text in enumerate(top, start=1):
        sheet.cell(4, c, text)
    sheet.cell(5, 4, "牵头单位")
    sheet.cell(5, 5, "配合单位")
    sheet.merge_cells("D4:E4")
    for col in "ABCFG":
        sheet.merge_cells(f"{col}4:{col}5")
    for r, row in enumerate(ROWS, start=6):
        for c, cell in enumerate(_cells(row, "\n"), start=1):
            if cell:
                sheet.cell(r, c, cell)
    sheet.cell(6, 6, datetime(2024, 8, 31))  # a real date cell, not text
    sheet.merge_cells("B6:B8")  # 教育卫生 over rows 1, 2 and 2's continuation
    sheet.merge_cells("B9:B10")  # 城乡建设
    sheet.merge_cells("A7:A8")  # number 2 over its continuation row
    sheet.merge_cells("D7:D8")
    sheet.cell(12, 1, "注：完成时限为最迟时间。")
    book.create_sheet("说明")["A1"] = "本表由市政府督查室汇总。"
    book.save(str(path))
    return path


def test_xlsx_ledger_with_merged_cells_and_header_below_title_rows(tmp_path: Path) -> None:
    plan = import_plan(write_ledger(tmp_path / "ledger.xlsx"))
    _check(plan)
    assert plan.info.title == TITLE


def test_xlsx_header_found_without_title_rows_and_units_in_one_column(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["上饶市2024年重点工作任务清单"])
    sheet.append([])
    sheet.append(["序号", "重点任务", "责任单位", "时间节点"])
    sheet.append([1, "完成老旧小区改造20个。", "市住建局牵头，市财政局配合", "2024年11月底前"])
    sheet.append([2.0, "新增停车位500个。", "市公安局、市住建局", "2024年10月底前"])
    path = tmp_path / "list.xlsx"
    book.save(str(path))
    plan = import_plan(path)
    one, two = plan.tasks
    assert [(u.as_written, u.role) for u in one.units] == [
        ("市住建局", "lead"),
        ("市财政局", "co"),
    ]
    assert two.number == "2" and [u.as_written for u in two.units] == ["市公安局", "市住建局"]


def test_xlsx_through_the_cli(tmp_path: Path) -> None:
    path = write_ledger(tmp_path / "ledger.xlsx")
    result = run_cli("import", str(path), "--json", "--code", "MS")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [t["ref"] for t in data["tasks"]] == [f"MS-{n}" for n in EXPECTED]


# --- .pdf ---------------------------------------------------------------------------------------


def write_pdf(path: Path, *, borders: bool = True) -> Path:
    """The table of ROWS in a PDF with a text layer: a title, a table whose group and number
    cells span rows (drawn with lines, or without any: `borders`), a page number, a closing
    line."""
    fpdf = pytest.importorskip("fpdf")
    if not CJK_FONT.exists():
        pytest.skip("fonts-noto-cjk is not installed")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.add_font("noto", fname=str(CJK_FONT), collection_font_number=2)  # Noto Sans CJK SC
    pdf.set_font("noto", size=10)
    pdf.multi_cell(0, 8, TITLE, new_x="LMARGIN", new_y="NEXT")
    widths = (10, 20, 60, 25, 30, 30, 15)
    plain = fpdf.fonts.FontFace()
    layout = "ALL" if borders else "NONE"
    with pdf.table(
        col_widths=widths,
        headings_style=plain,
        line_height=6,
        borders_layout=layout,
        v_align="TOP",
    ) as table:
        head = table.row()
        for text in HEADER:
            head.cell(text)
        spans = {(0, 1): 3, (3, 1): 2, (1, 0): 2, (1, 3): 2}  # (row, column): rows spanned
        covered = {(r + k, c) for (r, c), n in spans.items() for k in range(1, n)}
        for r, row in enumerate(ROWS):
            line = table.row()
            for c, text in enumerate(_cells(row, "\n")):
                if (r, c) not in covered:
                    line.cell(text, rowspan=spans.get((r, c), 1))
    pdf.multi_cell(0, 8, "- 1 -", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 8, "抄送：市委办公室。", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


@pytest.mark.parametrize("borders", [True, False], ids=["ruled", "borderless"])
def test_pdf_with_a_text_layer(tmp_path: Path, borders: bool) -> None:
    plan = import_plan(write_pdf(tmp_path / "plan.pdf", borders=borders))
    _check(plan)
    assert plan.info.title == TITLE


def test_pdf_through_the_cli(tmp_path: Path) -> None:
    result = run_cli("import", str(write_pdf(tmp_path / "plan.pdf")), "--json", "--code", "MS")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["tasks"]) == 4


def test_scanned_pdf_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    fpdf = pytest.importorskip("fpdf")
    image = pytest.importorskip("PIL.Image")
    picture = image.new("RGB", (400, 200), "white")
    for x in range(40, 360):
        picture.putpixel((x, 100), (0, 0, 0))  # a line of "print": an image, no text
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.image(picture, x=10, y=10, w=180)
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(PlanInputError, match="no text layer"):
        import_plan(path)
    result = run_cli("import", str(path))
    assert result.returncode == 2 and "scanned" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_pdf_page_cap(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "plan.pdf")
    with pytest.raises(PlanInputError, match="pages"):
        read_source(path, FileLimits(max_pdf_pages=0))


# --- formats that need saving again -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("plan.doc", ".docx"),
        ("plan.wps", ".docx"),
        ("ledger.xls", ".xlsx"),
        ("ledger.et", ".xlsx"),
    ],
)
def test_old_office_formats_get_a_save_as_answer(tmp_path: Path, name: str, target: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)  # an OLE2 header, as .doc files start
    result = run_cli("import", str(path))
    assert result.returncode == 2
    assert f"save it as {target}" in result.stderr and name in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_chat_accepts_what_the_reader_reads() -> None:
    from bot.services import plan_upload

    assert set(plan_upload.suffixes()) >= set(SUPPORTED) >= {".xlsx", ".pdf", ".docx"}
    assert plan_upload.check_upload("台账.xlsx", 1000) == ".xlsx"
    assert plan_upload.check_upload("plan.PDF", 1000) == ".pdf"


def test_xlsx_upload_through_the_chat_service(tmp_path: Path) -> None:
    from bot.services import plan_upload

    data = write_ledger(tmp_path / "ledger.xlsx").read_bytes()
    options = plan_upload.ImportOptions(code="MS")
    plan = plan_upload.parse_upload(data, file_name="台账.xlsx", options=options).plan
    assert [t.ref for t in plan.tasks] == [f"MS-{n}" for n in EXPECTED]


# --- zip bombs ----------------------------------------------------------------------------------


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        (ZipLimits(max_expanded=10_000), "expands to more than"),
        (ZipLimits(max_entries=2), "parts"),
        (ZipLimits(max_ratio=5, ratio_floor=1000), "times"),
    ],
)
def test_office_zip_limits(tmp_path: Path, limits: ZipLimits, words: str) -> None:
    path = _zip(
        tmp_path / "big.docx",
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"<w:t>a</w:t>" * 5000,
            "word/styles.xml": b"<styles/>",
        },
    )
    with pytest.raises(PlanInputError, match=words):
        check_zip(path, ".docx", limits)


def test_a_file_that_is_not_a_zip_is_refused_before_python_docx(tmp_path: Path) -> None:
    path = tmp_path / "plan.docx"
    path.write_text("这不是Word文件", encoding="utf-8")
    with pytest.raises(PlanInputError, match=r"not a valid \.docx"):
        import_plan(path)


# The child builds nothing: it imports the bomb the test built and reports its own peak RSS.
# (/proc is Linux's; the project runs and is tested on Linux.)
_CHILD = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # never take the machine down
    from bot.importer import PlanInputError, import_plan
    try:
        import_plan(sys.argv[1])
        print("IMPORTED")
    except PlanInputError as exc:
        print("REFUSED", exc)
    except MemoryError:
        print("MEMORY")
    # VmHWM: the peak RSS of this program; ru_maxrss would also count the forked parent's
    # pages before exec (a large pytest process)
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print("RSS_KB", peak)
""")


def test_a_docx_bomb_under_the_upload_cap_is_refused_in_little_memory(tmp_path: Path) -> None:
    """A real .docx whose document.xml holds 1 GB of text in a ~1 MB file: refused before
    python-docx opens it, the process's peak RSS stays under 300 MB."""
    import docx

    plain = tmp_path / "plain.docx"
    docx.Document().save(str(plain))
    path = tmp_path / "bomb.docx"
    spaces = b" " * (1 << 20)
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
    ):
        for entry in source.infolist():
            if entry.filename != "word/document.xml":
                archive.writestr(entry, source.read(entry))
                continue
            head = source.read(entry).split(b"<w:body>")[0]
            with archive.open("word/document.xml", "w", force_zip64=True) as stream:
                stream.write(head + b'<w:body><w:p><w:r><w:t xml:space="preserve">')
                for _ in range(1024):
                    stream.write(spaces)
                stream.write(b"</w:t></w:r></w:p></w:body></w:document>")
    assert path.stat().st_size < 5 * 1024 * 1024  # under the chat's upload cap
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = result.stdout
    assert "REFUSED" in out and "expands to more than" in out, out + result.stderr
    rss_mb = int(out.split("RSS_KB")[1].split()[0]) / 1024
    print(f"docx bomb refused; peak RSS of the importing process {rss_mb:.0f} MB")
    assert rss_mb < 300, rss_mb


def test_an_xlsx_is_inspected_too(tmp_path: Path) -> None:
    path = write_ledger(tmp_path / "ledger.xlsx")
    with pytest.raises(PlanInputError, match="expands to more than"):
        read_source(path, FileLimits(zip=ZipLimits(max_expanded=1000)))
