"""Size checks on untrusted plan files, made before any parser touches them.

A .docx or .xlsx is a zip: its size on disk says nothing about the XML it expands to (a 1 MB
upload can hold 1 GB of repeated text). `check_zip` reads only the zip's central directory and
refuses a file whose entries would expand past `ZipLimits` — before python-docx or openpyxl
open it. The declared sizes can be trusted as a bound: CPython's zipfile stops every entry at
its declared `file_size` (and then fails its CRC check), so a lying header cannot expand more.
`check_pdf_pages` caps the pages a PDF may have before its text is extracted.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from bot.importer.errors import PlanInputError

MB = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """What an Office file may expand to: total bytes, entries, and the ratio of one entry."""

    max_expanded: int = 50 * MB
    max_entries: int = 2000
    max_ratio: float = 200.0
    ratio_floor: int = 1 * MB  # entries smaller than this expand too little to matter


@dataclass(frozen=True)
class FileLimits:
    """Limits for any plan file: its size on disk, and pages and text of a PDF."""

    max_bytes: int = 20 * MB
    max_pdf_pages: int = 300
    max_text_chars: int = 20 * MB
    zip: ZipLimits = ZipLimits()


DEFAULT_LIMITS = FileLimits()


def check_size(path: Path, limits: FileLimits = DEFAULT_LIMITS) -> None:
    """Refuses a file larger than `limits.max_bytes` on disk."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise PlanInputError(
            path, f"file too large: {size / MB:.1f} MB (at most {limits.max_bytes // MB} MB)"
        )


def check_zip(path: Path, kind: str, limits: ZipLimits = DEFAULT_LIMITS.zip) -> None:
    """Refuses an Office zip (`kind` is '.docx' or '.xlsx') that is not a zip or that would
    expand past the limits; reads the central directory only."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PlanInputError(
            path,
            f"unreadable {kind}: not a valid {kind} file "
            f"({exc.__class__.__name__}); save it again as {kind}",
        ) from exc
    if len(entries) > limits.max_entries:
        raise PlanInputError(
            path, f"refused: the {kind} holds {len(entries)} parts (at most {limits.max_entries})"
        )
    total = 0
    for entry in entries:
        total += entry.file_size
        if total > limits.max_expanded:
            raise PlanInputError(
                path,
                f"refused: the {kind} expands to more than {limits.max_expanded // MB} MB "
                "of content; a plan is far smaller — save it again or split it",
            )
        if entry.file_size > limits.ratio_floor:
            ratio = entry.file_size / max(entry.compress_size, 1)
            if ratio > limits.max_ratio:
                raise PlanInputError(
                    path,
                    f"refused: part {entry.filename!r} of the {kind} expands "
                    f"{ratio:.0f} times (at most {limits.max_ratio:.0f}); save it again",
                )


def check_pdf_pages(path: Path, pages: int, limits: FileLimits = DEFAULT_LIMITS) -> None:
    """Refuses a PDF of more than `limits.max_pdf_pages` pages."""
    if pages > limits.max_pdf_pages:
        raise PlanInputError(
            path,
            f"refused: the PDF has {pages} pages (at most "
            f"{limits.max_pdf_pages}); send the plan's own pages",
        )
