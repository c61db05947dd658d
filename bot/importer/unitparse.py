"""Responsible units written in a plan item → `UnitRef`s through the unit directory.

Understood forms (any bracket （）()【】〔〕[]［］, a wrong closer, half-width `:` `,`):
- 〔责任单位：A、B，"12+3"人民政府（管委会）〕 — the first unit leads, the others co-operate;
- 〔牵头单位：A；配合单位：B、C〕, labels 责任部门 / 责任主体 / 牵头部门 / 配合部门 / 协办单位;
- （A牵头，B、C配合） and （A牵头，各有关部门按职责分工负责）;
- lines of their own: 牵头单位：A / 配合单位：B、C / 责任单位：… (and 完成时限：…, returned as a
  deadline phrase for the dates module).
`extract_units(text)` returns the written units with roles, the deadline texts, and the text
with the annotations removed. `resolve_units` maps them through the directory; an unknown
unit keeps its written name and produces a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.plan import Role, UnitRef
from bot.core.units import UnitDirectory, UnitEntry, normalize_unit_text

_OPEN = "（(〔【[［「"
_CLOSE = "）)〕】]］」"
_QUOTE_OPEN = "“‘"
_QUOTE_CLOSE = "”’"
_LEAD_LABEL = r"牵头单位|牵头部门|主办单位|主责单位|牵头"
_CO_LABEL = r"配合单位|配合部门|协办单位|协助单位|参与单位|配合"
_DUTY_LABEL = r"责任单位|责任部门|责任主体|实施单位|承办单位"
_LABEL = re.compile(rf"(?P<label>{_DUTY_LABEL}|{_LEAD_LABEL}|{_CO_LABEL})\s*[:：]\s*")
_DEADLINE_LABEL = re.compile(
    r"^(?:完成时限|完成时间|时间节点|时限要求|时间要求|时限|完成期限)\s*[:：]\s*"
)
_LABEL_LINE = re.compile(
    rf"^(?:[（(【\[〔])?\s*(?:{_DUTY_LABEL}|{_LEAD_LABEL}|{_CO_LABEL})\s*[:：]"
)
_SUFFIX = re.compile(
    r"(?P<suffix>按职责分工负责|按职责分工落实|按职责负责|按职能分工负责|分别负责|共同负责|负责落实"
    r"|牵头负责|负责牵头|牵头|配合|参与|协助|协办|负责)$"
)
_NEUTRAL_SUFFIXES = ("负责", "负责落实")  # "A牵头，B负责": B follows the list order
_CO_SUFFIXES = ("配合", "参与", "协助", "协办", "按职责分工负责", "按职责分工落实", "按职责负责",
                "按职能分工负责", "分别负责", "共同负责")


@dataclass
class WrittenUnit:
    """A unit as the plan writes it, with its role (None: decided by list order)."""

    text: str
    role: Role | None
    line: int | None = None


@dataclass
class Annotations:
    """What `extract_units` found: units, deadline texts (完成时限) and the remaining text."""

    units: list[WrittenUnit] = field(default_factory=list)
    deadlines: list[str] = field(default_factory=list)
    text: str = ""


def split_top(text: str, separators: str = "、，,；;/") -> list[str]:
    """Splits on separators outside brackets and quotes: '各县（市、区）' stays whole."""
    parts: list[str] = []
    depth = 0
    quoted = False
    current = ""
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
        elif ch in _QUOTE_OPEN:
            quoted = True
        elif ch in _QUOTE_CLOSE:
            quoted = False
        elif ch == '"':
            quoted = not quoted
        if depth == 0 and not quoted and (ch in separators or ch.isspace()):
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _role_for_label(label: str | None) -> Role | None:
    if not label:
        return None
    if re.fullmatch(_LEAD_LABEL, label):
        return "lead"
    if re.fullmatch(_CO_LABEL, label):
        return "co"
    return None


def parse_unit_list(content: str, default: Role | None, line: int | None) -> list[WrittenUnit]:
    """'A牵头，B、C配合' / 'A、B' → written units with roles from suffixes or `default`."""
    out: list[WrittenUnit] = []
    pending: list[str] = []
    for piece in split_top(content):
        piece = re.sub(r"^(?:其中|由|以|并由)", "", piece).strip()
        piece = re.sub(r"等$", "", piece).strip()
        piece = re.sub(r"[（(](牵头|配合)[）)]$", r"\1", piece)
        match = _SUFFIX.search(piece)
        if match and len(piece) > len(match.group("suffix")):
            name = piece[: match.start()].strip()
            suffix = match.group("suffix")
            role: Role | None = "co" if suffix in _CO_SUFFIXES else "lead"
            if suffix in _NEUTRAL_SUFFIXES:
                role = default
            out += [WrittenUnit(p, role, line) for p in [*pending, name] if p]
            pending = []
            continue
        if match:
            continue  # a bare "负责" / "牵头" left by the split
        pending.append(piece)
    out += [WrittenUnit(p, default, line) for p in pending if p]
    return [u for u in out if _plausible(u.text)]


def _plausible(text: str) -> bool:
    """A unit name is short and not a sentence."""
    key = normalize_unit_text(text)
    return 1 < len(key) <= 40 and "。" not in key


def _labelled(content: str, line: int | None) -> list[WrittenUnit]:
    """Units of 'label：list；label：list' content (or an unlabelled 'A牵头，B配合')."""
    out: list[WrittenUnit] = []
    matches = list(_LABEL.finditer(content))
    if not matches:
        return parse_unit_list(content, None, line)
    if matches[0].start() > 0:
        out += parse_unit_list(content[: matches[0].start()], None, line)
    for k, match in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(content)
        body = content[match.end() : end]
        body = re.split(r"(?:完成时限|完成时间|时限)\s*[:：]", body)[0]
        out += parse_unit_list(body, _role_for_label(match.group("label")), line)
    return out


def _bracket_end(text: str, start: int) -> int:
    """Index just after the bracket opened at `start` (any closer counts); len(text) if none."""
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


_ANNOTATION_START = re.compile(
    rf"[{re.escape(_OPEN)}]\s*(?=(?:{_DUTY_LABEL}|{_LEAD_LABEL}|{_CO_LABEL})\s*[:：])"
)
_LEAD_BRACKET = re.compile(
    r"[（(【\[〔]([^（(【\[〔）)】\]〕]{2,30}?)(?:牵头|负责牵头|牵头负责)[，,、；;]"
)


def extract_units(text: str, line: int | None = None) -> Annotations:
    """Unit annotations and deadline lines of an item (see the module docstring)."""
    result = Annotations()
    kept_lines: list[str] = []
    for raw in text.split("\n"):
        stripped = raw.strip()
        deadline = _DEADLINE_LABEL.match(stripped)
        if deadline:
            result.deadlines.append(stripped[deadline.end() :])
            continue
        if _LABEL_LINE.match(stripped) and len(stripped) <= 200:
            inner = stripped
            if inner[0] in _OPEN and _bracket_end(inner, 0) == len(inner):
                inner = inner[1:-1]  # the whole line is one bracket: （牵头单位：…）
            deadline_split = re.split(r"(?:完成时限|完成时间|时限)\s*[:：]", inner, maxsplit=1)
            if len(deadline_split) == 2:
                result.deadlines.append(deadline_split[1])
            result.units += _labelled(deadline_split[0], line)
            continue
        kept_lines.append(raw)
    body = "\n".join(kept_lines)
    out = ""
    cursor = 0
    # each pattern is searched again only once the cursor passed its last match (linear)
    match = _ANNOTATION_START.search(body)
    lead = _LEAD_BRACKET.search(body)
    while True:
        if match is not None and match.start() < cursor:
            match = _ANNOTATION_START.search(body, cursor)
        if lead is not None and lead.start() < cursor:
            lead = _LEAD_BRACKET.search(body, cursor)
        starts = [m.start() for m in (match, lead) if m]
        if not starts:
            break
        start = min(starts)
        end = _bracket_end(body, start)
        closed = end <= len(body) and body[end - 1] in _CLOSE
        content = body[start + 1 : end - 1 if closed else end].strip()
        deadline_split = re.split(r"(?:完成时限|完成时间|时限)\s*[:：]", content, maxsplit=1)
        if len(deadline_split) == 2:
            result.deadlines.append(deadline_split[1])
        result.units += _labelled(deadline_split[0], line)
        out += body[cursor:start]
        cursor = end
    out += body[cursor:]
    result.text = out.strip()
    return result


def resolve_units(
    written: list[WrittenUnit],
    directory: UnitDirectory | None,
    jurisdiction: str,
    cache: dict[str, UnitEntry | None] | None = None,
) -> tuple[list[UnitRef], list[WrittenUnit]]:
    """UnitRefs (canonical names, roles decided, duplicates merged) and the unknown units.

    Roles: explicit 牵头/配合 win; otherwise the first unit leads and the rest co-operate; a
    list whose every unit is marked co-operating (A、B按职责分工负责) is led by its first unit.
    `cache` (written text → directory entry) may be shared by the items of one plan.
    """
    if cache is None:
        cache = {}
    refs: list[UnitRef] = []
    positions: dict[str, int] = {}
    unknown: list[WrittenUnit] = []
    lead_taken = any(u.role == "lead" for u in written)
    for unit in written:
        as_written = unit.text.strip()
        if as_written not in cache:
            cache[as_written] = directory.resolve(as_written, jurisdiction) if directory else None
        entry = cache[as_written]
        if entry is None:
            unknown.append(unit)
            name = as_written
        else:
            name = entry.name
        role: Role = unit.role or ("co" if lead_taken else "lead")
        lead_taken = lead_taken or role == "lead"
        existing = positions.get(name)
        if existing is not None:
            if role == "lead" and refs[existing].role != "lead":
                refs[existing] = UnitRef(name, refs[existing].as_written, "lead")
            continue
        positions[name] = len(refs)
        refs.append(UnitRef(name=name, as_written=as_written, role=role))
    if refs and not any(r.role == "lead" for r in refs):
        refs[0] = UnitRef(refs[0].name, refs[0].as_written, "lead")
    return refs, unknown


_TRAILING_WINDOW = 600
_TRAILING = re.compile(  # a last bracket (it may hold one inner pair: 各县（市、区）)
    r"[（(〔【\[［]([^（(〔【\[［]*(?:[（(][^）)]*[）)][^（(〔【\[［]*)*)[）)〕】\]］]"
    r"\s*[。.；;]?\s*$"
)


def trailing_unit_list(
    text: str, is_unit: Callable[[str], bool], line: int | None = None
) -> tuple[list[WrittenUnit], str]:
    """An unlabelled '（市卫健委、市医保局）' closing the text, when every piece is a known
    unit; returns the units (first leads) and the text without it, else ([], text)."""
    offset = max(0, len(text) - _TRAILING_WINDOW)  # a unit list is short: search the tail
    match = _TRAILING.search(text, offset)
    if not match:
        return [], text
    pieces = parse_unit_list(match.group(1), None, line)
    if not pieces or not all(is_unit(p.text) for p in pieces):
        return [], text
    return pieces, text[: match.start()].rstrip()
