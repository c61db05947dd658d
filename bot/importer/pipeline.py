"""From text to `Plan`: the importer's one entry point for documents.

Steps: size limits → clean lines → plan head facts (title, year) → outline → walk the outline
collecting
- tasks: numbered items (1. / 1、 / 1)) under a task heading (重点任务, 主要措施, …行动), until a
  heading of the same level ends it; when the unit notes hang on another numbering level
  (一、 / （一） / （1） / ①, see `levels`), the blocks of that level; when there are none,
  （一） blocks or the numbered items of sections that name units, else rows of a table with a
  unit column;
- key projects: rows of project tables (重点项目清单, 附件1 重点任务清单) and （1） items of
  专栏 boxes;
- indicators: rows of indicator tables;
then build the items (units, milestones, refs) and link projects to tasks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.core.plan import ImportWarning, Indicator, ItemKind, Plan, PlanInfo, UnitRef
from bot.core.units import UnitDirectory, load_unit_directory
from bot.importer import meta as plan_meta
from bot.importer.blocks import Node, outline, split_title
from bot.importer.clean import clean_lines
from bot.importer.dates import DateContext, needs_year
from bot.importer.errors import PlanInputError
from bot.importer.indicators import read_indicators
from bot.importer.items import Draft, ItemBuilder, link_projects
from bot.importer.layouts import index_metadata_date, normalize_tables
from bot.importer.levels import RANK, level_drafts, unit_level
from bot.importer.lines import Line
from bot.importer.reader import split_lines
from bot.importer.tables import Table, merged_rows
from bot.importer.unitparse import (
    closes_with_unit_note,
    is_label_line,
    names_units,
    parse_unit_list,
)

_TASK_HEADING = re.compile(
    r"任务|措施|举措|重点工作|主要工作|工作内容|行动|工作安排|实施内容|具体内容|工作重点|重点领域"
)
_NOT_TASK = re.compile(
    r"保障|组织实施|总体要求|指导思想|目标|原则|背景|基础|形势|附则|工作要求|实施步骤|职责"
)
_DUTY_HEADING = re.compile(r"部门职责|职责分工|责任分工|分工负责")

# far above any real plan (a long item is ~2,000 characters): beyond them the input is not a
# plan as published, and refusing it keeps the parser's time bounded
MAX_PLAN_CHARS = 2_000_000
MAX_LINE_CHARS = 100_000
MAX_ITEM_CHARS = 20_000


def check_line_lengths(lines: list[Line], where: str | Path) -> None:
    """PlanInputError for a document over MAX_PLAN_CHARS or a line over MAX_LINE_CHARS."""
    total = sum(len(line.text) for line in lines)
    if total > MAX_PLAN_CHARS:
        raise PlanInputError(
            where,
            f"the document has {total:,} characters; a plan may have at most "
            f"{MAX_PLAN_CHARS:,}. Import the plan's own text (without other documents "
            "attached to it), or split it into several plans",
        )
    for line in lines:
        if len(line.text) > MAX_LINE_CHARS:
            raise PlanInputError(
                where,
                f"line {line.no} is {len(line.text):,} characters long; a plan line may have at "
                f"most {MAX_LINE_CHARS:,}. Save the document with one paragraph per line "
                "(its line breaks may have been lost) and import it again",
                line=line.no,
            )


def check_item_lengths(drafts: list[Draft], where: str | Path) -> None:
    """PlanInputError for an item longer than MAX_ITEM_CHARS, naming its number and line."""
    for draft in drafts:
        if len(draft.body) > MAX_ITEM_CHARS:
            raise PlanInputError(
                where,
                f"item {draft.number} is {len(draft.body):,} characters long; an item may have "
                f"at most {MAX_ITEM_CHARS:,}. Check that every item starts on a line of its own "
                "with its number (1. 2. … or （一）（二）…), or split the item, and import again",
                line=draft.line,
            )


@dataclass
class _Open:
    """The item being collected by the walker."""

    draft: Draft
    parts: list[str] = field(default_factory=list)

    def close(self) -> Draft:
        self.draft.body = "\n".join(p for p in self.parts if p)
        return self.draft


@dataclass
class _Walk:
    tasks: list[Draft] = field(default_factory=list)
    boxes: list[Draft] = field(default_factory=list)
    h2_blocks: list[Draft] = field(default_factory=list)
    loose_items: list[Draft] = field(default_factory=list)
    tables: list[tuple[Table, str]] = field(default_factory=list)
    duty_texts: list[str] = field(default_factory=list)


def _clean_section(title: str) -> str:
    return title.strip().rstrip("。：:")


def walk(nodes: list[Node]) -> _Walk:
    """Collects drafts and tables from the outline (see the module docstring)."""
    out = _Walk()
    sections = ["", "", ""]
    region: int | None = None
    in_annex = False
    in_duty = False
    box: str | None = None
    box_no = ""
    current: _Open | None = None
    current_list: list[Draft] | None = None
    h2_open: _Open | None = None
    caption = ""
    carry = ""  # a heading whose unit note says 下同: handed to the next item

    def close() -> None:
        nonlocal current, current_list
        if current is not None and current_list is not None:
            current_list.append(current.close())
        current, current_list = None, None

    def close_h2() -> None:
        nonlocal h2_open
        if h2_open is not None and region is not None:
            out.h2_blocks.append(h2_open.close())
        h2_open = None

    for node in nodes:
        kind = node.kind
        if kind in ("h0", "h1", "h2") and "下同" in node.text:
            carry = node.text
        if kind in ("h0", "h1"):
            close()
            close_h2()
            level = 0 if kind == "h0" else 1
            if region is not None and level <= region:
                region = None
            title = _clean_section(node.title)
            if region is None and _TASK_HEADING.search(title) and not _NOT_TASK.search(title):
                region = level
            sections[level] = title
            for k in range(level + 1, 3):
                sections[k] = ""
            box = None
            in_annex = False
            in_duty = bool(_DUTY_HEADING.search(title))
            caption = title
            continue
        if kind == "annex":
            close()
            close_h2()
            region, box, in_annex, in_duty = None, None, True, False
            caption = node.title or caption
            continue
        if kind == "h2":
            close()
            close_h2()
            box = None
            sections[2] = _clean_section(node.title)
            in_duty = bool(_DUTY_HEADING.search(node.title))
            if in_duty and node.rest:
                out.duty_texts.append(node.rest)
            if region is not None:
                h2_open = _Open(
                    Draft(
                        "task", node.number, sections[1] or sections[0], node.title, "", node.line
                    ),
                    [node.text[node.text.find(node.title) :] if node.title else node.rest],
                )
            caption = node.title
            continue
        if kind == "box":
            close()
            close_h2()
            box = f"专栏{node.number} {node.title}".strip()
            box_no = node.number
            continue
        if kind == "table" and node.table is not None:
            close()
            out.tables.append((node.table, caption))
            continue
        section = sections[2] or sections[1] or sections[0]
        if kind in ("item", "sub") and box is not None:
            close()
            number = f"{box_no}.{node.number}"
            current = _Open(
                Draft("project", number, box, node.title, "", node.line), [_body(node)]
            )
            current_list = out.boxes
            continue
        if kind == "item" and not in_annex:
            close()
            target = out.tasks if region is not None else out.loose_items
            current = _Open(
                Draft("task", node.number, section, node.title, "", node.line, carry_note=carry),
                [_body(node)],
            )
            current_list = target
            carry = ""
            continue
        text = node.text
        if kind == "para" and plan_meta.ends_item(text):
            if current is not None and current.parts and plan_meta.is_signature(current.parts[-1]):
                current.parts.pop()  # the issuer signing above the date
            close()  # the date the plan was signed ends the item before it
            continue
        if in_duty:
            out.duty_texts.append(text)
        if (
            current is not None
            and kind == "para"
            and current.parts
            and closes_with_unit_note(current.parts[-1])
            and not is_label_line(text)
            and not closes_with_unit_note(text)
        ):
            close()  # the item's unit note closed it: closing prose (各地要…) is no part of it
        if current is not None:
            current.parts.append(text)
        elif h2_open is not None:
            h2_open.parts.append(text)
        elif kind == "para" and len(text) <= 60 and "。" not in text:
            caption = text
    close()
    close_h2()
    return out


def _body(node: Node) -> str:
    """An item's text without its number: title sentence and the rest of the line."""
    match = re.match(r"^\S*?\d+\s*[.、．)）]\s*|^[（(]\d+[）)]\s*|^[①-⑳]\s*", node.text)
    return node.text[match.end() :] if match else node.text


def _table_drafts(table: Table, caption: str, kind: ItemKind) -> list[Draft]:
    """Project (or task) drafts of a non-indicator table; continuation rows merged, a group
    cell (类别 column or a heading row) is the section of the rows under it."""
    roles = table.roles()
    out: list[Draft] = []
    for ordinal, row in enumerate(merged_rows(table), start=1):

        def cell(role: str, cells: list[str] = row.cells) -> str:
            index = roles.get(role)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        number = re.sub(r"[^\dA-Za-z.-]", "", cell("number")) or str(ordinal)
        title, text = cell("title"), cell("text")
        if not title and not text:
            continue
        if not title:
            title = split_title(text)[0]
        units = parse_unit_list(cell("units"), None, row.line)
        units += parse_unit_list(cell("co"), "co", row.line)
        body = text or title
        out.append(
            Draft(
                kind,
                number,
                row.section or caption,
                title,
                body,
                row.line,
                units=units,
                deadline=cell("due"),
            )
        )
    return out


def _names_units(text: str) -> bool:
    return names_units(text)


def _has_units(draft: Draft) -> bool:
    return bool(draft.units or names_units(draft.body))


def _sections_with_units(drafts: list[Draft]) -> list[Draft]:
    """Numbered items outside a task heading: those of the sections where some item names
    units (an item of such a section without units of its own may inherit 下同 or be warned)."""
    sections = {d.section for d in drafts if _has_units(d)}
    return [d for d in drafts if d.section in sections]


def _task_sections(drafts: list[Draft]) -> list[Draft]:
    """Blocks of the task level without the sections that are no tasks: a 保障措施 / 组织实施
    heading whose blocks name no unit (（一）加强组织领导。…)."""
    with_units = {d.section for d in drafts if _has_units(d)}
    return [d for d in drafts if d.section in with_units or not _NOT_TASK.search(d.section)]


def _refs(drafts: list[Draft], prefix: str) -> list[str]:
    """`<prefix><number>` when numbers are unique plain numbers, else ordinals."""
    numbers = [d.number for d in drafts]
    if all(n.isascii() and n.isdigit() for n in numbers) and len(set(numbers)) == len(numbers):
        return [f"{prefix}{int(n)}" for n in numbers]
    return [f"{prefix}{k}" for k in range(1, len(drafts) + 1)]


def parse_lines(
    lines: list[Line],
    *,
    source: str,
    code: str | None = None,
    default_unit: str | None = None,
    directory: UnitDirectory | None = None,
    path: str | Path | None = None,
    year: int | None = None,
    today: date | None = None,
) -> Plan:
    """The plan of numbered source lines. Raises PlanInputError for unusable input.

    `year` (the coordinator's --year) is the year dates without one are read in; `today` (the
    bot's clock, given by the caller: the importer reads no clock) supplies the year when
    neither `year` nor the document names one, with a warning saying so."""
    where = path if path is not None else source
    if directory is None:
        directory = load_unit_directory()
    check_line_lengths(lines, where)
    cleaned = clean_lines(normalize_tables(lines))
    # a web page's index metadata (成文日期 | 2021-03-08) dates the plan when nothing else does
    head = plan_meta.read_meta(
        cleaned,
        source,
        year=year,
        today=today,
        needs_year=needs_year,
        issued=index_metadata_date(lines),
    )
    if head is None:
        raise PlanInputError(
            where,
            "no year: neither the title nor the text names one; give "
            "the plan's year (--year YYYY)",
            field="year",
        )
    ctx = DateContext.for_period(head.start, head.end, head.issued, head.year)
    plan_code, code_note = plan_meta.derive_code(code, head.jurisdiction, source, directory)
    if not plan_meta.valid_code(plan_code):
        raise PlanInputError(
            where, f"plan code {plan_code!r} is not 1-6 ASCII letters/digits", field="code"
        )
    warnings = [ImportWarning(line, note) for line, note in head.notes]
    if code_note:
        warnings.append(ImportWarning(None, code_note))

    nodes = outline(cleaned)
    walked = walk(nodes)
    builder = ItemBuilder(ctx=ctx, directory=directory, jurisdiction=head.jurisdiction)
    if default_unit:
        entry = directory.resolve(default_unit, head.jurisdiction)
        if entry is None:
            warnings.append(
                ImportWarning(
                    None,
                    f"default unit {default_unit!r} is not in the unit directory; kept as written",
                )
            )
        builder.default_unit = UnitRef(entry.name if entry else default_unit, default_unit, "lead")
    duty_units = builder.phrase_units("".join(walked.duty_texts))
    if duty_units:
        builder.duty_lead = duty_units[0]

    task_drafts = walked.tasks
    counts = unit_level(nodes, _names_units)
    best = max(counts, key=lambda kind: (counts[kind], -RANK[kind]), default=None)
    if best is not None and best != "item" and counts[best] > counts.get("item", 0):
        task_drafts = _task_sections(level_drafts(nodes, best, _body))  # units on that level
    if not task_drafts:
        task_drafts = [d for d in walked.h2_blocks if _has_units(d)]
    if not task_drafts:
        task_drafts = _sections_with_units(walked.loose_items)

    project_drafts: list[Draft] = []
    indicators: list[Indicator] = []
    for table, caption in walked.tables:
        if table.is_indicator_table():
            indicators += read_indicators(table, plan_code, ctx, start=len(indicators) + 1)
        elif table.header:
            project_drafts += _table_drafts(table, caption, "project")
    project_drafts += walked.boxes
    if not task_drafts and any(d.units for d in project_drafts):
        task_drafts = [d for d in project_drafts if d.kind == "project"]
        for draft in task_drafts:
            draft.kind = "task"
        project_drafts = []

    if not task_drafts and not project_drafts and not indicators:
        task_drafts = walked.loose_items  # numbered items naming no unit: tasks, warned
    check_item_lengths(task_drafts + project_drafts, where)
    tasks = [
        builder.build(d, r)
        for d, r in zip(task_drafts, _refs(task_drafts, f"{plan_code}-"), strict=True)
    ]
    projects = [
        builder.build(d, r)
        for d, r in zip(project_drafts, _refs(project_drafts, f"{plan_code}-P"), strict=True)
    ]
    if not tasks and not projects and not indicators:
        raise PlanInputError(
            where,
            "no tasks found: no numbered items, 专栏 projects, project tables or indicator tables",
        )
    link_projects(projects, tasks)
    builder.fill_missing(tasks)
    builder.fill_missing(projects)
    for indicator in indicators:
        if builder.default_unit is not None:
            indicator.units = [builder.default_unit]
        elif builder.duty_lead is not None:
            indicator.units = [builder.duty_lead]
            builder.duty_used += 1
        else:
            builder.warnings.append(
                ImportWarning(
                    indicator.line, f"{indicator.ref}: no responsible unit (use --default-unit)"
                )
            )
    if builder.duty_used and builder.duty_lead is not None:
        warnings.append(
            ImportWarning(
                None,
                f"{builder.duty_used} items without units assigned to "
                f"{builder.duty_lead.name} (部门职责 section)",
            )
        )
    warnings += builder.unknown_warnings() + builder.warnings
    info = PlanInfo(
        code=plan_code,
        title=head.title,
        issuer=head.issuer,
        issued=head.issued,
        start=head.start,
        end=head.end,
        source=source,
    )
    return Plan(
        info=info, tasks=tasks, key_projects=projects, indicators=indicators, warnings=warnings
    )


def parse_plan_text(
    text: str,
    *,
    source: str,
    code: str | None = None,
    default_unit: str | None = None,
    directory: UnitDirectory | None = None,
    year: int | None = None,
    today: date | None = None,
) -> Plan:
    """The plan of a document's text; `source` names it in the plan and in errors (`year`,
    `today`: see `parse_lines`)."""
    return parse_lines(
        split_lines(text),
        source=source,
        code=code,
        default_unit=default_unit,
        directory=directory,
        year=year,
        today=today,
    )
