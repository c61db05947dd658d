"""Webhook mode: Telegram posts updates to WEBHOOK_URL; this process serves them on
WEBHOOK_LISTEN (HOST:PORT) at the URL's path with aiogram's aiohttp handler, next to
`GET /healthz` for the load balancer.

Start: the dispatcher's startup hooks (command menus, the scheduler) → listening → setWebhook
(URL, secret_token, the update kinds the routers use). Updates are answered at once and handled
in the background (aiogram's `SimpleRequestHandler` default), as long polling handles them.
A post without the right `X-Telegram-Bot-Api-Secret-Token` is refused with 403.

Stop (SIGINT/SIGTERM): the listener closes, updates in hand get `UPDATE_GRACE` seconds, then
the dispatcher's shutdown hooks stop the scheduler. deleteWebhook is NOT called: another
instance behind the same URL may still serve, and Telegram keeps updates for a webhook that is
down and retries them, so nothing is lost across a restart. Switching back to long polling
deletes the webhook at that start (bot.app.serve).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.core.errors import DubanError
from bot.services.health import Health

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
UPDATE_GRACE = 10.0  # seconds updates in hand may take to finish at shutdown

HealthCheck = Callable[[], Awaitable[Health]]


class WebhookError(DubanError):
    """Webhook mode cannot start; the message is one line for the operator."""


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str
    host: str
    port: int

    @property
    def path(self) -> str:
        return urlparse(self.url).path or "/"


def webhook_config(
    url: str | None, secret: str | None, address: tuple[str, int]
) -> WebhookConfig | None:
    """The webhook settings checked together; None means long polling. Raises WebhookError."""
    if not url:
        return None
    if not secret:
        raise WebhookError(
            "setting WEBHOOK_SECRET: missing; webhook mode (WEBHOOK_URL is set) needs it: "
            "1-256 characters of A-Z a-z 0-9 _ -, e.g. from `openssl rand -hex 32`"
        )
    config = WebhookConfig(url=url, secret=secret, host=address[0], port=address[1])
    if config.path == HEALTH_PATH:
        raise WebhookError(f"setting WEBHOOK_URL: its path must not be {HEALTH_PATH}")
    return config


class SecretRequestHandler(SimpleRequestHandler):
    """aiogram's handler, refusing a post without the right secret with 403 (aiogram: 401),
    and able to wait for the updates it is handling in the background."""

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            log.warning("webhook: refused a post without the right secret from %s", request.remote)
            return web.Response(status=403, text="Forbidden")
        return await super().handle(request)

    async def finish(self, grace: float) -> None:
        """Wait up to `grace` seconds for the updates in hand, then cancel the rest."""
        tasks = set(self._background_feed_update_tasks)  # aiogram keeps them for this
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("webhook: %d update(s) cancelled by shutdown", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)


def build_web_app(
    *, dispatcher: Dispatcher, bot: Bot, config: WebhookConfig, health: HealthCheck
) -> web.Application:
    """The aiohttp application: the webhook at the URL's path, `/healthz`, and the
    dispatcher's startup/shutdown hooks on the application's."""
    handler = SecretRequestHandler(dispatcher, bot, secret_token=config.secret)

    async def healthz(request: web.Request) -> web.Response:
        result = await health()
        return web.json_response(result.report, status=200 if result.healthy else 503)

    async def finish_updates(app: web.Application) -> None:
        await handler.finish(UPDATE_GRACE)

    app = web.Application()
    # not handler.register(): that would close the bot's session before the scheduler stops
    app.router.add_post(config.path, handler.handle)
    app.router.add_get(HEALTH_PATH, healthz)
    app.on_shutdown.append(finish_updates)  # before the dispatcher's shutdown hooks
    setup_application(app, dispatcher, bot=bot)
    return app


async def serve_webhook(
    *, dispatcher: Dispatcher, bot: Bot, config: WebhookConfig, health: HealthCheck
) -> None:
    """Listen, set the webhook and serve until SIGINT/SIGTERM; then stop cleanly."""
    app = build_web_app(dispatcher=dispatcher, bot=bot, config=config, health=health)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runner.setup()  # the dispatcher's startup hooks: menus, scheduler
        try:
            await web.TCPSite(runner, config.host, config.port).start()
        except OSError as exc:
            raise WebhookError(
                f"setting WEBHOOK_LISTEN: cannot listen on {config.host}:{config.port}: "
                f"{exc.strerror or exc}"
            ) from exc
        log.info(
            "webhook: listening on %s:%s, updates at %s, health at %s",
            config.host,
            config.port,
            config.path,
            HEALTH_PATH,
        )
        try:
            await bot.set_webhook(
                url=config.url,
                secret_token=config.secret,
                allowed_updates=dispatcher.resolve_used_update_types(),
                drop_pending_updates=False,
            )
        except TelegramAPIError as exc:
            raise WebhookError(
                f"setting WEBHOOK_URL: setWebhook refused it: {exc.message}"
            ) from exc
        log.info("webhook set: %s", config.url)
        await stop.wait()
        log.info("webhook: stopping (the webhook stays set for the other instances)")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
        await runner.cleanup()
