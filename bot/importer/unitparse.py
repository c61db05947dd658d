"""Responsible units written in a plan item → `UnitRef`s through the unit directory.

Understood forms (any bracket （）()【】〔〕[]［］, a wrong closer, half-width `:` `,`):
- 〔责任单位：A、B，"12+3"人民政府（管委会）〕 — the first unit leads, the others co-operate;
- 〔牵头单位：A；配合单位：B、C〕, labels 责任部门 / 责任主体 / 牵头部门 / 配合部门 / 协办单位;
- （A牵头，B、C配合） and （A牵头，各有关部门按职责分工负责）;
- lines of their own: 牵头单位：A / 牵头责任单位: A / 配合单位 B、C / 责任科室 / 主要协作单位 …
  (colon full- or half-width, or only spaces), and 完成时限 / 时限要求 / 时间节点 / 进度安排 …,
  returned as deadline phrases for the dates module;
- notes whose every clause ends in a role verb: （A主办，B、C协办）, （A、B等按职责分工负责，
  列第一位者为牵头单位，下同） — 下同 sets `Annotations.carries`: the units hold for the following
  items until another note; an unbracketed last clause "…，A配合落实。" (`trailing_role_clause`).
主办 / 牵头 lead; 协办 / 配合 / 参与 / 协作 co-operate; a list without a lead: its first leads.
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
_ORG = r"(?:单位|部门|科室|处室|股室|主体)"
_LEAD_LABEL = rf"牵头责任{_ORG}|牵头{_ORG}|主办{_ORG}|主责{_ORG}|牵头"
_CO_LABEL = rf"主要协作{_ORG}|协作{_ORG}|配合{_ORG}|协办{_ORG}|协助{_ORG}|参与{_ORG}|配合"
_DUTY_LABEL = rf"责任{_ORG}|实施{_ORG}|承办{_ORG}"
_ANY_LABEL = rf"{_LEAD_LABEL}|{_CO_LABEL}|{_DUTY_LABEL}"
_LABEL = re.compile(rf"(?P<label>{_ANY_LABEL})\s*[:：]\s*")
_DEADLINE_WORDS = (
    r"完成时限|完成时间|完成期限|办结时限|时间节点|时限要求|时间要求|时间安排"
    r"|进度安排|截止时间|时限"
)
_DEADLINE_LABEL = re.compile(
    rf"^(?:{_DEADLINE_WORDS})\s*(?:[:：]\s*|\s+(?=\S)|(?=\d|[一二三四上下第本今全年长持常每]))"
)
_LABEL_LINE = re.compile(rf"^(?:[（(【\[〔])?\s*(?:{_ANY_LABEL})\s*[:：]")
# a label on a line of its own may be followed by spaces (or, once cleaning removed them,
# nothing) instead of a colon: 牵头单位  市卫健委 / 牵头单位市卫健委
_LABEL_SPACED = re.compile(rf"^(?P<label>{_ANY_LABEL})\s*(?P<rest>[^\s:：][^:：]{{0,150}})$")

_SUFFIX = re.compile(
    r"(?P<suffix>按职责分工负责|按职责分工落实|按职责负责|按职能分工负责|分别负责|共同负责|负责落实"
    r"|牵头负责|负责牵头|牵头落实|配合落实|协助落实|参与落实|协同落实|牵头|主办|配合|参与|协助|协办"
    r"|协同|负责)$"
)
_NEUTRAL_SUFFIXES = ("负责", "负责落实")  # "A牵头，B负责": B follows the list order
_CO_SUFFIXES = (
    "配合",
    "参与",
    "协助",
    "协办",
    "协同",
    "配合落实",
    "协助落实",
    "参与落实",
    "协同落实",
    "按职责分工负责",
    "按职责分工落实",
    "按职责负责",
    "按职能分工负责",
    "分别负责",
    "共同负责",
)
# clauses of a unit note that name no unit: "列第一位者为牵头单位，下同"
_FILLER = re.compile(
    r"列(?:第一位|首位)(?:者|的)?为牵头(?:单位|部门)|排(?:在)?(?:第一|首)位的?为牵头(?:单位|部门)"
    r"|第一个为牵头(?:单位|部门)|以下不再列出|不再列出|以下同|下同"
)
_CARRY = re.compile(r"下同")
_DATE_PIECE = re.compile(
    r"^(?:长期|持续|常态化|经常性|每[一个]?[年月季周半学]|(?:19|20)\d{2}\s*年|(?:1[0-2]|[1-9])\s*月"
    r"|年底|年内|今年|本年|上半年|下半年|第?[一二三四1-4]季度|[一二两三四五]年内)"
)
_ROLE_END = re.compile(_SUFFIX.pattern.replace("(?P<suffix>", "(?:"))


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
    carries: bool = False  # a note said 下同: its units hold for the following items


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


def parse_unit_list(
    content: str, default: Role | None, line: int | None, deadlines: list[str] | None = None
) -> list[WrittenUnit]:
    """'A牵头，B、C配合' / 'A、B' → written units with roles from suffixes or `default`. A piece
    that is a date or a standing duty (（A牵头，长期推进）) is no unit: it goes to `deadlines`."""
    out: list[WrittenUnit] = []
    pending: list[str] = []
    if "第" in content or "同" in content or "列" in content:
        content = _FILLER.sub("", content)
    for piece in split_top(content):
        if _DATE_PIECE.match(piece):
            if deadlines is not None:
                deadlines.append(piece)
            continue
        piece = re.sub(r"^(?:其中|由|以|并由)", "", piece).strip()
        piece = re.sub(r"等$", "", piece).strip()
        piece = re.sub(r"[（(](牵头|配合)[）)]$", r"\1", piece)
        match = _SUFFIX.search(piece)
        if match and len(piece) > len(match.group("suffix")):
            name = re.sub(r"等$", "", piece[: match.start()].strip()).strip()
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


# a label in brackets of its own: 【牵头单位】A 【完成时限】6月底前
_BRACKETED_LABEL = re.compile(
    rf"[【〔\[［]\s*(?P<label>{_ANY_LABEL}|{_DEADLINE_WORDS})\s*[】〕\]］]\s*[:：]?\s*"
)
_SEGMENT = re.compile(
    rf"(?P<label>{_ANY_LABEL})\s*[:：]\s*|(?P<deadline>{_DEADLINE_WORDS})\s*[:：]\s*"
)


def _labelled(content: str, line: int | None, result: Annotations) -> None:
    """Units and deadlines of 'label：list；label：list；完成时限：…' content, in any order (or an
    unlabelled 'A牵头，B配合'), added to `result`."""
    matches = list(_SEGMENT.finditer(content))
    if not matches:
        result.units += parse_unit_list(content, None, line, result.deadlines)
        return
    if matches[0].start() > 0:
        result.units += parse_unit_list(
            content[: matches[0].start()], None, line, result.deadlines
        )
    for k, match in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(content)
        body = content[match.end() : end]
        if match.group("deadline"):
            result.deadlines.append(body.strip().rstrip("；;，,。 "))
        else:
            result.units += parse_unit_list(
                body, _role_for_label(match.group("label")), line, result.deadlines
            )


def _bracket_end(text: str, start: int) -> int:
    """Index just after the bracket opened at `start` (any closer counts); len(text) if none."""
    end = _bounded_bracket_end(text, start, len(text) - start)
    return len(text) if end is None else end


_ANNOTATION_START = re.compile(
    rf"[{re.escape(_OPEN)}]\s*(?=(?:{_DUTY_LABEL}|{_LEAD_LABEL}|{_CO_LABEL})\s*[:：])"
)
_LEAD_BRACKET = re.compile(
    r"[（(【\[〔]([^（(【\[〔）)】\]〕]{2,30}?)(?:牵头|负责牵头|牵头负责)[，,、；;]"
)


_OPENER = re.compile(f"[{re.escape(_OPEN)}]")
_INLINE_LABEL = re.compile(
    rf"(?:(?<=[。；;！!？?\s])|^)(?:{_ANY_LABEL}|{_DEADLINE_WORDS})\s*[:：]", re.M
)
_INLINE_END = re.compile(r"[。\n]")
_NOTE_MAX = 300  # a unit note in brackets is short; longer brackets are prose
_AFTER_NOTE = re.compile(r"\s*(?:[。；;，,.]|$)")


def _bounded_bracket_end(text: str, start: int, limit: int) -> int | None:
    """Like `_bracket_end` but None when the bracket does not close within `limit` chars."""
    depth = 0
    for i in range(start, min(len(text), start + limit)):
        ch = text[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def is_role_note(content: str) -> bool:
    """Is this bracket content a unit note whose every clause ends in a role verb or is a date?
    （市教育局主办，市人社局、各县区政府协办） /
    （A、B等按职责分工负责，列第一位者为牵头单位，下同） / （A主办；6月底前） — or a unit list
    beside a labelled deadline: （港航发展处、市港口与口岸局，完成时限：12月底）"""
    if "。" in content:
        return False
    clauses = split_top(_FILLER.sub("", content), "，,；;")
    roles = 0
    bare: list[str] = []
    labelled_date = False
    for clause in clauses:
        match = _ROLE_END.search(clause)
        if match and 0 < match.start() <= 120:
            roles += 1
        elif _DEADLINE_LABEL.match(clause):  # （建设管理处，完成时限：6月底）
            labelled_date = True
        elif _DATE_PIECE.match(clause):  # （A主办，B协办；6月底前完成） keeps its date
            continue
        else:
            bare.append(clause)
    if bare:  # units without a verb only beside a labelled deadline, each named like a unit
        return labelled_date and all(
            _UNIT_LIKE.search(piece) for c in bare for piece in split_top(c)
        )
    return roles > 0 or labelled_date


def _next_role_note(body: str, cursor: int) -> tuple[int, int] | None:
    """(start, end) of the next bracketed role note at or after `cursor` that closes a clause."""
    for opener in _OPENER.finditer(body, cursor):
        start = opener.start()
        end = _bounded_bracket_end(body, start, _NOTE_MAX)
        if end is None or not _AFTER_NOTE.match(body, end):
            continue
        if is_role_note(body[start + 1 : end - 1]):
            return start, end
    return None


def extract_units(text: str, line: int | None = None) -> Annotations:
    """Unit annotations and deadline lines of an item (see the module docstring)."""
    result = Annotations()
    if "】" in text or "〕" in text or "]" in text:
        text = _BRACKETED_LABEL.sub(r"\g<label>：", text)  # 【牵头单位】A → 牵头单位：A
    kept_lines: list[str] = []
    for raw in text.split("\n"):
        stripped = raw.strip()
        deadline = _DEADLINE_LABEL.match(stripped)
        if deadline:
            result.deadlines.append(stripped[deadline.end() :])
            continue
        spaced = _LABEL_SPACED.match(stripped)
        if spaced and _looks_like_units(spaced.group("rest")):
            stripped = f"{spaced.group('label')}：{spaced.group('rest')}"
        if _LABEL_LINE.match(stripped) and len(stripped) <= 200:
            inner = stripped
            if inner[0] in _OPEN and _bracket_end(inner, 0) == len(inner):
                inner = inner[1:-1]  # the whole line is one bracket: （牵头单位：…）
            _labelled(inner, line, result)
            result.carries = result.carries or bool(_CARRY.search(inner))
            continue
        kept_lines.append(raw)
    body = "\n".join(kept_lines)
    out = ""
    cursor = 0
    # each pattern is searched again only once the cursor passed its last match (linear)
    match = _ANNOTATION_START.search(body)
    lead = _LEAD_BRACKET.search(body)
    note = _next_role_note(body, 0)
    inline = _INLINE_LABEL.search(body)
    while True:
        if inline is not None and inline.start() < cursor:
            inline = _INLINE_LABEL.search(body, cursor)
        if inline is not None and (
            all(m is None or inline.start() < m.start() for m in (match, lead))
            and (note is None or inline.start() < note[0])
        ):  # 。牵头单位：A；配合单位：B。完成时限：… — labels without a bracket, to the 。
            stop = _INLINE_END.search(body, inline.end())
            end = stop.start() if stop else len(body)
            content = body[inline.start() : end]
            deadline = _DEADLINE_LABEL.match(content)
            if deadline:
                result.deadlines.append(content[deadline.end() :].strip())
            else:
                _labelled(content, line, result)
            out += body[cursor : inline.start()]
            cursor = end + 1 if stop and stop.group(0) == "。" else end
            continue
        if match is not None and match.start() < cursor:
            match = _ANNOTATION_START.search(body, cursor)
        if lead is not None and lead.start() < cursor:
            lead = _LEAD_BRACKET.search(body, cursor)
        if note is not None and note[0] < cursor:
            note = _next_role_note(body, cursor)
        starts = [m.start() for m in (match, lead) if m] + ([note[0]] if note else [])
        if not starts:
            break
        start = min(starts)
        end = _bracket_end(body, start)
        closed = end <= len(body) and body[end - 1] in _CLOSE
        content = body[start + 1 : end - 1 if closed else end].strip()
        _labelled(content, line, result)
        result.carries = result.carries or bool(_CARRY.search(content))
        out += body[cursor:start]
        cursor = end
    out += body[cursor:]
    result.text = out.strip()
    return result


_UNIT_LIKE = re.compile(
    r"(?:局|委|办|会|府|部|院|联|厅|署|队|站|所|社|股|科|处|室|中心|集团|公司|分局|管委会|指挥部"
    r"|部门|单位|分行|支行)$"
)


# an unknown name in a bracket without label or verb is a unit only when named like an office:
# 省人社厅, 人行福建省分行, 各设区市人民政府 — not （基层特色专科）, （试点任务）
_NAMED_UNIT = re.compile(
    r"^(?:[省市县区镇乡]|各|团|国家|中共|人行|中国).*(?:局|委|办|会|府|部|院|联|厅|署|队|站|所|中心"
    r"|集团|公司|分行|支行|管委会)$|(?:局|委|厅|办|政府|管委会|委员会|分行|支行)$"
)


def _looks_like_units(text: str) -> bool:
    """'县住建局、县自然资源局' yes; '要高度重视，加强组织领导' no (no colon told us)."""
    pieces = parse_unit_list(text, None, None)
    return bool(pieces) and all(_UNIT_LIKE.search(p.text) for p in pieces)


_CLAUSE = re.compile(r"[^，,；;。]+")
_BY = re.compile(r"^(?:并由|其中由|由)")
_PROSE_WINDOW = 400  # role clauses close an item: search its last sentences


def _role_clause(
    clause: str, is_unit: Callable[[str], bool], line: int | None
) -> list[WrittenUnit] | None:
    """The units of one prose clause 'A牵头' / '由A负责' / 'B、C配合落实', else None."""
    clause = _BY.sub("", clause.strip())
    if not clause or len(clause) > 80 or "（" in clause[:1] or not _ROLE_END.search(clause):
        return None
    units = parse_unit_list(clause, None, line)
    if not units or not all(is_unit(u.text) or _UNIT_LIKE.search(u.text) for u in units):
        return None
    return units


def trailing_role_clause(
    text: str, is_unit: Callable[[str], bool], line: int | None = None
) -> tuple[list[WrittenUnit], str]:
    """Units of unbracketed role clauses in prose and the text without them, else ([], text):
    the last clauses '…，由市卫健委牵头，市妇联配合落实。' (each clause a role verb after
    known units or names like units), or a run that starts with 由 inside the last sentences
    '…，由市民政局负责，每月按时发放。'."""
    offset = max(0, len(text) - _PROSE_WINDOW)
    spans = [(m.start(), m.end()) for m in _CLAUSE.finditer(text, offset)]
    if offset and spans:
        spans = spans[1:]  # the first may be cut by the window
    found: list[tuple[int, int, list[WrittenUnit]]] = []
    k = len(spans) - 1
    while k >= 0:  # the trailing run
        units = _role_clause(text[spans[k][0] : spans[k][1]], is_unit, line)
        if units is None:
            break
        found.insert(0, (*spans[k], units))
        k -= 1
    if not found:  # a run opened by 由 elsewhere in the tail
        for j, (start, end) in enumerate(spans):
            if not _BY.match(text[start:end].strip()):
                continue
            run = j
            while run < len(spans):
                units = _role_clause(text[spans[run][0] : spans[run][1]], is_unit, line)
                if units is None:
                    break
                found.append((*spans[run], units))
                run += 1
            if found:
                break
    if not found:
        return [], text
    first, last = found[0][0], found[-1][1]
    units = [u for _, _, group in found for u in group]
    before = text[:first].rstrip("，,；; \n")
    after = text[last:].lstrip("，,；; ")
    rest = (before + ("，" + after if after and after[0] not in "。；;" else after)).strip()
    if rest and rest[-1] not in "。；;！!？?":
        rest += "。"
    return units, rest


def names_units(text: str) -> bool:
    """Does this item text name responsible units (a note, a label, a trailing list or role
    clauses of names that look like units)?"""
    if extract_units(text).units:
        return True

    def never(_: str) -> bool:
        return False

    return bool(trailing_role_clause(text, never)[0] or trailing_unit_list(text, never)[0])


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
    unit or named like an office (省人社厅, 人行福建省分行: `_NAMED_UNIT`); returns the units
    (first leads) and the text without it, else ([], text)."""
    offset = max(0, len(text) - _TRAILING_WINDOW)  # a unit list is short: search the tail
    match = _TRAILING.search(text, offset)
    if not match:
        return [], text
    pieces = parse_unit_list(match.group(1), None, line)
    if not pieces or not all(is_unit(p.text) or _NAMED_UNIT.search(p.text) for p in pieces):
        return [], text
    return pieces, text[: match.start()].rstrip()


def closes_with_unit_note(text: str) -> bool:
    """Does this paragraph end with its item's unit note (〔责任单位：…〕, （A主办，B协办）,
    （省人社厅、省财政厅）)? A plain paragraph after it is closing prose, not the item's."""
    if text.rstrip(" 。.；;")[-1:] not in _CLOSE:
        return False  # most paragraphs: no closing bracket at their end
    offset = max(0, len(text) - _TRAILING_WINDOW)
    match = _TRAILING.search(text, offset)
    if not match:
        return False
    content = match.group(1)
    if _LABEL.search(content) or is_role_note(content):
        return True
    return bool(trailing_unit_list(match.group(0), lambda _: False)[0])


def is_label_line(text: str) -> bool:
    """A line that starts with a unit or deadline label (牵头单位：… / 完成时限：…)."""
    stripped = text.strip()
    return bool(
        _LABEL_LINE.match(stripped)
        or _DEADLINE_LABEL.match(stripped)
        or _BRACKETED_LABEL.match(stripped)
    )
