"""Cleaning source lines: markup out, page breaks mended, line numbers kept.

What a caller gets back: the same `Line`s (blank ones kept, they separate table rows), with
- HTML tags and entities, markdown heading marks, list bullets (`- `), bold/italic marks and
  footnote markers removed;
- spaces next to Chinese text removed ("到 2023 年底" → "到2023年底"), full-width digits ASCII;
- pipe-table rows turned into tab-separated rows (separator rows dropped);
- footnote lines (¹ …) dropped, page-number lines (— 3 —, 第3页) blank;
- a sentence broken by a page break (a long line without closing punctuation, then blank
  lines, then its continuation) joined back onto its first line (whose number it keeps).
Tab lines (tables) are never joined; their leading tab is kept.
"""

from __future__ import annotations

import html
import re

from bot.importer.lines import Line

_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_MD_EMPHASIS = re.compile(r"\*\*|__")  # a single * is data: 约束性* marks binding indicators
_SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹⁰"
_FOOTNOTE_LINE = re.compile(rf"^\s*[{_SUPERSCRIPTS}]+\s*\S")
_SUPERSCRIPT_RUN = re.compile(rf"[{_SUPERSCRIPTS}]+")
_FULLWIDTH = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B)]}
    | {chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)}
    | {"\u3000": " ", "\u00a0": " ", "＋": "+", "％": "%"}
)
_FULLWIDTH_ANY = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000\u00a0＋％]")
_CJK = r"\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”‘’《》、。，；：？！…—"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])[ \u200b]+|[ \u200b]+(?=[{_CJK}])")
_SPACE_NEAR_DIGIT = re.compile(r"(?<=\d)[ ]+(?=[%‰])")
_SPACES = re.compile(r" {2,}")
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–]+\s*\d{1,4}\s*[-—–]+|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?)\s*$"
)
_BULLET = re.compile(r"^\s{0,3}[-*+•·▪]\s+(?=\S)")
_PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")  # | :-: | --- |

# a line ending with one of these ends its sentence (or its heading)
_TERMINAL = "。！？；：!?;:”’）)〕】]」』》"
_OPENERS = "（(〔【[「『《“"
_CLOSERS = "）)〕】]」』》”"
_BRACKET_CHARS = re.compile(f"[{re.escape(_OPENERS + _CLOSERS)}]")
# page-break mending stops gluing once a line is this long (the parser then refuses it)
MAX_JOINED = 100_000
_TITLE_END = re.compile(
    r"(规划|意见|方案|计划|通知|清单|要点|办法|纲要|指标体系|一览表|分工表|任务表|汇总表|目录|附件\d*)$"
)
# lines that begin a new block: never glued onto the previous line
BLOCK_START = re.compile(
    r"^(\t|\||#|第[一二三四五六七八九十百]+[章节部分篇条]|[一二三四五六七八九十]+[、.．]"
    r"|[（(][一二三四五六七八九十]+[）)]|\d{1,3}\s*[.、．)）](?!\d)|[（(]\d{1,3}[）)]|[①-⑳]"
    r"|(?!(?:19|20)\d\d\D)\d{4,}[.、．](?!\d)"
    r"|专栏|附件|附表|序号|——|[【〔\[]"
    r"|(牵头|配合|责任|协办|主办|主责|协作|主要协作|参与|协助|实施|承办)(责任)?"
    r"(单位|部门|主体|科室|处室|股室)|完成(时限|时间|期限)|时间(节点|要求|安排)|时限|进度安排"
    r"|办结时限|截止时间)"
)
_HEADING_LIKE = re.compile(
    r"^(第[一二三四五六七八九十百]+[章节部分篇]|[一二三四五六七八九十]+[、.．]"
    r"|[（(][一二三四五六七八九十]+[）)]|专栏|附件)"
)


def clean_text(text: str) -> str:
    """Markup and stray spaces out of one piece of text (tabs kept)."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    if _FULLWIDTH_ANY.search(text):  # translate() is slow per character; most lines need none
        text = text.translate(_FULLWIDTH)
    if "*" in text or "_" in text:
        text = _MD_EMPHASIS.sub("", text)
    text = _SUPERSCRIPT_RUN.sub("", text)
    if " " in text or "\u200b" in text:  # most lines of Chinese prose have no space at all
        text = _SPACE_NEAR_DIGIT.sub("", _SPACE_NEAR_CJK.sub("", text))
        text = _SPACES.sub(" ", text)
    return text


def _pipe_row(text: str) -> str | None:
    """'| a | b |' → 'a\\tb'; a separator row → None."""
    if _PIPE_SEPARATOR.match(text):
        return None
    cells = text.strip().strip("|").split("|")
    return "\t".join(c.strip() for c in cells)


def clean_line(text: str) -> tuple[str, bool]:
    """One cleaned line and whether it was a markdown heading (`# …`)."""
    heading = bool(_MD_HEADING.match(text)) and text.lstrip().startswith("#")
    if heading:
        text = _MD_HEADING.sub("", text)
    if _BULLET.match(text) and not _PAGE_NUMBER.match(text):
        text = _BULLET.sub("", text)  # "- 牵头单位：…" of a web page's list
    stripped = text.strip()
    if stripped.startswith("|") and stripped.count("|") >= 2:
        row = _pipe_row(stripped)
        return ("" if row is None else "\t".join(clean_text(c) for c in row.split("\t"))), False
    if "\t" in text:
        cells = text.rstrip(" \r\n").split("\t")  # keep "\t": an empty cell on its own line
        return "\t".join(clean_text(c).strip() for c in cells), heading
    return clean_text(text).strip(), heading


def _bracket_depth(text: str, depth: int = 0) -> int:
    """Open brackets after `text`, starting from `depth` (a closer without an opener is
    ignored), so a growing line is scanned once, piece by piece."""
    for ch in _BRACKET_CHARS.findall(text):
        if ch in _OPENERS:
            depth += 1
        elif depth:
            depth -= 1
    return depth


def _is_broken(head: str, tail: str, size: int, depth: int, has_stop: bool) -> bool:
    """Does a line stop in the middle of a sentence (page break)? The line is given as its
    first piece `head`, its last characters `tail`, its length, its open bracket count and
    whether it holds a "。", so that a line glued from many pieces is judged without rescanning
    it (linear time)."""
    if not tail:
        return False
    if tail[-1] in _TERMINAL and depth <= 0:
        return False
    if depth > 0 or tail[-1] in "、，,":
        return True
    if _TITLE_END.search(tail[-8:]):
        return False
    if not has_stop and _HEADING_LIKE.match(head):
        return False
    return size >= 18


def clean_lines(lines: list[Line]) -> list[Line]:
    """Cleans every line and mends page breaks (see the module docstring)."""
    cleaned: list[tuple[int, str, bool]] = []
    for line in lines:
        if _FOOTNOTE_LINE.match(line.text):
            continue
        text, heading = clean_line(line.text)
        if _PAGE_NUMBER.match(text):
            text = ""  # "— 3 —" between two halves of a sentence: a page break
        cleaned.append((line.no, text, heading))
    out: list[Line] = []
    i = 0
    n = len(cleaned)
    while i < n:
        no, text, heading = cleaned[i]
        i += 1
        if not text or text.startswith("\t") or "\t" in text or heading:
            out.append(Line(no, text))
            continue
        parts = [text]
        depth, has_stop, size = _bracket_depth(text), "。" in text, len(text)
        tail = text[-8:]
        while _is_broken(text, tail, size, depth, has_stop) and size <= MAX_JOINED:
            j = i
            while j < n and not cleaned[j][1] and j - i < 6:
                j += 1
            if j >= n or not cleaned[j][1] or cleaned[j][2]:
                break
            following = cleaned[j][1]
            if "\t" in following or (
                BLOCK_START.match(following) and tail[-1] not in _OPENERS
            ):  # "…（" + "牵头单位：…）"
                break
            parts.append(following)
            depth, has_stop = _bracket_depth(following, depth), has_stop or "。" in following
            size += len(following)
            tail = (tail + following)[-8:]
            i = j + 1
        out.append(Line(no, "".join(parts)))
    return out
