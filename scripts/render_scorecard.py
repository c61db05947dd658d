"""Render docs/scorecard.png and docs/trend.png from the reviewed seed plans (tasks_data).

    python scripts/render_scorecard.py [--tasks-data tasks_data] [--out docs] [--locale zh_CN]

The plans are loaded with the real loader into a temporary database as of LOADED, then a
made-up but reproducible half year of work is written as history (acknowledgements, reports
of completion, 办结; each unit with its own diligence, so that the ranking spreads), and the
pictures are drawn the way /scorecard draws them, as of AS_OF. The units and items are the
seeds'; only the progress is invented. `demo_ledger` is also what the tests render.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, update

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bot.core.status import CLOSED, DONE_REPORTED, IN_PROGRESS, NOT_STARTED  # noqa: E402
from bot.storage.db import create_all, make_engine, make_session_maker  # noqa: E402
from bot.storage.models import Assignment, Milestone, StatusEvent  # noqa: E402
from bot.storage.typed_sql import select_rows, table_of  # noqa: E402

A = table_of(Assignment)
M = table_of(Milestone)

ZONE = ZoneInfo("Asia/Shanghai")
LOADED = datetime(2024, 9, 2, 9, 0, tzinfo=ZONE)  # a Monday
AS_OF = datetime(2025, 3, 19, 17, 30, tzinfo=ZONE)  # a Wednesday, half a year later


@dataclass
class Demo:
    session_maker: Any
    engine: Any
    at: datetime


def _at(day: date, rng: random.Random) -> datetime:
    """A working hour of `day` (callers keep what is after AS_OF out of the history)."""
    clock = time(rng.randint(8, 17), rng.randint(0, 59))
    return datetime.combine(day, clock, tzinfo=ZONE).astimezone(UTC)


def _working_day_after(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


async def demo_ledger(
    path: Path, tasks_data: Path = ROOT / "tasks_data", seed: int = 7, *, url: str | None = None
) -> Demo:
    """The seed plans loaded at LOADED, with invented progress up to AS_OF, in the SQLite file
    `path` (or the database `url`: the tests' own)."""
    from bot.core.units import load_unit_directory
    from bot.storage.cli import read_plans
    from bot.storage.loader import load_plans

    engine = make_engine(url or f"sqlite+aiosqlite:///{path}")
    await create_all(engine)
    session_maker = make_session_maker(engine)
    plans = read_plans([tasks_data / "plans"])
    units_file = tasks_data / "units.yaml"
    directory = load_unit_directory(units_file if units_file.exists() else None)
    await load_plans(session_maker, plans, directory, at=LOADED.astimezone(UTC))
    rng = random.Random(seed)
    today = AS_OF.date()
    async with session_maker() as session:
        rows = (
            await session.exec(
                select_rows(A.c.id, A.c.unit_id, A.c.due, A.c.assigned_at)
                .select_from(A.join(M, M.c.id == A.c.milestone_id))
                .order_by(A.c.id)
            )
        ).all()
        diligence: dict[int, float] = {}
        events: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for aid, unit_id, due, assigned_at in rows:
            p = diligence.setdefault(unit_id, rng.choice((0.35, 0.55, 0.7, 0.8, 0.9, 0.97)))
            start = assigned_at.astimezone(ZONE).date()
            lag = 1 if rng.random() < p else rng.randint(3, 9)
            acked_on = _working_day_after(start, lag)
            if acked_on > today:
                continue
            acked = _at(acked_on, rng)
            if acked > AS_OF:
                continue
            state = {
                "acknowledged_at": acked,
                "status": IN_PROGRESS,
                "done_reported_at": None,
                "closed_at": None,
            }
            trail = [(acked, NOT_STARTED, IN_PROGRESS)]
            if due <= today + timedelta(days=20):
                finish = rng.random() < p
                if finish:
                    late = rng.random() > p
                    offset = rng.randint(1, 40) if late else -rng.randint(0, 25)
                    done_on = max(acked_on, due + timedelta(days=offset))
                    if due < start:  # overdue when the plan came: caught up over months
                        done_on = start + timedelta(days=rng.randint(10, 170))
                    step = timedelta(minutes=30)
                    done = max(_at(done_on, rng), acked + step)
                    closed_on = done_on + timedelta(days=rng.randint(0, 4))
                    closed = max(_at(closed_on, rng), done + step)
                    if closed <= AS_OF:
                        trail += [
                            (done, IN_PROGRESS, DONE_REPORTED),
                            (closed, DONE_REPORTED, CLOSED),
                        ]
                        state |= {"status": CLOSED, "done_reported_at": done, "closed_at": closed}
            elif rng.random() < 0.08 * p:  # finished early, long before its date
                done_on = start + timedelta(days=rng.randint(30, 150))
                done = max(_at(done_on, rng), acked + timedelta(minutes=30))
                if done <= AS_OF:
                    trail += [(done, IN_PROGRESS, DONE_REPORTED), (done, DONE_REPORTED, CLOSED)]
                    state |= {"status": CLOSED, "done_reported_at": done, "closed_at": done}
            updates.append({"aid": aid, **state})
            for at, old, new in trail:
                events.append(
                    {
                        "assignment_id": aid,
                        "at": at,
                        "actor_label": "demo",
                        "kind": "status",
                        "old_status": old,
                        "new_status": new,
                        "note": "",
                    }
                )
        if updates:
            await session.exec(update(A).where(A.c.id == bindparam("aid")), params=updates)
        if events:
            await session.exec(insert(table_of(StatusEvent)), params=events)
        await session.commit()
    return Demo(session_maker, engine, AS_OF.astimezone(UTC))


async def render(tasks_data: Path, out: Path, locale: str) -> list[Path]:
    from bot.services import ranking, stats, trend
    from bot.telegram.charts import Pictures
    from bot.telegram.charts.views import card_view, trend_view

    pictures = Pictures()
    if await pictures.check() is False:
        raise SystemExit("no CJK font: install fonts-noto-cjk or set CHART_FONT")
    with tempfile.TemporaryDirectory() as folder:
        demo = await demo_ledger(Path(folder) / "demo.sqlite3", tasks_data)
        try:
            async with demo.session_maker() as session:
                card = await ranking.unit_ranking(
                    session, scope=stats.Scope(), at=demo.at, zone=ZONE
                )
                plans = card.plans
                history = await trend.trend(session, scope=stats.Scope(), at=demo.at, zone=ZONE)
        finally:
            await demo.engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    png = await pictures.scorecard(card_view(card, period="week", zone=ZONE, locale=locale))
    trend_png = await pictures.trend(
        trend_view(history, plans, at=demo.at, zone=ZONE, locale=locale)
    )
    from PIL import Image  # matplotlib's own dependency

    for name, data in (("scorecard.png", png), ("trend.png", trend_png)):
        assert data is not None
        # the bot sends lightly compressed PNGs (faster); the repository keeps small ones
        image = Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=64)
        image.save(out / name, optimize=True)
        written.append(out / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks-data", type=Path, default=ROOT / "tasks_data")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--locale", default="zh_CN", choices=("zh_CN", "en"))
    args = parser.parse_args(argv)
    for path in asyncio.run(render(args.tasks_data, args.out, args.locale)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
