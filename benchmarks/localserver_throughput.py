"""How fast the local Bot API server answers a real aiogram bot.

Prints sendMessage throughput (sequential and 50 concurrent) and the round trip
"user writes → dispatcher handler answers → control client sees it".
Run from the repository root: ``.venv/bin/python -m benchmarks.localserver_throughput``.
"""

from __future__ import annotations

import asyncio
import time

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bot.localserver import LocalBotApiServer, LocalServerClient

TOKEN = "123456:benchmark-token"
MESSAGES = 500
ROUND_TRIPS = 100


def echo_router() -> Router:
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    return router


async def main() -> None:
    async with (
        LocalBotApiServer(token=TOKEN) as server,
        LocalServerClient(server.base_url, key=server.control_key) as c,
    ):
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
        user = await c.create_user("Bench")
        await c.send_text(user["id"], "/start")

        started = time.perf_counter()
        for n in range(MESSAGES):
            await bot.send_message(user["id"], f"<b>{n}</b>", parse_mode="HTML")
        sequential = MESSAGES / (time.perf_counter() - started)

        started = time.perf_counter()
        semaphore = asyncio.Semaphore(50)

        async def send(n: int) -> None:
            async with semaphore:
                await bot.send_message(user["id"], f"c{n}")

        await asyncio.gather(*(send(n) for n in range(MESSAGES)))
        concurrent = MESSAGES / (time.perf_counter() - started)

        dispatcher = Dispatcher()
        dispatcher.include_router(echo_router())
        await bot.get_updates(offset=-1, timeout=0)  # start from a clean queue
        polling = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
        )
        started = time.perf_counter()
        for n in range(ROUND_TRIPS):
            sent = await c.send_text(user["id"], f"ping {n}")
            await c.next_bot_message(user["id"], after=sent.message_id)
        round_trip_ms = (time.perf_counter() - started) / ROUND_TRIPS * 1000
        await dispatcher.stop_polling()
        await polling
        await bot.session.close()

    print(f"sendMessage sequential: {sequential:8.0f} msg/s ({MESSAGES} messages)")
    print(f"sendMessage 50 in flight: {concurrent:6.0f} msg/s")
    print(f"user → handler → reply round trip: {round_trip_ms:.1f} ms ({ROUND_TRIPS} trips)")


if __name__ == "__main__":
    asyncio.run(main())
