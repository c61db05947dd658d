"""Finding what a user typed: a task by ref, a plan by code, a unit by any of its names.

Refs are matched case-insensitively and width-insensitively (`sr-12`, `ＳＲ－１２`, `SR12` all find
`SR-12`). Units go through the directory's aliases (市卫健委 → 上饶市卫生健康委员会); a name that
several jurisdictions share gives every candidate so that the handler can ask which one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.errors import ServiceError
from bot.storage.models import Plan, Task, Unit

_REF_GLUED = re.compile(r"^([A-Z]+)(P?\d+(?:\.\d+)*)$")


def normalize_ref(text: str) -> str:
    """`ｓｒ－１２` → `SR-12`: NFKC, upper case, dashes unified, spaces dropped."""
    text = unicodedata.normalize("NFKC", text).strip().upper()
    text = re.sub(r"[\u2010-\u2015\u2212_—]", "-", text)
    return re.sub(r"\s+", "", text)


async def task_by_ref(session: AsyncSession, ref: str) -> Task:
    """The active task (or project / indicator) with this ref. Code: unknown_ref."""
    key = normalize_ref(ref)
    if not key:
        raise ServiceError("unknown_ref", ref=ref)
    candidates = [key]
    glued = _REF_GLUED.match(key)
    if glued and "-" not in key:
        candidates.append(f"{glued.group(1)}-{glued.group(2)}")
    for candidate in candidates:
        result = await session.exec(
            select(Task)
            .where(func.upper(Task.ref) == candidate, col(Task.archived_at).is_(None))
            .order_by(col(Task.id))
        )
        task = result.first()
        if task is not None:
            return task
    raise ServiceError("unknown_ref", ref=ref)


async def plan_by_code(session: AsyncSession, code: str) -> Plan | None:
    key = normalize_ref(code)
    if not key:
        return None
    result = await session.exec(
        select(Plan).where(func.upper(Plan.code) == key, col(Plan.archived_at).is_(None))
    )
    return result.first()


async def _units_named(session: AsyncSession, names: list[str]) -> list[Unit]:
    if not names:
        return []
    result = await session.exec(select(Unit).where(col(Unit.name).in_(names)))
    by_name = {u.name: u for u in result.all()}
    return [by_name[n] for n in names if n in by_name and not by_name[n].is_group]


async def find_units(session: AsyncSession, directory: Any, query: str) -> list[Unit]:
    """Units of the ledger that `query` names, best first (may be several).

    Exact aliases of the directory first (across jurisdictions), then aliases containing the
    query, then the ledger's own names and short names containing it.
    """
    query = query.strip()
    if not query:
        return []
    exact_names: list[str] = []
    partial_names: list[str] = []
    if directory is not None:
        from bot.core.units import normalize_unit_text

        key = normalize_unit_text(query)
        for entry in directory.find(query):
            aliases = {entry.name, entry.short_name, *entry.aliases}
            if key in {normalize_unit_text(a) for a in aliases}:
                exact_names.append(entry.name)
            else:
                partial_names.append(entry.name)
    exact = await _units_named(session, exact_names)
    if exact:
        return exact
    # The ledger's own names: exact first, then containing the query
    result = await session.exec(
        select(Unit).where(
            or_(col(Unit.name) == query, col(Unit.short_name) == query),
            col(Unit.is_group).is_(False),
        )
    )
    direct = list(result.all())
    if direct:
        return direct
    partial = await _units_named(session, partial_names)
    if partial:
        return partial
    pattern = f"%{query}%"
    result = await session.exec(
        select(Unit)
        .where(
            or_(col(Unit.name).like(pattern), col(Unit.short_name).like(pattern)),
            col(Unit.is_group).is_(False),
        )
        .order_by(func.length(Unit.name), Unit.name)
        .limit(20)
    )
    return list(result.all())


async def resolve_unit(session: AsyncSession, directory: Any, query: str) -> Unit:
    """Exactly one unit or an error. Codes: unknown_unit, ambiguous_unit (params: candidates,
    a list of canonical names)."""
    units = await find_units(session, directory, query)
    if not units:
        raise ServiceError("unknown_unit", unit=query)
    if len(units) > 1:
        raise ServiceError("ambiguous_unit", unit=query, candidates=[u.name for u in units[:10]])
    return units[0]
