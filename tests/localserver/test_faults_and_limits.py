"""Injected faults, flood limits on an injected clock, and the call log."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot.localserver import LocalBotApiServer, LocalServerClient, RateLimits, limits
from bot.localserver.errors import ApiError
from bot.localserver.ratelimit import RateLimiter

from .conftest import FakeClock


async def test_retry_after_fault_surfaces_in_aiogram(
    bot: Bot, client: LocalServerClient, alice: dict
) -> None:
    await client.add_fault("sendMessage", "retry_after", retry_after=7, chat_id=alice["id"])

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(alice["id"], "first")
    await bot.send_message(alice["id"], "second")

    assert caught.value.retry_after == 7
    assert caught.value.message.endswith("Original description: Too Many Requests: retry after 7")
    calls = await client.calls("sendMessage")
    assert [(c["status"], c["params"]["text"]) for c in calls] == [(429, "first"), (200, "second")]
    stats = await client.stats()
    assert stats["by_method_status"]["sendMessage"] == {"429": 1, "200": 1}


async def test_server_error_and_blocked_faults(
    bot: Bot, client: LocalServerClient, alice: dict
) -> None:
    await client.add_fault("sendMessage", "server_error")
    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(alice["id"], "x")

    await client.add_fault("sendMessage", "blocked", chat_id=alice["id"])
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(alice["id"], "x")
    assert [u["blocked"] for u in await client.users()] == [True]


async def test_malformed_fault_answers_bytes_that_are_not_http(
    bot: Bot, client: LocalServerClient, alice: dict
) -> None:
    await client.add_fault("sendMessage", "malformed")

    with pytest.raises(TelegramNetworkError, match="ClientResponseError") as caught:
        await bot.send_message(alice["id"], "garbled")
    await bot.send_message(alice["id"], "fine")

    assert "/sendMessage" in str(caught.value)  # aiohttp quotes the URL (the token with it)
    calls = await client.calls("sendMessage")
    assert [(c["status"], c["params"]["text"]) for c in calls] == [(0, "garbled"), (200, "fine")]


async def test_hang_fault_holds_until_released(
    bot: Bot, server: LocalBotApiServer, client: LocalServerClient, alice: dict
) -> None:
    await client.add_fault("sendMessage", "hang", hang_seconds=30)
    sending = asyncio.create_task(bot.send_message(alice["id"], "slow"))
    await server.world.wait_until(lambda: server.faults.hanging == 1, 5)

    assert not sending.done()
    assert await client.release_hangs() == 1
    sent = await sending

    assert sent.text == "slow"


async def test_hang_outlasting_the_client_timeout_still_delivers(
    bot: Bot, server: LocalBotApiServer, client: LocalServerClient, alice: dict
) -> None:
    """The classic ambiguity: the bot sees a timeout, yet the message was sent."""
    await client.add_fault("sendMessage", "hang", hang_seconds=30)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(alice["id"], "maybe", request_timeout=0.2)

    await client.release_hangs()
    delivered = await client.next_bot_message(alice["id"], after=1)
    assert delivered.text == "maybe"


async def test_faults_list_and_clear(client: LocalServerClient) -> None:
    fault = await client.add_fault("editMessageText", "server_error", count=3, chat_id=5)
    assert (await client.faults())[0] == fault | {"remaining": 3}
    assert await client.clear_faults(fault["id"]) == 1
    assert await client.faults() == []


async def test_rate_limits_with_an_injected_clock(
    bot: Bot, server: LocalBotApiServer, client: LocalServerClient, alice: dict, clock: FakeClock
) -> None:
    await client.set_rate_limits(True)
    for n in range(3):  # the private-chat burst
        await bot.send_message(alice["id"], f"burst {n}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(alice["id"], "too fast")
    assert caught.value.retry_after == 1

    clock.advance(1.0)
    await bot.send_message(alice["id"], "after a second")
    await client.set_rate_limits(False)
    await bot.send_message(alice["id"], "limits off")


def test_group_limit_is_twenty_per_minute() -> None:
    clock = FakeClock()
    limiter = RateLimiter(enabled=True, clock=clock)
    allowed = [limiter.check("sendMessage", -5, is_group=True) for _ in range(20)]
    assert allowed == [None] * 20
    assert limiter.check("sendMessage", -5, is_group=True) == 3  # one slot refills in 3 s
    clock.advance(3)
    assert limiter.check("sendMessage", -5, is_group=True) is None


def test_global_limit_spans_chats_and_refusals_cost_nothing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(global_per_second=30), enabled=True, clock=clock)
    results = [limiter.check("sendMessage", chat, is_group=False) for chat in range(1, 32)]
    assert results[:30] == [None] * 30
    assert results[30] == 1
    assert limiter.check("getMe", 1, is_group=False) is None  # only sending is limited
    clock.advance(1 / 30)
    assert limiter.check("sendMessage", 99, is_group=False) is None


def test_disabled_limiter_allows_everything() -> None:
    limiter = RateLimiter(clock=FakeClock())
    assert all(limiter.check("sendMessage", 1, is_group=False) is None for _ in range(100))


def test_upload_size_limits() -> None:
    limits.upload_size(limits.MAX_UPLOAD_BYTES, photo=False)
    with pytest.raises(ApiError) as too_big:
        limits.upload_size(limits.MAX_UPLOAD_BYTES + 1, photo=False)
    assert (too_big.value.code, too_big.value.description) == (413, "Request Entity Too Large")
    with pytest.raises(ApiError, match="file must be non-empty"):
        limits.upload_size(0, photo=True)
