"""Random and hand-built ledgers written straight into a temporary SQLite file, and the
reference computation of bot.core (stats, lights) over the same rows."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core import stats as core
from bot.core.lights import LightInput, LightPolicy, light_of
from bot.core.status import BLOCKED, CLOSED, DONE_REPORTED, IN_PROGRESS, NOT_STARTED
from bot.storage.db import create_all, make_engine, make_session_maker
from bot.storage.models import Assignment, Milestone, Plan, Task, Unit
from tests.builders import insert_rows
from tests.dbs import database_url

ZONE = ZoneInfo("Asia/Shanghai")
AT = datetime(2025, 6, 18, 3, 30, tzinfo=UTC)  # 11:30 on Wednesday 2025-06-18 in Shanghai
TODAY = date(2025, 6, 18)
POLICY = LightPolicy()
STATUSES = [NOT_STARTED, IN_PROGRESS, BLOCKED, DONE_REPORTED, CLOSED]


def local_day(value: datetime | None, zone: ZoneInfo = ZONE) -> date | None:
    return None if value is None else value.astimezone(zone).date()


def instant(day: date, hour: int = 10, minute: int = 0, zone: ZoneInfo = ZONE) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


@dataclass
class World:
    path: Path
    engine: object = None
    session_maker: object = None
    plans: list[dict] = field(default_factory=list)
    units: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    milestones: list[dict] = field(default_factory=list)
    assignments: list[dict] = field(default_factory=list)
    zone: ZoneInfo = ZONE  # TIMEZONE of the reference computation
    at: datetime = AT  # the instant of the question

    @property
    def today(self) -> date:
        return self.at.astimezone(self.zone).date()

    async def write(self) -> World:
        self.engine = make_engine(database_url(self.path))
        await create_all(self.engine)
        self.session_maker = make_session_maker(self.engine)
        await insert_rows(
            self.engine,
            {
                Plan: self.plans,
                Unit: self.units,
                Task: self.tasks,
                Milestone: self.milestones,
                Assignment: self.assignments,
            },
        )
        return self

    # --- the reference computation -----------------------------------------------------

    def active(self, plan_id=None, unit_id=None) -> list[dict]:
        ms = {m["id"]: m for m in self.milestones}
        ts = {t["id"]: t for t in self.tasks}
        out = []
        for a in self.assignments:
            if a["archived_at"] is not None:
                continue
            task = ts[ms[a["milestone_id"]]["task_id"]]
            if plan_id is not None and task["plan_id"] != plan_id:
                continue
            if unit_id is not None and a["unit_id"] != unit_id:
                continue
            out.append(a)
        return out

    def facts(self, a: dict) -> core.ItemFacts:
        m = next(m for m in self.milestones if m["id"] == a["milestone_id"])
        return core.ItemFacts(
            status=a["status"],
            due=a["due"],
            original_due=m["original_due"],
            assigned_on=local_day(a["assigned_at"], self.zone),
            acked_on=local_day(a["acknowledged_at"], self.zone),
            done_reported_on=local_day(a["done_reported_at"], self.zone),
            closed_on=local_day(a["closed_at"], self.zone),
        )

    def window_start(self, milestone_id: int) -> date:
        m = next(m for m in self.milestones if m["id"] == milestone_id)
        earlier = [
            o["due"]
            for o in self.milestones
            if o["task_id"] == m["task_id"] and o["seq"] < m["seq"] and o["archived_at"] is None
        ]
        if earlier:
            return max(earlier)
        task = next(t for t in self.tasks if t["id"] == m["task_id"])
        return next(p for p in self.plans if p["id"] == task["plan_id"])["period_start"]

    def light(self, a: dict, policy: LightPolicy = POLICY) -> str:
        item = LightInput(
            status=a["status"],
            due=a["due"],
            window_start=self.window_start(a["milestone_id"]),
            progress=a["progress"],
            acknowledged=a["acknowledged_at"] is not None,
            last_report_at=a["last_report_at"],
        )
        return light_of(item, today=self.today, now=self.at, policy=policy).value


def random_world(
    path: Path,
    seed: int,
    *,
    n_tasks: int = 40,
    zone: ZoneInfo = ZONE,
    at: datetime = AT,
    hours: tuple[int, ...] = (0, 7, 15, 16, 23),
) -> World:
    """A random ledger around the instant `at` in `zone`; `hours`: the local hours at which
    items were reported done (the ends of days are what 按时办结率 turns on)."""
    rng = random.Random(seed)
    w = World(path, zone=zone, at=at)
    TODAY, AT = w.today, at  # the module's defaults, for this world
    for pid in (1, 2):
        w.plans.append(
            dict(
                id=pid,
                code=f"P{pid}",
                title=f"计划{pid}",
                period_start=date(2023 + pid - 1, 1, 1),
                period_end=date(2026, 12, 31),
                loaded_at=AT,
            )
        )
    for uid in range(1, 7):
        w.units.append(dict(id=uid, name=f"单位{uid}", short_name=f"U{uid}" if uid % 2 else ""))
    mid = aid = 0
    for tid in range(1, n_tasks + 1):
        w.tasks.append(
            dict(
                id=tid,
                plan_id=rng.choice((1, 2)),
                ref=f"T-{tid}",
                title=f"任务{tid}",
                recurrence=[],
                position=tid,
                section="一",
            )
        )
        units = rng.sample(range(1, 7), rng.randint(1, 3))
        due = TODAY + timedelta(days=rng.randint(-300, 120))
        for seq in range(rng.randint(1, 3)):
            mid += 1
            due = due + timedelta(days=rng.randint(0, 200)) if seq else due
            archived = AT if rng.random() < 0.05 else None
            original = due - timedelta(days=rng.choice((0, 0, 0, 30)))
            w.milestones.append(
                dict(
                    id=mid,
                    task_id=tid,
                    seq=seq,
                    due=due,
                    original_due=original,
                    phrase=f"{due.year}年底",
                    target=f"目标{seq}",
                    archived_at=archived,
                )
            )
            for uid in units:
                aid += 1
                status = rng.choice(STATUSES)
                assigned = instant(
                    TODAY - timedelta(days=rng.choice((0, 1, 2, 3, 5, 9, 40, 200))),
                    hour=rng.randint(0, 23),
                    minute=rng.randint(0, 59),
                    zone=zone,
                )
                acked = None
                if rng.random() < 0.7:
                    acked = min(AT, assigned + timedelta(hours=rng.randint(0, 24 * 8)))
                last_report = None
                if status != NOT_STARTED or rng.random() < 0.2:
                    last_report = AT - timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23))
                progress = None
                if status in (IN_PROGRESS, BLOCKED) and rng.random() < 0.8:
                    progress = rng.randint(0, 100)
                done = closed = None
                if status in (DONE_REPORTED, CLOSED):
                    done = instant(
                        original + timedelta(days=rng.randint(-20, 20)),
                        hour=rng.choice(hours),
                        minute=rng.choice((0, 0, 30, 59)),
                        zone=zone,
                    )
                    done = min(done, AT)
                    if status == CLOSED:
                        closed = min(AT, done + timedelta(days=rng.randint(0, 9)))
                        if rng.random() < 0.2:
                            done = None  # closed without a recorded report
                extension = due + timedelta(days=30) if rng.random() < 0.1 else None
                w.assignments.append(
                    dict(
                        id=aid,
                        milestone_id=mid,
                        unit_id=uid,
                        role="lead",
                        status=status,
                        progress=progress,
                        due=due + timedelta(days=rng.choice((0, 0, 0, 45))),
                        extension_requested_to=extension,
                        assigned_at=assigned,
                        acknowledged_at=acked,
                        last_report_at=last_report,
                        done_reported_at=done,
                        closed_at=closed,
                        archived_at=archived or (AT if rng.random() < 0.03 else None),
                    )
                )
    # Milestone.window_start as the loader keeps it, on most milestones; the others leave it
    # NULL, so the query computes it (both paths are compared with the reference).
    for m in w.milestones:
        m["window_start"] = w.window_start(m["id"]) if rng.random() < 0.7 else None
    return w
