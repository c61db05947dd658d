"""The scheduler runtime: a tick plans then sends; clock jumps tick at once; shutdown is safe.

APScheduler runs in real time here, so tests never wait for an interval: they use the tick at
start-up, clock jumps and kicks, and wait on the local server's events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest_asyncio
from sqlmodel import select

from bot.clock import VirtualClock
from bot.config import load_settings
from bot.core.policy import load_policy
from bot.localserver import LocalBotApiServer
from bot.storage.db import create_all, make_engine, make_session_maker
from bot.storage.models import Outbox
from schedules.runtime import (
    TICK_JOB,
    WEEKLY_JOB,
    SchedulerRuntime,
    start_scheduler,
    stop_scheduler,
)
from tests.dbs import database_url
from tests.schedules.test_sender import FakeMonotonic, make_bot

TOKEN = "6161616161:AAH-runtime-test-token"
START = datetime(2025, 12, 24, 1, 0, tzinfo=UTC)


class World:
    def __init__(self, server: LocalBotApiServer, db, clock: VirtualClock, bot) -> None:
        self.server, self.db, self.clock, self.bot = server, db, clock, bot
        self.planned_at: list[datetime] = []
        self.planned = asyncio.Event()
        self.runtimes: list[SchedulerRuntime] = []

    def user(self, name: str) -> int:
        record = self.server.world.add_user(name)
        record.started = True
        return record.id

    async def notice(self, chat_id: int, text: str, *, at: datetime | None = None) -> int:
        async with self.db() as session:
            row = Outbox(
                key=f"rt:{chat_id}:{text}",
                kind="notice",
                chat_id=chat_id,
                payload={"text": text},
                created_at=START,
                not_before=at or self.clock.now(),
            )
            session.add(row)
            await session.commit()
            return row.id

    async def status(self, row_id: int) -> str:
        async with self.db() as session:
            return (await session.exec(select(Outbox.status).where(Outbox.id == row_id))).one()

    def texts(self, chat_id: int) -> list[str]:
        return [m.text for m in self.server.world.chat_messages(chat_id) if m.from_bot]

    async def arrived(self, chat_id: int, count: int = 1, timeout: float = 5.0) -> list[str]:
        await self.server.world.wait_until(lambda: len(self.texts(chat_id)) >= count, timeout)
        return self.texts(chat_id)

    async def start(self, *, tick: float = 3600.0, planner=None, **kwargs) -> SchedulerRuntime:
        async def plan(at: datetime) -> str:
            self.planned_at.append(at)
            self.planned.set()
            return "planned"

        settings = load_settings(
            env_file=None, scheduler_tick_seconds=tick, timezone="Asia/Shanghai"
        )
        runtime = await start_scheduler(
            bot=self.bot,
            session_maker=self.db,
            clock=self.clock,
            settings=settings,
            policy=load_policy(timezone=settings.clock.timezone),
            tz=settings.clock.zone,
            planner=planner or plan,
            **kwargs,
        )
        self.runtimes.append(runtime)
        return runtime


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = VirtualClock(START, rate=0)  # stands still unless a test moves it
    engine = make_engine(database_url(tmp_path / "rt.sqlite3"))
    await create_all(engine)
    async with LocalBotApiServer(token=TOKEN, clock=FakeMonotonic()) as server:
        bot = make_bot(server.base_url, TOKEN)
        w = World(server, make_session_maker(engine), clock, bot)
        try:
            yield w
        finally:
            for runtime in w.runtimes:
                await stop_scheduler(runtime, grace=0)
            await bot.session.close()
            await engine.dispose()


async def test_jobs_are_configured_on_purpose(world: World) -> None:
    runtime = await world.start(tick=30)
    scheduler = runtime.scheduler
    assert str(scheduler.timezone) == "Asia/Shanghai"
    tick = scheduler.get_job(TICK_JOB)
    assert (tick.max_instances, tick.coalesce, tick.misfire_grace_time) == (1, True, None)
    assert tick.trigger.interval == timedelta(seconds=30)
    assert tick.func_ref == "schedules.runtime:run_tick"  # by reference, nothing pickled
    weekly = scheduler.get_job(WEEKLY_JOB)
    assert (weekly.coalesce, weekly.misfire_grace_time) == (True, None)
    assert str(weekly.trigger.timezone) == "Asia/Shanghai"
    fire = weekly.trigger.get_next_fire_time(None, datetime(2026, 1, 7, tzinfo=UTC))
    assert (fire.weekday(), fire.hour, fire.minute) == (0, 9, 0)
    assert scheduler._jobstores["default"].__class__.__name__ == "MemoryJobStore"


async def test_the_first_tick_plans_then_sends_what_is_due(world: World) -> None:
    alice = world.user("Alice")
    row = await world.notice(alice, "due now")
    runtime = await world.start()
    assert await world.arrived(alice) == ["due now"]
    await stop_scheduler(runtime, grace=5)  # lets the tick finish recording
    assert world.planned_at[0] == START  # planned at the project clock's now
    assert await world.status(row) == "sent"


async def test_the_last_tick_is_kept_for_the_health_check(world: World) -> None:
    before = time.monotonic()
    runtime = await world.start()  # the next interval tick is an hour away
    assert runtime.last_tick is not None and runtime.last_tick >= before  # the start counts
    started = runtime.last_tick
    await asyncio.wait_for(world.planned.wait(), 5)
    for _ in range(100):  # the tick records itself right after planning
        if runtime.ticks:
            break
        await asyncio.sleep(0.01)
    assert runtime.ticks == 1 and runtime.last_tick >= started


async def test_a_clock_jump_ticks_at_once(world: World) -> None:
    alice = world.user("Alice")
    await world.notice(alice, "tomorrow", at=START + timedelta(days=1))
    await world.start()  # the next interval tick is an hour away
    await asyncio.wait_for(world.planned.wait(), 5)  # the start-up tick found nothing due
    assert world.texts(alice) == []

    world.clock.set(START + timedelta(days=1, minutes=1))

    assert await world.arrived(alice) == ["tomorrow"]
    assert world.planned_at[-1] == START + timedelta(days=1, minutes=1)


async def test_a_failing_planner_does_not_stop_sending(world: World) -> None:
    alice = world.user("Alice")
    await world.notice(alice, "queued earlier")

    async def broken(at: datetime) -> None:
        raise RuntimeError("policy bug")

    await world.start(planner=broken)
    assert await world.arrived(alice) == ["queued earlier"]


async def test_overlapping_ticks_send_each_message_once(world: World) -> None:
    chats = [world.user(f"U{i}") for i in range(10)]
    for chat in chats:
        await world.notice(chat, "once")
    runtime = await world.start()
    await asyncio.gather(runtime.tick(), runtime.tick(), runtime.tick())
    runtime.kick()
    await world.server.world.wait_until(lambda: all(world.texts(c) for c in chats), 5)
    assert all(world.texts(c) == ["once"] for c in chats)
    assert len(world.server.calls.calls("sendMessage")) == 10


async def test_shutdown_cancels_the_send_in_flight_and_the_next_start_sends_it(
    world: World,
) -> None:
    alice = world.user("Alice")
    row = await world.notice(alice, "in flight")
    world.server.faults.add("sendMessage", "hang", hang_seconds=30)
    runtime = await world.start()
    assert await world.server.world.wait_until(lambda: world.server.faults.hanging, 5)

    await stop_scheduler(runtime, grace=0.05)

    # not known to be delivered: back in the queue, for whichever instance sends next
    assert await world.status(row) == "pending"
    assert not runtime.scheduler.running
    world.clock.set(START + timedelta(minutes=1))  # a jump after stop does nothing
    world.server.faults.clear()  # the request in flight now reaches the chat after all
    assert await world.arrived(alice) == ["in flight"]

    restarted = await world.start()  # recovered and sent again: the one possible duplicate
    assert await world.arrived(alice, 2) == ["in flight", "in flight"]
    await stop_scheduler(restarted, grace=5)
    assert await world.status(row) == "sent"


async def test_each_tick_folds_the_write_ahead_log_into_the_database(
    world: World, tmp_path: Path
) -> None:
    """SQLite: the tick checkpoints (bot.storage.db.checkpoint), so that the commits of the
    bot's updates never have to; the log's pages are in the database file afterwards."""
    if world.db.kw["bind"].dialect.name != "sqlite":
        return
    alice = world.user("Alice")
    for i in range(3):
        await world.notice(alice, f"note {i}")
    database = tmp_path / "rt.sqlite3"
    size_before = database.stat().st_size
    await world.start()  # the next interval tick is an hour away
    await asyncio.wait_for(world.planned.wait(), 5)
    for _ in range(500):  # the tick checkpoints right after planning
        if database.stat().st_size > size_before:
            break
        await asyncio.sleep(0.01)
    assert database.stat().st_size > size_before
