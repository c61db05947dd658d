"""Sender throughput against the local Bot API server with Telegram's flood limits enforced.

    .venv/bin/python benchmarks/sender_bench.py [MESSAGES]

`sender_figures()` is also printed by benchmarks/scheduler_bench.py. Two runs, each on a fresh
temporary database and server (limits on: 30/s overall, 1/s per private chat with a burst of
3, 20/min per group), with the real sender, throttle, clock and sleeps:
- MESSAGES outbox rows to as many different private chats (a digest to a roster): messages per
  second, and the 429s the server answered (the goal: ≥ 25/s and none);
- 5 messages to one private chat: the per-chat spacing (≥ 4 s, no 429).
Every message is claimed, sent and committed on its own, as in production.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func
from sqlmodel import select

from bot.clock import VirtualClock
from bot.localserver import LocalBotApiServer
from bot.storage.db import create_all, make_engine, make_session_maker
from bot.storage.models import Outbox
from bot.telegram.delivery.sender import Sender

TOKEN = "777000777:sender-bench-token"
START = datetime(2025, 12, 22, 1, 0, tzinfo=UTC)


async def _run(chats: int, per_chat: int) -> tuple[int, float, int, int]:
    """(messages delivered, seconds, 429 answers, rows not sent)."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
        await create_all(engine)
        db = make_session_maker(engine)
        clock = VirtualClock(START)
        async with LocalBotApiServer(token=TOKEN, rate_limits=True) as server:
            ids = []
            for i in range(chats):
                user = server.world.add_user(f"U{i}")
                user.started = True
                ids.append(user.id)
            async with db() as session:
                session.add_all(
                    Outbox(
                        key=f"bench:{chat}:{n}",
                        kind="notice",
                        chat_id=chat,
                        payload={"text": f"周报 {n + 1} · 第 {i + 1} 位"},
                        created_at=START,
                        not_before=START,
                    )
                    for i, chat in enumerate(ids)
                    for n in range(per_chat)
                )
                await session.commit()
            session_http = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
            bot = Bot(TOKEN, session=session_http)
            sender = Sender(bot=bot, session_maker=db, clock=clock, zone=ZoneInfo("Asia/Shanghai"))
            started = time.perf_counter()
            report = await sender.drain()
            while report.sent and (await _pending(db)):  # a drain stops at long pauses
                report = await sender.drain()
            seconds = time.perf_counter() - started
            delivered = sum(
                1 for chat in ids for m in server.world.chat_messages(chat) if m.from_bot
            )
            too_many = server.calls.by_status.get(429, 0)
            left = await _pending(db)
            await bot.session.close()
        await engine.dispose()
    return delivered, seconds, too_many, left


async def _pending(db) -> int:
    async with db() as session:
        query = select(func.count()).select_from(Outbox).where(Outbox.status != "sent")
        return int((await session.exec(query)).one())


async def sender_figures(messages: int = 600) -> list[str]:
    logging.getLogger("bot.telegram.delivery.sender").setLevel(logging.WARNING)
    lines = []
    delivered, seconds, too_many, left = await _run(messages, 1)
    lines.append(
        f"sender: {delivered} messages to {messages} private chats in {seconds:.1f} s = "
        f"{delivered / seconds:.1f} msg/s, {too_many} × 429, {left} not sent "
        "(server enforcing Telegram's limits)"
    )
    delivered, seconds, too_many, left = await _run(1, 5)
    lines.append(
        f"sender: {delivered} messages to one private chat in {seconds:.1f} s "
        f"(1 a second per chat), {too_many} × 429, {left} not sent"
    )
    return lines


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    for line in asyncio.run(sender_figures(count)):
        print(line)
