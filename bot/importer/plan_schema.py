"""The schema of a reviewed plan file (`tasks_data/plans/<code>.yaml`) as pydantic models.

`check_plan(data)` validates the plain data read from the YAML node tree (dates still ISO
strings) and returns the first problem as `(field, message)`, the field written the way
`bot.importer.yaml_io` reports it (`tasks[3].milestones[0].due`), or None when the data is a
plan. The models only validate: `bot.core.plan.plan_from_dict` builds the Plan. Unknown keys are
ignored, as they always were.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.core.plan import NATURES


def _problem(message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError("plan_file", message, ctx or None)


def _text(value: Any) -> Any:
    if isinstance(value, dict | list):
        raise _problem("expected text")
    return value


def _required_text(value: Any) -> Any:
    if value is None or value == "" or isinstance(value, dict | list):
        raise _problem("expected a non-empty string")
    return value


def _iso_date(value: Any) -> Any:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        raise _problem(f"expected a date YYYY-MM-DD, got {value!r}") from None
    return value


def _optional_date(value: Any) -> Any:
    return None if value is None else _iso_date(value)


def _listing(value: Any) -> Any:
    return [] if value is None else value


Text = Annotated[Any, BeforeValidator(_text)]
RequiredText = Annotated[Any, BeforeValidator(_required_text)]
IsoDate = Annotated[Any, BeforeValidator(_iso_date)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class UnitSchema(_Model):
    name: RequiredText
    role: Any = "lead"

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: Any) -> Any:
        if value not in ("lead", "co"):
            raise _problem("expected lead or co")
        return value


class MilestoneSchema(_Model):
    due: IsoDate
    phrase: Text = None
    target: Text = None


Units = Annotated[list[UnitSchema], BeforeValidator(_listing)]
Milestones = Annotated[list[MilestoneSchema], BeforeValidator(_listing)]


class ItemSchema(_Model):
    """A task or a key project."""

    ref: RequiredText
    number: Text = None
    section: Text = None
    title: Text
    text: Text = None
    task_ref: Text = None
    units: Units = Field(default_factory=list)
    milestones: Milestones = Field(default_factory=list)
    recurrence: Annotated[list[RequiredText], BeforeValidator(_listing)] = Field(
        default_factory=list
    )


class IndicatorSchema(_Model):
    ref: RequiredText
    number: Text = None
    domain: Text = None
    name: Text
    unit: Text = None
    baseline: Text = None
    target: Text = None
    parent: Text = None
    nature: Any = NATURES[0]
    binding: Any = False
    units: Units = Field(default_factory=list)
    milestones: Milestones = Field(default_factory=list)

    @field_validator("nature", mode="before")
    @classmethod
    def _nature(cls, value: Any) -> Any:
        if value not in NATURES:
            raise _problem(f"expected one of {', '.join(NATURES)}")
        return value

    @field_validator("binding", mode="before")
    @classmethod
    def _binding(cls, value: Any) -> Any:
        if not isinstance(value, bool):
            raise _problem("expected true or false")
        return value


class PeriodSchema(_Model):
    start: IsoDate
    end: IsoDate

    @model_validator(mode="after")
    def _ordered(self) -> PeriodSchema:
        if str(self.start) > str(self.end):
            raise _problem("start is after end")
        return self


class PlanHeadSchema(_Model):
    code: RequiredText
    title: Text = None
    issuer: Text = None
    source: Text = None
    issued: Annotated[Any, BeforeValidator(_optional_date)] = None
    period: PeriodSchema


class WarningSchema(_Model):
    message: Any
    line: Any = None

    @field_validator("line", mode="before")
    @classmethod
    def _line(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, int):
            raise _problem("expected a line number or null")
        return value


class PlanFileSchema(_Model):
    plan: PlanHeadSchema
    tasks: Annotated[list[ItemSchema], BeforeValidator(_listing)] = Field(default_factory=list)
    key_projects: Annotated[list[ItemSchema], BeforeValidator(_listing)] = Field(
        default_factory=list
    )
    indicators: Annotated[list[IndicatorSchema], BeforeValidator(_listing)] = Field(
        default_factory=list
    )
    warnings: Annotated[list[WarningSchema], BeforeValidator(_listing)] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _unique_refs(self) -> PlanFileSchema:
        refs: dict[str, str] = {}
        sections: list[tuple[str, list[Any]]] = [
            ("tasks", self.tasks),
            ("key_projects", self.key_projects),
            ("indicators", self.indicators),
        ]
        for key, entries in sections:
            for i, entry in enumerate(entries):
                where, ref = f"{key}[{i}]", str(entry.ref)
                if ref in refs:
                    raise _problem(
                        f"duplicate ref {ref!r} (also {refs[ref]})", field=f"{where}.ref"
                    )
                refs[ref] = where
        return self


_GENERIC = {
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "dict_type": "expected a mapping",
    "list_type": "expected a list",
}


def field_path(loc: tuple[int | str, ...]) -> str:
    """('tasks', 3, 'milestones', 0, 'due') → 'tasks[3].milestones[0].due'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def check_plan(data: Any) -> tuple[str, str] | None:
    """None if `data` is a plan, else the first problem: (field, message)."""
    try:
        PlanFileSchema.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(error["loc"])
        ctx = error.get("ctx") or {}
        if error["type"] == "missing":
            return field_path(loc[:-1]), f"missing field {loc[-1]!r}"
        if "field" in ctx:
            return str(ctx["field"]), error["msg"]
        return field_path(loc), _GENERIC.get(error["type"], error["msg"])
    return None
