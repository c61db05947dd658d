"""Which files a liaison may send as evidence: an allow-list of office documents, images and
archives, checked by the file's extension AND its declared MIME type. Pure.

A type that is not listed (an .exe, a script, a shortcut) is refused whatever its MIME type.
A listed extension with a MIME type that names something else (an .pdf declared as
application/x-msdownload) is refused too. A missing or generic MIME type
(application/octet-stream) does not decide: clients send WPS and OFD files that way."""

from __future__ import annotations

from dataclasses import dataclass

GENERIC_MIMES = frozenset({"", "application/octet-stream", "application/binary"})


@dataclass(frozen=True)
class EvidenceType:
    label: str  # how the answer names the family
    extensions: tuple[str, ...]
    mimes: frozenset[str]  # besides the generic ones; a prefix ending in "/" matches a family


_OOXML = "application/vnd.openxmlformats-officedocument."
EVIDENCE_TYPES: tuple[EvidenceType, ...] = (
    EvidenceType("PDF", ("pdf",), frozenset({"application/pdf", "application/x-pdf"})),
    EvidenceType(
        "Word",
        ("doc", "docx"),
        frozenset({"application/msword", _OOXML + "wordprocessingml.document"}),
    ),
    EvidenceType(
        "Excel",
        ("xls", "xlsx"),
        frozenset({"application/vnd.ms-excel", _OOXML + "spreadsheetml.sheet"}),
    ),
    EvidenceType(
        "PowerPoint",
        ("ppt", "pptx"),
        frozenset({"application/vnd.ms-powerpoint", _OOXML + "presentationml.presentation"}),
    ),
    EvidenceType(
        "WPS",
        ("wps", "et", "dps"),
        frozenset(
            {
                "application/kswps",
                "application/wps-office.wps",
                "application/vnd.ms-works",
                "application/kset",
                "application/wps-office.et",
                "application/kswps-et",
                "application/ksdps",
                "application/wps-office.dps",
            }
        ),
    ),
    EvidenceType("OFD", ("ofd",), frozenset({"application/ofd", "application/x-ofd"})),
    EvidenceType("TXT", ("txt",), frozenset({"text/plain"})),
    EvidenceType(
        "JPG/PNG",
        ("jpg", "jpeg", "png", "gif", "bmp", "webp", "heic", "tif", "tiff"),
        frozenset({"image/"}),
    ),
    EvidenceType(
        "ZIP/RAR",
        ("zip", "rar"),
        frozenset(
            {
                "application/zip",
                "application/x-zip-compressed",
                "application/x-rar-compressed",
                "application/vnd.rar",
                "application/x-rar",
            }
        ),
    ),
)

_BY_EXTENSION = {ext: t for t in EVIDENCE_TYPES for ext in t.extensions}


def extension_of(file_name: str) -> str:
    """`报告.PDF` → `pdf`; `` when the name has none."""
    stem, dot, ext = file_name.strip().rpartition(".")
    return ext.lower() if dot and stem else ""


def evidence_allowed(file_name: str | None, mime_type: str | None) -> bool:
    kind = _BY_EXTENSION.get(extension_of(file_name or ""))
    if kind is None:
        return False
    mime = (mime_type or "").split(";")[0].strip().lower()
    if mime in GENERIC_MIMES:
        return True
    return any(mime == m or (m.endswith("/") and mime.startswith(m)) for m in kind.mimes)


def accepted_list() -> str:
    """What the refusal lists: `PDF, Word (doc, docx), …`."""
    parts = []
    for t in EVIDENCE_TYPES:
        exts = ", ".join(t.extensions)
        parts.append(t.label if t.extensions == (t.label.lower(),) else f"{t.label} ({exts})")
    return "; ".join(parts)
