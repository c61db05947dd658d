"""A coordinator uploads a plan document: check it, run the importer, keep the result until
they confirm; on confirm write the reviewed YAML to `tasks_data/plans/<code>.yaml` (so the next
start loads it again) and load it into the ledger.

Pending uploads are kept in memory (`PendingUploads`), keyed by a short random token carried
by the confirm / cancel buttons, for `TTL` and at most `MAX_PENDING` at once. A restart forgets
them: the coordinator simply sends the file again. Nothing touches the ledger before confirm.
"""

from __future__ import annotations

import secrets
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.plan import Plan
from bot.importer import PlanInputError, import_plan
from bot.importer.reader import SAVE_AS, SUPPORTED
from bot.importer.summary import milestones_per_year, unit_names
from bot.importer.yaml_io import write_plan_yaml
from bot.services.errors import ServiceError
from bot.storage.loader import PlanLoadResult, load_plans

SUFFIXES = (*SUPPORTED, *SAVE_AS)  # what the importer reads, or answers "save it as …" for
MAX_BYTES = 5 * 1024 * 1024
TTL = timedelta(minutes=30)
MAX_PENDING = 32


def check_upload(file_name: str | None, size: int | None, *, limit: int = MAX_BYTES) -> str:
    """The file's suffix when it can be imported. Codes: unsupported_plan_file,
    plan_file_too_large (param mb)."""
    suffix = Path(file_name or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise ServiceError("unsupported_plan_file", name=file_name or "")
    if size is not None and size > limit:
        raise ServiceError("plan_file_too_large", mb=limit // (1024 * 1024))
    return suffix


def parse_upload(
    data: bytes, *, file_name: str, code: str | None = None, directory: Any = None
) -> Plan:
    """Run the importer on the uploaded bytes. Code: plan_input (param message)."""
    if len(data) > MAX_BYTES:
        raise ServiceError("plan_file_too_large", mb=MAX_BYTES // (1024 * 1024))
    suffix = check_upload(file_name, len(data))
    safe_name = Path(file_name).name or f"upload{suffix}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / safe_name
        path.write_bytes(data)
        try:
            return import_plan(path, code=code, directory=directory)
        except PlanInputError as exc:
            raise ServiceError("plan_input", message=exc.message, line=exc.line or "") from exc
        except (ValueError, OSError) as exc:  # e.g. a broken .docx
            raise ServiceError("plan_input", message=str(exc), line="") from exc


@dataclass(frozen=True)
class PlanSummary:
    code: str
    title: str
    tasks: int
    projects: int
    indicators: int
    units: int
    milestones_per_year: dict[int, int]
    warnings: list[str]


def summarize(plan: Plan) -> PlanSummary:
    warnings = [(f"{w.line}: " if w.line else "") + w.message for w in plan.warnings]
    return PlanSummary(
        code=plan.info.code,
        title=plan.info.title,
        tasks=len(plan.tasks),
        projects=len(plan.key_projects),
        indicators=len(plan.indicators),
        units=len(unit_names(plan)),
        milestones_per_year=milestones_per_year(plan),
        warnings=warnings,
    )


@dataclass
class PendingPlan:
    plan: Plan
    owner: int  # the coordinator's Telegram id: only they can confirm
    created_at: datetime
    file_name: str


class PendingUploads:
    """Imported plans waiting for confirm, by short token, in memory (see module docstring)."""

    def __init__(self, *, ttl: timedelta = TTL, capacity: int = MAX_PENDING) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._items: OrderedDict[str, PendingPlan] = OrderedDict()

    def _expire(self, now: datetime) -> None:
        for token in [t for t, p in self._items.items() if now - p.created_at > self.ttl]:
            del self._items[token]
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def add(self, pending: PendingPlan) -> str:
        self._expire(pending.created_at)
        token = secrets.token_urlsafe(6)
        self._items[token] = pending
        self._expire(pending.created_at)
        return token

    def take(self, token: str, *, owner: int, now: datetime) -> PendingPlan:
        """Remove and return the upload. Code: upload_expired (also for someone else's)."""
        self._expire(now)
        pending = self._items.get(token)
        if pending is None or pending.owner != owner:
            raise ServiceError("upload_expired")
        del self._items[token]
        return pending

    def __len__(self) -> int:
        return len(self._items)


def plan_path(tasks_data: Path, code: str) -> Path:
    return Path(tasks_data) / "plans" / f"{code.lower()}.yaml"


async def commit_plan(
    plan: Plan, *, session_maker: Any, directory: Any, tasks_data: Path, at: datetime
) -> PlanLoadResult:
    """Write the YAML (kept for the next start), then load it into the ledger."""
    write_plan_yaml(plan, plan_path(tasks_data, plan.info.code))
    report = await load_plans(session_maker, [plan], directory, at=at)
    return report.plans[0]
