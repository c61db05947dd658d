"""The project's side of issue 13's side-by-side table, measured the way others will.

    .venv/bin/python benchmarks/story_bench.py [--plans 10] [--per-plan 1000] [--tables]
                                               [--approves 40] [--keep DIR]

One fresh process that imports only what the services need (and freezes its start-up heap, as
the bot does once built: bot.heap), on a fresh SQLite database (migrated), drives the project
through its own services, as the bot's handlers do:

1. upload: each plan (benchmarks/story_ledger.py: `--plans` plans of exactly `--per-plan`
   assignments, varied items, milestones over 2025–2026) goes through a coordinator's /import
   review (`ImportReviews.receive`; the document's parse, which the peer has no counterpart
   of, is given the plan instead of running the importer) and is confirmed
   (`ImportReviews.confirm` with the bot's load runner: written and loaded in a child process);
2. people bound: a liaison for every unit of the plans, a leader for every third unit, each by
   `create_invite` (the coordinator's /invite, one transaction) and `redeem_invite` (/start
   TOKEN, another);
3. the first scheduler pass (`bot.services.planning.plan_due`) at Monday 2025-06-09 10:00.

Then, on that ledger:
- the store on disk: the database file (and its -wal) after the work, and after a WAL
  checkpoint (TRUNCATE); `--tables` adds the size of every table and index (dbstat);
- what is due at the next tick: the due range query alone (`load_due`, rolled back) and the
  whole tick with nothing due (`plan_due` a minute later), medians of 20; and both at the next
  morning's window opening (Tuesday 09:00), when the stages of that day are due;
- a deadline moved: `--approves` liaisons ask for an extension (`assignments.report`,
  extend; not timed), each on a distinct item; the coordinator's approve (`coordination.act`,
  approve, then commit: one update's session) is timed, median;
- withdraw a plan of `--per-plan` assignments (`plan_withdraw.withdraw`, its file moved out
  of tasks_data/plans), wall and CPU;
- the worst event-loop stall over all of it (tests/heartbeat.py: CPU time of this process
  while the loop did not run; the wall-clock gap in brackets);
- peak RSS (ru_maxrss of this process) and RSS after the imports.

CPU: this process's (all threads); a child process that loads an upload (earlier releases) is
counted apart (its forkserver's reaped children). Print the load (`uptime`) next to the figures.

Measured by helper "story" (2 cores shared, load 2.1-2.5, five runs): schedule everything
2.9-3.2 s wall, 2.8-2.9 s CPU (upload 0.9-1.0 s, binding 1.4-1.6 s, first pass 0.6 s); store
10.4 MiB after a checkpoint (16.2 MiB with the WAL; Outbox 3.5 MiB of it); next tick 0.7-0.8 ms
range query, 3.0-3.3 ms whole tick (next morning 1.3-2.1 / 11-18 ms); approve 3.2-3.6 ms
median in quiet runs (up to 8 ms when the machine is busy); withdraw 11.1-11.7 ms in quiet runs
(up to 33 ms wall / 17 ms CPU when busy); worst stall 15-18 ms (upload); peak RSS 110-112 MiB
(75 after imports).
The peer (benchmarks/peer_jobstore.py) on the same ledger, same machine: 180-225 s, 43.5 MiB,
0.1 ms (0.5 ms next morning), 8.8-10.6 ms, 8.4-9.2 s, loop blocked 76-100 s, 49 MiB.

Measured by helper "memory" (load 2-6, three runs each): peak RSS 103-105 -> 97-99 MiB (75-76
after the imports): each plan built at its upload and dropped (this script held all ten,
~4 MiB), SQLite's default page cache (2 MiB a connection, was 32), the brief composer's
query answered by ix_outbox_status_not_before. Where the rest goes, per phase (VmRSS, MiB):
imports 75, the ledger and start-up 80, migrations 85 (Alembic run, the first connection's
thread and SQLite), uploads 91 (93-94 at their peak: a worker thread and its engine per
load), first pass 97 (the pass's ~5 MiB of transient objects, kept by the allocator).

Measured at the end of round 2's seventh session (main, load ~1, three runs): schedule
everything 2.34-2.43 s wall (upload 0.78-0.81 s, binding 1.08-1.13 s, first pass 0.48-0.51 s);
store 5.6 MiB (the WAL folded in when the first pass returned its connection; 8.6 MiB at the
session's start: loads as one plan event, lean lists, digests, briefs and decisions, compact
stage marks, consolidated assignment indexes); next tick 0.5-0.7 ms range query, 2.4 ms whole
tick (next morning 1.3-1.4 / 10.6-10.8 ms); approve median 2.5-2.6 ms; withdraw 8.0-9.8 ms
(statements on the driver, the plan file found by its name); worst stall 18-21 ms (first
pass); peak RSS 96 MiB (75 after imports).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


# the services the story uses, and nothing else (the RSS after imports is their floor)
from bot.core.lights import LightPolicy  # noqa: E402
from bot.core.plan import Item, Milestone, Plan, PlanInfo, UnitRef  # noqa: E402
from bot.core.policy import load_policy  # noqa: E402
from bot.core.roles import Roles  # noqa: E402
from bot.core.status import Action  # noqa: E402
from bot.core.units import load_unit_directory  # noqa: E402
from bot.heap import freeze_startup_heap  # noqa: E402
from bot.services import coordination, people, plan_upload, plan_withdraw  # noqa: E402
from bot.services.admins import add_admin  # noqa: E402
from bot.services.assignments import report  # noqa: E402
from bot.services.import_review import ImportReviews  # noqa: E402
from bot.services.plan_loading import load_runner  # noqa: E402
from bot.services.planning import plan_due  # noqa: E402
from bot.storage.db import make_engine, make_session_maker  # noqa: E402
from bot.storage.migrate import upgrade_database  # noqa: E402
from bot.storage.models import ROLE_LEADER, ROLE_LIAISON  # noqa: E402
from bot.storage.outbox.snapshots import load_due  # noqa: E402
from tests.heartbeat import Heartbeat  # noqa: E402

RSS_AFTER_IMPORTS = _rss_mb()

from benchmarks.story_ledger import StoryPlan, story_plans  # noqa: E402

AT = datetime(2025, 6, 9, 2, 0, tzinfo=UTC)  # Monday 10:00 Asia/Shanghai, a working day
MORNING = datetime(2025, 6, 10, 1, 0, tzinfo=UTC)  # the next window opening, Tuesday 09:00
TODAY = date(2025, 6, 9)
COORDINATOR = 900_000_001  # the coordinator's Telegram id
TICKS = 20


def core_plan(story: StoryPlan) -> Plan:
    """The plan as the importer's review would hand it over."""
    tasks: list[Item] = []
    projects: list[Item] = []
    for it in story.items:
        item = Item(
            ref=it.ref,
            number=it.number,
            section=it.section,
            title=it.title,
            text=it.text,
            units=[
                UnitRef(name=n, as_written=n, role="lead" if r == "lead" else "co")
                for n, r in it.units
            ],
            milestones=[Milestone(due=d, phrase=p) for d, p in it.milestones],
            recurrence=list(it.recurrence),
            kind="project" if it.kind == "project" else "task",
        )
        (projects if it.kind == "project" else tasks).append(item)
    info = PlanInfo(
        code=story.code,
        title=story.title,
        issuer=story.issuer,
        issued=date(2024, 12, 20),
        start=story.start,
        end=story.end,
        source=f"{story.code.lower()}.docx",
    )
    return Plan(info=info, tasks=tasks, key_projects=projects)


def _children_cpu() -> float:
    """CPU seconds of the processes the forkserver has reaped (the loads' children)."""
    try:
        from multiprocessing import forkserver

        pid = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
        if not pid:
            return 0.0
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[13]) + int(fields[14])) / ticks  # cutime, cstime
    except (OSError, AttributeError, IndexError, ValueError):
        return 0.0


class Phase:
    """Wall and CPU seconds of a block (this process; the loading child's CPU apart), and the
    event loop's worst stall meanwhile (tests/heartbeat.py). Every phase is kept in `ALL`."""

    ALL: ClassVar[list[Phase]] = []

    def __init__(self, name: str) -> None:
        self.name = name
        self.wall = self.cpu = self.child = 0.0
        self.beat = Heartbeat()
        Phase.ALL.append(self)

    async def __aenter__(self) -> Phase:
        await self.beat.__aenter__()
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        self.child = _children_cpu()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.child = _children_cpu() - self.child
        await self.beat.__aexit__(*exc)

    @property
    def stall(self) -> str:
        return f"{_ms(self.beat.max_stall)} (gap {_ms(self.beat.max_gap)})"


async def upload(sm: Any, stories: list[StoryPlan], tasks_data: Path, directory: Any) -> None:
    """Each plan built as the importer's review hands it over, uploaded and confirmed, then
    dropped: the bot holds no plan once it is loaded (the peer, like this script, keeps only
    the plain ledger of story_ledger.py)."""
    runner = load_runner()
    for story in stories:
        plan = core_plan(story)

        async def parsed(*_args: Any, plan: Plan = plan) -> plan_upload.ParsedUpload:
            return plan_upload.ParsedUpload(plan)

        async with sm() as s:
            reviews = ImportReviews(s, parse=parsed, tasks_data=tasks_data, now=AT, loader=runner)
            review = await reviews.receive(
                owner=COORDINATOR,
                chat_id=COORDINATOR,
                file_name=plan.info.source,
                data=f"{plan.info.title}\n".encode() * 2000,  # the document's bytes (kept)
                code=plan.info.code,
            )
        async with sm() as s:
            reviews = ImportReviews(s, parse=parsed, tasks_data=tasks_data, now=AT, loader=runner)
            loaded = await reviews.confirm(
                review.token,
                owner=COORDINATOR,
                version=review.version,
                session_maker=sm,
                directory=directory,
            )
            assert not hasattr(loaded, "summary"), f"{plan.info.code} was not loaded"


async def bind_people(sm: Any) -> dict[int, int]:
    """A liaison for every unit on an assignment, a leader for every third one; each invited
    and redeemed in transactions of their own. Returns {unit id: liaison person id}."""
    from sqlmodel import select

    from bot.storage.models import Assignment

    async with sm() as s:
        coordinator, _ = await add_admin(s, COORDINATOR, at=AT, name="张督办")
        await s.commit()
        unit_ids = sorted(set((await s.exec(select(Assignment.unit_id).distinct())).all()))
    liaisons: dict[int, int] = {}
    telegram_id = 800_000_000
    for n, unit_id in enumerate(unit_ids):
        for role in (ROLE_LIAISON, ROLE_LEADER) if n % 3 == 0 else (ROLE_LIAISON,):
            telegram_id += 1
            async with sm() as s:
                invite = await people.create_invite(
                    s, role=role, at=AT, ttl_days=7, unit_id=unit_id, created_by=coordinator
                )
                token = invite.token
                await s.commit()
            async with sm() as s:
                done = await people.redeem_invite(
                    s, token, telegram_id=telegram_id, at=AT, telegram_name=f"联络员{n}"
                )
                await s.commit()
                if role == ROLE_LIAISON:
                    liaisons[unit_id] = int(done.person.id or 0)
    return liaisons


async def due_query(sm: Any, at: datetime) -> tuple[float, int]:
    """The due range query alone (load_due, rolled back): seconds and rows."""
    async with sm() as s:
        conn = await s.connection()
        start = time.perf_counter()
        due = await load_due(conn, at)
        seconds = time.perf_counter() - start
        await s.rollback()
    return seconds, len(due.snaps)


async def extension_targets(sm: Any, count: int) -> list[tuple[int, int, date]]:
    """(assignment id, unit id, due) of `count` open assignments due after today, each on
    an item of its own, spread over the plans."""
    from sqlmodel import col

    from bot.storage.models import Assignment, Milestone
    from bot.storage.typed_sql import select_rows

    async with sm() as s:
        rows = (
            await s.exec(
                select_rows(Assignment.id, Assignment.unit_id, Assignment.due, Milestone.task_id)
                .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
                .where(col(Assignment.due) > TODAY, col(Assignment.archived_at).is_(None))
                .order_by(col(Assignment.id))
            )
        ).all()
    seen: set[int] = set()
    picked = []
    step = max(1, len(rows) // (count * 3))
    for aid, unit_id, due, task_id in rows[::step]:
        if task_id in seen:
            continue
        seen.add(task_id)
        picked.append((int(aid), int(unit_id), due))
        if len(picked) == count:
            break
    return picked


async def approves(
    sm: Any, targets: list[tuple[int, int, date]], liaisons: dict[int, int], at: datetime
) -> tuple[list[float], list[float]]:
    """Each target: the liaison asks for 30 more days (not timed); then the coordinator's
    approve, one session and commit as one update (timed, wall and CPU)."""
    from bot.storage.models import Person

    walls, cpus = [], []
    async with sm() as s:
        coordinator = await people.person_by_telegram_id(s, COORDINATOR)
    for aid, unit_id, due in targets:
        async with sm() as s:
            liaison = await s.get(Person, liaisons[unit_id])
            assert liaison is not None
            await report(
                s,
                assignment_id=aid,
                person=liaison,
                roles=Roles(liaison_unit_ids=frozenset({unit_id})),
                action=Action.EXTEND,
                at=at,
                today=at.date(),
                policy=LightPolicy(),
                new_due=due + timedelta(days=30),
            )
            await s.commit()
    roles = Roles(coordinator_all=True)
    for aid, _unit, _due in targets:
        wall, cpu = time.perf_counter(), time.process_time()
        async with sm() as s:
            await coordination.act(
                s,
                assignment_id=aid,
                action=coordination.APPROVE,
                person=coordinator,
                roles=roles,
                at=at,
                today=at.date(),
            )
            await s.commit()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def store_size(path: Path) -> tuple[float, float, float]:
    """MiB: the file, its -wal, and the file after a WAL checkpoint (TRUNCATE)."""
    wal = path.with_name(path.name + "-wal")
    main, log = path.stat().st_size, wal.stat().st_size if wal.exists() else 0
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return main / 2**20, log / 2**20, path.stat().st_size / 2**20


def table_sizes(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT d.name, coalesce(m.type, 'table'), m.tbl_name, SUM(d.pgsize) "
            "FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name "
            "GROUP BY d.name ORDER BY SUM(d.pgsize) DESC"
        ).fetchall()
        counts = {
            name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    out = []
    for name, kind, table, size in rows:
        rows_of = counts.get(table or name, 0)
        per = f", {size / rows_of:.0f} B/row" if rows_of else ""
        out.append(f"    {kind:5} {name:40} {size / 2**20:7.3f} MiB{per}")
    return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def story(args: argparse.Namespace, folder: Path) -> list[str]:
    lines: list[str] = []
    db_path = folder / "story.sqlite3"
    url = f"sqlite+aiosqlite:///{db_path}"
    tasks_data = folder / "tasks_data"
    (tasks_data / "plans").mkdir(parents=True)
    stories = story_plans(args.plans, args.per_plan)
    items = sum(len(s.items) for s in stories)
    assignments = sum(s.assignments for s in stories)
    directory = load_unit_directory(ROOT / "tasks_data" / "units.yaml")
    policy = load_policy()
    lines.append(
        f"ledger: {len(stories)} plans, {items:,} items, {assignments:,} assignments "
        f"({args.per_plan:,} a plan), milestones 2025-2026; the story at {AT.isoformat()}"
    )
    async with Phase("migrate") as migrate:
        await upgrade_database(url)
    engine = make_engine(url)
    sm = make_session_maker(engine)
    try:
        async with Phase("upload") as up:
            await upload(sm, stories, tasks_data, directory)
        async with Phase("bind") as bind:
            liaisons = await bind_people(sm)
        async with Phase("first pass") as first:
            result = await plan_due(sm, AT, policy)
        phases = (up, bind, first)
        lines.append(
            f"schedule everything: {sum(p.wall for p in phases):.2f} s wall, "
            f"{sum(p.cpu for p in phases):.2f} s CPU"
            + (f" here + {up.child:.2f} s CPU in the loading child" if up.child else "")
            + f" (upload {up.wall:.2f} s wall / {up.cpu:.2f} s CPU; "
            f"{len(liaisons)} liaisons and {(len(liaisons) + 2) // 3} leaders bound "
            f"{bind.wall:.2f} s / {bind.cpu:.2f} s; first pass {first.wall:.2f} s / "
            f"{first.cpu:.2f} s: {result.considered:,} considered, {result.inserted:,} Outbox "
            f"rows, {result.markers:,} marks); migrations before it {migrate.wall:.2f} s"
        )
        main_mb, wal_mb, after_mb = store_size(db_path)
        lines.append(
            f"store on disk: {main_mb + wal_mb:.1f} MiB (database {main_mb:.1f} + WAL "
            f"{wal_mb:.1f}); {after_mb:.1f} MiB after a WAL checkpoint"
        )
        if args.tables:
            lines += table_sizes(db_path)
        async with Phase("next ticks"):
            tick = AT + timedelta(seconds=30)
            queries = [await due_query(sm, tick + timedelta(seconds=i)) for i in range(TICKS)]
            walls = []
            for i in range(TICKS):
                done = await plan_due(sm, AT + timedelta(minutes=1, seconds=i), policy)
                walls.append(done.seconds)
            morning_query = await due_query(sm, MORNING)
            morning = await plan_due(sm, MORNING, policy)
        lines.append(
            f"due at the next tick: the range query "
            f"{_ms(statistics.median(q[0] for q in queries))} ({queries[-1][1]} rows due), the "
            f"whole tick with nothing due {_ms(statistics.median(walls))} ({done.inserted} "
            f"rows written), medians of {TICKS}; the next morning (Tuesday 09:00) "
            f"{_ms(morning_query[0])} for the range query ({morning_query[1]} rows due), "
            f"{_ms(morning.seconds)} for the tick ({morning.inserted} Outbox rows)"
        )
        async with Phase("approve"):
            targets = await extension_targets(sm, args.approves)
            moved_walls, moved_cpus = await approves(
                sm, targets, liaisons, MORNING + timedelta(minutes=30)
            )
        lines.append(
            f"a deadline moved (approve of an extension, {len(targets)} distinct items, "
            f"one session + commit each): median {_ms(statistics.median(moved_walls))} "
            f"wall, {_ms(statistics.median(moved_cpus))} CPU (best "
            f"{_ms(min(moved_walls))}, worst {_ms(max(moved_walls))})"
        )
        code = stories[-1].code
        async with Phase("withdraw") as out:
            gone = await plan_withdraw.withdraw(
                sm, code, at=MORNING + timedelta(hours=1), tasks_data=tasks_data
            )
        lines.append(
            f"withdraw a plan of {gone.archive.assignments:,} assignments ({code}, "
            f"{gone.archive.outbox} waiting messages cancelled, file moved): "
            f"{_ms(out.wall)} wall, {_ms(out.cpu)} CPU"
        )
        worst = max(Phase.ALL, key=lambda p: p.beat.max_stall)
        lines.append(
            f"worst event-loop stall: {worst.stall} in {worst.name}; per phase: "
            + "; ".join(f"{p.name} {p.stall}" for p in Phase.ALL)
        )
    finally:
        await engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append(
        f"peak RSS: {peak:.0f} MiB (ru_maxrss of this process; {RSS_AFTER_IMPORTS:.0f} MiB "
        "after the imports)"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, default=10)
    parser.add_argument("--per-plan", type=int, default=1000, help="assignments a plan")
    parser.add_argument("--approves", type=int, default=40)
    parser.add_argument("--tables", action="store_true", help="sizes of tables and indexes")
    parser.add_argument("--keep", type=Path, help="keep the database and tasks_data here")
    args = parser.parse_args()
    freeze_startup_heap()  # as the bot does once built (bot.heap)
    load = os.getloadavg()
    print(f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        lines = asyncio.run(story(args, args.keep))
    else:
        with tempfile.TemporaryDirectory() as folder:
            lines = asyncio.run(story(args, Path(folder)))
    for line in lines:
        print(line)
    load = os.getloadavg()
    print(f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
