"""The real `python -m bot run` in webhook mode against the local Bot API server: it sets the
webhook, answers people through it, refuses posts without the secret, answers /healthz, and
loses nothing while it restarts (the webhook stays set; the server keeps retrying)."""

from __future__ import annotations

import socket

import aiohttp

from bot.localserver.webhook import SECRET_HEADER, Backoff

from .world import START_TIMEOUT, World

SECRET = "e2e-webhook-secret_0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_the_bot_serves_people_through_its_webhook(make_world) -> None:
    port = free_port()
    listener = f"http://127.0.0.1:{port}"
    world: World = await make_world(
        start=False,
        env={
            "WEBHOOK_URL": f"{listener}/telegram/updates",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
            # /healthz calls a scheduler silent for 3 ticks dead; a first planning pass on a
            # busy machine may take a few seconds
            "SCHEDULER_TICK_SECONDS": "5",
        },
    )
    world.server.webhooks.backoff = Backoff(first=0.2, cap=1.0)  # a restart is seconds long
    await world.start()  # ready: the coordinator's /start was answered through the webhook

    webhook = world.server.world.webhook
    assert webhook is not None and webhook.url == f"{listener}/telegram/updates"
    assert webhook.secret_token == SECRET
    assert "getUpdates" not in {call.method for call in world.server.calls.calls()}

    coordinator = world.coordinator
    assert coordinator is not None
    assert (await coordinator.ask("/help")).text

    visitor = await world.person("访客")  # not invited: the gate answers
    answer = await visitor.ask("/help", match="督办助手")
    assert "邀请" in answer.text

    update = {"update_id": 999_999, "message": {"message_id": 1, "date": 0, "chat": {}}}
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "not-the-secret"}):
            async with http.post(
                f"{listener}/telegram/updates", json=update, headers=headers
            ) as refused:
                assert refused.status == 403
        async with http.get(f"{listener}/healthz") as health:
            report = await health.json()
            assert health.status == 200, report
    assert (report["status"], report["database"], report["scheduler"]) == ("ok", "ok", "alive")
    assert report["outbox_lag_seconds"] >= 0
    assert "refused a post without the right secret" in world.log()

    # a restart loses nothing: the webhook stays set and the update waits for the bot
    assert await world.stop() == 0
    assert world.server.world.webhook is not None
    sent = await visitor.send("/help")
    await world.server.world.wait_until(lambda: webhook.last_error_message, 10)
    assert world.server.world.pending_update_count() == 1
    await world.start(ready=False)
    await visitor.wait_for("督办助手", after=sent.message_id, timeout=START_TIMEOUT)
    assert world.server.world.pending_update_count() == 0
