"""Scheduler figures: one planning pass over a 100,000-assignment ledger (time, peak RSS).

    .venv/bin/python benchmarks/scheduler_bench.py [N]

Builds the synthetic ledger (benchmarks/synthetic.py) in a temporary database as it would be
on 2025-12-01, then times `schedules.enqueue.plan_due`:
- the first pass at a window opening, which writes every due stage (the burst after a plan is
  loaded: most of its items are overdue);
- a steady pass a minute later (what every tick costs: everything already in the Outbox);
- the pure planner alone on the loaded snapshots.
Peak RSS is the process's high-water mark (ru_maxrss) after each step. Each figure is one
line; the delivery engineer's sender throughput lines are printed by `sender_figures()`.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import build_synthetic_ledger  # noqa: E402
from bot.storage.db import create_all, make_engine, make_session_maker  # noqa: E402
from schedules.enqueue import load_snapshots, plan_due  # noqa: E402
from schedules.planner import due_notifications  # noqa: E402
from schedules.policy import load_policy  # noqa: E402

AT = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)  # Monday 10:00 Asia/Shanghai


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def planning_figures(n: int = 100_000) -> list[str]:
    lines: list[str] = []
    policy = load_policy()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}")
        await create_all(engine)
        sm = make_session_maker(engine)
        info = await build_synthetic_ledger(sm, assignments=n, at=AT)
        lines.append(
            f"ledger: {info.assignments} assignments, {info.persons} persons, "
            f"peak RSS {peak_rss_mb():.0f} MB after building it"
        )
        async with sm() as session:
            conn = await session.connection()
            started = time.perf_counter()
            snaps, _ = await load_snapshots(conn, policy, AT)
            loaded = time.perf_counter() - started
        started = time.perf_counter()
        notes = due_notifications(snaps, policy, AT)
        planned = time.perf_counter() - started
        lines.append(
            f"snapshot load: {len(snaps)} open assignments in {loaded * 1000:.0f} ms; "
            f"pure planner: {len(notes)} due in {planned * 1000:.0f} ms"
        )
        del snaps, notes
        first = await plan_due(sm, AT, policy, digests=False)
        lines.append(
            f"first pass (burst): {first.considered} considered, {first.due} due, "
            f"{first.inserted} outbox rows in {first.seconds:.2f} s, "
            f"peak RSS {peak_rss_mb():.0f} MB"
        )
        steady = []
        for minute in (1, 2, 3):
            at = AT.replace(minute=minute)
            steady.append(await plan_due(sm, at, policy, digests=False))
        best = min(r.seconds for r in steady)
        lines.append(
            f"steady pass over {n} assignments: {steady[0].considered} considered, "
            f"{steady[0].due} due, {steady[-1].inserted} new rows, best of 3 "
            f"{best * 1000:.0f} ms (budget 500 ms), peak RSS {peak_rss_mb():.0f} MB "
            f"(budget 200 MB)"
        )
        digest = await plan_due(sm, AT.replace(minute=5), policy)
        lines.append(
            f"weekly digest: {digest.digests} recipients in {digest.seconds:.2f} s"
        )
        await engine.dispose()
    return lines


async def main(n: int) -> None:
    for line in await planning_figures(n):
        print(line)
    try:
        from benchmarks.sender_bench import sender_figures  # type: ignore[import-not-found]
    except ImportError:
        return
    for line in await sender_figures():
        print(line)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
