"""The end-to-end world: the local Bot API server in this process, the real bot as a
subprocess (`python -m bot run`), and people who write, press and reply.

    async with await World.create(tmp_path) as world:  # or the `world` fixture (conftest.py)
        await world.start()
        liaison = await world.liaison("上饶市卫健委", "张三")   # invite → /start TOKEN
        card = await liaison.ask("/task SR-1", match="SR-1")
        await liaison.press(card, "进行中")
        ack = await liaison.next_message(match="已报送")

Waiting is event-based: every wait is a server-side long poll (`next_bot_message`) with a
timeout, raced against the bot process so that a crash fails the test at once with the tail
of the bot's log. Nothing sleeps.

Cursors: each person reads their private chat like an inbox. `next_message()` returns the
first bot message after the person's cursor (and moves it); `ask()` sends and returns the
first bot message after the sent one that matches (other messages, such as reminders the
scheduler sends meanwhile, stay unread for `next_message`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import struct
import sys
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.localserver import CallbackResult, ChatMessage, LocalBotApiServer, LocalServerClient
from bot.localserver.client import ControlTimeout
from tests.dbs import database_url

REPO = Path(__file__).resolve().parents[2]
CLOCK_START = "2025-12-20T09:00:00+08:00"
TOKEN = "123456:TEST"
START_TIMEOUT = 90.0  # first start migrates and loads tasks_data: slow on a busy machine
TIMEOUT = 15.0  # one answer of a running bot

T = TypeVar("T")
Match = str | Callable[[ChatMessage], bool] | None


class BotDied(AssertionError):
    """The bot process ended while a test waited for it."""


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A valid PNG image (the server reads its size for the photo ladder)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def text_of(message: ChatMessage) -> str:
    return message.text or message.caption or ""


def _matcher(match: Match) -> Callable[[ChatMessage], bool]:
    if match is None:
        return lambda _m: True
    if isinstance(match, str):
        return lambda m: match in text_of(m)
    return match


@dataclass
class Person:
    """Someone with a private chat with the bot (chat id = user id)."""

    world: World
    id: int
    name: str
    cursor: int = 0  # id of the last message of this chat that `next_message` handed out

    @property
    def client(self) -> LocalServerClient:
        return self.world.client

    # --- doing ---------------------------------------------------------------------------

    async def send(self, text: str, *, reply_to: ChatMessage | int | None = None) -> ChatMessage:
        """Write `text` (a reply when `reply_to` is given); returns the person's own message."""
        return await self.client.send_text(self.id, text, reply_to=_message_id(reply_to))

    async def send_file(
        self,
        data: bytes,
        *,
        kind: str = "document",
        file_name: str = "file.bin",
        caption: str | None = None,
        reply_to: ChatMessage | int | None = None,
    ) -> ChatMessage:
        return await self.client.send_file(
            self.id,
            data,
            kind=kind,
            file_name=file_name,
            caption=caption,
            reply_to=_message_id(reply_to),
        )

    async def send_photo(
        self, *, caption: str | None = None, reply_to: ChatMessage | int | None = None
    ) -> ChatMessage:
        return await self.send_file(
            tiny_png(), kind="photo", file_name="photo.png", caption=caption, reply_to=reply_to
        )

    async def ask(
        self,
        text: str,
        *,
        match: Match = None,
        reply_to: ChatMessage | int | None = None,
        timeout: float = TIMEOUT,
    ) -> ChatMessage:
        """Send `text` and return the bot's first message after it that matches."""
        sent = await self.send(text, reply_to=reply_to)
        return await self.wait_for(match, after=sent.message_id, timeout=timeout)

    async def press(
        self, message: ChatMessage, label: str, *, wait_answer: float = TIMEOUT
    ) -> CallbackResult:
        """Press the inline button of `message` whose text contains `label`; returns the
        bot's answerCallbackQuery (waited for)."""
        data = message.button_data(label)
        return await self.world.guard(
            self.client.press(self.id, message.message_id, data, wait_answer=wait_answer)
        )

    # --- reading -------------------------------------------------------------------------

    async def wait_for(
        self, match: Match = None, *, after: int = 0, timeout: float = TIMEOUT
    ) -> ChatMessage:
        """The first bot message with id > `after` that matches, waiting up to `timeout`."""
        accept = _matcher(match)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: list[str] = []
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"{self.name}: no bot message matching {match!r} within {timeout}s; "
                    f"saw {seen!r}"
                )
            try:
                message = await self.world.guard(
                    self.client.next_bot_message(self.id, after=after, timeout=remaining)
                )
            except ControlTimeout:
                continue
            if accept(message):
                return message
            seen.append(text_of(message)[:80])
            after = message.message_id

    async def next_message(self, match: Match = None, *, timeout: float = TIMEOUT) -> ChatMessage:
        """The next unread bot message (matching `match`); moves the cursor past it."""
        message = await self.wait_for(match, after=self.cursor, timeout=timeout)
        self.cursor = message.message_id
        return message

    async def messages(self, *, only_bot: bool = True) -> list[ChatMessage]:
        return await self.client.messages(self.id, only_bot=only_bot)

    async def latest(self, message: ChatMessage) -> ChatMessage:
        """The current state of a message (after edits)."""
        return await self.client.message(self.id, message.message_id)


def _message_id(value: ChatMessage | int | None) -> int | None:
    return value.message_id if isinstance(value, ChatMessage) else value


@dataclass
class World:
    """The local server, its control client, the bot process and the people."""

    tmp: Path
    server: LocalBotApiServer
    client: LocalServerClient
    env: dict[str, str]
    coordinator: Person | None = None
    process: asyncio.subprocess.Process | None = None
    people: dict[str, Person] = field(default_factory=dict)
    log_path: Path | None = None
    _starts: int = 0

    # --- building --------------------------------------------------------------------------

    @classmethod
    async def create(
        cls,
        tmp: Path,
        *,
        clock_start: str = CLOCK_START,
        tasks_data: Path | None = None,
        env: dict[str, str] | None = None,
        coordinator_name: str = "督办员",
        coordinator_language: str = "zh-hans",
    ) -> World:
        """Start the server and create the coordinator (in ADMIN_IDS); the bot is started by
        `start()` (the `world` fixture does both)."""
        server = LocalBotApiServer(bot_username="duban_test_bot", bot_first_name="督办助手")
        await server.start()
        client = LocalServerClient(server.base_url, key=server.control_key)
        world = cls(tmp=tmp, server=server, client=client, env={})
        coordinator = await world.person(coordinator_name, language_code=coordinator_language)
        world.coordinator = coordinator
        world.env = {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": server.base_url,
            "DATABASE_URL": database_url(tmp / "e2e.sqlite3"),
            "ADMIN_IDS": str(coordinator.id),
            "CLOCK_START": clock_start,
            "TASKS_DATA": str(tasks_data or REPO / "tasks_data"),
            "SCHEDULER_TICK_SECONDS": "1",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        return world

    async def person(self, name: str, *, language_code: str | None = "zh-hans") -> Person:
        """The person called `name`, created on first use (not registered with the bot)."""
        if name not in self.people:
            user = await self.client.create_user(name, language_code=language_code)
            self.people[name] = Person(world=self, id=int(user["id"]), name=name)
        return self.people[name]

    async def invite(self, *args: str, by: Person | None = None) -> str:
        """`/invite ARGS` by a coordinator; returns the token of the deep link."""
        coordinator = by or self.coordinator
        assert coordinator is not None
        answer = await coordinator.ask("/invite " + " ".join(args), match="/start ")
        found = re.search(r"/start (\S+)", text_of(answer))
        assert found, text_of(answer)
        return found.group(1)

    async def liaison(self, unit: str, name: str, *, language_code: str = "zh-hans") -> Person:
        """A registered liaison of `unit`: invited by the coordinator, joined by /start."""
        token = await self.invite(unit, name)
        person = await self.person(name, language_code=language_code)
        welcome = await person.ask(f"/start {token}", match=name)
        person.cursor = welcome.message_id
        return person

    # --- the bot process -------------------------------------------------------------------

    async def start(self, *, ready: bool = True, **env: str) -> None:
        """Run `python -m bot run`; with `ready`, wait until it answers the coordinator."""
        assert self.process is None or self.process.returncode is not None, "already running"
        self.env.update(env)
        self._starts += 1
        self.log_path = self.tmp / f"bot-{self._starts}.log"
        log = self.log_path.open("wb")
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
        log.close()
        if ready and self.coordinator is not None:
            answer = await self.coordinator.ask("/start", timeout=START_TIMEOUT)
            self.coordinator.cursor = answer.message_id

    async def stop(self, *, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait (kill after `timeout`); returns the exit status."""
        process = self.process
        if process is None or process.returncode is not None:
            return process.returncode if process else None
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            return await self.kill()

    async def kill(self) -> int | None:
        """SIGKILL: a crash, no clean shutdown."""
        process = self.process
        if process is None or process.returncode is not None:
            return process.returncode if process else None
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        return await process.wait()

    async def restart(self, **env: str) -> None:
        await self.stop()
        await self.start(**env)

    def log(self) -> str:
        """What the bot process wrote so far."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def guard(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable`, failing at once (with the log's tail) if the bot dies first."""
        task = asyncio.ensure_future(awaitable)
        if self.process is None or self.process.returncode is not None:
            return await task
        died = asyncio.ensure_future(self.process.wait())
        try:
            done, _ = await asyncio.wait({task, died}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            died.cancel()
        if task in done:
            return task.result()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        tail = "\n".join(self.log().splitlines()[-40:])
        raise BotDied(f"the bot exited with {self.process.returncode}:\n{tail}")

    async def close(self) -> None:
        await self.stop()
        await self.client.close()
        await self.server.stop()

    async def __aenter__(self) -> World:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
