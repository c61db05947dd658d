"""One sender per database (issue 10, finding 10).

Two runtimes on one SQLite file, each with its own engine, bot session and lease (as two
`python -m bot run` processes have): the second neither sends nor requeues the first one's
message in flight; it takes over when the first exits cleanly, or when the first dies and its
lease expires in real time — never because the project clock jumped.
"""

from __future__ import annotations

import asyncio
import logging
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
from bot.storage.lease import Lease
from bot.storage.models import Outbox
from schedules.runtime import SchedulerRuntime, start_scheduler, stop_scheduler
from tests.dbs import database_url
from tests.schedules.test_sender import FakeMonotonic, make_bot

TOKEN = "6262626262:AAH-one-sender-test-token"
START = datetime(2025, 12, 24, 1, 0, tzinfo=UTC)


class Wall:
    """Real UTC time for the leases, moved by the test."""

    def __init__(self) -> None:
        self.at = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


class Process:
    """What one `python -m bot run` has of its own: an engine, a bot session, a runtime."""

    def __init__(self, name: str, url: str, base_url: str) -> None:
        self.name = name
        self.engine = make_engine(url)
        self.db = make_session_maker(self.engine)
        self.bot = make_bot(base_url, TOKEN)
        self.planned: list[datetime] = []
        self.runtime: SchedulerRuntime | None = None

    async def start(self, clock: VirtualClock, **kwargs) -> SchedulerRuntime:
        async def plan(at: datetime) -> str:
            self.planned.append(at)
            return "planned"

        settings = load_settings(
            env_file=None, scheduler_tick_seconds=3600, timezone="Asia/Shanghai"
        )
        self.runtime = await start_scheduler(
            bot=self.bot,
            session_maker=self.db,
            clock=clock,
            settings=settings,
            policy=load_policy(timezone=settings.clock.timezone),
            tz=settings.clock.zone,
            planner=plan,
            **kwargs,
        )
        return self.runtime

    async def crash(self) -> None:
        """Die without a clean stop: tasks gone, the lease neither renewed nor released."""
        runtime = self.runtime
        assert runtime is not None
        runtime._stopped = True
        runtime.scheduler.shutdown(wait=False)
        for task in (runtime._sending, runtime._keeper):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self.runtime = None

    async def exit(self) -> None:
        """A clean stop (SIGTERM): the message in flight is recorded, the lease released."""
        assert self.runtime is not None
        await stop_scheduler(self.runtime, grace=5)
        self.runtime = None

    async def close(self) -> None:
        if self.runtime is not None:
            await stop_scheduler(self.runtime, grace=0)
        await self.bot.session.close()
        await self.engine.dispose()


class World:
    def __init__(self, server: LocalBotApiServer, url: str, clock: VirtualClock) -> None:
        self.server, self.url, self.clock = server, url, clock
        self.processes: list[Process] = []

    def process(self, name: str) -> Process:
        p = Process(name, self.url, self.server.base_url)
        self.processes.append(p)
        return p

    def user(self, name: str) -> int:
        record = self.server.world.add_user(name)
        record.started = True
        return record.id

    async def notice(self, db, chat_id: int, text: str) -> int:
        async with db() as session:
            row = Outbox(
                key=f"os:{chat_id}:{text}",
                kind="notice",
                chat_id=chat_id,
                payload={"text": text},
                created_at=START,
                not_before=self.clock.now(),
            )
            session.add(row)
            await session.commit()
            return row.id

    async def status(self, db, row_id: int) -> str:
        async with db() as session:
            return (await session.exec(select(Outbox.status).where(Outbox.id == row_id))).one()

    def texts(self, chat_id: int) -> list[str]:
        return [m.text for m in self.server.world.chat_messages(chat_id) if m.from_bot]

    async def arrived(self, chat_id: int, count: int = 1) -> list[str]:
        await self.server.world.wait_until(lambda: len(self.texts(chat_id)) >= count, 5)
        return self.texts(chat_id)


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    url = database_url(tmp_path / "one.sqlite3")
    engine = make_engine(url)
    await create_all(engine)
    await engine.dispose()
    async with LocalBotApiServer(token=TOKEN, clock=FakeMonotonic()) as server:
        w = World(server, url, VirtualClock(START, rate=0))
        try:
            yield w
        finally:
            for p in w.processes:
                await p.close()


async def in_flight(world: World, first: Process, chat: int, text: str) -> tuple[int, object]:
    """A message the first process is sending right now (Telegram holds the request)."""
    hang = world.server.faults.add("sendMessage", "hang", chat_id=chat)
    row = await world.notice(first.db, chat, text)
    assert first.runtime is not None
    first.runtime.kick()
    assert await world.server.world.wait_until(lambda: world.server.faults.hanging, 5)
    assert await world.status(first.db, row) == "sending"
    return row, hang


async def test_a_second_process_waits_then_takes_over_after_a_clean_exit(world, caplog):
    caplog.set_level(logging.INFO)
    alice, bob = world.user("Alice"), world.user("Bob")
    first, second = world.process("first"), world.process("second")
    await first.start(world.clock)
    row, hang = await in_flight(world, first, alice, "in flight")

    runtime = await second.start(world.clock)

    # the second one requeues nothing, plans nothing, sends nothing
    assert await world.status(second.db, row) == "sending"
    queued = await world.notice(second.db, bob, "queued while both run")
    runtime.kick()
    await asyncio.sleep(0)  # let a tick run, if one were allowed
    assert second.planned == [] and not runtime.may_send()
    assert "another instance" in caplog.text and "is the sender of this database" in caplog.text

    world.server.faults.release(hang.id)  # the first one's message goes through
    assert await world.arrived(alice) == ["in flight"]
    assert await world.arrived(bob) == ["queued while both run"]  # sent by the first
    await first.exit()

    assert await runtime.check_lease()  # its next try, without waiting 15 s
    await world.notice(second.db, bob, "after the hand-over")
    runtime.kick()
    assert await world.arrived(bob, 2) == ["queued while both run", "after the hand-over"]
    assert second.planned  # it plans now
    assert world.texts(alice) == ["in flight"]  # never sent twice
    assert await world.status(second.db, queued) == "sent"


async def test_a_dead_holders_lease_expires_and_its_message_in_flight_is_sent_again(world):
    alice = world.user("Alice")
    wall, mono = Wall(), FakeMonotonic()
    first, second = world.process("first"), world.process("second")

    def lease(p: Process) -> Lease:
        return Lease(p.db, holder=p.name, ttl=60, margin=15, wall=wall, monotonic=mono)

    await first.start(world.clock, lease=lease(first))
    row, hang = await in_flight(world, first, alice, "in flight")
    await first.crash()
    world.server.faults.release(hang.id)  # Telegram got it; the first never recorded it
    assert await world.arrived(alice) == ["in flight"]
    runtime = await second.start(world.clock, lease=lease(second))
    assert not runtime.may_send() and await world.status(second.db, row) == "sending"

    wall.at += timedelta(seconds=59)
    assert not await runtime.check_lease()  # the lease still runs
    wall.at += timedelta(seconds=2)
    assert await runtime.check_lease()  # expired: taken over, the row requeued and sent

    # one duplicate of the one message in flight, never a loss (see bot.telegram.delivery.sender)
    assert await world.arrived(alice, 2) == ["in flight", "in flight"]


async def test_a_project_clock_jump_does_not_hand_the_lease_over(world):
    wall, mono = Wall(), FakeMonotonic()
    first, second = world.process("first"), world.process("second")

    def lease(p: Process) -> Lease:
        return Lease(p.db, holder=p.name, ttl=60, margin=15, wall=wall, monotonic=mono)

    holder = await first.start(world.clock, lease=lease(first))
    waiting = await second.start(world.clock, lease=lease(second))

    world.clock.set(START + timedelta(days=7))  # the web chat's "+7 days"

    assert not await waiting.check_lease()
    assert await holder.check_lease() and holder.may_send()


async def test_a_stalled_holder_stops_before_its_lease_runs_out_and_yields_it(world, caplog):
    alice = world.user("Alice")
    wall, mono = Wall(), FakeMonotonic()
    first, second = world.process("first"), world.process("second")

    def lease(p: Process) -> Lease:
        return Lease(p.db, holder=p.name, ttl=60, margin=15, wall=wall, monotonic=mono)

    stalled = await first.start(world.clock, lease=lease(first))
    waiting = await second.start(world.clock, lease=lease(second))
    mono.advance(46)  # no renewal for 46 s (a stalled disk, a suspended VM)
    assert not stalled.may_send()  # it stops on its own clock, 14 s before others may take it
    await world.notice(first.db, alice, "not by the stalled one")
    stalled.kick()
    assert not await waiting.check_lease()  # and nobody else sends yet

    wall.at += timedelta(seconds=61)
    assert await waiting.check_lease()
    assert await world.arrived(alice) == ["not by the stalled one"]
    assert not await stalled.check_lease()  # it finds the lease taken and keeps quiet
    assert "the sender lease was lost" in caplog.text and not stalled.may_send()
