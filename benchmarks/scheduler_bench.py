"""Scheduler figures: one planning pass over a 100,000-assignment ledger (time, peak RSS).

    .venv/bin/python benchmarks/scheduler_bench.py [N]

Builds the synthetic ledger (benchmarks/synthetic.py) in a temporary database as it would be
on 2025-12-01, then times `schedules.enqueue.plan_due`:
- the first pass at a window opening, which writes every due stage (the burst after a plan is
  loaded: most of its items are overdue);
- a steady pass a minute later (what every tick costs: everything already in the Outbox);
- the pure planner alone on the loaded snapshots;
- the weekly digest pass (content built once, cut per scope, one row per recipient).
Wall time and process CPU time (the database thread included) are both printed: on a loaded
machine wall time swings a lot, CPU time much less. Peak RSS is the process's high-water mark
(ru_maxrss) after each step. Each figure is one line; the delivery engineer's sender
throughput lines are printed by `sender_figures()`.

Figures (2 cores, a shared machine under load ~2.5; old and new code run alternately on the
same ledger, best-of-11 steady passes):
- first pass: 87,908 rows in 11.2–14.9 s CPU before (36,509 of them per-item 督办 to
  coordinators); 51,419 rows (20 督办汇总 listing those 36,509 items, + 574 marker rows) in
  7.4–10.9 s CPU after;
- steady pass: best 513–590 ms CPU before; 328–383 ms CPU after (median 396–480);
- digest pass (39 recipients, the steady pass included): 2.1–3.7 s before; 1.1–1.4 s after.
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import build_synthetic_ledger
from bot.storage.db import create_all, make_engine, make_session_maker
from schedules.enqueue import load_snapshots, plan_due
from schedules.planner import due_notifications
from schedules.policy import load_policy

AT = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)  # Monday 10:00 Asia/Shanghai


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def build_ledger(path: Path, n: int) -> None:
    """Build the synthetic ledger (run in a child process so its memory is not counted)."""
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await create_all(engine)
    info = await build_synthetic_ledger(make_session_maker(engine), assignments=n, at=AT)
    print(f"ledger: {info.assignments} assignments, {info.persons} persons")
    policy = load_policy()
    cpu = time.process_time()
    first = await plan_due(make_session_maker(engine), AT, policy, digests=False)
    cpu = time.process_time() - cpu
    await engine.dispose()
    print(
        f"first pass (the burst after loading, in the child): {first.considered} considered, "
        f"{first.due} due ({first.unresolved} with nobody bound), {first.inserted} outbox "
        f"rows ({first.by_kind.get('escalation_batch', 0)} 督办汇总 listing "
        f"{first.batched_items} escalated items, + {first.markers} marker rows) in "
        f"{first.seconds:.2f} s wall, {cpu:.2f} s CPU, peak RSS {peak_rss_mb():.0f} MB"
    )


async def planning_figures(n: int = 100_000) -> list[str]:
    lines: list[str] = []
    policy = load_policy()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        built = subprocess.run(
            [sys.executable, __file__, "--build", str(path), str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        lines += built.stdout.strip().splitlines()
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        sm = make_session_maker(engine)
        async with sm() as session:
            conn = await session.connection()
            started = time.perf_counter()
            snaps, _ = await load_snapshots(conn, policy, AT)
            loaded = time.perf_counter() - started
        started = time.perf_counter()
        notes = due_notifications(snaps, policy, AT)
        planned = time.perf_counter() - started
        lines.append(
            f"steady snapshot load: {len(snaps)} assignments in {loaded * 1000:.0f} ms; "
            f"pure planner on them: {len(notes)} due in {planned * 1000:.0f} ms"
        )
        del snaps, notes
        steady = []
        cpus = []
        for minute in (1, 2, 3, 4, 5):
            cpu = time.process_time()
            steady.append(await plan_due(sm, AT.replace(minute=minute), policy, digests=False))
            cpus.append(time.process_time() - cpu)
        walls = sorted(r.seconds for r in steady)
        lines.append(
            f"steady pass over {n} assignments: {steady[0].considered} loaded, "
            f"{steady[0].due} due, {steady[-1].inserted} new rows; of 5 passes best "
            f"{walls[0] * 1000:.0f} ms, median {walls[2] * 1000:.0f} ms wall, best "
            f"{min(cpus) * 1000:.0f} ms CPU (budget 500 ms), peak RSS {peak_rss_mb():.0f} MB "
            f"(budget 200 MB)"
        )
        cpu = time.process_time()
        digest = await plan_due(sm, AT.replace(minute=7), policy)
        cpu = time.process_time() - cpu
        lines.append(
            f"weekly digest: {digest.digests} recipients in {digest.seconds:.2f} s wall, "
            f"{cpu:.2f} s CPU (the steady planning pass included)"
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
    if len(sys.argv) > 1 and sys.argv[1] == "--build":
        asyncio.run(build_ledger(Path(sys.argv[2]), int(sys.argv[3])))
    else:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
