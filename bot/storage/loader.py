"""Load reviewed plans into the ledger: upsert, never delete, never rewrite history.

`load_plans` writes every plan of one call in ONE transaction: any error leaves the database as
it was. Keys: Plan by code, Unit by canonical name, Task by (plan, ref), Milestone by (task, seq)
where seq is the milestone's order within its item, Assignment by (milestone, unit).

What a reload does:
- same content (hash of the plan as resolved through the unit directory) → the plan is skipped;
- new item / milestone / assignment → inserted; a new assignment gets `assigned_at=at` and no
  event of its own: the load is recorded once, as the plan's (one PlanEvent "load" per plan
  written, with the number of assignments it created: bot.storage.plan_history);
- changed fields → updated in place (ids stay); statuses, progress and events are never touched;
- gone item / milestone / assignment → `archived_at=at` (never deleted); each assignment archived
  now gets an "archive" event; when it comes back it is restored with a "restore" event;
- a withdrawn plan (bot.storage.withdraw: the plan and all its rows archived) is never skipped by
  its hash: loading its file restores it like any archived row, and forgets the Outbox rows its
  withdrawal cancelled, so that the planner plans afresh;
- changed deadline → Milestone.due moves, `original_due` stays; Assignment.due moves unless an
  approved extension already set a later date; each active assignment gets a "due_change" event.
- the next instants (bot.storage.next_at) are recomputed at the next tick for what the tick
  reads and the load changed: the assignments of each task whose recurrence changed or one of
  whose assignments was created, archived, restored, or got another role or due date (all of
  a task's, as a report request goes to one carrier per task and unit); the whole plan when
  its period changed or it was withdrawn. Titles, texts, phrases and targets move no instant
  (messages are rendered when sent), so a reload that edits only those touches no row.

Roles: when any unit of an item is marked "co" the importer's roles are used as given; otherwise
the first unit listed leads and the others co-operate. A group unit expands to one assignment per
member (members inherit the group's role; a unit that appears twice keeps the stronger role).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

from bot.core.errors import InvalidInput
from bot.core.history import ACTOR_IMPORT, DueChange, due_change_note
from bot.core.plan import Indicator, Item, Plan, UnitRef
from bot.core.units import jurisdiction_of
from bot.storage import models
from bot.storage.next_at import touch_plan, touch_tasks
from bot.storage.plan_history import LOAD, plan_event
from bot.storage.withdraw import forget_cancelled_outbox

# Bump when the mapping from Plan to rows changes, so that unchanged YAML is reprocessed once.
# 2: the hash is taken over the rows the load writes (one plan_to_dict less per load).
LOADER_VERSION = 2
ACTOR_LABEL = ACTOR_IMPORT
_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit

_TABLES = SQLModel.metadata.tables
PLAN: Table = _TABLES["plan"]
UNIT: Table = _TABLES["unit"]
TASK: Table = _TABLES["task"]
MILESTONE: Table = _TABLES["milestone"]
ASSIGNMENT: Table = _TABLES["assignment"]
EVENT: Table = _TABLES["statusevent"]


class LoadError(InvalidInput):
    """The plans cannot be loaded as given (e.g. a duplicate ref); nothing was written."""


class _DryRun(Exception):
    """Raised inside the transaction of a dry run to roll it back."""


# --- the unit directory, as the loader needs it (bot.core.units provides it) ---------------


class UnitEntryLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def short_name(self) -> str: ...
    @property
    def jurisdiction(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def is_group(self) -> bool: ...


class UnitDirectoryLike(Protocol):
    def resolve(self, text: str, jurisdiction: str) -> Any: ...  # UnitEntryLike | None
    def members(self, entry: Any) -> Sequence[Any]: ...  # list[UnitEntryLike]


# --- the report --------------------------------------------------------------------------


@dataclass
class Changes:
    """How many rows of one kind a load created, updated, archived, restored or left alone."""

    created: int = 0
    updated: int = 0
    archived: int = 0
    restored: int = 0
    unchanged: int = 0


@dataclass
class PlanLoadResult:
    """One plan's outcome. The totals count what is active after the load."""

    code: str
    title: str
    skipped: bool = False  # same content hash as last time: nothing was written
    new_plan: bool = False
    tasks: int = 0
    key_projects: int = 0
    indicators: int = 0
    milestones: int = 0
    assignments: int = 0
    items: Changes = field(default_factory=Changes)
    milestone_changes: Changes = field(default_factory=Changes)
    assignment_changes: Changes = field(default_factory=Changes)
    due_changes: int = 0  # assignments that got a "due_change" event
    archived_refs: list[str] = field(default_factory=list)  # items archived by this load
    unknown_units: list[str] = field(default_factory=list)  # kept as written, known=False
    empty_groups: list[str] = field(default_factory=list)  # groups without members: no one


@dataclass
class LoadReport:
    """Per plan results in the order given, plus the units created or refreshed."""

    plans: list[PlanLoadResult] = field(default_factory=list)
    units_created: int = 0
    units_updated: int = 0


# --- what the database should hold (pure) --------------------------------------------------


@dataclass(frozen=True)
class UnitFacts:
    name: str
    short_name: str
    jurisdiction: str
    level: str
    is_group: bool
    known: bool


@dataclass
class _DesiredItem:
    ref: str
    values: dict[str, Any]  # Task columns except id, plan_id, ref, archived_at
    milestones: list[dict[str, Any]]  # seq, due, phrase, target
    assignees: dict[str, str]  # unit name → role, in order


@dataclass
class _DesiredPlan:
    code: str
    values: dict[str, Any]  # Plan columns except id, loaded_at, archived_at
    items: dict[str, _DesiredItem]
    units: dict[str, UnitFacts]
    unknown_units: list[str]
    empty_groups: list[str]


def plan_jurisdiction(plan: Plan, directory: UnitDirectoryLike | None = None) -> str:
    """The city / county a plan belongs to ("上饶市"): the directory's jurisdiction for the plan's
    code when it lists one, else the place its issuer or title starts with; "" if none."""
    codes = getattr(directory, "codes", None) or {}
    for place, code in codes.items():
        if code == plan.info.code:
            return str(place)
    return jurisdiction_of(plan.info.issuer) or jurisdiction_of(plan.info.title)


def _facts(entry: Any, *, known: bool = True) -> UnitFacts:
    return UnitFacts(
        name=entry.name,
        short_name=getattr(entry, "short_name", "") or "",
        jurisdiction=getattr(entry, "jurisdiction", "") or "",
        level=getattr(entry, "level", "") or "",
        is_group=bool(getattr(entry, "is_group", False)),
        known=known,
    )


class _Resolver:
    """Resolves the UnitRefs of one plan through the directory, collecting unit facts."""

    def __init__(self, directory: UnitDirectoryLike | None, jurisdiction: str) -> None:
        self.directory = directory
        self.jurisdiction = jurisdiction
        self.units: dict[str, UnitFacts] = {}
        self.unknown: dict[str, None] = {}
        self.empty_groups: dict[str, None] = {}

    def _members(self, entry: Any, seen: set[str]) -> list[str]:
        assert self.directory is not None
        names: list[str] = []
        for member in self.directory.members(entry):
            if member.name in seen:
                continue
            seen.add(member.name)
            self.units[member.name] = _facts(member)
            if getattr(member, "is_group", False):
                names.extend(self._members(member, seen))
            else:
                names.append(member.name)
        return names

    def unit_names(self, ref: UnitRef) -> list[str]:
        """The unit names one UnitRef is assigned to (a group gives its members)."""
        entry = None
        if self.directory is not None and ref.name.strip():
            entry = self.directory.resolve(ref.name, self.jurisdiction)
        if entry is None:
            name = ref.name.strip() or ref.as_written.strip()
            if not name:
                return []
            if name not in self.units:
                self.units[name] = UnitFacts(
                    name, ref.as_written.strip() or name, self.jurisdiction, "", False, False
                )
            self.unknown[name] = None
            return [name]
        self.units[entry.name] = _facts(entry)
        if not getattr(entry, "is_group", False):
            return [entry.name]
        members = self._members(entry, {entry.name})
        if not members:
            self.empty_groups[entry.name] = None
        return members

    def assignees(self, refs: list[UnitRef]) -> dict[str, str]:
        marked = any(r.role == "co" for r in refs)
        out: dict[str, str] = {}
        for index, ref in enumerate(refs):
            role = ref.role if marked else ("lead" if index == 0 else "co")
            for name in self.unit_names(ref):
                if out.get(name) != "lead":
                    out[name] = role
        return out


def _item_values(item: Item, kind: str, position: int) -> dict[str, Any]:
    return {
        "kind": kind,
        "number": item.number,
        "section": item.section,
        "title": item.title,
        "text": item.text,
        "recurrence": list(item.recurrence),
        "task_ref": item.task_ref,
        "position": position,
        "domain": "",
        "measure_unit": "",
        "baseline": "",
        "target": "",
        "nature": "",
        "binding": False,
    }


def _indicator_values(ind: Indicator, position: int) -> dict[str, Any]:
    return {
        "kind": "indicator",
        "number": ind.number,
        "section": ind.domain,
        "title": ind.name,
        "text": "",
        "recurrence": [],
        "task_ref": ind.parent,  # a 其中-row links to its indicator
        "position": position,
        "domain": ind.domain,
        "measure_unit": ind.unit,
        "baseline": ind.baseline,
        "target": ind.target,
        "nature": ind.nature,
        "binding": bool(ind.binding),
    }


def desired_plan(plan: Plan, directory: UnitDirectoryLike | None) -> _DesiredPlan:
    """What the database should hold for `plan` (no I/O). Raises LoadError on duplicate refs."""
    info = plan.info
    resolver = _Resolver(directory, plan_jurisdiction(plan, directory))
    items: dict[str, _DesiredItem] = {}
    sources: list[tuple[str, Item | Indicator]] = [
        *(("task", t) for t in plan.tasks),
        *(("project", p) for p in plan.key_projects),
        *(("indicator", i) for i in plan.indicators),
    ]
    for position, (kind, item) in enumerate(sources):
        if item.ref in items:
            raise LoadError(f"plan {info.code}: ref {item.ref} appears twice")
        if isinstance(item, Indicator):
            values = _indicator_values(item, position)
        else:
            values = _item_values(item, kind, position)
        milestones = [
            {"seq": seq, "due": m.due, "phrase": m.phrase, "target": m.target}
            for seq, m in enumerate(item.milestones)
        ]
        items[item.ref] = _DesiredItem(
            item.ref, values, milestones, resolver.assignees(list(item.units))
        )
    values = {
        "code": info.code,
        "title": info.title,
        "issuer": info.issuer,
        "issued": info.issued,
        "period_start": info.start,
        "period_end": info.end,
        "source": info.source,
    }
    desired = _DesiredPlan(
        info.code,
        values,
        items,
        resolver.units,
        list(resolver.unknown),
        list(resolver.empty_groups),
    )
    desired.values["content_hash"] = _content_hash(desired)
    return desired


def _content_hash(desired: _DesiredPlan) -> str:
    """Hash of everything the load writes: the plan's rows and how its units resolved, an item
    at a time (one encoding of a 10,000-item plan would hold the GIL for tens of ms)."""
    digest = hashlib.sha256(f"v{LOADER_VERSION}\n{desired.values!r}\n".encode())
    for ref, item in desired.items.items():
        line = repr((ref, item.values, item.milestones, item.assignees)) + "\n"
        digest.update(line.encode("utf-8"))
    digest.update(repr(sorted(tuple(vars(f).values()) for f in desired.units.values())).encode())
    return digest.hexdigest()


# --- writing -------------------------------------------------------------------------------


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


async def _bulk_update(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """UPDATE table SET … WHERE id = … for many rows (executemany, grouped by column set; on
    PostgreSQL one UPDATE … FROM unnest(arrays) per group)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        cols = tuple(sorted(k for k in row if k != "id"))
        groups.setdefault(cols, []).append(row)
    for cols, group in groups.items():
        if _bulk_postgres(conn):
            await _update_unnest(conn, table, ["id", *cols], group)
            continue
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in cols})
        )
        params = [{f"b_{k}": v for k, v in row.items()} for row in group]
        await conn.execute(stmt, params)


async def _insert(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows (all with the keys of the first) as one executemany of a statement
    compiled once, the parameters converted a column at a time by the columns' own bind
    processors: SQLAlchemy's executemany builds and converts a dict per row, ~2× the CPU.
    On PostgreSQL (asyncpg) the rows are copied in instead (`_copy`)."""
    if not rows:
        return
    dialect = conn.dialect
    names = list(rows[0])
    if _bulk_postgres(conn) and await _copy(conn, table, names, rows):
        return
    compiled = insert(table).values({n: bindparam(n) for n in names}).compile(dialect=dialect)
    order = compiled.positiontup
    if not compiled.positional or order is None or sorted(order) != sorted(names):
        await conn.execute(insert(table), rows)  # a named-parameter driver: the usual way
        return
    columns = [_column_values(conn, table, name, rows) for name in order]
    await conn.exec_driver_sql(compiled.string, list(zip(*columns, strict=True)))


# --- PostgreSQL: a round trip per row costs ~7 ms per 100 rows there (executemany); arrays
# and COPY send a table in one go.


def _bulk_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "asyncpg"


def _column_values(
    conn: AsyncConnection, table: Table, name: str, rows: Sequence[dict[str, Any]]
) -> list[Any]:
    """The values of column `name` of `rows` as the driver takes them (the column's own bind
    processor applied, as an execute would)."""
    dialect = conn.dialect
    values = [row[name] for row in rows]
    process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    return [process(v) for v in values] if process else values


def _no_nul(values: list[Any]) -> list[Any]:
    """PostgreSQL's text cannot hold NUL: dropped, as bot.storage.db does for every statement
    of a PostgreSQL engine (COPY does not pass through it)."""
    return [v.replace("\x00", "") if isinstance(v, str) and "\x00" in v else v for v in values]


async def _copy(
    conn: AsyncConnection, table: Table, names: list[str], rows: list[dict[str, Any]]
) -> bool:
    """COPY `rows` into `table` on the transaction's own asyncpg connection. The columns the
    rows leave out get their defaults as an INSERT of the rows would: a Python-side scalar
    default here, the server's default (the id's sequence) by COPY. False (nothing done) when
    a column left out has a Python-side default of another kind."""
    defaults: dict[str, Any] = {}
    for column in table.c:
        if column.name in names or column.default is None:
            continue
        if not getattr(column.default, "is_scalar", False):
            return False
        defaults[column.name] = getattr(column.default, "arg", None)
    filled = rows
    if defaults:
        filled = [{**defaults, **row} for row in rows]
    columns = [*names, *defaults]
    values = [_no_nul(_column_values(conn, table, name, filled)) for name in columns]
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    assert driver.is_in_transaction()  # the caller's transaction (begin_immediate) is open
    await driver.copy_records_to_table(
        table.name,
        records=list(zip(*values, strict=True)),
        columns=columns,
        schema_name=table.schema,
    )
    return True


async def _update_unnest(
    conn: AsyncConnection, table: Table, names: list[str], rows: list[dict[str, Any]]
) -> None:
    """UPDATE table SET c = v.c … FROM unnest($1::type[], …) AS v(id, c …) WHERE id = v.id:
    `rows` (each with the keys `names`, "id" first) in one statement."""
    dialect = conn.dialect
    arrays = ", ".join(
        f"${i}::{table.c[name].type.compile(dialect=dialect)}[]"
        for i, name in enumerate(names, start=1)
    )
    quote = dialect.identifier_preparer.quote
    sets = ", ".join(f"{quote(n)} = v.{quote(n)}" for n in names[1:])
    target = dialect.identifier_preparer.format_table(table)
    statement = (
        f"UPDATE {target} SET {sets} FROM unnest({arrays}) "
        f"AS v({', '.join(quote(n) for n in names)}) WHERE {target}.id = v.id"
    )
    values = tuple(_column_values(conn, table, name, rows) for name in names)
    await conn.exec_driver_sql(statement, values)


async def _upsert_units(
    conn: AsyncConnection, facts: dict[str, UnitFacts], report: LoadReport
) -> dict[str, int]:
    """Insert missing units, refresh known ones from the directory; return name → id."""
    names = list(facts)
    existing: dict[str, Any] = {}
    for chunk in _chunks(names):
        rows = await conn.execute(select(UNIT).where(UNIT.c.name.in_(chunk)))
        existing.update({r.name: r for r in rows})
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for name, f in facts.items():
        row = existing.get(name)
        values = vars(f).copy()
        if row is None:
            new_rows.append(values)
        elif f.known and any(getattr(row, k) != v for k, v in values.items()):
            # Unknown units never overwrite a row: the directory is the only source of facts.
            updates.append({"id": row.id, **values})
    await _insert(conn, UNIT, new_rows)
    await _bulk_update(conn, UNIT, updates)
    report.units_created += len(new_rows)
    report.units_updated += len(updates)
    ids = {name: row.id for name, row in existing.items()}
    missing = [r["name"] for r in new_rows]
    for chunk in _chunks(missing):
        rows = await conn.execute(select(UNIT.c.id, UNIT.c.name).where(UNIT.c.name.in_(chunk)))
        ids.update({r.name: r.id for r in rows})
    return ids


def _event(
    assignment_id: int, at: datetime, kind: str, status: str, **extra: Any
) -> dict[str, Any]:
    return {
        "assignment_id": assignment_id,
        "at": at,
        "actor_id": None,
        "actor_label": ACTOR_LABEL,
        "kind": kind,
        "old_status": status,
        "new_status": status,
        "progress": None,
        "note": "",
        "evidence_kind": None,
        "evidence_file_id": None,
        "evidence_name": None,
        "due_before": None,
        "due_after": None,
        **extra,
    }


class _PlanWriter:
    """Applies one plan's desired state inside the caller's transaction."""

    def __init__(
        self,
        conn: AsyncConnection,
        desired: _DesiredPlan,
        unit_ids: dict[str, int],
        at: datetime,
        result: PlanLoadResult,
    ) -> None:
        self.conn = conn
        self.desired = desired
        self.unit_ids = unit_ids
        self.at = at
        self.result = result
        self.events: list[dict[str, Any]] = []
        self.task_ids: dict[str, int] = {}
        # whose next instants this load may have moved (bot.storage.next_at): the whole plan,
        # or the assignments of these tasks
        self.touch_plan = False
        self.touched_tasks: set[int] = set()
        self.milestone_tasks: dict[int, int] = {}  # milestone id → task id

    async def run(self, plan_row: Any) -> None:
        plan_id = await self._plan(plan_row)
        self.task_ids = await self._tasks(plan_id)
        milestone_ids, due_moves = await self._milestones(plan_id, self.task_ids)
        await self._window_starts(plan_id)
        await self._assignments(plan_id, milestone_ids, due_moves)
        await _insert(self.conn, EVENT, self.events)
        # the load is the plan's event, not each new assignment's: their assigned_at is `at`
        await plan_event(
            self.conn,
            plan_id,
            at=self.at,
            kind=LOAD,
            actor_label=ACTOR_LABEL,
            assignments=self.result.assignment_changes.created,
        )
        if plan_row is not None and plan_row.archived_at is not None:  # a withdrawn plan is back
            await forget_cancelled_outbox(self.conn, plan_id, self.desired.code)
        if self.touch_plan:
            await touch_plan(self.conn, self.desired.code)
        elif self.touched_tasks:
            await touch_tasks(self.conn, sorted(self.touched_tasks))

    async def _plan(self, row: Any) -> int:
        values = {**self.desired.values, "loaded_at": self.at, "archived_at": None}
        if row is None:
            self.result.new_plan = True
            result = await self.conn.execute(insert(PLAN).values(values))
            key = result.inserted_primary_key
            assert key is not None  # a single-row INSERT always reports its key
            return int(key[0])
        await self.conn.execute(update(PLAN).where(PLAN.c.id == row.id).values(values))
        # the plan's period bounds every instant of its recurring duties; a withdrawn plan
        # comes back whole (new rows need no touch: their instant is NULL already)
        period = (values["period_start"], values["period_end"])
        if row.archived_at is not None or (row.period_start, row.period_end) != period:
            self.touch_plan = True
        return int(row.id)

    async def _tasks(self, plan_id: int) -> dict[str, int]:
        # in id order (here and below): events, archives and reports in the same order on
        # every backend, so that both give the same rows the same ids
        query = select(TASK).where(TASK.c.plan_id == plan_id).order_by(TASK.c.id)
        existing = {r.ref: r for r in await self.conn.execute(query)}
        counts = self.result.items
        new_rows, updates = [], []
        for ref, item in self.desired.items.items():
            row = existing.get(ref)
            if row is None:
                new_rows.append({"plan_id": plan_id, "ref": ref, **item.values})
                counts.created += 1
                continue
            changed = any(getattr(row, k) != v for k, v in item.values.items())
            if row.archived_at is not None:
                counts.restored += 1
            elif changed:
                counts.updated += 1
            else:
                counts.unchanged += 1
            if changed or row.archived_at is not None:
                updates.append({"id": row.id, **item.values, "archived_at": None})
            if row.recurrence != item.values["recurrence"]:  # the tick reads it
                self.touched_tasks.add(row.id)
        for ref, row in existing.items():
            if ref not in self.desired.items and row.archived_at is None:
                updates.append({"id": row.id, "archived_at": self.at})
                counts.archived += 1
                self.result.archived_refs.append(ref)
        await _insert(self.conn, TASK, new_rows)
        await _bulk_update(self.conn, TASK, updates)
        if not new_rows:
            return {ref: row.id for ref, row in existing.items()}
        rows = await self.conn.execute(
            select(TASK.c.id, TASK.c.ref).where(TASK.c.plan_id == plan_id)
        )
        return {r.ref: r.id for r in rows}

    async def _milestones(
        self, plan_id: int, task_ids: dict[str, int]
    ) -> tuple[dict[tuple[int, int], tuple[int, date]], dict[int, tuple[date, date]]]:
        """Returns (task_id, seq) → (milestone id, due) and milestone id → (old due, new due)."""
        query = (
            select(MILESTONE)
            .join(TASK, MILESTONE.c.task_id == TASK.c.id)
            .where(TASK.c.plan_id == plan_id)
            .order_by(MILESTONE.c.id)
        )
        existing = {(r.task_id, r.seq): r for r in await self.conn.execute(query)}
        self.milestone_tasks = {r.id: r.task_id for r in existing.values()}
        counts = self.result.milestone_changes
        wanted: dict[tuple[int, int], dict[str, Any]] = {}
        for ref, item in self.desired.items.items():
            for m in item.milestones:
                wanted[(task_ids[ref], m["seq"])] = m
        new_rows, updates = [], []
        due_moves: dict[int, tuple[date, date]] = {}
        starts = self._predicted_window_starts(wanted)
        for key, m in wanted.items():
            row = existing.get(key)
            if row is None:
                new_rows.append(
                    {
                        "task_id": key[0],
                        **m,
                        "original_due": m["due"],
                        "window_start": starts[key],
                    }
                )
                counts.created += 1
                continue
            changed = (row.due, row.phrase, row.target) != (m["due"], m["phrase"], m["target"])
            if row.due != m["due"]:
                due_moves[row.id] = (row.due, m["due"])
            if row.archived_at is not None:
                counts.restored += 1
            elif changed:
                counts.updated += 1
            else:
                counts.unchanged += 1
            if changed or row.archived_at is not None:
                updates.append(
                    {
                        "id": row.id,
                        "due": m["due"],
                        "phrase": m["phrase"],
                        "target": m["target"],
                        "archived_at": None,
                    }
                )
        for key, row in existing.items():
            if key not in wanted and row.archived_at is None:
                updates.append({"id": row.id, "archived_at": self.at})
                counts.archived += 1
        await _insert(self.conn, MILESTONE, new_rows)
        await _bulk_update(self.conn, MILESTONE, updates)
        ids: dict[tuple[int, int], tuple[int, date]] = {}
        if new_rows:
            rows = await self.conn.execute(
                select(MILESTONE.c.id, MILESTONE.c.task_id, MILESTONE.c.seq)
                .join(TASK, MILESTONE.c.task_id == TASK.c.id)
                .where(TASK.c.plan_id == plan_id)
            )
            row_ids = {(r.task_id, r.seq): r.id for r in rows}
        else:
            row_ids = {key: row.id for key, row in existing.items()}
        for key, m in wanted.items():
            ids[key] = (row_ids[key], m["due"])
        return ids, due_moves

    def _predicted_window_starts(
        self, wanted: dict[tuple[int, int], dict[str, Any]]
    ) -> dict[tuple[int, int], date | None]:
        """(task_id, seq) → the window_start `_window_starts` gives it after this load (the
        active milestones of a task are then exactly the wanted ones), so that a new row is
        inserted with it instead of written twice: on PostgreSQL an UPDATE of a row inserted
        by the same transaction writes all its indexes again and re-checks its foreign keys
        (~25 ms per 1,000 milestones)."""
        latest: dict[int, date] = {}
        starts: dict[tuple[int, int], date | None] = {}
        for key in sorted(wanted):
            task_id = key[0]
            starts[key] = latest.get(task_id, self.desired.values["period_start"])
            due = wanted[key]["due"]
            if task_id not in latest or due > latest[task_id]:
                latest[task_id] = due
        return starts

    async def _window_starts(self, plan_id: int) -> None:
        """Milestone.window_start of the plan's milestones: the latest due date of the active
        milestones before each in its item, else the plan's first day (the SQL definition of
        bot.services.stats_sql.WINDOW_START, written once here). Only changed rows are written
        (new rows come in with it: `_predicted_window_starts`)."""
        prev = MILESTONE.alias("m_prev")
        previous = (
            select(func.max(prev.c.due))
            .where(
                prev.c.task_id == MILESTONE.c.task_id,
                prev.c.seq < MILESTONE.c.seq,
                prev.c.archived_at.is_(None),
            )
            .scalar_subquery()
        )
        plan_start = select(PLAN.c.period_start).where(PLAN.c.id == plan_id).scalar_subquery()
        start = func.coalesce(previous, plan_start)
        tasks = select(TASK.c.id).where(TASK.c.plan_id == plan_id)
        await self.conn.execute(
            update(MILESTONE)
            .where(
                MILESTONE.c.task_id.in_(tasks), MILESTONE.c.window_start.is_distinct_from(start)
            )
            .values(window_start=start)
        )

    async def _assignments(
        self,
        plan_id: int,
        milestone_ids: dict[tuple[int, int], tuple[int, date]],
        due_moves: dict[int, tuple[date, date]],
    ) -> None:
        query = (
            select(ASSIGNMENT)
            .join(MILESTONE, ASSIGNMENT.c.milestone_id == MILESTONE.c.id)
            .join(TASK, MILESTONE.c.task_id == TASK.c.id)
            .where(TASK.c.plan_id == plan_id)
            .order_by(ASSIGNMENT.c.id)
        )
        existing = {(r.milestone_id, r.unit_id): r for r in await self.conn.execute(query)}
        wanted: dict[tuple[int, int], tuple[str, date]] = {}
        milestone_task: dict[int, int] = {}
        for item in self.desired.items.values():
            roles = [(self.unit_ids[name], role) for name, role in item.assignees.items()]
            for m in item.milestones:
                key = (self.task_ids[item.ref], m["seq"])
                milestone_id, due = milestone_ids[key]
                milestone_task[milestone_id] = key[0]
                for unit_id, role in roles:
                    wanted[(milestone_id, unit_id)] = (role, due)
        counts = self.result.assignment_changes
        new_rows, updates = [], []
        for key, (role, due) in wanted.items():
            row = existing.get(key)
            if row is None:
                if existing:  # its task's other assignments share its duties (next_at)
                    self.touched_tasks.add(milestone_task[key[0]])
                new_rows.append(
                    {
                        "milestone_id": key[0],
                        "unit_id": key[1],
                        "role": role,
                        "status": models.NOT_STARTED,
                        "due": due,
                        "assigned_at": self.at,
                    }
                )
                counts.created += 1
                continue
            change: dict[str, Any] = {}
            if row.role != role:
                change["role"] = role
            if row.archived_at is not None:
                change["archived_at"] = None
                self.events.append(_event(row.id, self.at, "restore", row.status))
                counts.restored += 1
            if key[0] in due_moves:
                change.update(self._move_due(row, *due_moves[key[0]]))
            if change:
                updates.append({"id": row.id, **change})
                self.touched_tasks.add(self.milestone_tasks[key[0]])
                if row.archived_at is None:
                    counts.updated += 1
            elif row.archived_at is None:
                counts.unchanged += 1
        for key, row in existing.items():
            if key not in wanted and row.archived_at is None:
                self.touched_tasks.add(self.milestone_tasks[key[0]])
                updates.append({"id": row.id, "archived_at": self.at})
                self.events.append(_event(row.id, self.at, "archive", row.status))
                counts.archived += 1
        await _insert(self.conn, ASSIGNMENT, new_rows)
        await _bulk_update(self.conn, ASSIGNMENT, updates)
        self.result.assignments = len(wanted)

    def _move_due(self, row: Any, old: date, new: date) -> dict[str, Any]:
        """The new effective due of an assignment whose milestone moved from `old` to `new`."""
        extended = row.due > old and row.due >= new  # an approved extension beyond both
        due_after = row.due if extended else new
        note = due_change_note(DueChange(old, new, row.due if extended else None))
        self.events.append(
            _event(
                row.id,
                self.at,
                "due_change",
                row.status,
                note=note,
                due_before=row.due,
                due_after=due_after,
            )
        )
        self.result.due_changes += 1
        return {"due": due_after} if due_after != row.due else {}


# PostgreSQL: the key of the transaction-scoped advisory lock that serialises plan loads
# ("duban:load" as a number); held until commit or rollback.
LOAD_LOCK_KEY = 0x6475_6261_6E4C_6F64 >> 1


async def begin_immediate(session: AsyncSession) -> AsyncConnection:
    """The session's connection, holding the database's write lock (SQLite) or the loaders'
    advisory lock (PostgreSQL) from the first read on, so that what we compare against cannot
    change before we write: two loads of the same plans at once (two instances starting, or
    `python -m bot load` beside a running bot, a withdrawal) run one after the other."""
    conn = await session.connection()
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOAD_LOCK_KEY})
    return conn


async def load_plans(
    session_maker: async_sessionmaker[Any],
    plans: list[Plan],
    directory: UnitDirectoryLike | None,
    *,
    at: datetime,
    force: bool = False,
    dry_run: bool = False,
) -> LoadReport:
    """Upsert `plans` in one transaction and report what changed, plan by plan.

    `directory` resolves unit names (None: every unit is kept as written, known=False). `at` is
    the load instant (aware); it stamps new assignments, archives and events. A plan whose
    content hash equals the stored one is skipped unless `force`. Raises LoadError (and writes
    nothing) on inconsistent input; any database error also leaves nothing written. A
    `dry_run` reports what the load would do and rolls everything back.
    """
    if at.tzinfo is None:
        raise ValueError("load_plans needs an aware `at`")
    codes = [p.info.code for p in plans]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise LoadError(f"plan code given twice: {', '.join(duplicates)}")
    desired = [desired_plan(p, directory) for p in plans]
    report = LoadReport()
    try:
        await _load(session_maker, plans, desired, at, force, dry_run, report)
    except _DryRun:
        pass
    return report


async def _load(
    session_maker: async_sessionmaker[Any],
    plans: list[Plan],
    desired: list[_DesiredPlan],
    at: datetime,
    force: bool,
    dry_run: bool,
    report: LoadReport,
) -> None:
    codes = [p.info.code for p in plans]
    async with session_maker() as session, session.begin():
        conn = await begin_immediate(session)
        rows = await conn.execute(select(PLAN).where(PLAN.c.code.in_(codes)))
        plan_rows = {r.code: r for r in rows}
        todo: list[tuple[_DesiredPlan, PlanLoadResult]] = []
        for d, plan in zip(desired, plans, strict=True):
            result = _summary(plan, d)
            report.plans.append(result)
            row = plan_rows.get(d.code)
            unchanged = (
                row is not None
                and row.content_hash == d.values["content_hash"]
                and row.archived_at is None
            )
            if unchanged and not force:
                result.skipped = True
            else:
                todo.append((d, result))
        facts: dict[str, UnitFacts] = {}
        for d, _ in todo:
            for name, f in d.units.items():
                if name not in facts or f.known:
                    facts[name] = f
        unit_ids = await _upsert_units(conn, facts, report) if facts else {}
        for d, result in todo:
            await _PlanWriter(conn, d, unit_ids, at, result).run(plan_rows.get(d.code))
        if dry_run:
            raise _DryRun()


def _summary(plan: Plan, d: _DesiredPlan) -> PlanLoadResult:
    return PlanLoadResult(
        code=plan.info.code,
        title=plan.info.title,
        tasks=len(plan.tasks),
        key_projects=len(plan.key_projects),
        indicators=len(plan.indicators),
        milestones=sum(len(i.milestones) for i in d.items.values()),
        assignments=sum(len(i.milestones) * len(i.assignees) for i in d.items.values()),
        unknown_units=list(d.unknown_units),
        empty_groups=list(d.empty_groups),
    )
