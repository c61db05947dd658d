"""Which numbering level holds the tasks: the one where the unit notes hang.

Plans number their tasks at any level — 一、 / （一） / 1. / （1） / ① — and the responsible
units are written at the level of the task (〔责任单位：…〕, 牵头单位：… lines, （A主办，B协办）).
`unit_level(nodes, has_units)` counts, per numbered level, the blocks whose own text (the
numbered line and the paragraphs under it, up to the next numbered line) names units, and
returns the level with the most; `level_drafts(nodes, kind)` makes one draft per block of that
level, deeper levels included in its text. 专栏 boxes and annexes are not task levels.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.importer.blocks import Node
from bot.importer.items import Draft
from bot.importer.meta import ends_item, is_signature
from bot.importer.unitparse import closes_with_unit_note, is_label_line

RANK = {"h0": 0, "h1": 1, "h2": 2, "item": 3, "sub": 4, "circle": 5}
TASK_LEVELS = ("h1", "h2", "item", "sub", "circle")


def _outside_boxes(nodes: list[Node]) -> list[Node]:
    """The nodes of the body: 专栏 boxes (to the next heading) and annexes left out."""
    out: list[Node] = []
    in_box = in_annex = False
    for node in nodes:
        if node.kind in ("h0", "h1"):
            in_box = in_annex = False
        elif node.kind == "h2":
            in_box = False
        elif node.kind == "box":
            in_box = True
        elif node.kind == "annex":
            in_annex = True
        if not in_box and not in_annex and node.kind not in ("box", "annex"):
            out.append(node)
    return out


def unit_level(nodes: list[Node], has_units: Callable[[str], bool]) -> dict[str, int]:
    """Per task level, how many of its blocks name units in their own text."""
    counts: dict[str, int] = {}
    body = _outside_boxes(nodes)
    k = 0
    while k < len(body):
        node = body[k]
        k += 1
        if node.kind not in TASK_LEVELS:
            continue
        own = [node.text]
        while k < len(body) and body[k].kind == "para":
            own.append(body[k].text)
            k += 1
        if has_units("\n".join(own)):
            counts[node.kind] = counts.get(node.kind, 0) + 1
    return counts


def level_drafts(nodes: list[Node], kind: str, body_of: Callable[[Node], str]) -> list[Draft]:
    """One task draft per block of level `kind`; its section is the nearest heading above."""
    rank = RANK[kind]
    drafts: list[Draft] = []
    parts: list[str] = []
    headings: dict[int, str] = {}
    current: Draft | None = None
    carry = ""  # a heading whose unit note says 下同: handed to the next draft

    def close() -> None:
        nonlocal current
        if current is not None:
            current.body = "\n".join(p for p in parts if p)
            drafts.append(current)
        current = None

    for node in _outside_boxes(nodes):
        level = RANK.get(node.kind)
        if node.kind == "table" or (level is not None and level < rank):
            close()
            if level is not None:
                headings[level] = node.title.strip().rstrip("。：:")
                carry = node.text if "下同" in node.text else carry
                for deeper in [r for r in headings if r > level]:
                    del headings[deeper]
            continue
        if node.kind == kind:
            close()
            section = next((headings[r] for r in sorted(headings, reverse=True)), "")
            current = Draft(
                "task", node.number, section, node.title, "", node.line, carry_note=carry
            )
            parts = [body_of(node)]
            carry = ""
            continue
        if node.kind == "para" and ends_item(node.text):
            if current is not None and len(parts) > 1 and is_signature(parts[-1]):
                parts.pop()  # the issuer signing above the date
            close()  # the date the plan was signed (or its colophon) ends the item before it
            continue
        if (
            current is not None
            and node.kind == "para"
            and parts
            and closes_with_unit_note(parts[-1])
            and not is_label_line(node.text)
            and not closes_with_unit_note(node.text)
        ):
            close()  # the block's unit note closed it: closing prose is no part of it
        if current is not None:
            parts.append(node.text)
    close()
    return drafts
