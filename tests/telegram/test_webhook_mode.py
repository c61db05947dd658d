"""Webhook mode (bot.webhook): settings checked together, the secret enforced with 403,
/healthz answered, updates handed to the dispatcher."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiogram import Dispatcher
from aiogram.types import Message
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings, SettingsError, load_settings, split_listen
from bot.services.health import Health
from bot.webhook import (
    HEALTH_PATH,
    SECRET_HEADER,
    WebhookConfig,
    WebhookError,
    build_web_app,
    webhook_config,
)
from tests.localserver.conftest import QuickCloseSession

SECRET = "a-Secret_0123456789"
UPDATE = {
    "update_id": 7,
    "message": {
        "message_id": 1,
        "date": 1766538000,
        "chat": {"id": 42, "type": "private", "first_name": "Ann"},
        "from": {"id": 42, "is_bot": False, "first_name": "Ann"},
        "text": "hello",
    },
}


def settings(**kw) -> Settings:
    return load_settings(env_file=None, **kw)


def test_polling_unless_a_webhook_url_is_set() -> None:
    assert webhook_config(None, None, ("127.0.0.1", 8088)) is None
    assert settings().webhook.url is None
    assert settings().webhook.address == ("127.0.0.1", 8088)


def test_webhook_settings() -> None:
    s = settings(
        webhook_url="https://bot.example.org/tg/updates",
        webhook_secret=SECRET,
        webhook_listen="0.0.0.0:9000",
    )
    config = webhook_config(s.webhook.url, s.webhook.secret.get_secret_value(), s.webhook.address)
    assert config == WebhookConfig(
        "https://bot.example.org/tg/updates", SECRET, host="0.0.0.0", port=9000
    )
    assert config.path == "/tg/updates"
    assert split_listen("[::1]:8443") == ("::1", 8443)


def test_a_webhook_needs_its_secret() -> None:
    with pytest.raises(WebhookError, match="WEBHOOK_SECRET: missing"):
        webhook_config("https://bot.example.org/tg", None, ("127.0.0.1", 8088))
    with pytest.raises(WebhookError, match="must not be /healthz"):
        webhook_config("https://bot.example.org/healthz", SECRET, ("127.0.0.1", 8088))


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WEBHOOK_SECRET", "with space"),
        ("WEBHOOK_SECRET", "x" * 257),
        ("WEBHOOK_SECRET", "ключ"),
        ("WEBHOOK_URL", "bot.example.org/tg"),
        ("WEBHOOK_LISTEN", "8088"),
        ("WEBHOOK_LISTEN", "127.0.0.1:99999"),
    ],
)
def test_malformed_webhook_settings_are_named(variable, value, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=f"setting {variable}:"):
        load_settings()


def test_run_stops_at_once_without_the_secret(monkeypatch, tmp_path, capsys) -> None:
    from bot.app import run_app

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("BOT_TOKEN", "1:x")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/tg")
    assert run_app() == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("setting WEBHOOK_SECRET: missing"), lines
    assert not (tmp_path / "data").exists()  # stopped before the database was made


@pytest.fixture
async def served():
    """The webhook application with a dispatcher that records what it handled."""
    from aiogram import Bot

    handled: list[str] = []
    dp = Dispatcher()

    @dp.message()
    async def record(message: Message) -> None:
        handled.append(message.text or "")

    bot = Bot("123456:TEST", session=QuickCloseSession())
    healthy = {"value": True}

    async def health() -> Health:
        return Health(healthy["value"], {"status": "ok" if healthy["value"] else "unhealthy"})

    config = WebhookConfig("https://bot.example.org/tg/hook", SECRET, "127.0.0.1", 0)
    app = build_web_app(dispatcher=dp, bot=bot, config=config, health=health)
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client, handled, healthy
    await client.close()
    await bot.session.close()


async def test_posts_without_the_right_secret_are_refused(served) -> None:
    client, handled, _ = served
    body = json.dumps(UPDATE)
    for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
        answer = await client.post("/tg/hook", data=body, headers=headers)
        assert answer.status == 403
    assert (await client.get("/tg/hook")).status == 405

    answer = await client.post("/tg/hook", data=body, headers={SECRET_HEADER: SECRET})
    assert answer.status == 200
    for _ in range(50):  # handled in the background, as aiogram does by default
        if handled:
            break
        await asyncio.sleep(0.01)
    assert handled == ["hello"]


async def test_healthz_answers_for_the_load_balancer(served) -> None:
    client, _, healthy = served
    answer = await client.get(HEALTH_PATH)
    assert (answer.status, await answer.json()) == (200, {"status": "ok"})
    healthy["value"] = False
    answer = await client.get(HEALTH_PATH)
    assert (answer.status, await answer.json()) == (503, {"status": "unhealthy"})
