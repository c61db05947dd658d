"""/find: the live items in a viewer's reach whose title or full text holds every query word.

Matching is done in Python over the rows of the reach (bot.core.textsearch), not with SQL LIKE:
neither SQLite nor PostgreSQL folds full-width to half-width characters in LIKE, SQLite's LIKE
folds case for ASCII only, and a plan has a few hundred items, so reading the titles and texts of
the plans in reach is cheap. The query never reaches SQL, so `%` and `_` are plain characters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.roles import Roles
from bot.core.status import OPEN_STATUSES
from bot.core.textsearch import matches
from bot.services.scope import PlanScope
from bot.storage.models import Assignment, Milestone, Plan, Task
from bot.storage.typed_sql import select_rows


@dataclass(frozen=True)
class Reach:
    """Plans searched whole (None: every plan) and units whose items are searched too."""

    plan_ids: frozenset[int] | None
    unit_ids: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        return self.plan_ids is not None and not self.plan_ids and not self.unit_ids


def reach_of(roles: Roles) -> Reach:
    """A coordinator's plans (bot.services.scope.PlanScope) and a leader's plans and units."""
    plans = PlanScope(roles).plan_ids if roles.coordinator else frozenset()
    if plans is None:
        return Reach(None)
    return Reach(plans | roles.leader_plan_ids, roles.leader_unit_ids)


@dataclass(frozen=True)
class FoundItem:
    task_id: int
    ref: str
    title: str
    text: str
    plan_code: str
    statuses: dict[str, int] = field(default_factory=dict)  # status → units


@dataclass(frozen=True)
class FindResult:
    items: list[FoundItem]
    total: int
    page: int
    pages: int


def _rows_query(reach: Reach) -> Any:
    query = (
        select_rows(Task.id, Task.ref, Task.title, Task.text, Plan.code)
        .join(Plan, col(Plan.id) == Task.plan_id)
        .where(col(Task.archived_at).is_(None), col(Plan.archived_at).is_(None))
        .order_by(col(Plan.code), col(Task.position), col(Task.id))
    )
    if reach.plan_ids is None:
        return query
    of_units = (
        select(Milestone.task_id)
        .join(Assignment, col(Assignment.milestone_id) == Milestone.id)
        .where(col(Assignment.unit_id).in_(list(reach.unit_ids)))
    )
    return query.where(
        or_(col(Task.plan_id).in_(list(reach.plan_ids)), col(Task.id).in_(of_units))
    )


def unit_statuses(rows: Iterable[tuple[int, str, date]]) -> dict[str, int]:
    """Units by the status of their current milestone: the earliest-due open one, else the
    last one. `rows`: (unit id, status, due) of one item's live assignments."""
    current: dict[int, tuple[bool, int, str]] = {}
    for unit_id, status, due in rows:
        is_open = status in OPEN_STATUSES
        key = (not is_open, due.toordinal() if is_open else -due.toordinal(), status)
        if unit_id not in current or key < current[unit_id]:
            current[unit_id] = key
    return dict(Counter(status for _, _, status in current.values()))


async def _statuses(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    if not task_ids:
        return {}
    result = await session.exec(
        select(
            col(Milestone.task_id),
            col(Assignment.unit_id),
            col(Assignment.status),
            col(Assignment.due),
        )
        .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
        .where(
            col(Milestone.task_id).in_(list(task_ids)),
            col(Milestone.archived_at).is_(None),
            col(Assignment.archived_at).is_(None),
        )
    )
    per_task: dict[int, list[tuple[int, str, date]]] = {t: [] for t in task_ids}
    for task_id, unit_id, status, due in result.all():
        per_task[task_id].append((unit_id, status, due))
    return {t: unit_statuses(rows) for t, rows in per_task.items()}


async def find_items(
    session: AsyncSession, *, words: Sequence[str], reach: Reach, page: int, page_size: int
) -> FindResult:
    """The page `page` (clamped) of the items in `reach` matching every word."""
    found: list[FoundItem] = []
    if words and not reach.empty:
        for task_id, ref, title, text, code in (await session.exec(_rows_query(reach))).all():
            if matches(words, title, text):
                found.append(FoundItem(task_id, ref, title, text, code))
    pages = max(1, -(-len(found) // page_size))
    page = min(max(page, 0), pages - 1)
    shown = found[page * page_size : (page + 1) * page_size]
    statuses = await _statuses(session, [f.task_id for f in shown])
    items = [
        FoundItem(f.task_id, f.ref, f.title, f.text, f.plan_code, statuses.get(f.task_id, {}))
        for f in shown
    ]
    return FindResult(items=items, total=len(found), page=page, pages=pages)
