"""Reviewed plans as YAML: `tasks_data/plans/<code>.yaml`, the dict form of `plan_to_dict`.

`write_plan_yaml(plan, path)` writes it (warnings included, one text per line, UTF-8), atomically:
a temporary file in the same folder, flushed to disk, then renamed over the old one, so a crash
or a full disk leaves either the old plan or the new one, never a truncated file.
`read_plan_yaml(path)` validates the schema on the YAML node tree, so an error names the file,
the line and the field (`tasks[3].milestones[0].due`), then builds the `Plan`.
`read_plans_dir(dir)` reads every `*.yaml` of a directory (sorted), refusing duplicate codes.
`plan_files(dir)` maps the plan code of each `*.yaml` to its file, reading only the file heads.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.core.plan import NATURES, Plan, plan_from_dict, plan_to_dict
from bot.importer.errors import PlanInputError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_HEADER = (
    "# Reviewed plan for 督办助手 (schema: bot.core.plan.plan_to_dict).\n"
    "# Produced by `python -m bot import`; edit by hand only to correct the importer.\n"
)
_INT = re.compile(r"^[-+]?\d+$")
Marks = dict[str, int]


def write_plan_yaml(plan: Plan, path: Path) -> None:
    """Writes `plan` as YAML (directories created as needed), atomically (module docstring)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(
        plan_to_dict(plan),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=4096,
        default_flow_style=False,
    )
    write_atomically(path, (_HEADER + text).encode("utf-8"))


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` by `data`: temp file in the same folder + fsync + os.replace + fsync of
    the folder. On any error the old file is untouched and the temp file removed."""
    path = Path(path)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(OSError):  # keep the old file's permissions
            os.chmod(temp, path.stat().st_mode & 0o7777 if path.exists() else 0o644)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _plain(node: yaml.Node, field: str, marks: Marks) -> Any:
    """Node tree → Python (dates stay ISO strings), recording each field's line in `marks`."""
    marks[field] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            out[key] = _plain(value_node, f"{field}.{key}" if field else key, marks)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v, f"{field}[{i}]", marks) for i, v in enumerate(node.value)]
    value = node.value
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "null":
        return None
    if tag == "bool":
        return value.lower() in ("true", "yes", "on")
    if tag == "int" and _INT.match(value):
        return int(value)
    return value


class _Check:
    """Schema checks that raise PlanInputError with file, line and field."""

    def __init__(self, path: Path, marks: Marks) -> None:
        self.path = path
        self.marks = marks

    def fail(self, field: str, message: str) -> PlanInputError:
        line = self.marks.get(field)
        while line is None and field:
            field_parent = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", field)
            if field_parent == field:
                break
            field = field_parent
            line = self.marks.get(field)
        return PlanInputError(self.path, message, line=line, field=field or None)

    def mapping(self, value: Any, field: str, required: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field, "expected a mapping")
        for key in required:
            if key not in value:
                raise self.fail(field, f"missing field {key!r}")
        return value

    def listing(self, value: Any, field: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(field, "expected a list")
        return value

    def text(self, value: Any, field: str, *, required: bool = False) -> None:
        if value is None and not required:
            return
        if isinstance(value, dict | list) or (required and (value is None or value == "")):
            raise self.fail(field, "expected a non-empty string" if required else "expected text")

    def iso_date(self, value: Any, field: str, *, nullable: bool = False) -> None:
        if value is None and nullable:
            return
        try:
            date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(field, f"expected a date YYYY-MM-DD, got {value!r}") from None

    def units(self, value: Any, field: str) -> None:
        for i, unit in enumerate(self.listing(value, field)):
            where = f"{field}[{i}]"
            self.mapping(unit, where, ("name",))
            self.text(unit["name"], f"{where}.name", required=True)
            if unit.get("role", "lead") not in ("lead", "co"):
                raise self.fail(f"{where}.role", "expected lead or co")

    def milestones(self, value: Any, field: str) -> None:
        for i, milestone in enumerate(self.listing(value, field)):
            where = f"{field}[{i}]"
            self.mapping(milestone, where, ("due",))
            self.iso_date(milestone["due"], f"{where}.due")
            self.text(milestone.get("phrase"), f"{where}.phrase")
            self.text(milestone.get("target"), f"{where}.target")

    def item(self, value: Any, field: str) -> str:
        self.mapping(value, field, ("ref", "title"))
        self.text(value["ref"], f"{field}.ref", required=True)
        for key in ("number", "section", "title", "text", "task_ref"):
            self.text(value.get(key), f"{field}.{key}")
        self.units(value.get("units"), f"{field}.units")
        self.milestones(value.get("milestones"), f"{field}.milestones")
        for i, word in enumerate(self.listing(value.get("recurrence"), f"{field}.recurrence")):
            self.text(word, f"{field}.recurrence[{i}]", required=True)
        return str(value["ref"])

    def indicator(self, value: Any, field: str) -> str:
        self.mapping(value, field, ("ref", "name"))
        self.text(value["ref"], f"{field}.ref", required=True)
        for key in ("number", "domain", "name", "unit", "baseline", "target", "parent"):
            self.text(value.get(key), f"{field}.{key}")
        if value.get("nature", "预期性") not in NATURES:
            raise self.fail(f"{field}.nature", f"expected one of {', '.join(NATURES)}")
        if not isinstance(value.get("binding", False), bool):
            raise self.fail(f"{field}.binding", "expected true or false")
        self.units(value.get("units"), f"{field}.units")
        self.milestones(value.get("milestones"), f"{field}.milestones")
        return str(value["ref"])

    def plan(self, data: Any) -> None:
        self.mapping(data, "", ("plan",))
        head = self.mapping(data["plan"], "plan", ("code", "period"))
        self.text(head["code"], "plan.code", required=True)
        for key in ("title", "issuer", "source"):
            self.text(head.get(key), f"plan.{key}")
        self.iso_date(head.get("issued"), "plan.issued", nullable=True)
        period = self.mapping(head["period"], "plan.period", ("start", "end"))
        self.iso_date(period["start"], "plan.period.start")
        self.iso_date(period["end"], "plan.period.end")
        if str(period["start"]) > str(period["end"]):
            raise self.fail("plan.period", "start is after end")
        refs: dict[str, str] = {}

        def unique(ref: str, where: str) -> None:
            if ref in refs:
                raise self.fail(f"{where}.ref", f"duplicate ref {ref!r} (also {refs[ref]})")
            refs[ref] = where

        for key in ("tasks", "key_projects"):
            for i, item in enumerate(self.listing(data.get(key), key)):
                unique(self.item(item, f"{key}[{i}]"), f"{key}[{i}]")
        for i, ind in enumerate(self.listing(data.get("indicators"), "indicators")):
            unique(self.indicator(ind, f"indicators[{i}]"), f"indicators[{i}]")
        for i, warning in enumerate(self.listing(data.get("warnings"), "warnings")):
            self.mapping(warning, f"warnings[{i}]", ("message",))
            line = warning.get("line")
            if line is not None and not isinstance(line, int):
                raise self.fail(f"warnings[{i}].line", "expected a line number or null")


def read_plan_yaml(path: Path) -> Plan:
    """The plan of a reviewed YAML file; PlanInputError (file, line, field) if it is not one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanInputError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanInputError(path, f"unreadable file ({exc.__class__.__name__})") from None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise PlanInputError(
            path, f"invalid YAML: {problem}", line=mark.line + 1 if mark else None
        ) from None
    if node is None:
        raise PlanInputError(path, "empty file: expected a plan")
    marks: Marks = {}
    data = _plain(node, "", marks)
    _Check(path, marks).plan(data)
    return plan_from_dict(data)


def read_plans_dir(directory: Path) -> list[Plan]:
    """Every plan of `directory/*.yaml` in file-name order; duplicate codes are an error."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PlanInputError(directory, "not a directory")
    plans: list[Plan] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.yaml")):
        plan = read_plan_yaml(path)
        if plan.info.code in seen:
            raise PlanInputError(
                path,
                f"plan code {plan.info.code!r} already used by {seen[plan.info.code].name}",
                field="plan.code",
            )
        seen[plan.info.code] = path
        plans.append(plan)
    return plans


_HEAD_CODE = re.compile(r"^\s+code:\s*['\"]?([A-Za-z0-9]+)['\"]?\s*$")
_HEAD_LINES = 40


def plan_files(directory: Path) -> dict[str, Path]:
    """Plan code → its YAML file in `directory`, from the first lines of each file (the `plan:`
    mapping comes first in what `write_plan_yaml` writes); files without one are left out."""
    directory = Path(directory)
    found: dict[str, Path] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.yaml")):
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                head = [next(handle, "") for _ in range(_HEAD_LINES)]
        except OSError:
            continue
        for line in head:
            match = _HEAD_CODE.match(line.rstrip("\n"))
            if match:
                found.setdefault(match.group(1).upper(), path)
                break
    return found
