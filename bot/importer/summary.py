"""A plan summary for a coordinator reviewing an import before loading it (text, no I/O)."""

from __future__ import annotations

from collections import Counter

from bot.core.plan import Plan


def unit_names(plan: Plan) -> list[str]:
    """Distinct canonical unit names of all items, in first-seen order."""
    seen: dict[str, None] = {}
    for item in plan.items():
        for unit in item.units:
            seen.setdefault(unit.name, None)
    return list(seen)


def milestones_per_year(plan: Plan) -> dict[int, int]:
    counts = Counter(m.due.year for item in plan.items() for m in item.milestones)
    return dict(sorted(counts.items()))


def implied_deadlines(plan: Plan) -> int:
    """Tasks and key projects whose only due date is the plan's end, the document naming none
    (their milestones carry no date phrase)."""
    return sum(
        1
        for item in plan.tasks + plan.key_projects
        if item.milestones and not any(m.phrase for m in item.milestones)
    )


def dated_items(plan: Plan) -> int:
    """Items with at least one date phrase of their own."""
    return sum(1 for item in plan.items() if any(m.phrase for m in item.milestones))


def recurring_items(plan: Plan) -> int:
    """Tasks and key projects that are standing duties (periodic reports)."""
    return sum(1 for item in plan.tasks + plan.key_projects if item.recurrence)


def render_summary(plan: Plan, *, max_warnings: int = 20) -> str:
    """Counts of tasks, projects, indicators, units, milestones per year, then warnings."""
    info = plan.info
    issued = info.issued.isoformat() if info.issued else "unknown"
    lines = [
        f"{info.code}  {info.title}",
        f"  issuer: {info.issuer or 'unknown'}   issued: {issued}   "
        f"period: {info.start.isoformat()} .. {info.end.isoformat()}   source: {info.source}",
        f"  tasks: {len(plan.tasks)}   key projects: {len(plan.key_projects)}   "
        f"indicators: {len(plan.indicators)}",
    ]
    units = unit_names(plan)
    shown = "、".join(units[:8]) + (" …" if len(units) > 8 else "")
    lines.append(f"  units: {len(units)}" + (f"  ({shown})" if units else ""))
    per_year = milestones_per_year(plan)
    lines.append("  milestones per year: " + ", ".join(f"{y}: {n}" for y, n in per_year.items()))
    implied = implied_deadlines(plan)
    if implied:
        lines.append(
            f"  {implied} items have no deadline of their own: plan end "
            f"{info.end.isoformat()} used"
        )
    recurring = recurring_items(plan)
    if recurring:
        lines.append(f"  recurring duties: {recurring} items")
    lines.append(f"  warnings: {len(plan.warnings)}")
    for warning in plan.warnings[:max_warnings]:
        where = f"line {warning.line}: " if warning.line else ""
        lines.append(f"    - {where}{warning.message}")
    if len(plan.warnings) > max_warnings:
        lines.append(f"    … and {len(plan.warnings) - max_warnings} more")
    return "\n".join(lines)
