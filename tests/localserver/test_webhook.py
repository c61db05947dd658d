"""The local server delivers updates to a webhook as Telegram does: in order, with the secret
header, retried while the webhook answers errors, 409 for getUpdates meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.localserver import LocalBotApiServer, LocalServerClient
from bot.localserver.webhook import SECRET_HEADER, Backoff

from .conftest import TOKEN, make_bot

QUICK = Backoff(first=0.02, factor=2.0, cap=0.1)


class Receiver:
    """A webhook on 127.0.0.1: records what it gets and answers with the queued statuses
    (then 200)."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.statuses: list[int] = []
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.json()))
        self.arrived.set()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.json_response({}, status=status)

    async def start(self, app: web.Application | None = None) -> None:
        if app is None:
            app = web.Application()
            app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def texts(self) -> list[str]:
        return [body["message"]["text"] for _, body in self.posts if "message" in body]


@pytest_asyncio.fixture
async def quick_server() -> AsyncIterator[LocalBotApiServer]:
    async with LocalBotApiServer(token=TOKEN, webhook_backoff=QUICK) as srv:
        yield srv


@pytest_asyncio.fixture
async def quick_client(quick_server: LocalBotApiServer) -> AsyncIterator[LocalServerClient]:
    async with LocalServerClient(quick_server.base_url, key=quick_server.control_key) as c:
        yield c


@pytest_asyncio.fixture
async def quick_bot(quick_server: LocalBotApiServer) -> AsyncIterator[Bot]:
    instance = make_bot(quick_server)
    yield instance
    await instance.session.close()


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    await hook.start()
    yield hook
    await hook.stop()


async def started_user(client: LocalServerClient, bot: Bot, name: str = "Alice") -> int:
    """A user who wrote /start (that update consumed by polling before the webhook is set)."""
    user = await client.create_user(name)
    await client.send_text(user["id"], "/start")
    updates = await bot.get_updates(timeout=0)
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return int(user["id"])


async def until(server: LocalBotApiServer, predicate, timeout: float = 5.0) -> Any:
    result = await server.world.wait_until(predicate, timeout)
    assert result, "condition not reached"
    return result


async def test_updates_are_posted_in_order_with_the_secret(
    quick_server: LocalBotApiServer,
    quick_client: LocalServerClient,
    quick_bot: Bot,
    receiver: Receiver,
) -> None:
    alice = await started_user(quick_client, quick_bot)
    assert await quick_bot.set_webhook(receiver.url, secret_token="s3cret_-X")
    for text in ("one", "two", "three"):
        await quick_client.send_text(alice, text)

    await until(quick_server, lambda: len(receiver.posts) == 3)
    assert receiver.texts() == ["one", "two", "three"]
    assert all(headers[SECRET_HEADER] == "s3cret_-X" for headers, _ in receiver.posts)
    ids = [body["update_id"] for _, body in receiver.posts]
    assert ids == sorted(ids)
    info = await quick_bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.last_error_date) == (receiver.url, 0, None)
    assert info.max_connections == 40


async def test_errors_are_retried_while_the_update_stays_pending(
    quick_server: LocalBotApiServer,
    quick_client: LocalServerClient,
    quick_bot: Bot,
    receiver: Receiver,
) -> None:
    alice = await started_user(quick_client, quick_bot)
    receiver.statuses = [500, 502, 500]
    await quick_bot.set_webhook(receiver.url)
    await quick_client.send_text(alice, "first")
    await quick_client.send_text(alice, "second")

    await until(quick_server, lambda: len(receiver.posts) >= 2)
    info = await quick_bot.get_webhook_info()
    assert info.pending_update_count == 2  # nothing is lost while the webhook fails
    assert info.last_error_message.startswith("Wrong response from the webhook: 5")
    assert info.last_error_date is not None

    await until(quick_server, lambda: len(receiver.posts) == 5)
    assert receiver.texts() == ["first"] * 4 + ["second"]  # the failed one again, in order
    await until(quick_server, lambda: quick_server.world.pending_update_count() == 0)
    assert SECRET_HEADER not in receiver.posts[0][0]


async def test_a_webhook_that_is_down_keeps_updates_until_it_comes_up(
    quick_server: LocalBotApiServer, quick_client: LocalServerClient, quick_bot: Bot
) -> None:
    alice = await started_user(quick_client, quick_bot)
    hook = Receiver()
    await hook.start()
    url = hook.url
    await hook.stop()  # nobody listens there now
    await quick_bot.set_webhook(url)
    await quick_client.send_text(alice, "while down")
    await until(quick_server, lambda: quick_server.world.webhook.last_error_message)
    info = await quick_bot.get_webhook_info()
    assert (info.pending_update_count, info.last_error_message) == (1, "Connection refused")

    port = int(url.rsplit(":", 1)[1].split("/")[0])
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    hook.runner = web.AppRunner(app, access_log=None)
    await hook.runner.setup()
    await web.TCPSite(hook.runner, "127.0.0.1", port).start()
    try:
        await until(quick_server, lambda: hook.posts)
        assert hook.texts() == ["while down"]
    finally:
        await hook.stop()


async def test_get_updates_conflicts_with_an_active_webhook(
    quick_server: LocalBotApiServer, quick_bot: Bot, receiver: Receiver
) -> None:
    waiting = asyncio.create_task(quick_bot.get_updates(timeout=5))
    await until(quick_server, lambda: quick_server.world.poll_generation == 1)
    await quick_bot.set_webhook(receiver.url)

    message = "can't use getUpdates method while webhook is active"
    with pytest.raises(TelegramConflictError, match=message):
        await waiting
    with pytest.raises(TelegramConflictError, match="use deleteWebhook to delete the webhook"):
        await quick_bot.get_updates(timeout=0)

    assert await quick_bot.delete_webhook()
    assert await quick_bot.get_updates(timeout=0) == []
    assert (await quick_bot.get_webhook_info()).url == ""


async def test_set_webhook_options(
    quick_server: LocalBotApiServer,
    quick_client: LocalServerClient,
    quick_bot: Bot,
    receiver: Receiver,
) -> None:
    alice = await started_user(quick_client, quick_bot)
    await quick_client.send_text(alice, "old news")
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await quick_bot.set_webhook(receiver.url, secret_token="no spaces")
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await quick_bot.set_webhook("ftp://example.org/hook")
    with pytest.raises(TelegramBadRequest, match="max_connections"):
        await quick_bot.set_webhook(receiver.url, max_connections=0)
    assert quick_server.world.webhook is None

    await quick_bot.set_webhook(
        receiver.url,
        drop_pending_updates=True,
        max_connections=5,
        allowed_updates=["callback_query"],
    )
    info = await quick_bot.get_webhook_info()
    assert (info.pending_update_count, info.max_connections) == (0, 5)
    assert info.allowed_updates == ["callback_query"]
    await quick_client.send_text(alice, "not wanted")  # a message: not in allowed_updates
    await asyncio.sleep(0.1)
    assert receiver.posts == []
    assert (await quick_client.state())["webhook"]["url"] == receiver.url

    await quick_bot.set_webhook("")  # an empty url removes the webhook, as deleteWebhook does
    assert quick_server.world.webhook is None


@pytest.mark.parametrize("in_background", [False, True])
async def test_aiogram_answers_through_the_webhook_response(
    quick_server: LocalBotApiServer,
    quick_client: LocalServerClient,
    quick_bot: Bot,
    in_background: bool,
) -> None:
    """aiogram's SimpleRequestHandler: in the foreground a handler's returned method comes back
    in the webhook answer (multipart form), which the server executes; in the background
    (aiogram's default) the answer is {} and the bot calls the method itself."""
    alice = await started_user(quick_client, quick_bot)
    dp = Dispatcher()

    @dp.message(F.text == "ping")
    async def pong(message: Message) -> SendMessage:
        return message.answer("pong <b>!</b>")

    app = web.Application()
    handler = SimpleRequestHandler(
        dp, quick_bot, handle_in_background=in_background, secret_token="k"
    )
    app.router.add_post("/hook", handler.handle)
    hook = Receiver()
    await hook.start(app)
    try:
        await quick_bot.set_webhook(hook.url, secret_token="k")
        sent = await quick_client.send_text(alice, "ping")
        answer = await quick_client.next_bot_message(alice, after=sent.message_id, timeout=5)
        assert answer.text == "pong !"
        calls = quick_server.calls.calls("sendMessage", 0)
        assert [c.status for c in calls] == [200]
        assert (await quick_bot.get_webhook_info()).pending_update_count == 0
    finally:
        await hook.stop()
