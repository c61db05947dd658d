"""A big, plausible ledger for benchmarks: `build_synthetic_ledger(session_maker, at=...)`.

Fills a migrated (or `create_all`-ed) database with plans, units, tasks, milestones and
assignments (statuses as they would be at `at`: overdue ones mostly closed or late, future ones
mostly open), their history events (ack, report, confirm; like the loader, no event for the
assignment's creation), and persons with liaison / coordinator / leader memberships. Rows get
explicit ids and go in with one executemany per table, in one transaction (on SQLite through the
driver, values converted exactly as SQLAlchemy stores them; into empty tables the indexes are
rebuilt afterwards). Deterministic for a given `seed`.
Run `python benchmarks/synthetic.py [N]` for the build time.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import tempfile
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlalchemy.schema import CreateIndex, DropIndex
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.storage import models

TABLES = SQLModel.metadata.tables
FIRST_DUE = date(2023, 1, 1)
LAST_DUE = date(2026, 12, 31)
PLACES = ["上饶市", "龙南市", "南昌市", "赣州市", "九江市", "景德镇市", "萍乡市", "新余市"]
DEPARTMENTS = [
    ("卫生健康委员会", "卫健委"),
    ("财政局", "财政局"),
    ("发展和改革委员会", "发改委"),
    ("人力资源和社会保障局", "人社局"),
    ("教育局", "教育局"),
    ("民政局", "民政局"),
    ("医疗保障局", "医保局"),
    ("市场监督管理局", "市场监管局"),
    ("自然资源局", "自然资源局"),
    ("住房和城乡建设局", "住建局"),
    ("委编办", "委编办"),
    ("疾病预防控制中心", "疾控中心"),
    ("人民医院", "人民医院"),
    ("中医院", "中医院"),
    ("妇幼保健院", "妇幼保健院"),
]
COUNTIES = ["信州区", "广丰区", "广信区", "玉山县", "铅山县", "横峰县", "弋阳县", "余干县"]
NOTES = ["", "", "按计划推进", "已完成阶段目标", "资金未到位，正在协调"]
_NOON = time(4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
SECTIONS = ["公共卫生能力提升行动", "医疗服务能力提升行动", "中医药传承创新行动", "重点项目"]
PAST = [  # status mix of assignments already due at `at`
    (models.CLOSED, 35),
    (models.DONE_REPORTED, 15),
    (models.IN_PROGRESS, 20),
    (models.BLOCKED, 10),
    (models.NOT_STARTED, 20),
]
FUTURE = [
    (models.NOT_STARTED, 40),
    (models.IN_PROGRESS, 35),
    (models.BLOCKED, 10),
    (models.DONE_REPORTED, 10),
    (models.CLOSED, 5),
]


@dataclass
class SyntheticInfo:
    """What was built. Ids are the rows' primary keys; telegram ids are 10_000_000 + n."""

    plans: int = 0
    units: int = 0
    tasks: int = 0
    milestones: int = 0
    assignments: int = 0
    events: int = 0
    persons: int = 0
    memberships: int = 0
    plan_codes: list[str] = field(default_factory=list)
    coordinator_telegram_ids: list[int] = field(default_factory=list)
    liaison_telegram_ids: list[int] = field(default_factory=list)
    leader_telegram_ids: list[int] = field(default_factory=list)
    status_counts: dict[str, int] = field(default_factory=dict)
    generate_seconds: float = 0.0  # making the rows in Python
    write_seconds: float = 0.0  # inserting and committing them


class _Ids:
    """Explicit primary keys, continuing after whatever the tables already hold."""

    def __init__(self, start: dict[str, int]) -> None:
        self.start = dict(start)
        self.next = dict(start)

    def take(self, table: str) -> int:
        self.next[table] += 1
        return self.next[table]


async def _max_ids(conn: AsyncConnection, names: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name in names:
        table = TABLES[name]
        top = (await conn.execute(select(func.coalesce(func.max(table.c.id), 0)))).scalar_one()
        out[name] = int(top)
    return out


def _weighted(rng: random.Random, table: list[tuple[str, int]]) -> str:
    x = rng.random() * 100
    for status, weight in table:
        x -= weight
        if x < 0:
            return status
    return table[-1][0]


def _instant(d: date, rng: random.Random, *, hour: int | None = None) -> datetime:
    h = rng.randint(1, 10) if hour is None else hour  # 09:00-18:00 in Asia/Shanghai
    return datetime(d.year, d.month, d.day, h, rng.randint(0, 59), tzinfo=UTC)


class _Builder:
    def __init__(self, rng: random.Random, at: datetime, ids: _Ids) -> None:
        self.rng = rng
        self.at = at
        self.today = at.date()
        self.loaded_at = datetime(2022, 11, 1, 2, tzinfo=UTC)
        self.ids = ids
        # rows as tuples in the column order of each table's first `add` (call sites are fixed)
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in ids.next}
        self.columns: dict[str, list[str]] = {}
        self.info = SyntheticInfo()

    def add(self, table: str, **values: Any) -> int:
        row_id = self.ids.take(table)
        if table not in self.columns:
            self.columns[table] = ["id", *values]
        self.rows[table].append((row_id, *values.values()))
        return row_id

    def units(self) -> list[int]:
        unit_ids: list[int] = []
        for place in PLACES:
            prefix = place[-1]
            for full, short in DEPARTMENTS:
                unit_ids.append(
                    self.add(
                        "unit",
                        name=f"{place}{full}",
                        short_name=f"{prefix}{short}",
                        jurisdiction=place,
                        level="市直",
                        is_group=False,
                        known=True,
                    )
                )
        for county in COUNTIES:
            unit_ids.append(
                self.add(
                    "unit",
                    name=f"{county}人民政府",
                    short_name=f"{county}政府",
                    jurisdiction="上饶市",
                    level="县级",
                    is_group=False,
                    known=True,
                )
            )
        self.add(
            "unit",
            name="“12+3”人民政府（管委会）",
            short_name="“12+3”人民政府（管委会）",
            jurisdiction="上饶市",
            level="其他",
            is_group=True,
            known=True,
        )
        return unit_ids

    def people(self, unit_ids: list[int], plan_ids: list[int]) -> None:
        rng, joined = self.rng, self.at - timedelta(days=400)

        def person(name: str) -> int:
            n = self.ids.next["person"] + 1  # the id this person gets
            return self.add(
                "person",
                telegram_id=10_000_000 + n,
                name=name,
                username=f"user{n}",
                locale=rng.choice([None, None, "zh_CN", "en"]),
                active=rng.random() > 0.02,
                created_at=joined,
            )

        def member(pid: int, role: str, unit_id: int | None, plan_id: int | None) -> None:
            revoked = self.at - timedelta(days=30) if rng.random() < 0.03 else None
            self.add(
                "membership",
                person_id=pid,
                role=role,
                unit_id=unit_id,
                plan_id=plan_id,
                created_at=joined,
                revoked_at=revoked,
            )

        for unit_id in unit_ids:
            for k in range(rng.choice([1, 1, 1, 2])):
                pid = person(f"联络员{unit_id}-{k}")
                member(pid, models.ROLE_LIAISON, unit_id, None)
                self.info.liaison_telegram_ids.append(self._tg(pid))
        for plan_id in plan_ids:
            pid = person(f"督办员{plan_id}")
            member(pid, models.ROLE_COORDINATOR, None, plan_id)
            self.info.coordinator_telegram_ids.append(self._tg(pid))
            pid = person(f"分管领导{plan_id}")
            member(pid, models.ROLE_LEADER, None, plan_id)
            self.info.leader_telegram_ids.append(self._tg(pid))

    @staticmethod
    def _tg(person_id: int) -> int:
        return 10_000_000 + person_id

    def assignment(self, milestone_id: int, unit_id: int, role: str, due: date) -> None:
        rng, at, r = self.rng, self.at, self.rng.random
        assigned = self.loaded_at + timedelta(seconds=int(r() * 60 * 86400))
        status = _weighted(rng, PAST if due < self.today else FUTURE)
        acked = status != models.NOT_STARTED or r() < 0.4
        ack_at = assigned + timedelta(seconds=int(r() * 5 * 86400)) if acked else None
        report_at: datetime | None = None
        progress: int | None = None
        done_at = closed_at = None
        extension: date | None = None
        if status != models.NOT_STARTED:
            end = min(at, datetime.combine(due, _NOON))
            report_at = assigned + (end - assigned) * r() if end > assigned else assigned
            done = status in (models.DONE_REPORTED, models.CLOSED)
            progress = 100 if done else 5 + int(r() * 90)
            done_at = report_at if done else None
            if status == models.CLOSED:
                closed_at = min(at, report_at + timedelta(seconds=int(r() * 10 * 86400)))
        if status == models.BLOCKED and r() < 0.3:
            extension = due + timedelta(days=90)
        aid = self.add(
            "assignment",
            milestone_id=milestone_id,
            unit_id=unit_id,
            role=role,
            status=status,
            progress=progress,
            due=due,
            extension_requested_to=extension,
            assigned_at=assigned,
            acknowledged_at=ack_at,
            last_report_at=report_at,
            done_reported_at=done_at,
            closed_at=closed_at,
            archived_at=None,
        )
        if ack_at is not None and r() < 0.5:
            self.event(aid, ack_at, "ack", models.NOT_STARTED, models.NOT_STARTED)
        if report_at is not None:
            shown = models.DONE_REPORTED if status == models.CLOSED else status
            note = NOTES[int(r() * len(NOTES))]
            self.event(aid, report_at, "report", models.NOT_STARTED, shown, progress, note)
        if closed_at is not None:
            self.event(aid, closed_at, "confirm", models.DONE_REPORTED, models.CLOSED)
        self.info.status_counts[status] = self.info.status_counts.get(status, 0) + 1

    def event(
        self,
        aid: int,
        at: datetime,
        kind: str,
        old: str | None,
        new: str | None,
        progress: int | None = None,
        note: str = "",
    ) -> None:
        self.add(
            "statusevent",
            assignment_id=aid,
            at=at,
            actor_id=None,
            actor_label="synthetic",
            kind=kind,
            old_status=old,
            new_status=new,
            progress=progress,
            note=note,
            evidence_kind=None,
            evidence_file_id=None,
            evidence_name=None,
            due_before=None,
            due_after=None,
        )

    def plans(self, target: int, unit_ids: list[int]) -> list[int]:
        rng = self.rng
        plan_count = max(1, min(40, target // 5000))
        per_plan = target // plan_count
        plan_ids = []
        span = (LAST_DUE - FIRST_DUE).days
        made = 0
        for p in range(plan_count):
            code = f"S{p:02d}"
            goal = target if p == plan_count - 1 else made + per_plan
            plan_id = self.add(
                "plan",
                code=code,
                title=f"合成计划 {p}：卫生健康三年行动计划",
                issuer="合成市人民政府",
                issued=FIRST_DUE,
                period_start=FIRST_DUE,
                period_end=LAST_DUE,
                source="synthetic",
                content_hash="",
                loaded_at=_instant(FIRST_DUE, rng),
                archived_at=None,
            )
            plan_ids.append(plan_id)
            self.info.plan_codes.append(code)
            n = 0
            while made < goal:
                n += 1
                kind = rng.choices(["task", "project", "indicator"], weights=[6, 3, 1])[0]
                task_id = self.add(
                    "task",
                    plan_id=plan_id,
                    ref=f"{code}-{'P' if kind == 'project' else ''}{n}",
                    kind=kind,
                    number=str(n),
                    section=rng.choice(SECTIONS),
                    title=f"任务 {n}",
                    text=f"{code} 第{n}项：推进重点工作。",
                    recurrence=["每年"] if rng.random() < 0.1 else [],
                    task_ref=None,
                    position=n,
                    domain="",
                    measure_unit="%" if kind == "indicator" else "",
                    baseline="",
                    target="",
                    nature="",
                    binding=False,
                    archived_at=None,
                )
                units = rng.sample(unit_ids, k=min(len(unit_ids), rng.choice([1, 2, 3, 4, 8, 12])))
                window_start = FIRST_DUE  # the plan's first day, then the latest earlier due
                for seq in range(rng.choice([1, 1, 2, 3])):
                    if made >= goal:
                        break
                    due = FIRST_DUE + timedelta(days=rng.randint(0, span))
                    mid = self.add(
                        "milestone",
                        task_id=task_id,
                        seq=seq,
                        due=due,
                        original_due=due,
                        phrase=f"{due.year}年底",
                        target="",
                        archived_at=None,
                        window_start=window_start,
                    )
                    window_start = due if seq == 0 else max(window_start, due)
                    for i, unit_id in enumerate(units[: goal - made]):
                        self.assignment(mid, unit_id, "lead" if i == 0 else "co", due)
                        made += 1
        return plan_ids


def _utc_text(values: list[Any]) -> list[Any]:
    # naive UTC "YYYY-MM-DD HH:MM:SS.ffffff", exactly SQLAlchemy's SQLite format, so that
    # comparisons in SQL keep ordering correctly
    return [
        None
        if v is None
        else (v if v.tzinfo is UTC else v.astimezone(UTC)).isoformat(" ", "microseconds")[:26]
        for v in values
    ]


def _sqlite_column(column: Column[Any]) -> Callable[[list[Any]], list[Any]] | None:
    """Converts a column's values to what SQLAlchemy would store in SQLite (None: as is)."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _utc_text
    if isinstance(kind, DateTime):
        raise TypeError(f"{column}: naive DateTime columns are not expected")
    if isinstance(kind, Date):
        return lambda values: [None if v is None else v.isoformat() for v in values]
    if isinstance(kind, Boolean):
        return lambda values: [None if v is None else int(v) for v in values]
    if isinstance(kind, JSON):
        return lambda values: [
            None if v is None else json.dumps(v, ensure_ascii=False) for v in values
        ]
    return None


async def _bulk_insert(
    conn: AsyncConnection, table: Table, cols: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """executemany; on SQLite straight through the driver with values converted column by
    column (SQLAlchemy's per-value type processing costs more than SQLite itself here)."""
    if conn.dialect.name != "sqlite":
        await conn.execute(insert(table), [dict(zip(cols, row, strict=True)) for row in rows])
        return
    columns: list[Any] = list(zip(*rows, strict=True))
    for i, col in enumerate(cols):
        convert = _sqlite_column(table.c[col])
        if convert is not None:
            columns[i] = convert(columns[i])
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    await conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))


ORDER = ["plan", "unit", "task", "milestone", "person", "membership", "assignment", "statusevent"]


async def build_synthetic_ledger(
    session_maker: async_sessionmaker[Any],
    *,
    assignments: int = 100_000,
    at: datetime,
    seed: int = 1,
) -> SyntheticInfo:
    """Add a ledger of exactly `assignments` assignments as it would look at `at` (aware).

    The database must have the schema (migrations or create_all); existing rows are kept and
    new ids continue after them, but plan codes S00… and unit names must not exist yet.
    """
    if at.tzinfo is None:
        raise ValueError("build_synthetic_ledger needs an aware `at`")
    rng = random.Random(seed)
    started = clock.perf_counter()
    async with session_maker() as session, session.begin():
        conn = await session.connection()
        builder = _Builder(rng, at, _Ids(await _max_ids(conn, ORDER)))
        unit_ids = builder.units()
        plan_ids = builder.plans(assignments, unit_ids)
        builder.people(unit_ids, plan_ids)
        generated = clock.perf_counter()
        for name in ORDER:
            rows = builder.rows[name]
            if not rows:
                continue
            table = TABLES[name]
            # Into an empty table, building the indexes once afterwards is several times
            # faster than maintaining them row by row (assignment has wide composite ones).
            rebuild = builder.ids.start[name] == 0 and len(rows) > 10_000
            if rebuild:
                for index in table.indexes:
                    await conn.execute(DropIndex(index, if_exists=True))
            await _bulk_insert(conn, table, builder.columns[name], rows)
            if rebuild:
                for index in table.indexes:
                    await conn.execute(CreateIndex(index))
    builder.info.generate_seconds = generated - started
    builder.info.write_seconds = clock.perf_counter() - generated
    info = builder.info
    counts = {name: len(rows) for name, rows in builder.rows.items()}
    info.plans, info.units, info.tasks = counts["plan"], counts["unit"], counts["task"]
    info.milestones, info.assignments = counts["milestone"], counts["assignment"]
    info.events, info.persons = counts["statusevent"], counts["person"]
    info.memberships = counts["membership"]
    return info


async def _main(n: int) -> None:
    from bot.storage.db import make_engine, make_session_maker
    from bot.storage.migrate import upgrade_database

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'synthetic.sqlite3'}"
        await upgrade_database(url)
        engine = make_engine(url)
        start = clock.perf_counter()
        info = await build_synthetic_ledger(
            make_session_maker(engine), assignments=n, at=datetime(2025, 12, 1, 2, tzinfo=UTC)
        )
        seconds = clock.perf_counter() - start
        await engine.dispose()
    print(
        f"synthetic ledger: {info.assignments} assignments, {info.events} events, "
        f"{info.tasks} tasks, {info.plans} plans, {info.units} units, {info.persons} persons "
        f"built in {seconds:.2f} s (rows {info.generate_seconds:.2f} s, "
        f"writing {info.write_seconds:.2f} s)"
    )


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
