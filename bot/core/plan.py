"""The plan as the importer reads it and as `tasks_data/*.yaml` stores it.

Plain dataclasses, no I/O. The importer produces a `Plan`; the loader turns it into rows; the
YAML and JSON forms are `plan_to_dict` / `plan_from_dict` (field names are a public contract:
`python -m bot import --json` prints exactly these).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Role = Literal["lead", "co"]
ItemKind = Literal["task", "project", "indicator"]
NATURES = ("预期性", "约束性")


@dataclass(frozen=True)
class UnitRef:
    """One responsible unit of an item: `name` is canonical (unit directory), `as_written`
    the plan's text; the lead unit (牵头) answers for the milestone, co-units (配合) report."""

    name: str
    as_written: str
    role: Role = "lead"


@dataclass(frozen=True)
class Milestone:
    """A due date with its own target. `phrase` is the date phrase as written ("2024年底"),
    empty when the plan gives no date and the plan's last day was used."""

    due: date
    phrase: str = ""
    target: str = ""


@dataclass
class Item:
    """A numbered key task (重点任务) or key project (重点项目 / 专栏 project).

    `ref` is short, ASCII, stable across re-imports and easy to type (`SR-12`, `SR-P12`).
    `task_ref` links a key project to the key task it belongs to, when one matches.
    """

    ref: str
    number: str
    section: str
    title: str
    text: str
    units: list[UnitRef] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    recurrence: list[str] = field(default_factory=list)
    kind: ItemKind = "task"
    task_ref: str | None = None
    line: int | None = None  # 1-based line of the source where the item starts


@dataclass
class Indicator:
    """A row of the plan's indicator table (指标体系). Tracked like an item: `units` and
    `milestones` (normally one, at the plan's last day, with the target) make assignments."""

    ref: str
    number: str
    domain: str
    name: str
    unit: str  # measurement unit, e.g. "%", "张", "人"
    baseline: str
    target: str
    nature: str  # 预期性 | 约束性
    binding: bool
    units: list[UnitRef] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    parent: str | None = None  # ref of the indicator this 其中-row belongs to
    line: int | None = None


@dataclass(frozen=True)
class PlanInfo:
    code: str
    title: str
    issuer: str
    issued: date | None
    start: date
    end: date
    source: str


@dataclass(frozen=True)
class ImportWarning:
    line: int | None
    message: str


@dataclass
class Plan:
    info: PlanInfo
    tasks: list[Item] = field(default_factory=list)
    key_projects: list[Item] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)

    def items(self) -> list[Item | Indicator]:
        """Everything a unit can be assigned: tasks, key projects, indicators."""
        return [*self.tasks, *self.key_projects, *self.indicators]


# --- the dict form (JSON output and YAML files) -------------------------------------------


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _units_to_list(units: list[UnitRef]) -> list[dict[str, str]]:
    return [{"name": u.name, "as_written": u.as_written, "role": u.role} for u in units]


def _milestones_to_list(milestones: list[Milestone]) -> list[dict[str, str]]:
    return [{"due": m.due.isoformat(), "phrase": m.phrase, "target": m.target} for m in milestones]


def item_to_dict(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ref": item.ref,
        "number": item.number,
        "section": item.section,
        "title": item.title,
        "text": item.text,
        "units": _units_to_list(item.units),
        "milestones": _milestones_to_list(item.milestones),
        "recurrence": list(item.recurrence),
    }
    if item.kind == "project":
        out["task_ref"] = item.task_ref
    return out


def indicator_to_dict(ind: Indicator) -> dict[str, Any]:
    return {
        "ref": ind.ref,
        "number": ind.number,
        "domain": ind.domain,
        "name": ind.name,
        "unit": ind.unit,
        "baseline": ind.baseline,
        "target": ind.target,
        "nature": ind.nature,
        "binding": ind.binding,
        "parent": ind.parent,
        "units": _units_to_list(ind.units),
        "milestones": _milestones_to_list(ind.milestones),
    }


def plan_to_dict(plan: Plan, *, with_warnings: bool = True) -> dict[str, Any]:
    info = plan.info
    out: dict[str, Any] = {
        "plan": {
            "code": info.code,
            "title": info.title,
            "issuer": info.issuer,
            "issued": _iso(info.issued),
            "period": {"start": info.start.isoformat(), "end": info.end.isoformat()},
            "source": info.source,
        },
        "tasks": [item_to_dict(t) for t in plan.tasks],
        "key_projects": [item_to_dict(p) for p in plan.key_projects],
        "indicators": [indicator_to_dict(i) for i in plan.indicators],
    }
    if with_warnings:
        out["warnings"] = [{"line": w.line, "message": w.message} for w in plan.warnings]
    return out


# --- back from the dict form -----------------------------------------------------------------


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _units_from(rows: list[dict[str, Any]] | None) -> list[UnitRef]:
    return [
        UnitRef(
            name=str(r["name"]),
            as_written=str(r.get("as_written") or r["name"]),
            role="co" if r.get("role") == "co" else "lead",
        )
        for r in rows or []
    ]


def _milestones_from(rows: list[dict[str, Any]] | None) -> list[Milestone]:
    return [
        Milestone(
            due=_date(r["due"]),
            phrase=str(r.get("phrase") or ""),
            target=str(r.get("target") or ""),
        )
        for r in rows or []
    ]


def item_from_dict(data: dict[str, Any], kind: ItemKind) -> Item:
    return Item(
        ref=str(data["ref"]),
        number=str(data.get("number") or ""),
        section=str(data.get("section") or ""),
        title=str(data.get("title") or ""),
        text=str(data.get("text") or ""),
        units=_units_from(data.get("units")),
        milestones=_milestones_from(data.get("milestones")),
        recurrence=[str(r) for r in data.get("recurrence") or []],
        kind=kind,
        task_ref=data.get("task_ref") if kind == "project" else None,
    )


def indicator_from_dict(data: dict[str, Any]) -> Indicator:
    return Indicator(
        ref=str(data["ref"]),
        number=str(data.get("number") or ""),
        domain=str(data.get("domain") or ""),
        name=str(data.get("name") or ""),
        unit=str(data.get("unit") or ""),
        baseline=str(data.get("baseline") or ""),
        target=str(data.get("target") or ""),
        nature=str(data.get("nature") or "预期性"),
        binding=bool(data.get("binding", False)),
        units=_units_from(data.get("units")),
        milestones=_milestones_from(data.get("milestones")),
        parent=data.get("parent"),
    )


def plan_from_dict(data: dict[str, Any]) -> Plan:
    """The inverse of `plan_to_dict` (dates may be ISO strings or `date`s). Trusts the shape:
    validate first (`bot.importer.yaml_io.read_plan_yaml` does) when the dict comes from a file."""
    head = data["plan"]
    period = head["period"]
    issued = head.get("issued")
    info = PlanInfo(
        code=str(head["code"]),
        title=str(head.get("title") or ""),
        issuer=str(head.get("issuer") or ""),
        issued=_date(issued) if issued else None,
        start=_date(period["start"]),
        end=_date(period["end"]),
        source=str(head.get("source") or ""),
    )
    return Plan(
        info=info,
        tasks=[item_from_dict(t, "task") for t in data.get("tasks") or []],
        key_projects=[item_from_dict(p, "project") for p in data.get("key_projects") or []],
        indicators=[indicator_from_dict(i) for i in data.get("indicators") or []],
        warnings=[
            ImportWarning(line=w.get("line"), message=str(w.get("message") or ""))
            for w in data.get("warnings") or []
        ],
    )
