"""The peer of issue 13's table: the design most APScheduler bots use, minimal and faithful.

    .venv/bin/python benchmarks/peer_jobstore.py [--plans 10] [--per-plan 1000] [--moves 40]

APScheduler 3's AsyncIOScheduler with a SQLAlchemyJobStore on an SQLite file (its defaults:
rollback journal, one committed transaction per job change), one `date` job per reminder
stage of each assignment, added one by one as such bots do when a plan is uploaded (one
"upload" per plan; the event loop runs between plans, not within one). The ledger is the
one of benchmarks/story_bench.py (benchmarks/story_ledger.py), at the same instant
(Monday 2025-06-09 10:00 Asia/Shanghai). Stages of an assignment, each a job at 09:00 local
on its day, scheduled when still in the future: reminders 30, 7, 1 and 0 days before the due
date, the acknowledgement chase 3 days and its escalation 5 days after the assignment, the
overdue notice 1 day and the 督办 7 days after the due date. The job runs a module-level
function with the assignment and the stage as arguments (what a bot pickles at the least).

The scheduler is started paused (nothing fires: jobs are written to the store at once, as in a
running bot, and none runs during the measurements). Printed, as story_bench.py prints the
project's:
- schedule everything: every job added (wall, CPU);
- the store on disk: the SQLite file;
- what is due at the next tick: `get_due_jobs` of the store half a minute later (what the
  scheduler's wake-up calls), median of 20, and at the next morning's 09:00, when the jobs of
  that day are due;
- a deadline moved (an approved extension, 30 days): the assignment's deadline stages
  rescheduled (`reschedule_job`; a stage that comes into the future is added), median over
  `--moves` distinct assignments;
- withdraw a plan: every job of its assignments removed (`remove_job`);
- the worst event-loop stall (tests/heartbeat.py's measure) and peak RSS (ru_maxrss), and the
  RSS after the imports.
It imports nothing of the bot. Slow at 10,000 assignments (minutes): `--per-plan 100` or 200
for a quick look.

Measured by helper "story" at 10,000 assignments (2 cores shared; load 1.4-3.8 and 1.9-2.7,
two runs): 69,594 jobs in 225 s / 180 s (57 / 55 s CPU, 2.6-3.2 ms a job); store 43.5 MiB;
get_due_jobs 0.1 ms with nothing due, 0.5 ms for the 11 jobs of the next morning; a deadline
moved 10.6 / 8.8 ms; a plan of 1,000 assignments withdrawn (6,939 jobs) in 9.2 / 8.4 s; the
event loop blocked up to 100 / 76 s (wall; 19 / 18 s of it this process's CPU, the rest
waiting for the disk); peak RSS 49 MiB (40 MiB after imports).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apscheduler.jobstores.base import JobLookupError  # noqa: E402
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # noqa: E402
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402

from benchmarks.story_ledger import StoryPlan, story_plans  # noqa: E402
from tests.heartbeat import Heartbeat  # noqa: E402


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


RSS_AFTER_IMPORTS = _rss_mb()
ZONE = ZoneInfo("Asia/Shanghai")
AT = datetime(2025, 6, 9, 2, 0, tzinfo=UTC)  # Monday 10:00 Asia/Shanghai
MORNING = datetime(2025, 6, 10, 1, 0, tzinfo=UTC)  # the next window opening, Tuesday 09:00
TICKS = 20
# (stage, days from the due date) and (stage, days from the assignment)
DUE_STAGES = (("d30", -30), ("d7", -7), ("d1", -1), ("d0", 0), ("overdue", 1), ("duban", 7))
ASSIGNED_STAGES = (("ack_chase", 3), ("ack_escalate", 5))


def remind(assignment: str, stage: str) -> None:
    """What the job would run (never runs here: the scheduler is paused)."""


def _nine(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=ZONE)


def assignments(plan: StoryPlan) -> list[tuple[str, date]]:
    """(assignment key, due date) of every assignment of the plan."""
    out = []
    for item in plan.items:
        for seq, (due, _phrase) in enumerate(item.milestones):
            for unit, _role in item.units:
                out.append((f"{item.ref}:{seq}:{unit}", due))
    return out


def stages(due: date, assigned: date) -> list[tuple[str, datetime]]:
    out = [(name, _nine(due + timedelta(days=d))) for name, d in DUE_STAGES]
    out += [(name, _nine(assigned + timedelta(days=d))) for name, d in ASSIGNED_STAGES]
    return out


def schedule_plan(scheduler: AsyncIOScheduler, plan: StoryPlan) -> int:
    """The upload handler's work: a job per future stage of every assignment."""
    added = 0
    assigned = AT.astimezone(ZONE).date()
    for key, due in assignments(plan):
        for stage, when in stages(due, assigned):
            if when <= AT:
                continue
            scheduler.add_job(
                remind, "date", run_date=when, id=f"{key}:{stage}", args=[key, stage]
            )
            added += 1
    return added


def move_deadline(scheduler: AsyncIOScheduler, key: str, due: date, new_due: date) -> None:
    """An approved extension: the deadline's stages move with it."""
    for stage, days in DUE_STAGES:
        when = _nine(new_due + timedelta(days=days))
        job_id = f"{key}:{stage}"
        if when <= AT:
            continue
        try:
            scheduler.reschedule_job(job_id, trigger="date", run_date=when)
        except JobLookupError:  # it was in the past: now it is not
            scheduler.add_job(remind, "date", run_date=when, id=job_id, args=[key, stage])


def withdraw_plan(scheduler: AsyncIOScheduler, plan: StoryPlan) -> int:
    removed = 0
    names = [s for s, _ in DUE_STAGES] + [s for s, _ in ASSIGNED_STAGES]
    for key, _due in assignments(plan):
        for stage in names:
            try:
                scheduler.remove_job(f"{key}:{stage}")
                removed += 1
            except JobLookupError:  # a stage that was past when scheduled
                pass
    return removed


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def story(args: argparse.Namespace, folder: Path) -> list[str]:
    path = folder / "jobs.sqlite3"
    plans = story_plans(args.plans, args.per_plan)
    lines = [
        f"ledger: {len(plans)} plans, {sum(len(p.items) for p in plans):,} items, "
        f"{sum(p.assignments for p in plans):,} assignments (story_ledger.py)"
    ]
    store = SQLAlchemyJobStore(url=f"sqlite:///{path}")
    scheduler = AsyncIOScheduler(jobstores={"default": store}, timezone=ZONE)
    scheduler.start(paused=True)
    try:
        async with Heartbeat() as beat:
            wall, cpu = time.perf_counter(), time.process_time()
            jobs = 0
            for plan in plans:
                jobs += schedule_plan(scheduler, plan)
                await asyncio.sleep(0)  # the next upload is another update
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            stall_schedule = beat.max_stall
            lines.append(
                f"schedule everything: {jobs:,} jobs added one by one, {wall:.1f} s wall, "
                f"{cpu:.1f} s CPU ({wall / jobs * 1000:.2f} ms a job)"
            )
            lines.append(f"store on disk: {path.stat().st_size / 2**20:.1f} MiB")
            due_walls, due_count = [], 0
            for i in range(TICKS):
                start = time.perf_counter()
                due_count = len(store.get_due_jobs(AT + timedelta(seconds=30 + i)))
                due_walls.append(time.perf_counter() - start)
                await asyncio.sleep(0)
            start = time.perf_counter()
            morning = len(store.get_due_jobs(MORNING))
            morning_wall = time.perf_counter() - start
            lines.append(
                f"due at the next tick (get_due_jobs): median {_ms(statistics.median(due_walls))}"
                f" ({due_count} jobs due); the next morning (Tuesday 09:00) "
                f"{_ms(morning_wall)} ({morning} jobs due)"
            )
            moved = []
            candidates = [(k, d) for p in plans[:-1] for k, d in assignments(p) if d > AT.date()]
            step = max(1, len(candidates) // args.moves)
            for key, due in candidates[::step][: args.moves]:
                start = time.perf_counter()
                move_deadline(scheduler, key, due, due + timedelta(days=30))
                moved.append(time.perf_counter() - start)
                await asyncio.sleep(0)
            lines.append(
                f"a deadline moved ({len(moved)} distinct assignments): median "
                f"{_ms(statistics.median(moved))} (best {_ms(min(moved))}, worst "
                f"{_ms(max(moved))})"
            )
            plan = plans[-1]
            wall, cpu = time.perf_counter(), time.process_time()
            removed = withdraw_plan(scheduler, plan)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            lines.append(
                f"withdraw a plan of {plan.assignments:,} assignments ({removed:,} jobs "
                f"removed): {wall:.2f} s wall, {cpu:.2f} s CPU"
            )
        lines.append(
            f"worst event-loop stall: {beat.max_stall:.2f} s over the whole story (wall-clock "
            f"gap {beat.max_gap:.2f} s); while scheduling everything {stall_schedule:.2f} s"
        )
    finally:
        scheduler.shutdown(wait=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append(f"peak RSS: {peak:.0f} MiB ({RSS_AFTER_IMPORTS:.0f} MiB after the imports)")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, default=10)
    parser.add_argument("--per-plan", type=int, default=1000, help="assignments a plan")
    parser.add_argument("--moves", type=int, default=40)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start")
    with tempfile.TemporaryDirectory() as folder:
        lines = asyncio.run(story(args, Path(folder)))
    for line in lines:
        print(line)
    load = os.getloadavg()
    print(f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
