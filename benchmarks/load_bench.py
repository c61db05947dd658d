"""Time loading the reviewed seed plans into a fresh SQLite database; withdrawing a plan;
confirming uploads; how long plan loading holds the event loop.

`python benchmarks/load_bench.py` prints the migration time and the load time (target < 1 s
for the four seeds), then (unless `--seeds-only`; `--uploads-only` prints the last two only):
- the time to withdraw (`bot.services.plan_withdraw.withdraw`: one transaction, committed) and
  to restore a plan of 1,000 and of 10,000 assignments, beside another plan of the same size,
  with a pending Outbox row per assignment to cancel (median of 3; target: well under 10 ms
  for 1,000, the peer's 10–21 s / 1,000);
- confirming 10 uploads of 1,000 items one after the other as the bot does it
  (`bot.services.import_review.ImportReviews.confirm` with the bot's loader: YAML written and
  plan loaded in a worker thread): wall time, CPU time of this process (all threads), worst
  stall of the event loop (tests/heartbeat.py: CPU time of this process while the loop did not
  run);
- the same for a 10,000-item plan reloaded at start-up (`bot.services.plan_loading.
  reload_folder`) and a 10,000-item upload confirmed.
`--database-url postgresql+asyncpg://USER@HOST:PORT/DB` runs the uploads and the 10,000-item
loads on that PostgreSQL server instead (a fresh database of their own, made and dropped there;
DB is only where the CREATE DATABASE runs), and then times `touch_plan` on a 5,000-item plan and
`touch_all` on 10,000 assignments (median of 3), and a reload of the 5,000-item plan with one
title edited, then one deadline moved (`--touch-only` prints only these).
`time_load(plans, directory)` is reusable by `benchmarks/import_bench.py`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.plan import Plan  # noqa: E402
from bot.storage.db import make_engine, make_session_maker  # noqa: E402
from bot.storage.loader import LoadReport, load_plans  # noqa: E402
from bot.storage.migrate import upgrade_database  # noqa: E402

AT = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)


@dataclass
class LoadTiming:
    migrate_seconds: float
    load_seconds: float
    reload_seconds: float  # same plans again: skipped by content hash
    report: LoadReport


async def _time_load(plans: list[Plan], directory: Any, folder: Path) -> LoadTiming:
    url = f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    start = time.perf_counter()
    await upgrade_database(url)
    migrated = time.perf_counter()
    engine = make_engine(url)
    try:
        session_maker = make_session_maker(engine)
        loaded_start = time.perf_counter()
        report = await load_plans(session_maker, plans, directory, at=AT)
        loaded = time.perf_counter()
        await load_plans(session_maker, plans, directory, at=AT)
        reloaded = time.perf_counter()
    finally:
        await engine.dispose()
    return LoadTiming(migrated - start, loaded - loaded_start, reloaded - loaded, report)


def time_load(plans: list[Plan], directory: Any) -> LoadTiming:
    """Migrate a fresh temp SQLite database, load `plans`, load them again; time each step."""
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(_time_load(plans, directory, Path(folder)))


def _server_url() -> str | None:
    """The PostgreSQL server of `--database-url`, None for SQLite."""
    if "--database-url" not in sys.argv:
        return None
    return sys.argv[sys.argv.index("--database-url") + 1]


def _backend() -> str:
    return "PostgreSQL" if _server_url() else "SQLite"


@asynccontextmanager
async def _database(folder: Path, name: str) -> AsyncIterator[str]:
    """A fresh database migrated to head: an SQLite file in `folder`, or a database of its own
    on the `--database-url` server, dropped afterwards."""
    server = _server_url()
    if server is None:
        url = f"sqlite+aiosqlite:///{folder / f'{name}.sqlite3'}"
        await upgrade_database(url)
        yield url
        return
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    admin = make_url(server)
    database = f"load_bench_{os.getpid()}_{name}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {database}")
        url = admin.set(database=database).render_as_string(hide_password=False)
        await upgrade_database(url)
        yield url
    finally:
        await conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await conn.close()


def _big_plan(code: str, n: int) -> Plan:
    """A plan of `n` items, one milestone and one unit each (units kept as written)."""
    from datetime import date

    from bot.core.plan import Item, Milestone, PlanInfo, UnitRef

    units = [UnitRef(name=f"单位{i}", as_written=f"单位{i}") for i in range(40)]
    items = [
        Item(
            ref=f"{code}-{i}",
            number=str(i),
            section="重点任务",
            title=f"任务 {i} 的标题",
            text=f"{code}-{i} 的全文，" * 4,
            units=[units[i % len(units)]],
            milestones=[Milestone(due=date(2026, 12, 31), phrase="2026年底")],
        )
        for i in range(n)
    ]
    info = PlanInfo(
        code=code,
        title=f"基准计划 {code}",
        issuer="某市人民政府",
        issued=date(2024, 1, 1),
        start=date(2024, 1, 1),
        end=date(2026, 12, 31),
        source=f"tasks_data/plans/{code.lower()}.yaml",
    )
    return Plan(info=info, tasks=items)


async def _withdraw_times(n: int, folder: Path) -> tuple[float, float, float, int]:
    """Median seconds to withdraw a plan of `n` assignments (beside another of the same size;
    each withdrawal with a pending Outbox row per assignment to cancel), the CPU seconds of
    this process meanwhile (all threads: the SQLite driver's too; on a loaded machine the
    wall clock also counts the waits for a core), the seconds to restore it, and how many
    rows a withdrawal cancelled."""
    import statistics

    from sqlalchemy import insert
    from sqlmodel import col, select

    from bot.services.plan_withdraw import restore, withdraw
    from bot.storage.models import Assignment, Outbox

    url = f"sqlite+aiosqlite:///{folder / f'withdraw{n}.sqlite3'}"
    await upgrade_database(url)
    engine = make_engine(url)
    try:
        session_maker = make_session_maker(engine)
        await load_plans(session_maker, [_big_plan("WA", n), _big_plan("WB", n)], None, at=AT)
        async with session_maker() as s:
            ids = list((await s.exec(select(col(Assignment.id)))).all())
        out: list[float] = []
        out_cpu: list[float] = []
        back: list[float] = []
        cancelled = 0
        for run in range(3):
            rows: list[dict[str, Any]] = [
                {
                    "key": f"reminder:{aid}:d7#{run}|1",
                    "kind": "reminder",
                    "chat_id": 1,
                    "assignment_id": aid,
                    "payload": {},
                    "created_at": AT,
                    "not_before": AT,
                    "status": "pending",
                }
                for aid in ids
            ]
            async with engine.begin() as conn:
                await conn.execute(insert(Outbox.__table__), rows)  # type: ignore[attr-defined]
            start, cpu = time.perf_counter(), time.process_time()
            done = await withdraw(session_maker, "WA", at=AT)
            out.append(time.perf_counter() - start)
            out_cpu.append(time.process_time() - cpu)
            cancelled = done.archive.outbox
            assert done.archive.assignments == n
            start = time.perf_counter()
            await restore(session_maker, "WA", at=AT)
            back.append(time.perf_counter() - start)
        return (
            statistics.median(out),
            statistics.median(out_cpu),
            statistics.median(back),
            cancelled,
        )
    finally:
        await engine.dispose()


async def _pending(session_maker: Any, plan: Plan) -> str:
    """An upload of `plan` under review, as bot.services.import_review keeps it: its token."""
    from bot.core.plan import plan_to_dict
    from bot.storage.models import PendingImport

    token = f"tok{plan.info.code}"
    async with session_maker() as s:
        s.add(
            PendingImport(
                token=token,
                owner=1,
                chat_id=1,
                options={},
                plan={"taken_code": None, "plan": plan_to_dict(plan)},
                version=1,
                created_at=AT,
                updated_at=AT,
            )
        )
        await s.commit()
    return token


async def _confirm(session_maker: Any, tasks_data: Path, token: str, runner: Any) -> None:
    """Confirm upload `token` as the bot does (bot.services.import_review), with its loader."""
    from bot.services.import_review import ImportReviews, Loaded

    async def no_parse(*args: Any) -> Any:
        raise AssertionError("confirming parses nothing")

    async with session_maker() as s:
        reviews = ImportReviews(s, parse=no_parse, tasks_data=tasks_data, now=AT, loader=runner)
        done = await reviews.confirm(
            token, owner=1, version=1, session_maker=session_maker, directory=None
        )
    assert isinstance(done, Loaded) and done.result.new_plan


async def _measured(work: Any) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of this process, worst stall of its event loop in seconds)
    of `await work()`."""
    from tests.heartbeat import Heartbeat

    start, cpu = time.perf_counter(), time.process_time()
    async with Heartbeat() as beat:
        await work()
    return time.perf_counter() - start, time.process_time() - cpu, beat.max_stall


async def _uploads(folder: Path, plans: int = 10, items: int = 1_000) -> str:
    """Confirm `plans` uploads of `items` items each, one after the other, as the bot does."""
    from bot.services.plan_loading import load_runner

    async with _database(folder, "uploads") as url:
        engine = make_engine(url)
        try:
            session_maker = make_session_maker(engine)
            runner = load_runner()
            tokens = [
                await _pending(session_maker, _big_plan(f"U{i}", items)) for i in range(plans)
            ]

            async def work() -> None:
                for token in tokens:
                    await _confirm(session_maker, folder / "uploads", token, runner)

            wall, cpu, stall = await _measured(work)
        finally:
            await engine.dispose()
    return (
        f"confirm {plans} uploads of {items:,} items (YAML written + loaded, {_backend()}): "
        f"{wall:.2f} s (CPU {cpu:.2f} s), worst stall {stall * 1000:.0f} ms"
    )


async def _stalls(n: int, folder: Path) -> list[str]:
    """A plan of `n` items reloaded at start-up and an upload of `n` items confirmed, as the
    bot does them (bot.services.plan_loading: a worker thread), with the loop's worst stall."""
    from bot.importer.yaml_io import write_plan_yaml
    from bot.services.plan_loading import load_runner, reload_folder

    plans_dir = folder / "stall" / "plans"
    write_plan_yaml(_big_plan("BG", n), plans_dir / "bg.yaml")
    async with _database(folder, "stall") as url:
        engine = make_engine(url)
        try:
            session_maker = make_session_maker(engine)

            async def reload() -> None:
                await reload_folder(session_maker, plans_dir, None, at=AT, default_locale="zh_CN")

            token = await _pending(session_maker, _big_plan("UP", n))

            async def upload() -> None:
                await _confirm(session_maker, folder / "stall", token, load_runner())

            lines = [f"as the bot loads a {n:,}-item plan ({_backend()}):"]
            for label, work in (("start-up reload", reload), ("upload confirm", upload)):
                wall, cpu, stall = await _measured(work)
                lines.append(
                    f"  {label} of {n:,} items: {wall:.2f} s (CPU {cpu:.2f} s), worst stall "
                    f"{stall * 1000:.0f} ms"
                )
        finally:
            await engine.dispose()
    return lines


async def _edit_reload(engine: Any, session_maker: Any, plan: Plan) -> str:
    """Reload `plan` (5,000 items, every instant set) with one title edited, then with one
    deadline moved: seconds, and how many assignments the next tick must recompute."""
    import dataclasses
    from datetime import timedelta

    from sqlalchemy import func, select, update

    from bot.storage.models import Assignment

    table = Assignment.__table__  # type: ignore[attr-defined]
    first = plan.tasks[0]
    moved = dataclasses.replace(first.milestones[0], due=first.milestones[0].due - timedelta(1))
    edits = [
        ("one title edited", dataclasses.replace(first, title=first.title + "（修订）")),
        ("one deadline moved", dataclasses.replace(first, milestones=[moved])),
    ]
    out = []
    for label, edited in edits:
        async with engine.begin() as conn:
            await conn.execute(update(table).values(next_at=AT))
        changed = dataclasses.replace(plan, tasks=[edited, *plan.tasks[1:]])
        start = time.perf_counter()
        await load_plans(session_maker, [changed], None, at=AT)
        seconds = time.perf_counter() - start
        async with engine.connect() as conn:
            nulls = (
                await conn.execute(select(func.count()).where(table.c.next_at.is_(None)))
            ).scalar_one()
        out.append(f"{label}: {seconds * 1000:.0f} ms, {nulls:,} to recompute")
    return f"reload a 5,000-item plan ({_backend()}), " + "; ".join(out)


async def _touch_times(folder: Path) -> list[str]:
    """Median seconds of `touch_plan` on a 5,000-item plan (beside another of 5,000) and of
    `touch_all` on their 10,000 assignments, each with every instant set beforehand (the
    worst case: every row changes), and again with every instant already NULL."""
    import statistics

    from sqlalchemy import update

    from bot.storage.models import Assignment
    from bot.storage.next_at import touch_all, touch_plan

    table = Assignment.__table__  # type: ignore[attr-defined]
    async with _database(folder, "touch") as url:
        engine = make_engine(url)
        try:
            session_maker = make_session_maker(engine)
            plans = [_big_plan("TA", 5_000), _big_plan("TB", 5_000)]
            await load_plans(session_maker, plans, None, at=AT)
            lines = []
            for label, touch in (
                ("touch_plan (5,000 of 10,000)", lambda c: touch_plan(c, "TA")),
                ("touch_all (10,000)", touch_all),
            ):
                times: dict[bool, list[float]] = {True: [], False: []}
                for _ in range(3):
                    for all_set in (True, False):
                        if all_set:
                            async with engine.begin() as conn:
                                await conn.execute(update(table).values(next_at=AT))
                        async with engine.begin() as conn:
                            start = time.perf_counter()
                            await touch(conn)
                        times[all_set].append(time.perf_counter() - start)
                lines.append(
                    f"{label}, {_backend()}, committed: "
                    f"{statistics.median(times[True]) * 1000:.1f} ms with every instant set, "
                    f"{statistics.median(times[False]) * 1000:.1f} ms with none"
                )
            lines.append(await _edit_reload(engine, session_maker, plans[0]))
        finally:
            await engine.dispose()
    return lines


async def _extras(folder: Path) -> list[str]:
    lines = []
    for n in (1_000, 10_000):
        out, cpu, back, cancelled = await _withdraw_times(n, folder)
        lines.append(
            f"withdraw a plan of {n:,} assignments (SQLite, committed, {cancelled:,} pending "
            f"messages cancelled): {out * 1000:.1f} ms (CPU {cpu * 1000:.1f} ms); restore "
            f"{back * 1000:.1f} ms"
        )
    lines.append(await _uploads(folder))
    lines += await _stalls(10_000, folder)
    lines += await _touch_times(folder)
    return lines


def main() -> int:
    from bot.core.units import load_unit_directory
    from bot.importer.yaml_io import read_plans_dir

    plans = read_plans_dir(ROOT / "tasks_data" / "plans")
    directory = load_unit_directory(ROOT / "tasks_data" / "units.yaml")
    timing = time_load(plans, directory)
    assignments = sum(p.assignments for p in timing.report.plans)
    items = sum(p.tasks + p.key_projects + p.indicators for p in timing.report.plans)
    print(
        f"load {len(plans)} plans ({items} items, {assignments} assignments) into a fresh "
        f"SQLite database: {timing.load_seconds:.3f} s (migrations {timing.migrate_seconds:.3f} s,"
        f" unchanged reload {timing.reload_seconds:.3f} s)"
    )
    if "--uploads-only" in sys.argv:
        with tempfile.TemporaryDirectory() as folder:
            print(asyncio.run(_uploads(Path(folder))))
            for line in asyncio.run(_stalls(10_000, Path(folder))):
                print(line)
            for line in asyncio.run(_touch_times(Path(folder))):
                print(line)
        return 0
    if "--touch-only" in sys.argv:
        with tempfile.TemporaryDirectory() as folder:
            for line in asyncio.run(_touch_times(Path(folder))):
                print(line)
        return 0
    if "--withdraw-only" in sys.argv:
        with tempfile.TemporaryDirectory() as folder:
            for n in (1_000, 10_000):
                out, cpu, back, cancelled = asyncio.run(_withdraw_times(n, Path(folder)))
                print(
                    f"withdraw {n:,} ({cancelled:,} messages cancelled): {out * 1000:.1f} ms "
                    f"(CPU {cpu * 1000:.1f} ms); restore {back * 1000:.1f} ms"
                )
        return 0
    if "--seeds-only" not in sys.argv:
        with tempfile.TemporaryDirectory() as folder:
            for line in asyncio.run(_extras(Path(folder))):
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
