"""/overdue over a big ledger: server time of the grouped page (items with their late units).

    python benchmarks/overdue_bench.py [ASSIGNMENTS] [RUNS]

Builds ASSIGNMENTS (default 100,000) assignments with benchmarks/synthetic.py into a temporary
SQLite database, then times `overdue_screen` (count of late items and of late assignments, one
page of items with their late units, and the rendering) for the whole ledger, one plan and one
unit, on the first and on the last page: median, best and worst wall time of RUNS runs (default
5) after one warm-up. Target: median under 300 ms (a command answered at once).
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

from benchmarks.synthetic import build_synthetic_ledger
from bot.config import load_settings
from bot.core.roles import Roles
from bot.services import stats
from bot.services.coordination import scope_from_ids
from bot.storage.db import create_all, make_engine, make_session_maker
from bot.telegram.coordinator import render
from bot.telegram.coordinator.status import overdue_screen

AT = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)
TARGET_MS = 300.0


async def _time(session_maker, choice, settings, runs: int, page: int):
    walls: list[float] = []
    size = 0
    for i in range(runs + 1):
        async with session_maker() as session:
            wall0 = time.perf_counter()
            text, _ = await overdue_screen(
                session, choice, settings=settings, at=AT, locale="zh_CN", page=page
            )
            wall = time.perf_counter() - wall0
        size = len(text)
        if i:
            walls.append(wall * 1000)
    return walls, size


async def main(assignments: int, runs: int) -> int:
    settings = load_settings(env_file=None)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'overdue-bench.sqlite3'}"
        engine = make_engine(url)
        await create_all(engine)
        session_maker = make_session_maker(engine)
        info = await build_synthetic_ledger(session_maker, assignments=assignments, at=AT)
        print(f"ledger: {info.assignments:,} assignments, {info.plans} plans, {info.units} units")
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        everyone = Roles(coordinator_all=True)
        when = stats.When(AT, settings.clock.zone)
        async with session_maker() as session:
            lines = (await stats.unit_totals(session, scope=stats.Scope(), when=when))[1]
            busiest_unit = max(lines, key=lambda u: u.total).unit_id
            scopes = {
                "all plans": await scope_from_ids(session, everyone, None, None),
                "one plan": await scope_from_ids(session, everyone, 1, None),
                "one unit": await scope_from_ids(session, everyone, None, busiest_unit),
            }
            items = {
                name: await stats.count_overdue_tasks(session, scope=c.scope, when=when)
                for name, c in scopes.items()
            }
        worst = 0.0
        print(f"/overdue server time, {runs} runs (ms)        median   best  worst")
        for name, choice in scopes.items():
            last = max(0, -(-items[name] // render.GROUP_PAGE_SIZE) - 1)
            for label, page in (("first page", 0), ("last page", last)):
                walls, size = await _time(session_maker, choice, settings, runs, page)
                median = statistics.median(walls)
                worst = max(worst, median)
                print(
                    f"  {name:<10} {label:<10} {median:7.1f} {min(walls):6.1f} "
                    f"{max(walls):6.1f}   ({items[name]:,} items late, {size} characters)"
                )
        await engine.dispose()
    verdict = "OK" if worst < TARGET_MS else "OVER"
    print(
        f"target: median < {TARGET_MS:.0f} ms → {verdict} (worst median {worst:.1f} ms); "
        f"load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    return 0


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    raise SystemExit(asyncio.run(main(n, k)))
