"""Fixtures: a live local server on 127.0.0.1:0, a control client, a real aiogram Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.localserver import LocalBotApiServer, LocalServerClient

TOKEN = "4242424242:AAH-local-test-token-for-the-localserver-suite"
BOT_ID = 4242424242


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class QuickCloseSession(AiohttpSession):
    """aiogram's session, minus the fixed 0.25 s pause in close() that would slow every test."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(server: LocalBotApiServer, token: str = TOKEN) -> Bot:
    session = QuickCloseSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture
async def server(clock: FakeClock) -> AsyncIterator[LocalBotApiServer]:
    async with LocalBotApiServer(token=TOKEN, bot_username="duban_test_bot", clock=clock) as srv:
        yield srv


@pytest_asyncio.fixture
async def client(server: LocalBotApiServer) -> AsyncIterator[LocalServerClient]:
    async with LocalServerClient(server.base_url, key=server.control_key) as control:
        yield control


@pytest_asyncio.fixture
async def bot(server: LocalBotApiServer) -> AsyncIterator[Bot]:
    instance = make_bot(server)
    yield instance
    await instance.session.close()


@pytest_asyncio.fixture
async def alice(client: LocalServerClient) -> dict:
    """A user who has already started the bot."""
    user = await client.create_user("Alice", username="alice", language_code="zh-hans")
    await client.send_text(user["id"], "/start")
    return user


def png_header(width: int, height: int) -> bytes:
    """The start of a PNG: enough for the server to read the dimensions."""
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + len(ihdr).to_bytes(4, "big") + b"IHDR" + ihdr + b"\0" * 64


@pytest.fixture
def png_1600x900() -> bytes:
    return png_header(1600, 900)
