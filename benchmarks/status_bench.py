"""/status over a big ledger: server time of the service call plus the rendering.

    python benchmarks/status_bench.py [ASSIGNMENTS] [RUNS]

Builds ASSIGNMENTS (default 100,000) assignments with benchmarks/synthetic.py into a temporary
SQLite database (tables and indexes from the models), then times `status_screen` (the aggregate
queries of bot.services.stats and the rendering) for the whole ledger, one plan and one unit:
median, best and worst wall time of RUNS runs (default 9) after one warm-up, and the process
CPU time (less sensitive to other load on the machine). Target: median under 100 ms. On a
shared machine run it as `nice -n -10 python benchmarks/status_bench.py`.

PostgreSQL: `DATABASE_URL=postgresql+asyncpg://USER@HOST:PORT/DB python benchmarks/status_bench.py`
builds the ledger in that database instead, which must be empty (it is left with the ledger;
drop it afterwards). The database gets VACUUM ANALYZE after the build, as autovacuum would
soon do.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from benchmarks.synthetic import build_synthetic_ledger
from bot.config import load_settings
from bot.core.policy import load_policy
from bot.core.roles import Roles
from bot.services import stats
from bot.services.coordination import scope_from_ids
from bot.storage.db import create_all, make_engine, make_session_maker
from bot.telegram.coordinator.status import status_screen

AT = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)
TARGET_MS = 100.0


async def _time(session_maker, choice, settings, runs: int):
    """(wall ms, cpu ms, characters) of `runs` runs after one warm-up."""
    walls: list[float] = []
    cpus: list[float] = []
    size = 0
    policy = load_policy(settings.data.policy_file, timezone=settings.clock.timezone)
    for i in range(runs + 1):
        async with session_maker() as session:
            wall0, cpu0 = time.perf_counter(), time.process_time()
            text, _ = await status_screen(
                session, choice, settings=settings, policy=policy, at=AT, locale="zh_CN"
            )
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        size = len(text)
        if i:  # the first run warms the page cache and the statement cache
            walls.append(wall * 1000)
            cpus.append(cpu * 1000)
    return walls, cpus, size


def _has_tables(conn: Connection) -> bool:
    return bool(inspect(conn).get_table_names())


async def main(assignments: int, runs: int) -> int:
    settings = load_settings(env_file=None)
    pg_url = os.environ.get("DATABASE_URL", "")
    on_pg = pg_url.startswith("postgresql")
    with tempfile.TemporaryDirectory() as folder:
        url = pg_url if on_pg else f"sqlite+aiosqlite:///{Path(folder) / 'status-bench.sqlite3'}"
        engine = make_engine(url)
        async with engine.connect() as conn:
            if on_pg and await conn.run_sync(_has_tables):
                print(f"{url}: not an empty database", file=sys.stderr)
                return 2
        await create_all(engine)
        session_maker = make_session_maker(engine)
        start = time.perf_counter()
        info = await build_synthetic_ledger(session_maker, assignments=assignments, at=AT)
        built = time.perf_counter() - start
        print(
            f"ledger: {info.assignments:,} assignments, {info.milestones:,} milestones, "
            f"{info.plans} plans, {info.units} units (built in {built:.1f} s)"
        )
        # The build is one 100k-row transaction: fold its write-ahead log into the database,
        # as the next writes of a running bot would, so readers do not search a huge WAL.
        # PostgreSQL: VACUUM ANALYZE, as autovacuum soon does after 100k inserts (PostgreSQL 13+
        # vacuums after inserts too): the planner's statistics, and the visibility map that lets
        # an index-only scan skip the table. Outside a transaction: VACUUM refuses one, and an
        # ANALYZE in a transaction that is rolled back leaves no statistics.
        async with engine.connect() as conn:
            if on_pg:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.exec_driver_sql("VACUUM ANALYZE")
            else:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        everyone = Roles(coordinator_all=True)
        async with session_maker() as session:
            lines = (
                await stats.unit_totals(
                    session, scope=stats.Scope(), when=stats.When(AT, settings.clock.zone)
                )
            )[1]
            busiest_unit = max(lines, key=lambda u: u.total).unit_id
            scopes = {
                "all plans": await scope_from_ids(session, everyone, None, None),
                "one plan": await scope_from_ids(session, everyone, 1, None),
                "one unit": await scope_from_ids(session, everyone, None, busiest_unit),
            }
        worst_median = 0.0
        print(f"/status server time, {runs} runs (ms)    median   best  worst | cpu median")
        for name, choice in scopes.items():
            walls, cpus, size = await _time(session_maker, choice, settings, runs)
            median = statistics.median(walls)
            worst_median = max(worst_median, median)
            print(
                f"  {name:<10} {median:7.1f} {min(walls):6.1f} {max(walls):6.1f} | "
                f"{statistics.median(cpus):7.1f}   ({size} characters)"
            )
        await engine.dispose()
    verdict = "OK" if worst_median < TARGET_MS else "OVER"
    print(
        f"target: median < {TARGET_MS:.0f} ms → {verdict} "
        f"(worst median {worst_median:.1f} ms); load average now {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} cores; {'PostgreSQL' if on_pg else 'SQLite'}"
    )
    return 0


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    raise SystemExit(asyncio.run(main(n, k)))
