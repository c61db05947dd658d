"""Reading a plan document (.txt / .md / .docx) into numbered source lines.

Lines keep their 1-based number in the file so warnings and errors can point at them; for
.docx the "line" is the paragraph (or table row) index in document order. Table rows of a
.docx come out tab-separated, like the tables of the text seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.importer.errors import PlanInputError

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
SUPPORTED = (*TEXT_SUFFIXES, ".docx")


@dataclass(frozen=True)
class Line:
    """One line of the source: `no` is its 1-based line number, `text` its content."""

    no: int
    text: str


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


def read_docx_text(path: Path) -> str:
    """The text of a .docx in document order: paragraphs, and table rows as tab-joined cells."""
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
                    cells.append(" ".join(p.text for p in cell.paragraphs).strip())
                out.append("\t".join(cells))
            out.append("")
    return "\n".join(out)


def read_source(path: Path) -> tuple[str, list[Line]]:
    """The text of a plan file and its numbered lines; PlanInputError when unusable."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise PlanInputError(
            path, f"unsupported format {suffix or '(no extension)'!r}: use .txt, .md or .docx"
        )
    if not path.exists():
        raise PlanInputError(path, "no such file")
    if not path.is_file():
        raise PlanInputError(path, "not a file")
    if suffix == ".docx":
        text = read_docx_text(path)
    else:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PlanInputError(path, f"unreadable file ({exc.strerror or exc})") from exc
        text = decode(data, path)
    return text, split_lines(text)
