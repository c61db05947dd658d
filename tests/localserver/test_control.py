"""The control API as tests and the web chat use it: events, waits, errors, reset, CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import aiohttp
import pytest
from aiogram import Bot

from bot.localserver import (
    ControlError,
    ControlTimeout,
    LocalBotApiServer,
    LocalServerClient,
)


async def test_events_long_poll_sees_new_and_edited_messages(
    bot: Bot, client: LocalServerClient, alice: dict
) -> None:
    start = (await client.events())["last_seq"]
    waiting = asyncio.create_task(client.events(after=start, timeout=5))
    sent = await bot.send_message(alice["id"], "hello")
    first = await waiting
    await bot.edit_message_text(text="bye", chat_id=alice["id"], message_id=sent.message_id)
    rest = await client.events(after=first["last_seq"])

    assert [e["type"] for e in first["events"]] == ["message"]
    assert first["events"][0]["message"]["text"] == "hello"
    assert [(e["type"], e["message"]["text"]) for e in rest["events"]] == [("edit", "bye")]


async def test_server_sent_events_stream(bot: Bot, server: LocalBotApiServer, alice: dict) -> None:
    after = server.world.last_event_seq
    async with (
        aiohttp.ClientSession(headers={"X-Control-Key": server.control_key}) as http,
        http.get(f"{server.base_url}/control/events/stream?after={after}") as stream,
    ):
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        await bot.send_message(alice["id"], "streamed")
        async for line in stream.content:
            if line.startswith(b"data: "):
                event = json.loads(line[len(b"data: ") :])
                break
    assert (event["type"], event["message"]["text"]) == ("message", "streamed")


async def test_waits_time_out_with_control_timeout(client: LocalServerClient, alice: dict) -> None:
    with pytest.raises(ControlTimeout):
        await client.next_bot_message(alice["id"], timeout=0.05)


async def test_unanswered_button_times_out(
    bot: Bot, client: LocalServerClient, alice: dict
) -> None:
    sent = await bot.send_message(
        alice["id"],
        "menu",
        reply_markup={"inline_keyboard": [[{"text": "go", "callback_data": "go"}]]},
    )
    with pytest.raises(ControlTimeout):
        await client.press(alice["id"], sent.message_id, "go", wait_answer=0.05)
    updates = await bot.get_updates(timeout=0)
    assert updates[-1].callback_query.data == "go"
    assert updates[-1].callback_query.message.message_id == sent.message_id


async def test_control_refuses_impossible_actions(client: LocalServerClient, alice: dict) -> None:
    with pytest.raises(ControlError, match="no button"):
        await client.press(alice["id"], 1, "nothing")
    with pytest.raises(ControlError, match="unknown user"):
        await client.send_text(424242, "hi")
    with pytest.raises(ControlError, match="already exists"):
        await client.create_user("Again", user_id=alice["id"])
    with pytest.raises(ControlError, match="unknown fault kind"):
        await client.add_fault("sendMessage", "explode")


async def test_reset_forgets_everything(bot: Bot, client: LocalServerClient, alice: dict) -> None:
    await bot.send_message(alice["id"], "x")
    await client.add_fault("sendMessage", "server_error")
    await client.reset()

    state = await client.state()
    assert (state["users"], state["chats"], state["pending_updates"]) == ([], [], 0)
    assert await client.faults() == []
    assert (await client.stats())["total"] == 0


async def test_cors_for_configured_origins() -> None:
    origin = "http://127.0.0.1:9000"
    async with (
        LocalBotApiServer(cors_origins=[origin]) as server,
        aiohttp.ClientSession() as http,
    ):
        url = f"{server.base_url}/control/users"
        async with http.options(url, headers={"Origin": origin}) as preflight:
            assert preflight.status == 204
            assert preflight.headers["Access-Control-Allow-Origin"] == origin
        async with http.get(url, headers={"Origin": "http://evil.example"}) as other:
            assert "Access-Control-Allow-Origin" not in other.headers


async def test_token_adopted_from_first_bot() -> None:
    async with (
        LocalBotApiServer() as server,
        LocalServerClient(server.base_url, key=server.control_key) as client,
    ):
        assert (await client.state())["bot"] is None
        async with aiohttp.ClientSession() as http:
            url = f"{server.base_url}/bot77:secret/getMe"
            async with http.get(url) as response:
                assert (await response.json())["result"]["id"] == 77
            async with http.get(f"{server.base_url}/bot78:other/getMe") as response:
                assert response.status == 401


def test_standalone_process_serves_the_bot_api() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.localserver", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Local Bot API server at http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1].strip()

        async def get_me() -> dict:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"{base_url}/bot5:x/getMe") as response,
            ):
                return await response.json()

        assert asyncio.run(get_me())["result"]["id"] == 5
    finally:
        process.terminate()
        process.wait(timeout=10)
