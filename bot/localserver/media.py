"""Facts about uploaded bytes: image dimensions, MIME types, Telegram-looking file ids."""

from __future__ import annotations

import mimetypes
import secrets
import struct

# Telegram's photo size ladder: (type letter, longest side)
PHOTO_LADDER: tuple[tuple[str, int], ...] = (("s", 90), ("m", 320), ("x", 800), ("y", 1280))


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, JPEG or WebP image, or None if not recognised."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def photo_ladder(width: int, height: int) -> list[tuple[str, int, int]]:
    """The (type, width, height) sizes Telegram would derive from a photo, smallest first."""
    longest = max(width, height, 1)
    sizes = []
    for letter, side in PHOTO_LADDER:
        scale = min(1.0, side / longest)
        sizes.append((letter, max(1, round(width * scale)), max(1, round(height * scale))))
        if side >= longest:
            break
    return sizes


def guess_mime(file_name: str | None, declared: str | None) -> str:
    """Telegram trusts the file extension over the uploader's declared type."""
    guessed = mimetypes.guess_type(file_name or "")[0]
    if guessed:
        return guessed
    if declared and declared != "application/octet-stream":
        return declared
    return "application/octet-stream"


def new_file_id(kind: str) -> tuple[str, str]:
    """A fresh (file_id, file_unique_id) pair that looks like Telegram's."""
    prefix = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI"}.get(kind, "CAACAgIAAxkB")
    return prefix + secrets.token_urlsafe(40), "AQAD" + secrets.token_urlsafe(9)


def extension(file_name: str | None, mime_type: str) -> str:
    """Extension used in a file_path: from the name, else from the MIME type."""
    if file_name and "." in file_name:
        return file_name.rsplit(".", 1)[1].lower()[:10]
    return (mimetypes.guess_extension(mime_type) or ".bin").lstrip(".")
