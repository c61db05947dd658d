"""Indicator tables (指标体系) → `Indicator`s.

Columns are found by their headers (领域, 序号, 指标, 2020年/基期值, 2025年/目标值, 指标性质).
A row without a number is a sub-indicator of the previous numbered one when it has its own
name and target (the 其中 row: ref `NC-I11a`, parent `NC-I11`), else a continuation of it.
An empty 领域 cell repeats the one above. `*` or 约束 in the nature (or name) means binding.
Each indicator gets one milestone: the target year's end (else the plan's last day).
"""

from __future__ import annotations

import re
from datetime import date

from bot.core.plan import Indicator, Milestone
from bot.importer.dates import DateContext
from bot.importer.tables import Table

_NAME_UNIT = re.compile(r"^(?P<name>.*?)\s*[（(](?P<unit>[^（()）]{1,12})[)）]\s*$")


def split_name(cell: str) -> tuple[str, str]:
    """'人均期望寿命（岁）' → ('人均期望寿命', '岁'); '其中：…' loses its 其中."""
    cell = re.sub(r"^其中\s*[:：,，]?\s*", "", cell.strip()).rstrip("*").strip()
    match = _NAME_UNIT.match(cell)
    if match and match.group("name"):
        return match.group("name").strip(), match.group("unit").strip()
    return cell, ""


def _nature(cell: str, name: str) -> tuple[str, bool]:
    binding = "约束" in cell or "*" in cell or name.rstrip().endswith("*")
    cleaned = cell.replace("*", "").strip()
    if "约束" in cleaned:
        return "约束性", True
    if "预期" in cleaned:
        return "预期性", binding
    return ("约束性" if binding else (cleaned or "预期性")), binding


def _due(header: str, ctx: DateContext) -> tuple[date, str]:
    year = re.search(r"(?:19|20)\d{2}", header)
    if year and ctx.start.year <= int(year.group(0)) <= ctx.latest.year:
        return date(int(year.group(0)), 12, 31), f"{year.group(0)}年"
    return ctx.end, ""


def read_indicators(table: Table, code: str, ctx: DateContext, start: int = 1) -> list[Indicator]:
    """The indicators of one table; refs `<code>-I<number>`, sub-rows get a letter."""
    roles = table.roles()
    col = {
        role: roles.get(role)
        for role in ("number", "domain", "name", "baseline", "target", "nature")
    }

    def cell(row: list[str], role: str) -> str:
        index = col[role]
        return row[index].strip() if index is not None and index < len(row) else ""

    due, phrase = _due(table.header[col["target"]] if col["target"] is not None else "", ctx)
    out: list[Indicator] = []
    domain = ""
    parent: Indicator | None = None
    subs = 0
    ordinal = start
    for line, row in zip(table.lines, table.rows, strict=True):
        domain = cell(row, "domain") or domain
        raw_name = cell(row, "name")
        number = re.sub(r"\D", "", cell(row, "number"))
        if not raw_name:
            continue
        if not number and parent is not None and not (cell(row, "target") or "其中" in raw_name):
            parent.name += raw_name  # a name broken over two rows
            continue
        name, unit = split_name(raw_name)
        nature, binding = _nature(cell(row, "nature"), raw_name)
        if number or parent is None:
            number = number or str(ordinal)
            ref = f"{code}-I{number}"
            parent_ref = None
            subs = 0
        else:
            subs += 1
            number = f"{parent.number}{chr(ord('a') + min(subs - 1, 25))}"
            ref = f"{code}-I{number}"
            parent_ref = parent.ref
        target = cell(row, "target")
        indicator = Indicator(
            ref=ref,
            number=number,
            domain=domain,
            name=name,
            unit=unit,
            baseline=cell(row, "baseline"),
            target=target,
            nature=nature,
            binding=binding,
            milestones=[Milestone(due=due, phrase=phrase, target=f"{raw_name}：{target}")],
            parent=parent_ref,
            line=line,
        )
        out.append(indicator)
        if parent_ref is None:
            parent = indicator
            ordinal += 1
    return out
