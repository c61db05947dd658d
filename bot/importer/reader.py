"""Reading a plan document (.txt / .md / .docx / .xlsx / .pdf) into numbered source lines.

Lines keep their 1-based number in the file so warnings and errors can point at them; for
.docx the "line" is the paragraph (or table row) index in document order, for .xlsx and .pdf
the line of the text they are turned into. Table rows of .docx, .xlsx and PDF tables come out
tab-separated, like the tables of the text seeds; a cell's own line breaks are joined
(`cells.join_cell_lines`). Untrusted files are size-checked before a parser opens them
(`limits`). .doc / .wps / .xls / .et get an answer saying which format to save them as.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.importer.cells import join_cell_lines
from bot.importer.errors import PlanInputError
from bot.importer.limits import DEFAULT_LIMITS, FileLimits, check_size, check_zip
from bot.importer.lines import Line

if TYPE_CHECKING:
    from docx.table import _Cell

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
SUPPORTED = (*TEXT_SUFFIXES, ".docx", ".xlsx", ".pdf")
# formats a plan arrives in that cannot be read as they are: the format to save them as
SAVE_AS = {
    ".doc": ".docx",
    ".wps": ".docx",
    ".rtf": ".docx",
    ".odt": ".docx",
    ".xls": ".xlsx",
    ".et": ".xlsx",
    ".ods": ".xlsx",
}


def split_lines(text: str) -> list[Line]:
    """Numbered lines of a text (any newline convention; a form feed is a line break)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return [Line(i, t) for i, t in enumerate(text.split("\n"), start=1)]


def decode(data: bytes, path: Path) -> str:
    """Bytes → text: UTF-8 (with or without BOM), else GB18030 (Chinese government files)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PlanInputError(path, "unreadable file: neither UTF-8 nor GB18030 text")


def _docx_cell_text(cell: _Cell) -> str:
    parts = [piece for p in cell.paragraphs for piece in p.text.split("\n")]
    return join_cell_lines(parts)


def read_docx_text(path: Path) -> str:
    """The text of a .docx in document order: paragraphs, and table rows as tab-joined cells.

    A cell merged across columns is written once; a cell merged across rows is repeated on
    each row it covers (python-docx does so), which the table reader reads as one cell."""
    try:
        import docx  # python-docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise PlanInputError(path, "python-docx is not installed; cannot read .docx") from exc
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several unrelated types for bad files
        raise PlanInputError(path, f"unreadable .docx ({exc.__class__.__name__})") from exc
    out: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            out.append(Paragraph(child, document).text)
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells: list[str] = []
                previous = None
                for cell in row.cells:
                    if cell._tc is previous:  # a merged cell repeats; keep it once
                        continue
                    previous = cell._tc
                    cells.append(_docx_cell_text(cell))
                out.append("\t".join(cells))
            out.append("")
    return "\n".join(out)


def read_source(path: Path, limits: FileLimits = DEFAULT_LIMITS) -> tuple[str, list[Line]]:
    """The text of a plan file and its numbered lines; PlanInputError when unusable."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in SAVE_AS:
        target = SAVE_AS[suffix]
        app = "Word or WPS" if target == ".docx" else "Excel or WPS"
        raise PlanInputError(
            path,
            f"{suffix} files cannot be read: open it in {app}, save it "
            f"as {target} (文件 → 另存为 → {target}) and send that file",
        )
    if suffix not in SUPPORTED:
        raise PlanInputError(
            path,
            f"unsupported format {suffix or '(no extension)'!r}: "
            "use .txt, .md, .docx, .xlsx or .pdf",
        )
    if not path.exists():
        raise PlanInputError(path, "no such file")
    if not path.is_file():
        raise PlanInputError(path, "not a file")
    check_size(path, limits)
    if suffix in (".docx", ".xlsx"):
        check_zip(path, suffix, limits.zip)
    if suffix == ".docx":
        text = read_docx_text(path)
    elif suffix == ".xlsx":
        from bot.importer.xlsx import read_xlsx_text

        text = read_xlsx_text(path)
    elif suffix == ".pdf":
        from bot.importer.pdf import read_pdf_text

        text = read_pdf_text(path, limits)
    else:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PlanInputError(path, f"unreadable file ({exc.strerror or exc})") from exc
        text = decode(data, path)
    return text, split_lines(text)
