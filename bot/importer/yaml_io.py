"""Reviewed plans as YAML: `tasks_data/plans/<code>.yaml`, the dict form of `plan_to_dict`.

`write_plan_yaml(plan, path)` writes it (warnings included, one text per line, UTF-8; the writer
is bot.importer.yaml_emit), atomically:
a temporary file in the same folder, flushed to disk, then renamed over the old one, so a crash
or a full disk leaves either the old plan or the new one, never a truncated file.
`read_plan_yaml(path)` validates the data with the models of `bot.importer.plan_schema`, then
builds the `Plan`: the data of a file as the writer writes it comes from bot.importer.yaml_fast
(~5× faster than libyaml, and it lets other threads run); any other file, and any file with a
problem, is composed by PyYAML (libyaml's parser when installed), so an error names the file,
the line and the field (`tasks[3].milestones[0].due`).
`read_plans_dir(dir)` reads every `*.yaml` of a directory (sorted), refusing duplicate codes.
`plan_files(dir)` maps the plan code of each `*.yaml` to its file, reading only the file heads.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bot.core.plan import Plan, plan_from_dict, plan_to_dict
from bot.importer import yaml_emit, yaml_fast
from bot.importer.errors import PlanInputError
from bot.importer.plan_schema import check_plan
from bot.importer.yaml_fast import scalar_value

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when installed
_HEADER = (
    "# Reviewed plan for 督办助手 (schema: bot.core.plan.plan_to_dict).\n"
    "# Produced by `python -m bot import`; edit by hand only to correct the importer.\n"
)
Marks = dict[str, int]


def write_plan_yaml(plan: Plan, path: Path) -> None:
    """Writes `plan` as YAML (directories created as needed), atomically (module docstring)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, plan_yaml(plan))


def plan_yaml(plan: Plan) -> bytes:
    """The file's content: the header, then `plan_to_dict(plan)` in block style
    (bot.importer.yaml_emit: the layout `yaml.dump` gives, ~12× faster)."""
    return (_HEADER + yaml_emit.dump(plan_to_dict(plan))).encode("utf-8")


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
    return scalar_value(node.tag.rsplit(":", 1)[-1], node.value)


def _located(path: Path, marks: Marks, field: str, message: str) -> PlanInputError:
    """The error at `field`, on the line of the nearest enclosing field the file has."""
    line = marks.get(field)
    while line is None and field:
        parent = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", field)
        if parent == field:
            break
        field = parent
        line = marks.get(field)
    return PlanInputError(path, message, line=line, field=field or None)


class NeedsPyYAML(Exception):
    """A plan file over the caller's `slow_limit` that only PyYAML reads (hand-edited beyond
    what the writer writes, or with a problem to locate): libyaml would hold the GIL for long."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


_SECTIONS = ("tasks", "key_projects", "indicators", "warnings")
_CHECKED = 100  # entries validated per call: pydantic holds the GIL for a whole call


def _valid(data: Any) -> bool:
    """`check_plan(data) is None`, validated a slice of entries at a time so that a thread doing
    it lets the event loop run (each call ~1 ms); refs unique across the slices."""
    if not isinstance(data, dict) or any(
        not isinstance(data.get(k), list | None) for k in _SECTIONS
    ):
        return check_plan(data) is None
    head = {k: v for k, v in data.items() if k not in _SECTIONS}
    if check_plan(head) is not None:
        return False
    refs: list[str] = []
    for key in _SECTIONS:
        entries = data.get(key) or []
        for start in range(0, len(entries), _CHECKED):
            if check_plan({**head, key: entries[start : start + _CHECKED]}) is not None:
                return False
        if key != "warnings":
            refs += [str(entry["ref"]) for entry in entries]
    return len(set(refs)) == len(refs)


def read_plan_yaml(path: Path, *, slow_limit: int | None = None) -> Plan:
    """The plan of a reviewed YAML file; PlanInputError (file, line, field) if it is not one.
    With `slow_limit`: NeedsPyYAML instead of composing a longer text with PyYAML."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanInputError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanInputError(path, f"unreadable file ({exc.__class__.__name__})") from None
    data = yaml_fast.read(text)  # what the writer writes; None: anything else
    if data is not None and _valid(data):
        return plan_from_dict(data)
    if slow_limit is not None and len(text) > slow_limit:
        raise NeedsPyYAML(path)
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
    problem = check_plan(data)
    if problem is not None:
        raise _located(path, marks, *problem)
    return plan_from_dict(data)


def read_plans_dir(directory: Path, *, slow_limit: int | None = None) -> list[Plan]:
    """Every plan of `directory/*.yaml` in file-name order; duplicate codes are an error.
    `slow_limit`: see read_plan_yaml."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PlanInputError(directory, "not a directory")
    plans: list[Plan] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.yaml")):
        plan = read_plan_yaml(path, slow_limit=slow_limit)
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


def _head_code(path: Path) -> str | None:
    """The plan code a YAML file declares in its first lines (upper case), or None."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = [next(handle, "") for _ in range(_HEAD_LINES)]
    except OSError:
        return None
    for line in head:
        match = _HEAD_CODE.match(line.rstrip("\n"))
        if match:
            return match.group(1).upper()
    return None


def plan_files(directory: Path) -> dict[str, Path]:
    """Plan code → its YAML file in `directory`, from the first lines of each file (the `plan:`
    mapping comes first in what `write_plan_yaml` writes); files without one are left out."""
    directory = Path(directory)
    found: dict[str, Path] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.yaml")):
        code = _head_code(path)
        if code is not None:
            found.setdefault(code, path)
    return found


def plan_file(directory: Path, code: str) -> Path | None:
    """The YAML file of plan `code` in `directory`: the file named after the code (as uploads
    and `python -m bot import` name it: `sr.yaml`) when it declares that code, else the one
    `plan_files` finds; reads one file head instead of every file's when the name fits."""
    directory = Path(directory)
    wanted = code.strip().upper()
    for name in (f"{wanted.lower()}.yaml", f"{wanted}.yaml"):
        path = directory / name
        if path.is_file() and _head_code(path) == wanted:
            return path
    return plan_files(directory).get(wanted)
