"""A coordinator uploads a plan document: check it, run the importer (in a child process, see
bot.services.parse_runner), summarise what was found, and on confirm write the reviewed YAML to
`tasks_data/plans/` (so the next start loads it again) and load it into the ledger.

Replacing a plan is never silent: `parse_upload` is told which plan codes are taken (in the
database or in tasks_data/plans) and, unless the coordinator asked to replace one, gives the
plan the first free code after the taken one (SR → SR2); `commit_plan` refuses to load over an
existing plan without `replace=True`. The review itself (options, pending uploads) is
bot.services.import_review.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.plan import Plan
from bot.importer import PlanInputError, import_plan, reader
from bot.importer.meta import valid_code
from bot.importer.summary import (
    dated_items,
    implied_deadlines,
    milestones_per_year,
    recurring_items,
    unit_names,
)
from bot.importer.yaml_io import plan_file, plan_files, write_atomically, write_plan_yaml
from bot.services.errors import ServiceError
from bot.storage import models
from bot.storage.loader import PlanLoadResult, load_plans

MAX_BYTES = 5 * 1024 * 1024
MAX_CODE = 6  # bot.importer.meta.valid_code: 1-6 ASCII letters / digits


def suffixes() -> tuple[str, ...]:
    """The file suffixes /import accepts: what the importer's reader reads, or answers "save it
    as …" for."""
    return (*reader.SUPPORTED, *reader.SAVE_AS)


def readable_suffixes() -> tuple[str, ...]:
    """The formats to name to a coordinator: those the importer reads."""
    return tuple(reader.SUPPORTED)


def check_upload(file_name: str | None, size: int | None, *, limit: int = MAX_BYTES) -> str:
    """The file's suffix when it can be imported. Codes: unsupported_plan_file (param
    suffixes), plan_file_too_large (param mb)."""
    suffix = Path(file_name or "").suffix.lower()
    if suffix not in suffixes():
        raise ServiceError(
            "unsupported_plan_file", name=file_name or "", suffixes=" ".join(readable_suffixes())
        )
    if size is not None and size > limit:
        raise ServiceError("plan_file_too_large", mb=limit // (1024 * 1024))
    return suffix


@dataclass(frozen=True)
class ImportOptions:
    """What the coordinator chose for one upload; None: what the text says."""

    code: str | None = None
    year: int | None = None
    default_unit: str | None = None
    replace: bool = False  # load over the existing plan of the same code

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ImportOptions:
        data = data or {}
        year = data.get("year")
        return cls(
            code=data.get("code") or None,
            year=int(year) if year is not None else None,
            default_unit=data.get("default_unit") or None,
            replace=bool(data.get("replace", False)),
        )


@dataclass(frozen=True)
class ParsedUpload:
    """The importer's plan, and the code the text led to when it was taken by another plan
    (the plan then got `plan.info.code`, a free one)."""

    plan: Plan
    taken_code: str | None = None


def free_code(code: str, taken: Iterable[str]) -> str:
    """The first of CODE2, CODE3, … (cut to fit six characters) that is not taken; a code that
    ends in digits counts on from its letters (SR2 taken → SR3)."""
    used = {c.upper() for c in taken}
    base = code.rstrip("0123456789") or code
    for n in range(2, 10_000):
        suffix = str(n)
        candidate = base[: MAX_CODE - len(suffix)] + suffix
        if candidate not in used:
            return candidate
    raise ServiceError("plan_code_taken", plan=code)  # pragma: no cover - 10,000 plans


def parse_upload(
    data: bytes,
    *,
    file_name: str,
    options: ImportOptions | None = None,
    directory: Any = None,
    taken: frozenset[str] = frozenset(),
    today: date | None = None,
) -> ParsedUpload:
    """Run the importer on the uploaded bytes (pure: no database; runs in a child process).
    A plan whose code is in `taken` gets a free code unless `options.replace`.
    Codes: plan_input (param message), plan_file_too_large, unsupported_plan_file."""
    options = options or ImportOptions()
    if len(data) > MAX_BYTES:
        raise ServiceError("plan_file_too_large", mb=MAX_BYTES // (1024 * 1024))
    suffix = check_upload(file_name, len(data))
    safe_name = Path(file_name).name or f"upload{suffix}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / safe_name
        path.write_bytes(data)

        def run(code: str | None) -> Plan:
            try:
                return import_plan(
                    path,
                    code=code,
                    default_unit=options.default_unit,
                    directory=directory,
                    year=options.year,
                    today=today,
                )
            except PlanInputError as exc:
                raise ServiceError("plan_input", message=exc.message) from exc
            except (ValueError, OSError) as exc:  # e.g. a broken .docx
                raise ServiceError("plan_input", message=str(exc)) from exc

        plan = run(options.code)
        code = plan.info.code
        if code in taken and not options.replace:
            return ParsedUpload(run(free_code(code, taken)), taken_code=code)
        return ParsedUpload(plan)


def parse_job(
    data: bytes,
    file_name: str,
    options: ImportOptions,
    directory: Any,
    taken: frozenset[str],
    today: date | None,
) -> ParsedUpload:
    """`parse_upload` with positional arguments, for bot.services.parse_runner."""
    return parse_upload(
        data, file_name=file_name, options=options, directory=directory, taken=taken, today=today
    )


@dataclass(frozen=True)
class PlanSummary:
    """What the importer found, family by family, for the coordinator's review."""

    code: str
    title: str
    start: date
    end: date
    tasks: int
    projects: int
    indicators: int
    units: int
    dated: int  # items with a date phrase of their own
    implied: int  # items whose deadline is the plan's end, for want of a date in the text
    recurring: int  # standing duties: periodic reports
    milestones_per_year: dict[int, int]
    warnings: list[str] = field(default_factory=list)


def summarize(plan: Plan) -> PlanSummary:
    warnings = [(f"{w.line}: " if w.line else "") + w.message for w in plan.warnings]
    return PlanSummary(
        code=plan.info.code,
        title=plan.info.title,
        start=plan.info.start,
        end=plan.info.end,
        tasks=len(plan.tasks),
        projects=len(plan.key_projects),
        indicators=len(plan.indicators),
        units=len(unit_names(plan)),
        dated=dated_items(plan),
        implied=implied_deadlines(plan),
        recurring=recurring_items(plan),
        milestones_per_year=milestones_per_year(plan),
        warnings=warnings,
    )


@dataclass(frozen=True)
class ExistingPlan:
    """A plan already in the ledger under some code: what replacing it would touch."""

    code: str
    title: str
    assignments: int  # active assignments


async def existing_plan(session: AsyncSession, code: str) -> ExistingPlan | None:
    plan = (await session.exec(select(models.Plan).where(models.Plan.code == code))).first()
    if plan is None:
        return None
    A, M, T = models.Assignment, models.Milestone, models.Task
    count = (
        await session.exec(
            select(func.count())
            .select_from(A)
            .join(M, col(A.milestone_id) == M.id)
            .join(T, col(M.task_id) == T.id)
            .where(T.plan_id == plan.id, col(A.archived_at).is_(None))
        )
    ).one()
    return ExistingPlan(plan.code, plan.title, int(count))


async def taken_codes(session: AsyncSession, tasks_data: Path) -> frozenset[str]:
    """Codes of the plans in the database and of the YAML files in tasks_data/plans."""
    rows = await session.exec(select(models.Plan.code))
    codes = {str(c).upper() for c in rows.all()}
    return frozenset(codes | set(plan_files(plans_dir(tasks_data))))


def plans_dir(tasks_data: Path) -> Path:
    return Path(tasks_data) / "plans"


def plan_path(tasks_data: Path, code: str) -> Path:
    """Where the plan of `code` is kept: its existing file, else plans/<code>.yaml."""
    existing = plan_file(plans_dir(tasks_data), code)
    return existing or plans_dir(tasks_data) / f"{code.lower()}.yaml"


async def commit_plan(
    plan: Plan,
    *,
    session_maker: Any,
    directory: Any,
    tasks_data: Path,
    at: datetime,
    replace: bool = False,
) -> PlanLoadResult:
    """Write the YAML (kept for the next start, atomically), then load it into the ledger; a
    failed load puts the previous file back. Code: plan_code_taken (params plan, title,
    assignments) when a plan of that code exists and `replace` is not set."""
    code = plan.info.code
    if not valid_code(code):
        raise ServiceError("plan_input", message=f"plan code {code!r} is not valid")
    async with session_maker() as session:
        existing = await existing_plan(session, code)
    path = plan_path(tasks_data, code)
    if (existing is not None or path.exists()) and not replace:
        raise ServiceError(
            "plan_code_taken",
            plan=code,
            title=existing.title if existing else path.name,
            assignments=existing.assignments if existing else 0,
        )
    previous = path.read_bytes() if path.exists() else None
    write_plan_yaml(plan, path)
    try:
        report = await load_plans(session_maker, [plan], directory, at=at)
    except BaseException:
        if previous is None:
            path.unlink(missing_ok=True)
        else:
            write_atomically(path, previous)
        raise
    return report.plans[0]
