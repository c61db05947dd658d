"""Time the scorecard picture for 100 units (target: under 1 s) and the trend picture.

    python benchmarks/chart_bench.py [--units 100] [--runs 5] [--ledger 100000]
                                     [--digest 200] [--digest-ledger 20000]

Prints the font, the first draw (matplotlib imported, font found and read), then the median
and the worst of `--runs` further draws of a 100-unit scorecard (a cut list: the head, the
laggards and one line for the units with nothing due) and of a 26-week trend, with the PNG
sizes. With `--ledger N`, also the ranking's service call (bot.services.ranking: one grouped
query) over a synthetic ledger of N assignments (benchmarks/synthetic.py): every plan, one plan.

With `--digest R`: the weekly digest pass for R recipients, end to end in this process: the
digest rows planned over a synthetic ledger (`--digest-ledger` assignments; plan leaders added
until there are R recipients), then the real sender (`bot.telegram.delivery.sender`) sends them
to the in-process local Bot API server, picture first. Prints the distinct pictures, how many
were drawn (each distinct one once, not once per recipient), how many uploaded (the rest went by
file_id), and the time of planning and of sending (flood-limit pauses skipped: the sender's
clock is moved instead of waited for).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.ranking import UnitScore, rank_units
from bot.core.stats import Rate
from bot.services.ranking import PlanRef, Ranking
from bot.services.trend import Trend, TrendPoint

ZONE = ZoneInfo("Asia/Shanghai")
AT = datetime(2025, 6, 18, 3, 30, tzinfo=UTC)


def ranking(n: int) -> Ranking:
    scores = [
        UnitScore(
            i,
            f"测试市第{i}委员会办公室",
            12,
            i % 12,
            i % 5,
            Rate(i % 9, 8 if i % 11 else 0),
            Rate(i % 6, 5),
        )
        for i in range(n)
    ]
    return Ranking(AT, date(2025, 6, 18), rank_units(scores), [PlanRef(1, "SR", "实施意见")])


def history(weeks: int = 26) -> Trend:
    start = date(2025, 6, 16) - timedelta(weeks=weeks - 1)
    points = [
        TrendPoint(start + timedelta(weeks=w), AT, 10 * w, max(0, 40 - w)) for w in range(weeks)
    ]
    return Trend("week", start, points)


def timed(draw, runs: int) -> tuple[float, float, float, int]:
    """Median and worst wall time, median CPU time (what a busy machine does not inflate),
    PNG bytes."""
    times, cpu, size = [], [], 0
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        drawing = draw()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        size = len(drawing.png)
    return statistics.median(times), max(times), statistics.median(cpu), size


async def time_ranking(assignments: int, runs: int) -> None:
    import tempfile

    from benchmarks.synthetic import build_synthetic_ledger
    from bot.services import ranking as service
    from bot.services.stats import Scope
    from bot.storage.db import create_all, make_engine, make_session_maker

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{folder}/bench.sqlite3")
        await create_all(engine)
        session_maker = make_session_maker(engine)
        at = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)
        await build_synthetic_ledger(session_maker, assignments=assignments, at=at)
        try:
            for label, scope in (
                ("every plan", Scope()),
                ("one plan", Scope(plan_id=1)),  # an empty database: the first plan is 1
            ):
                walls, cpu, units = [], [], 0
                for _ in range(runs + 1):
                    async with session_maker() as session:
                        t0, c0 = time.perf_counter(), time.process_time()
                        result = await service.unit_ranking(session, scope=scope, at=at, zone=ZONE)
                        walls.append(time.perf_counter() - t0)
                        cpu.append(time.process_time() - c0)
                        units = len(result.rows)
                print(
                    f"ranking, {assignments:,} assignments, {label} ({units} units): median "
                    f"{statistics.median(walls[1:]) * 1000:.0f} ms "
                    f"(CPU {statistics.median(cpu[1:]) * 1000:.0f} ms)"
                )
        finally:
            await engine.dispose()


class _Mono:
    """A monotonic clock the sender's throttle pauses move instead of waiting (the 30 a
    second and 1 a second per chat limits would otherwise make this a 14 s sleep)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now + time.perf_counter()

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def time_digest(recipients: int, assignments: int) -> None:
    import tempfile

    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from sqlmodel import select

    from benchmarks.synthetic import build_synthetic_ledger
    from bot.clock import VirtualClock
    from bot.core.digest_slot import digest_due
    from bot.core.policy import load_policy
    from bot.localserver import LocalBotApiServer
    from bot.services.digest import digest_rows
    from bot.storage.db import create_all, make_engine, make_session_maker
    from bot.storage.models import ROLE_LEADER, Membership, Outbox, Person, Plan
    from bot.telegram.charts import Pictures
    from bot.telegram.delivery.sender import Sender
    from bot.telegram.delivery.throttle import Throttle
    from bot.telegram.notices import picture_view

    token = "4242424242:AAH-digest-bench"
    at = datetime(2025, 12, 1, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai: the digest slot
    policy = load_policy(None, timezone="Asia/Shanghai")
    slot = digest_due(policy, at)
    assert slot is not None
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{folder}/digest.sqlite3")
        await create_all(engine)
        db = make_session_maker(engine)
        await build_synthetic_ledger(db, assignments=assignments, at=at)
        async with db() as session:
            planned = await digest_rows(session, slot, policy, at)
            plan_ids = list((await session.exec(select(Plan.id))).all())
            extra = max(0, recipients - len(planned))
            people = [
                Person(telegram_id=90_000_000 + i, name=f"领导{i}", locale="zh_CN", created_at=at)
                for i in range(extra)
            ]
            session.add_all(people)
            await session.flush()
            session.add_all(
                Membership(
                    person_id=p.id or 0,
                    role=ROLE_LEADER,
                    plan_id=plan_ids[i % len(plan_ids)],
                    created_at=at,
                )
                for i, p in enumerate(people)
            )
            await session.commit()
        async with db() as session:
            t0, c0 = time.perf_counter(), time.process_time()
            rows = await digest_rows(session, slot, policy, at)
            plan_wall, plan_cpu = time.perf_counter() - t0, time.process_time() - c0
            rows = [r for r in rows if r["chat_id"] > 0][:recipients]
            session.add_all(Outbox(**r) for r in rows)
            await session.commit()
        async with db() as session:
            outbox = list((await session.exec(select(Outbox))).all())
        pictures = Pictures()
        zone = policy.zone
        distinct = set()
        for row in outbox:
            view = picture_view(row, locale=row.locale or "zh_CN", zone=zone)
            if view is not None:
                distinct.add(Pictures.key(view))
        mono = _Mono()
        async with LocalBotApiServer(token=token) as server:
            for row in outbox:
                server.world.add_user(f"u{row.chat_id}", user_id=row.chat_id).started = True
            api = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
            bot = Bot(token, session=api, default=DefaultBotProperties(parse_mode="HTML"))
            sender = Sender(
                bot=bot,
                session_maker=db,
                clock=VirtualClock(at, rate=0),
                zone=zone,
                throttle=Throttle(monotonic=mono),
                sleep=mono.sleep,
                monotonic=mono,
                pictures=pictures,
            )
            t0, c0 = time.perf_counter(), time.process_time()
            report = await sender.drain()
            while report.sent:  # a drain ends when the rest waits on the per-chat limit
                more = await sender.drain()
                if not more.sent:
                    break
                report.sent += more.sent
                report.photos += more.photos
                report.uploads += more.uploads
                report.completed += more.completed
            send_wall, send_cpu = time.perf_counter() - t0, time.process_time() - c0
            await bot.session.close()
        await engine.dispose()
    print(
        f"digest pass, {len(outbox)} recipients ({assignments:,} assignments): planned in "
        f"{plan_wall:.2f} s (CPU {plan_cpu:.2f} s); {len(distinct)} distinct pictures, "
        f"{pictures.drawn} drawn, {report.uploads} uploaded, {report.photos} photos + "
        f"{report.sent - report.photos} texts sent, {report.completed} digests complete, "
        f"in {send_wall:.2f} s (CPU {send_cpu:.2f} s) "
        f"({'ok' if pictures.drawn == len(distinct) else 'OVER'}: each distinct picture once)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ledger", type=int, default=0, help="also time the ranking query")
    parser.add_argument("--digest", type=int, default=0, help="also the digest pass: recipients")
    parser.add_argument("--digest-ledger", type=int, default=20_000, help="its assignments")
    args = parser.parse_args(argv)

    from bot.telegram.charts import Pictures
    from bot.telegram.charts.views import card_view, trend_view

    pictures = Pictures()
    t0 = time.perf_counter()
    font = pictures.font()
    if font is None:
        print("no CJK font: install fonts-noto-cjk or set CHART_FONT")
        return 1
    card = card_view(ranking(args.units), period="week", zone=ZONE, locale="zh_CN")
    first = pictures.draw_scorecard(card)
    assert first is not None
    print(f"font: {font.family} ({font.path}, face {font.index})")
    print(
        f"first scorecard (import matplotlib, find and read the font): "
        f"{time.perf_counter() - t0:.2f} s"
    )
    median, worst, cpu, size = timed(lambda: pictures.draw_scorecard(card), args.runs)
    print(
        f"scorecard, {args.units} units: median {median * 1000:.0f} ms (CPU {cpu * 1000:.0f} ms)"
        f", worst {worst * 1000:.0f} ms, {size / 1024:.0f} KiB "
        f"({'ok' if median < 1 else 'OVER'}: target < 1 s)"
    )
    view = trend_view(history(), [PlanRef(1, "SR", "实施意见")], at=AT, zone=ZONE, locale="zh_CN")
    median, worst, cpu, size = timed(lambda: pictures.draw_trend(view), args.runs)
    print(
        f"trend, 26 weeks: median {median * 1000:.0f} ms (CPU {cpu * 1000:.0f} ms), worst "
        f"{worst * 1000:.0f} ms, {size / 1024:.0f} KiB"
    )
    if args.ledger:
        import asyncio

        asyncio.run(time_ranking(args.ledger, args.runs))
    if args.digest:
        import asyncio

        asyncio.run(time_digest(args.digest, args.digest_ledger))
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores here)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
