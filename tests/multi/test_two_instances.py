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
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.localserver.webhook import SECRET_HEADER, Backoff
from tests.dbs import on_postgres
from tests.e2e.test_liaison_story import UNIT, invite_liaison
from tests.e2e.test_webhook_mode import free_port
from tests.e2e.world import REPO, START_TIMEOUT, World, text_of

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
async def pair(tmp_path) -> AsyncIterator[Pair]:
    ports = [free_port(), free_port()]
    proxy = Proxy([f"http://127.0.0.1:{port}" for port in ports])
    await proxy.start()
    (tmp_path / "world").mkdir()
    world = await World.create(
        tmp_path / "world",
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
