"""The one place that knows Telegram's limits, and splits long HTML messages under them."""

from __future__ import annotations

import re

MAX_TEXT = 4096  # characters of a message, in UTF-16 code units
MAX_CAPTION = 1024
MAX_CALLBACK = 64  # bytes of callback data
MAX_DOWNLOAD = 20 * 1024 * 1024  # a bot may download files up to 20 MB
SAFE_TEXT = 3900  # split below the limit, leaving room for a "(1/3)" footer

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _open_tags_after(chunk: str, stack: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tags still open after `chunk`, given those open before it."""
    stack = list(stack)
    for match in _TAG.finditer(chunk):
        closing, name, attrs = match.group(1), match.group(2).lower(), match.group(0)
        if closing:
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    del stack[i:]
                    break
        else:
            stack.append((name, attrs))
    return stack


def _hard_cut(line: str, limit: int) -> list[str]:
    """Cut one overlong line without breaking a tag or an &entity;."""
    pieces: list[str] = []
    while utf16_len(line) > limit:
        cut = limit
        while utf16_len(line[:cut]) > limit:
            cut -= 1
        lt, gt = line.rfind("<", 0, cut), line.rfind(">", 0, cut)
        if lt > gt:  # inside a tag
            cut = lt
        amp, semi = line.rfind("&", 0, cut), line.rfind(";", 0, cut)
        if amp > semi and cut - amp < 10:  # inside an entity
            cut = amp
        cut = max(cut, 1)
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


def split_html(text: str, limit: int = SAFE_TEXT) -> list[str]:
    """Split HTML text into parts of at most `limit` UTF-16 units, at line breaks where possible.

    Tags open at a cut are closed at the end of the part and reopened at the start of the next,
    so every part is well-formed for Telegram's HTML parse mode.
    """
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    stack: list[tuple[str, str]] = []
    current = ""
    budget = limit - 64  # room for closing and reopening tags

    def flush() -> None:
        nonlocal current, stack
        if not current:
            return
        opened = "".join(attrs for _, attrs in stack)
        after = _open_tags_after(current, stack)
        closing = "".join(f"</{name}>" for name, _ in reversed(after))
        parts.append(opened + current + closing)
        stack = after
        current = ""

    for line in text.split("\n"):
        for piece in _hard_cut(line, budget):
            candidate = f"{current}\n{piece}" if current else piece
            if utf16_len(candidate) > budget:
                flush()
                current = piece
            else:
                current = candidate
    flush()
    return [p for p in parts if p.strip()]
