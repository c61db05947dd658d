"""The outline of a plan: headings, numbered items, 专栏 boxes, tables and paragraphs.

`outline(lines)` turns cleaned lines into a flat list of `Node`s in document order. Heading
levels come from the numbering style, never from markdown `#` counts (the seeds mix them):
  h0 第一章 / 第一部分 · h1 一、 · h2 （一） · item 1. / 1、 / 1) · sub （1） · circle ① ·
  box 专栏3 … · annex 附件 · table · para.
Item numbers have any length; a year-like one (2025、) only when it continues the numbering,
and "8.1+N服务体系" is item 8 when 8 continues it. "附件" before any numbered block labels the
document itself (an excerpt), not an annex.
For headings and items `title` is the text up to the first 。 (or the whole short line) and
`rest` the text after it on the same line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.importer.lines import Line
from bot.importer.tables import Table, collect_table

_CN_NUM = "一二三四五六七八九十百零〇两"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("h0", re.compile(rf"^第([{_CN_NUM}\d]+)[章部篇](?:分)?[\s:：、]*(.*)$")),
    ("box", re.compile(r"^专栏\s*(\d+|[一二三四五六七八九十]+)[\s:：、.．]*(.*)$")),
    ("annex", re.compile(r"^附\s*件\s*(\d*)[\s:：、]*(.*)$")),
    ("h1", re.compile(rf"^([{_CN_NUM}]+)[、.．]\s*(.*)$")),
    ("h2", re.compile(rf"^[（(]([{_CN_NUM}]+)[）)]\s*(.*)$")),
    ("item", re.compile(r"^(\d+)\s*(?:[.、．](?!\d)|[）)](?!\d))\s*(.*)$")),
    ("sub", re.compile(r"^[（(](\d+)[）)]\s*(.*)$")),
    ("circle", re.compile(r"^([①-⑳])\s*(.*)$")),
]
_TITLE_MAX = 60
# "8.1+N服务体系": item 8 whose text starts with a number, when 8 continues the numbering
_GLUED_ITEM = re.compile(r"^(\d+)[.．](?=\d+(?:\.\d+)?[^\d.．\s%‰亿万])(.*)$")
# "5.10亿元以上…项目招引": item 5 when a sentence follows the amount (a cell "5.10亿元" is none)
_GLUED_AMOUNT = re.compile(r"^(\d+)[.．](?=\d+(?:\.\d+)?[亿万])(.{12,})$")
_YEAR_LIKE = re.compile(r"^(?:19|20)\d{2}$")


@dataclass
class Node:
    """One block of the outline (see the module docstring for the kinds)."""

    kind: str
    line: int
    text: str
    number: str = ""
    title: str = ""
    rest: str = ""
    table: Table | None = None


def split_title(text: str) -> tuple[str, str]:
    """'完善体系。加强…' → ('完善体系', '加强…'); a long sentence gives a 30-char title."""
    text = text.strip()
    match = re.search(r"[。！？!?]", text)
    if match and match.start() <= _TITLE_MAX:
        return text[: match.start()].strip(), text[match.end() :].strip()
    if len(text) <= 40:
        return text.rstrip("：:；;，,"), ""
    clause = re.split(r"[，,；;：:]", text, maxsplit=1)[0]
    return (clause if len(clause) <= 40 else clause[:30] + "…"), text


def classify(line: Line) -> Node:
    """The node a single (non-table) line makes."""
    text = line.text.strip()
    for kind, pattern in _PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        number, body = match.group(1), match.group(2).strip()
        if kind == "h1" and not body:
            continue
        if kind == "annex" and len(body) > 40 and "。" in body:
            continue  # "附件…" inside prose is not an annex heading
        title, rest = split_title(body) if kind not in ("annex", "box") else (body, "")
        return Node(kind, line.no, text, number, title, rest)
    return Node("para", line.no, text)


def _numbering_fits(node: Node, previous: int | None) -> bool:
    """Numbers of any length are item numbers, but a long one (a year such as 2025、) only
    when it continues the numbering of the items before it."""
    if node.kind not in ("item", "sub") or len(node.number) < 4:
        return True
    if previous is not None and int(node.number) == previous + 1:
        return True
    return not _YEAR_LIKE.match(node.number)


def outline(lines: list[Line]) -> list[Node]:
    """The flat outline of cleaned lines (blank lines dropped, tables collected)."""
    nodes: list[Node] = []
    last: dict[str, int] = {}  # the last number of each numbered kind (item, sub)
    started = False  # a numbered block was seen: an annex heading now ends the plan's body
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if "\t" in line.text:
            table, i = collect_table(lines, i)
            if table.rows:
                nodes.append(Node("table", table.line, "", table=table))
            continue
        i += 1
        if not line.text.strip():
            continue
        node = classify(line)
        if node.kind == "para" and "item" in last:
            glued = _GLUED_ITEM.match(line.text.strip()) or _GLUED_AMOUNT.match(line.text.strip())
            if glued and int(glued.group(1)) == last["item"] + 1:
                title, rest = split_title(glued.group(2))
                node = Node("item", line.no, line.text.strip(), glued.group(1), title, rest)
        elif not _numbering_fits(node, last.get(node.kind)):
            node = Node("para", line.no, node.text)
        elif node.kind == "annex" and not started:
            node = Node("para", line.no, node.text)  # "附件" atop the plan: the plan itself
        started = started or node.kind in ("h0", "h1", "h2", "item", "sub", "circle", "box")
        if node.kind in ("item", "sub"):
            last[node.kind] = int(node.number)
        elif node.kind in ("h0", "h1"):
            last.pop("sub", None)
        nodes.append(node)
    return nodes
