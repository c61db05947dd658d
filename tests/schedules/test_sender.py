"""The outbox sender against the in-process local Bot API server.

Time never passes by itself here: one fake monotonic clock drives the project's VirtualClock,
the sender's throttle, its pauses and the server's flood limiter, and the tests move it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlmodel import select

from bot.clock import VirtualClock
from bot.localserver import LocalBotApiServer
from bot.storage.db import SessionMaker, create_all, make_engine, make_session_maker
from bot.storage.models import (
    ROLE_COORDINATOR,
    Assignment,
    Membership,
    Milestone,
    Outbox,
    Person,
    Plan,
    SentMessage,
    Task,
    Unit,
)
from bot.telegram.delivery.sender import Part, Sender
from bot.telegram.delivery.throttle import Throttle
from tests.dbs import database_url

TOKEN = "5151515151:AAH-sender-test-token"
START = datetime(2025, 12, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


class FakeMonotonic:
    """Monotonic seconds that move only when told; `sleep` moves them instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class QuickCloseSession(AiohttpSession):
    async def close(self) -> None:  # aiogram pauses 0.25 s on close otherwise
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(base_url: str, token: str = TOKEN) -> Bot:
    session = QuickCloseSession(api=TelegramAPIServer.from_base(base_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


@dataclass
class Env:
    mono: FakeMonotonic
    clock: VirtualClock
    server: LocalBotApiServer
    bot: Bot
    db: SessionMaker
    wall: VirtualClock | None = None  # real UTC for the claims' leases, moved by the test

    def sender(self, **kwargs) -> Sender:
        kwargs.setdefault("throttle", Throttle(monotonic=self.mono))
        if self.wall is not None:
            kwargs.setdefault("wall", self.wall)
        return Sender(
            bot=self.bot,
            session_maker=self.db,
            clock=self.clock,
            zone=ZoneInfo("Asia/Shanghai"),
            sleep=self.mono.sleep,
            monotonic=self.mono,
            rng=lambda: 0.5,
            **kwargs,
        )

    def user(self, name: str, *, started: bool = True) -> int:
        record = self.server.world.add_user(name)
        record.started = started
        return record.id

    async def person(
        self,
        name: str,
        telegram_id: int | None,
        *,
        locale: str | None = None,
        coordinator_of: int | bool | None = False,
    ) -> Person:
        async with self.db() as session:
            person = Person(telegram_id=telegram_id, name=name, locale=locale, created_at=START)
            session.add(person)
            await session.flush()
            if coordinator_of is not False:
                session.add(
                    Membership(
                        person_id=person.id,
                        role=ROLE_COORDINATOR,
                        plan_id=coordinator_of or None,
                        created_at=START,
                    )
                )
            await session.commit()
            return person

    async def notice(self, chat_id: int, text: str, *, key: str | None = None, **fields) -> int:
        fields.setdefault("not_before", self.clock.now())
        async with self.db() as session:
            row = Outbox(
                key=key or f"test:{chat_id}:{text}",
                kind=fields.pop("kind", "notice"),
                chat_id=chat_id,
                payload={"text": text},
                created_at=self.clock.now(),
                **fields,
            )
            session.add(row)
            await session.commit()
            return row.id

    async def row(self, row_id: int) -> Outbox:
        async with self.db() as session:
            row = await session.get(Outbox, row_id)
            assert row is not None
            return row

    async def rows(self) -> list[Outbox]:
        async with self.db() as session:
            return list((await session.exec(select(Outbox).order_by(Outbox.id))).all())

    def texts(self, chat_id: int) -> list[str]:
        """What the chat shows from the bot, oldest first."""
        chat = self.server.world.chats.get(chat_id)
        if chat is None:
            return []
        return [m.text for m in self.server.world.chat_messages(chat_id) if m.from_bot]

    async def ledger(self) -> tuple[int, int]:
        """A plan with one assignment; returns (plan id, assignment id)."""
        async with self.db() as session:
            plan = Plan(
                code="SR",
                title="实施意见",
                period_start=date(2023, 1, 1),
                period_end=date(2025, 12, 31),
                loaded_at=START,
            )
            unit = Unit(name="上饶市卫生健康委员会", short_name="市卫健委")
            session.add_all([plan, unit])
            await session.flush()
            task = Task(plan_id=plan.id, ref="SR-12", title="公共卫生科")
            session.add(task)
            await session.flush()
            milestone = Milestone(
                task_id=task.id, due=date(2025, 12, 31), original_due=date(2025, 12, 31)
            )
            session.add(milestone)
            await session.flush()
            assignment = Assignment(
                milestone_id=milestone.id,
                unit_id=unit.id,
                due=date(2025, 12, 31),
                assigned_at=START,
            )
            session.add(assignment)
            await session.commit()
            return plan.id, assignment.id


@pytest_asyncio.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    mono = FakeMonotonic()
    clock = VirtualClock(START, monotonic=mono)
    engine = make_engine(database_url(tmp_path / "sender.sqlite3"))
    await create_all(engine)
    async with LocalBotApiServer(token=TOKEN, clock=mono) as server:
        bot = make_bot(server.base_url)
        try:
            wall = VirtualClock(datetime(2030, 1, 1, tzinfo=UTC), monotonic=mono)
            yield Env(mono, clock, server, bot, make_session_maker(engine), wall)
        finally:
            await bot.session.close()
            await engine.dispose()


# --- the happy path ---------------------------------------------------------------------------


async def test_due_rows_go_out_oldest_first_and_once(env: Env) -> None:
    alice = env.user("Alice")
    first = await env.notice(alice, "first", not_before=env.clock.now() - timedelta(minutes=5))
    second = await env.notice(alice, "second")
    later = await env.notice(alice, "tomorrow", not_before=env.clock.now() + timedelta(days=1))
    sender = env.sender()

    report = await sender.drain()

    assert env.texts(alice) == ["first", "second"]
    assert report.completed == 2
    for row_id in (first, second):
        row = await env.row(row_id)
        assert (row.status, row.parts_sent, row.attempts) == ("sent", 1, 0)
        assert row.message_id is not None and row.sent_at is not None
    assert (await env.row(later)).status == "pending"
    # one message a second in a private chat: the sender paused, it did not burst
    assert env.mono.slept and sum(env.mono.slept) >= 1.0

    again = await sender.drain()  # an idempotent re-run sends nothing
    assert again.sent == 0 and env.texts(alice) == ["first", "second"]

    env.clock.advance(timedelta(days=1))
    await sender.drain()
    assert env.texts(alice) == ["first", "second", "tomorrow"]


async def test_a_sent_reminder_records_its_chat_and_message_for_replies(env: Env) -> None:
    _, assignment_id = await env.ledger()
    alice = env.user("Alice")
    row_id = await env.notice(alice, "SR-12 reminder", assignment_id=assignment_id)

    await env.sender().drain()

    row = await env.row(row_id)
    async with env.db() as session:
        sent = (await session.exec(select(SentMessage))).all()
    assert [(s.chat_id, s.message_id, s.assignment_id, s.kind) for s in sent] == [
        (alice, row.message_id, assignment_id, "notice")
    ]


async def test_a_chase_planned_before_the_item_was_closed_is_cancelled(env: Env) -> None:
    _, assignment_id = await env.ledger()
    alice = env.user("Alice")
    reminder = await env.notice(
        alice, "SR-12 reminder", key="r", kind="reminder", assignment_id=assignment_id
    )
    notice = await env.notice(alice, "SR-12 was confirmed", key="n", assignment_id=assignment_id)
    async with env.db() as session:
        assignment = await session.get(Assignment, assignment_id)
        assignment.status = "closed"
        session.add(assignment)
        await session.commit()

    await env.sender().drain()

    row = await env.row(reminder)
    assert (row.status, row.message_id) == ("cancelled", None)
    assert "closed" in row.last_error
    assert (await env.row(notice)).status == "sent"  # a notice is news, not a chase


async def test_messages_are_rendered_at_send_time_in_the_recipients_language(env: Env) -> None:
    alice, bob = env.user("Alice"), env.user("Bob")
    await env.person("Alice", alice, locale="en")
    await env.person("Bob", bob)  # no locale: the deployment's default
    seen: list[tuple[str, str]] = []

    def render(row: Outbox, *, locale: str) -> Part:
        seen.append((row.key, locale))
        return Part(f"{row.payload['text']} [{locale}]")

    await env.notice(alice, "hello", key="a")
    await env.notice(bob, "hello", key="b")
    await env.notice(bob, "hello", key="c", locale="en")  # the planner's choice wins
    await env.sender(render=render, default_locale="zh_CN").drain()

    assert sorted(seen) == [("a", "en"), ("b", "zh_CN"), ("c", "en")]
    assert env.texts(alice) == ["hello [en]"]
    assert env.texts(bob) == ["hello [zh_CN]", "hello [en]"]


async def test_many_chats_share_the_global_limit(env: Env) -> None:
    env.server.limiter.enabled = True  # the server answers 429 if we go too fast
    chats = [env.user(f"U{i}") for i in range(90)]
    for chat in chats:
        await env.notice(chat, "digest")
    start = env.mono.now

    report = await env.sender().drain()

    assert report.completed == 90 and report.retried == 0
    assert all(env.texts(chat) == ["digest"] for chat in chats)
    assert env.server.calls.by_status.get(429, 0) == 0
    assert env.mono.now - start >= 87 / 30 - 1e-6  # 30 a second after a burst of 3


# --- faults -----------------------------------------------------------------------------------


async def test_429_retry_after_is_obeyed_and_the_message_arrives_once(env: Env) -> None:
    alice, bob = env.user("Alice"), env.user("Bob")
    env.server.faults.add("sendMessage", "retry_after", chat_id=alice, retry_after=3)
    row_id = await env.notice(alice, "to alice")
    await env.notice(bob, "to bob")

    report = await env.sender().drain()

    assert env.texts(alice) == ["to alice"] and env.texts(bob) == ["to bob"]
    assert report.retried == 1 and report.completed == 2
    calls = [
        c for c in env.server.calls.calls("sendMessage") if str(c.params["chat_id"]) == str(alice)
    ]
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 3  # waited as long as Telegram said
    row = await env.row(row_id)
    assert row.status == "sent" and row.attempts == 1 and "429" in row.last_error


async def test_500s_are_retried_with_backoff_then_delivered_once(env: Env) -> None:
    alice = env.user("Alice")
    env.server.faults.add("sendMessage", "server_error", count=2)
    row_id = await env.notice(alice, "hello")
    sender = env.sender()

    await sender.drain()
    row = await env.row(row_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "500" in row.last_error or "Internal" in row.last_error
    assert row.not_before > env.clock.now()  # backed off
    first_delay = row.not_before - env.clock.now()
    assert (await sender.drain()).sent == 0  # not yet

    env.mono.advance(first_delay.total_seconds())
    await sender.drain()
    row = await env.row(row_id)
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.not_before - env.clock.now() > first_delay  # exponential

    env.clock.advance(timedelta(minutes=15))
    await sender.drain()
    row = await env.row(row_id)
    assert row.status == "sent" and env.texts(alice) == ["hello"]


async def test_an_outage_pauses_all_sending_instead_of_trying_every_row(env: Env) -> None:
    chats = [env.user(f"U{i}") for i in range(8)]
    for chat in chats:
        await env.notice(chat, "x")
    env.server.faults.add("sendMessage", "server_error", count=100)
    sender = env.sender()
    start = env.mono.now

    await sender.drain()

    # five failures in a row: then a pause of 1 s, 2 s, 4 s between the next tries
    calls = env.server.calls.calls("sendMessage")
    assert len(calls) == 8 and all(c.status == 500 for c in calls)
    gaps = [b.at - a.at for a, b in itertools.pairwise(calls)]
    assert all(g < 0.1 for g in gaps[:4]) and [round(g) for g in gaps[4:]] == [1, 2, 4]
    assert env.mono.now - start >= 7

    env.server.faults.clear()
    env.mono.advance(300)  # five minutes on both the project clock and the throttle's
    assert (await sender.drain()).completed == 8  # a success ends the outage


async def test_network_errors_are_retried(env: Env) -> None:
    alice = env.user("Alice")
    row_id = await env.notice(alice, "hello")
    good = env.bot
    env.bot = make_bot("http://127.0.0.1:9")  # nothing listens there
    try:
        await env.sender().drain()
    finally:
        await env.bot.session.close()
        env.bot = good
    row = await env.row(row_id)
    assert row.status == "pending" and "TelegramNetworkError" in row.last_error

    env.clock.advance(timedelta(minutes=1))
    await env.sender().drain()
    assert env.texts(alice) == ["hello"]


async def test_a_blocked_liaison_is_marked_inactive_and_the_coordinator_told(env: Env) -> None:
    plan_id, assignment_id = await env.ledger()
    liaison_chat, coord_chat, other_chat = env.user("Li"), env.user("Coord"), env.user("Other")
    liaison = await env.person("李联络员", liaison_chat)
    await env.person("Coord", coord_chat, locale="en", coordinator_of=plan_id)
    async with env.db() as session:
        other = Plan(
            code="LN",
            title="三年行动计划",
            period_start=date(2023, 1, 1),
            period_end=date(2025, 12, 31),
            loaded_at=START,
        )
        session.add(other)
        await session.commit()
    await env.person("Other plan", other_chat, coordinator_of=other.id)
    env.server.world.set_blocked(liaison_chat, True)
    row_id = await env.notice(
        liaison_chat, "SR-12 reminder", assignment_id=assignment_id, person_id=liaison.id
    )
    later = await env.notice(liaison_chat, "second", person_id=liaison.id)

    report = await env.sender().drain()

    row = await env.row(row_id)
    assert row.status == "failed" and "blocked" in row.last_error
    assert (await env.row(later)).status == "failed"  # not even tried: known inactive
    async with env.db() as session:
        assert (await session.get(Person, liaison.id)).active is False
    [notice] = env.texts(coord_chat)
    assert "李联络员" in notice and "SR-12" in notice and "/start" in notice
    assert env.texts(other_chat) == []  # coordinators of other plans are not bothered
    assert report.failed == 2
    sends = [
        c
        for c in env.server.calls.calls("sendMessage")
        if str(c.params["chat_id"]) == str(liaison_chat)
    ]
    assert len(sends) == 1


async def test_the_unreachable_notice_is_in_the_coordinators_language(env: Env) -> None:
    blocked, coord = env.user("B"), env.user("C")
    await env.person("张三", blocked)
    await env.person("C", coord, locale="zh_CN", coordinator_of=None)
    env.server.world.set_blocked(blocked, True)
    await env.notice(blocked, "hi")
    await env.sender().drain()
    [notice] = env.texts(coord)
    assert "张三" in notice and "无法" in notice


async def test_a_bad_request_is_dead_and_logged(env: Env, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="bot.telegram.delivery.sender")
    row_id = await env.notice(424242, "to a chat that does not exist")
    report = await env.sender().drain()
    row = await env.row(row_id)
    assert row.status == "dead" and "chat not found" in row.last_error
    assert report.dead == 1
    assert any("dead" in r.getMessage() for r in caplog.records)


async def test_a_renderer_bug_is_retried_then_dead(env: Env) -> None:
    alice = env.user("Alice")

    def broken(row: Outbox, *, locale: str) -> Part:
        raise KeyError("payload has no ref")

    row_id = await env.notice(alice, "x")
    sender = env.sender(render=broken, max_attempts=2)
    await sender.drain()
    assert (await env.row(row_id)).status == "pending"
    env.clock.advance(timedelta(hours=1))
    await sender.drain()
    row = await env.row(row_id)
    assert row.status == "dead" and "KeyError" in row.last_error and row.attempts == 2


# --- crashes, restarts, overlap ---------------------------------------------------------------


async def test_a_multi_part_message_resumes_at_the_part_in_flight(env: Env) -> None:
    alice = env.user("Alice")
    renders: list[str] = []

    def render(row: Outbox, *, locale: str) -> list[Part]:
        renders.append(row.key)
        return [Part(f"part {i}/3") for i in (1, 2, 3)]

    row_id = await env.notice(alice, "digest")
    hang = env.server.faults.add("sendMessage", "hang", chat_id=alice)
    # part 1 goes through, part 2 hangs: the process "dies" with it in flight
    hang.count = 0
    sender = env.sender(render=render)
    original = env.server.faults.take

    def take(method: str, chat_id: int | None):
        if len(env.texts(alice)) == 1:
            hang.count = 1
        return original(method, chat_id)

    env.server.faults.take = take  # type: ignore[method-assign]
    task = asyncio.create_task(sender.drain())
    assert await env.server.world.wait_until(lambda: env.server.faults.hanging, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    env.server.faults.take = original  # type: ignore[method-assign]
    row = await env.row(row_id)
    assert (row.status, row.parts_sent) == ("sending", 1)

    env.server.faults.release()  # Telegram processes the request that was in flight
    await env.server.world.wait_until(lambda: len(env.texts(alice)) == 2, 5)

    restarted = env.sender(render=render)
    assert await restarted.recover() == 0  # the dead sender's claim still runs
    env.wall.advance(timedelta(seconds=61))  # its lease (claim_seconds, 60) has passed
    assert await restarted.recover() == 1
    await restarted.drain()

    assert env.texts(alice) == ["part 1/3", "part 2/3", "part 2/3", "part 3/3"]
    assert renders == [f"test:{alice}:digest"]  # rendered once, frozen for the resume
    row = await env.row(row_id)
    assert (row.status, row.parts_sent) == ("sent", 3)


async def test_stop_lets_the_message_in_flight_finish_and_sends_nothing_more(env: Env) -> None:
    chats = [env.user(f"U{i}") for i in range(5)]
    for chat in chats:
        await env.notice(chat, "x")
    env.server.faults.add("sendMessage", "hang", chat_id=chats[1])
    sender = env.sender()
    task = asyncio.create_task(sender.drain())
    assert await env.server.world.wait_until(lambda: env.server.faults.hanging, 5)
    sender.stop()
    env.server.faults.release()
    report = await task
    assert report.completed == 2
    statuses = [r.status for r in await env.rows()]
    assert statuses == ["sent", "sent", "pending", "pending", "pending"]


async def test_overlapping_drains_and_two_senders_never_send_twice(env: Env) -> None:
    chats = [env.user(f"U{i}") for i in range(20)]
    for chat in chats:
        await env.notice(chat, "once")
    one, two = env.sender(), env.sender()
    await asyncio.gather(one.drain(), one.drain(), two.drain())
    assert all(env.texts(chat) == ["once"] for chat in chats)
    assert len(env.server.calls.calls("sendMessage")) == 20


async def test_recover_puts_interrupted_rows_back(env: Env) -> None:
    alice = env.user("Alice")
    row_id = await env.notice(alice, "x", status="sending")
    sender = env.sender()
    assert (await sender.drain()).sent == 0
    assert await sender.recover() == 1
    await sender.drain()
    assert env.texts(alice) == ["x"]
    assert (await env.row(row_id)).status == "sent"


async def test_a_killed_claimer_s_row_is_sent_once_by_another_after_its_lease(env: Env) -> None:
    alice, bob = env.user("Alice"), env.user("Bob")
    first = await env.notice(alice, "to alice")
    await env.notice(bob, "to bob")
    env.server.faults.add("sendMessage", "hang", chat_id=alice)
    killed = env.sender(holder="a:1", claim_seconds=20)
    task = asyncio.create_task(killed.drain())
    assert await env.server.world.wait_until(lambda: env.server.faults.hanging, 5)
    task.cancel()  # the instance dies with its message in flight, never delivered
    with pytest.raises(asyncio.CancelledError):
        await task
    row = await env.row(first)
    assert (row.status, row.claimed_by) == ("sending", "a:1")
    other = env.sender(holder="b:2", claim_seconds=20)
    await other.drain()  # Bob's row goes; Alice's is still under a live-looking claim
    assert env.texts(bob) == ["to bob"] and env.texts(alice) == []
    env.wall.advance(timedelta(seconds=21))
    env.clock.advance(timedelta(seconds=21))
    await other.drain()
    assert env.texts(alice) == ["to alice"]
    row = await env.row(first)
    assert (row.status, row.claimed_by, row.lease_until) == ("sent", None, None)


async def test_a_clean_stop_gives_its_claim_back_at_once(env: Env) -> None:
    alice = env.user("Alice")
    row_id = await env.notice(alice, "x", status="sending")
    async with env.db() as session:
        row = await session.get(Outbox, row_id)
        assert row is not None
        row.claimed_by, row.lease_until = "a:1", env.wall.now() + timedelta(seconds=60)
        session.add(row)
        await session.commit()
    assert await env.sender(holder="b:2").recover() == 0  # another's live claim stays
    assert await env.sender(holder="a:1").release_claims() == 1
    await env.sender(holder="b:2").drain()
    assert env.texts(alice) == ["x"]
