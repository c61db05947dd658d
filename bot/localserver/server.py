"""LocalBotApiServer: the aiohttp application serving the Bot API and the control API."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from aiohttp import web

from .botapi import BotApi
from .calllog import CallLog
from .control import ControlApi
from .faults import FaultInjector
from .guard import KEY_HEADER, ControlGuard
from .limits import MAX_UPLOAD_BYTES
from .ratelimit import RateLimiter, RateLimits
from .webhook import Backoff, WebhookDelivery
from .world import World

_BODY_SLACK = 1024 * 1024  # multipart overhead on top of the largest allowed upload
_SHUTDOWN_SECONDS = 2.0
KEY_BYTES = 24  # 192 random bits, 32 characters in the printed address


class LocalBotApiServer:
    """An in-memory Telegram Bot API server on a real socket (loopback by default).

    Use ``async with LocalBotApiServer() as srv:`` and point aiogram at it with
    ``AiohttpSession(api=TelegramAPIServer.from_base(srv.base_url))``; drive users through
    ``LocalServerClient(srv.base_url)`` or directly through ``srv.world``.

    ``port=0`` picks a free port (read it from ``srv.port`` after start). ``token`` None
    adopts the first well-formed token a bot presents. ``rate_limits`` True or a
    :class:`RateLimits` enables flood limits from the start (they can be switched later).
    ``clock`` (monotonic seconds) drives the rate limiter and the call log; ``now`` (epoch
    seconds) stamps message dates. ``cors_origins`` lets browser pages from those origins
    use the control API (``"*"`` for any); ``static_dir`` is served under ``/web/``.

    Everything but the Bot API and the static files needs ``control_key`` (random when not
    given; read it from ``srv.control_key``): pass it to ``LocalServerClient(url, key=...)``.
    See :mod:`.guard` for the Host, Origin and Content-Type checks.

    While the bot has a webhook set, updates are posted to it (:mod:`.webhook`); failed posts
    are retried after ``webhook_backoff`` delays.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        bot_username: str = "local_test_bot",
        bot_first_name: str = "Local Test Bot",
        rate_limits: bool | RateLimits = False,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        cors_origins: Sequence[str] = (),
        static_dir: Path | str | None = None,
        control_key: str | None = None,
        webhook_backoff: Backoff | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.world = World(bot_username=bot_username, bot_first_name=bot_first_name, now=now)
        self.limiter = RateLimiter(
            rate_limits if isinstance(rate_limits, RateLimits) else None,
            enabled=bool(rate_limits),
            clock=clock,
        )
        self.faults = FaultInjector(on_change=self.world.changed)
        self.calls = CallLog()
        self.bot_api = BotApi(
            self.world,
            limiter=self.limiter,
            faults=self.faults,
            calls=self.calls,
            token=token,
            clock=clock,
        )
        self.webhooks = WebhookDelivery(
            self.world, execute=self.bot_api.run_webhook_reply, backoff=webhook_backoff
        )
        self.control = ControlApi(
            self.world,
            limiter=self.limiter,
            faults=self.faults,
            calls=self.calls,
            base_url=lambda: self.base_url,
        )
        self._cors_origins = frozenset(cors_origins)
        self.control_key = control_key or secrets.token_urlsafe(KEY_BYTES)
        self.guard = ControlGuard(
            self.control_key,
            bind_host=host,
            port=lambda: self.port,
            cors_origins=self._cors_origins,
        )
        self._static_dir = Path(static_dir) if static_dir is not None else None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def build_app(self) -> web.Application:
        """The aiohttp application (for embedding in another runner)."""
        app = web.Application(
            client_max_size=MAX_UPLOAD_BYTES + _BODY_SLACK, middlewares=[self.guard.middleware]
        )
        app.add_routes(self.bot_api.routes())
        app.add_routes(self.control.routes())
        if self._cors_origins:
            app.router.add_route("OPTIONS", "/control/{tail:.*}", self._preflight)
            app.on_response_prepare.append(self._cors_headers)
        if self._static_dir is not None:
            app.router.add_static("/web/", self._static_dir)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def start(self) -> None:
        """Bind and serve; afterwards ``port`` holds the actual port."""
        self.world.closing = False
        runner = web.AppRunner(
            self.build_app(), access_log=None, shutdown_timeout=_SHUTDOWN_SECONDS
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        """End waiting long polls, hung requests and event streams, then close the socket."""
        if self._runner is None:
            return
        await self._on_shutdown(None)
        await self._runner.cleanup()
        self._runner = None

    async def _on_startup(self, app: web.Application) -> None:
        self.webhooks.start()

    async def _on_shutdown(self, app: web.Application | None) -> None:
        self.world.closing = True
        self.faults.release()
        self.world.changed()
        await self.webhooks.stop()

    async def __aenter__(self) -> LocalBotApiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _cors_allowed(self, request: web.Request) -> str | None:
        origin = request.headers.get("Origin")
        if origin is None or not request.path.startswith("/control/"):
            return None
        return origin if "*" in self._cors_origins or origin in self._cors_origins else None

    async def _preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204 if self._cors_allowed(request) else 403)

    async def _cors_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        # on_response_prepare also reaches streamed responses (the SSE endpoint)
        origin = self._cors_allowed(request)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = (
                f"Content-Type, Last-Event-ID, {KEY_HEADER}"
            )
