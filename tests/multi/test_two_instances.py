"""Two real `python -m bot run` processes in webhook mode on one PostgreSQL database, behind a
round-robin proxy (written here, aiohttp), against the local Bot API server: what one instance
records, the other shows; a conversation may hop between them (its state is in the database).

PostgreSQL only (SQLite: one process per database). Marked e2e: real processes, about a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.localserver.webhook import SECRET_HEADER, Backoff
from bot.storage.models import InstanceLock
from tests.dbs import on_postgres
from tests.e2e.test_delivery import (
    DIGEST_MONDAY,
    Roster,
    all_digests_arrived,
    bot_texts,
    diagnose,
    has_whole_digest,
    photos_first,
    started_users,
)
from tests.e2e.test_liaison_story import UNIT, invite_liaison
from tests.e2e.test_webhook_mode import free_port
from tests.e2e.world import CLOCK_START, REPO, START_TIMEOUT, World, text_of

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not on_postgres(), reason="PostgreSQL run only (SQLite: one process per database)"
    ),
]

SECRET = "two-instances-secret_0123456789"
PATH = "/telegram/updates"


@dataclass
class Proxy:
    """The load balancer: posts each update to the next instance in turn (or to `route` when
    set), passing the answer back; an instance that does not answer costs a 502, and the
    server posts the update again later. `served` lists (update id, instance index, text)."""

    upstreams: list[str]
    route: int | None = None
    served: list[tuple[int, int, str]] = field(default_factory=list)
    _turn: int = 0
    _runner: web.AppRunner | None = None
    _http: aiohttp.ClientSession | None = None
    url: str = ""

    async def start(self) -> None:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post(PATH, self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}{PATH}"

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _next(self) -> int:
        if self.route is not None:
            return self.route
        self._turn = (self._turn + 1) % len(self.upstreams)
        return self._turn

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        body = await request.read()
        index = self._next()
        headers = {"Content-Type": "application/json"}
        if SECRET_HEADER in request.headers:
            headers[SECRET_HEADER] = request.headers[SECRET_HEADER]
        try:
            async with self._http.post(
                self.upstreams[index] + PATH, data=body, headers=headers
            ) as answer:
                payload = await answer.read()
                status = answer.status
                content_type = answer.content_type
        except aiohttp.ClientError:
            return web.Response(status=502, text="upstream down")
        if 200 <= status < 300:
            update = json.loads(body)
            message = update.get("message") or {}
            self.served.append((update["update_id"], index, message.get("text", "")))
        return web.Response(status=status, body=payload, content_type=content_type)


@dataclass
class Instance:
    """One `python -m bot run` of the pair."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=str(REPO),
                env={**os.environ, **self.env},
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )

    async def healthy(self, http: aiohttp.ClientSession) -> None:
        """Wait until its /healthz answers 200 (the start-up migrates and loads the plans)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while True:
            assert self.process is not None and self.process.returncode is None, self.log()
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(self.base + "/healthz") as answer:
                    if answer.status == 200:
                        return
            assert loop.time() < deadline, f"{self.name} not healthy:\n{self.log()}"
            await asyncio.sleep(0.2)  # polls a condition; no result depends on this time

    async def stop(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            await self.kill()

    async def kill(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])


@dataclass
class Pair:
    world: World
    proxy: Proxy
    instances: list[Instance]


@pytest.fixture
def clock_start() -> str:
    return CLOCK_START


@pytest.fixture
async def pair(tmp_path, clock_start) -> AsyncIterator[Pair]:
    ports = [free_port(), free_port()]
    proxy = Proxy([f"http://127.0.0.1:{port}" for port in ports])
    await proxy.start()
    (tmp_path / "world").mkdir()
    world = await World.create(
        tmp_path / "world",
        clock_start=clock_start,
        env={
            "WEBHOOK_URL": proxy.url,
            "WEBHOOK_SECRET": SECRET,
            # /healthz calls a scheduler silent for 3 ticks dead; a planning pass on a busy
            # machine may take a few seconds
            "SCHEDULER_TICK_SECONDS": "5",
            "SENDER_LEASE_SECONDS": "5",
        },
    )
    world.server.webhooks.backoff = Backoff(first=0.2, cap=1.0)
    instances = [
        Instance(
            name=name,
            port=port,
            env={**world.env, "WEBHOOK_LISTEN": f"127.0.0.1:{port}", "INSTANCE_NAME": name},
            log_path=tmp_path / f"{name}.log",
        )
        for name, port in zip(("bot-a", "bot-b"), ports, strict=True)
    ]
    try:
        async with aiohttp.ClientSession() as http:
            for instance in instances:  # one after the other: the second finds a migrated base
                await instance.start()
            for instance in instances:
                await instance.healthy(http)
        yield Pair(world=world, proxy=proxy, instances=instances)
    finally:
        for instance in instances:
            await instance.stop()
        await proxy.stop()
        await world.close()


def ids_served_by(proxy: Proxy, index: int, text: str) -> list[int]:
    return [update for update, served, said in proxy.served if served == index and said == text]


async def test_a_report_through_one_instance_shows_in_status_from_the_other(pair: Pair) -> None:
    world, proxy = pair.world, pair.proxy
    coordinator = world.coordinator
    assert coordinator is not None

    # round robin while the coordinator invites and the liaison joins: the invitation's unit
    # choice (a button) and the /start may each land on either instance
    token = await invite_liaison(world, "张三")
    liaison = await world.person("张三")
    welcome = await liaison.ask(f"/start {token}", match="张三")
    assert UNIT in text_of(welcome)
    my = await liaison.ask("/my", match="我的事项")
    ref = my.buttons[0][0]["text"].split()[-1]
    assert re.fullmatch(r"SR-\w+", ref), ref
    assert {served for _, served, _ in proxy.served} == {0, 1}, proxy.served

    proxy.route = 1  # bot-b answers /status before and after
    before = await coordinator.ask("/status SR", match="SR")
    proxy.route = 0  # bot-a records the report
    report = f"/report {ref} 进行中 60% 两个实例"
    recorded = await liaison.ask(report, match="已报送")
    assert ref in text_of(recorded)
    proxy.route = 1
    after = await coordinator.ask("/status SR", match="SR")
    seen = await coordinator.ask(f"/task {ref}", match=ref)

    assert len(ids_served_by(proxy, 0, report)) == 1
    assert len(ids_served_by(proxy, 1, "/status SR")) == 2
    assert len(ids_served_by(proxy, 1, f"/task {ref}")) == 1
    assert text_of(after) != text_of(before)
    assert "进行中" in text_of(seen) and "两个实例" in text_of(seen), text_of(seen)
    logs = [instance.log_path.read_text(errors="replace") for instance in pair.instances]
    assert all("instance=" in log for log in logs)


# --- the weekly digest while the sending instance dies -------------------------------------


def most_in_one_second(instants: list[float]) -> int:
    """The most of these instants (seconds) in any window of one second."""
    instants = sorted(instants)
    most, first = 0, 0
    for last, at in enumerate(instants):
        while at - instants[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def busiest_second(calls: list) -> list[tuple[float, str, object, int]]:
    """The calls of the busiest one-second window (what the assertion shows when it fails)."""
    calls = sorted(calls, key=lambda c: c.at)
    best: list = []
    first = 0
    for last, call in enumerate(calls):
        while call.at - calls[first].at >= 1.0:
            first += 1
        if last - first + 1 > len(best):
            best = calls[first : last + 1]
    return [
        (round(c.at - best[0].at, 3), c.method, c.params.get("chat_id"), c.status) for c in best
    ]


def test_most_in_one_second() -> None:
    assert most_in_one_second([]) == 0
    assert most_in_one_second([0.0, 0.5, 0.99, 1.0, 1.98]) == 3
    assert most_in_one_second([float(i) for i in range(5)]) == 1


async def sender_lease_holder(roster: Roster) -> str | None:
    """The instance holding the sender lease (its holder is "INSTANCE_NAME:random")."""
    async with roster.db() as session:
        lock = await session.get(InstanceLock, "sender")
    if lock is None or lock.holder is None:
        return None
    return lock.holder.rsplit(":", 1)[0]


@pytest.mark.parametrize("clock_start", [DIGEST_MONDAY])
async def test_the_digest_reaches_everyone_once_when_the_sender_is_killed(pair: Pair) -> None:
    world = pair.world
    world.server.limiter.enabled = True  # Telegram's flood limits, enforced
    leaders = started_users(world, 200, "领导")
    in_flight = leaders[120]
    hang = world.server.faults.add("sendMessage", "hang", chat_id=in_flight, hang_seconds=120)
    roster = Roster(world)
    try:
        await roster.add_plan_leaders("SR", leaders)
        hung = await world.server.world.wait_until(lambda: world.server.faults.hanging, 90)
        assert hung, "\n".join(i.log() for i in pair.instances)
        holder = await sender_lease_holder(roster)
        (sender,) = [i for i in pair.instances if i.name == holder]
        (survivor,) = [i for i in pair.instances if i is not sender]
        before = sum(has_whole_digest(bot_texts(world, chat)) for chat in leaders)
        await sender.kill()
        world.server.faults.release(hang.id)  # Telegram accepted it after all: the duplicate
        await world.server.world.wait_until(lambda: bot_texts(world, in_flight), 10)
        assert before < 150, before  # the survivor has most of the texts still to send

        # the survivor takes the sender lease when the dead one's expires, and goes on
        arrived = await all_digests_arrived(world, leaders, 120)
        assert arrived, await diagnose(world, roster, leaders) + survivor.log()
        repeats = {
            chat: sum(n - 1 for n in Counter(bot_texts(world, chat)).values()) for chat in leaders
        }
        assert {chat: n for chat, n in repeats.items() if n} in ({}, {in_flight: 1})
        assert photos_first(world, leaders) == {}
        to_leaders = {str(chat) for chat in leaders}
        photos = [
            c
            for c in world.server.calls.calls("sendPhoto")
            if c.status == 200 and c.params.get("chat_id") in to_leaders
        ]
        assert len(photos) == 200
        assert await sender_lease_holder(roster) == survivor.name
        # the row in flight at the kill is taken again once the dead claim's lease has passed
        # (its last part may be the one duplicate): every leader's row ends `sent`
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while True:
            rows = [r for r in await roster.outbox("digest") if r.chat_id in set(leaders)]
            if len(rows) == 200 and all(r.status == "sent" for r in rows):
                break
            assert loop.time() < deadline, [(r.chat_id, r.status) for r in rows][:5]
            await asyncio.sleep(0.5)  # polls a condition; no result depends on this time

        # one rate budget across both instances: never more than 30 in any second of the
        # server's clock (the sender's strict cap); the server's flood limits never answered 429
        calls = [c for c in world.server.calls.calls() if c.method.startswith("send")]
        assert len(calls) >= 400
        assert most_in_one_second([c.at for c in calls]) <= 30, busiest_second(calls)
        assert [c for c in calls if c.status == 429] == []
    finally:
        await roster.close()
