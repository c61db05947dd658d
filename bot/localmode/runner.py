"""Local mode: the whole product in one process, with a web chat in place of the Telegram app.

`run_local(settings)` (what `python -m bot` runs without a BOT_TOKEN) starts, in this order:
the local Bot API server on `settings.local.host:local_port` with the web chat mounted on it,
the local people as its users, the real bot (aiogram long polling against that server, with a
token made for this start that the server alone accepts) with the seed plans loaded and the
people registered in the database, and the scheduler on a VirtualClock. Nothing talks to the
internet: the bot's only server is ours.

Other web pages in the user's browser must not drive it: the control API and the web chat need
this start's key (printed once in the address, `http://127.0.0.1:8080/?key=…`), and the server
refuses other Hosts, other Origins and non-JSON writes (see `bot.localserver.guard`).

The clock starts at CLOCK_START when set; else where the last run left it (saved next to the
database), else at DEFAULT_CLOCK_START, a week before the seed plans' 2025-12-31 milestones and
just before the 09:00 sending window. Delete the data folder to start over.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ipaddress
import json
import logging
import secrets
import signal
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.engine import make_url

from bot.clock import VirtualClock
from bot.config import Settings
from bot.localmode.people import COORDINATOR_ID, LOCAL_PEOPLE, seed_database, seed_world
from bot.localmode.web import BOT_DISPLAY_NAME, STATIC_DIR, add_webchat_routes
from bot.localserver import LocalBotApiServer
from bot.localserver.guard import KEY_QUERY
from bot.logs import configure_logging

log = logging.getLogger(__name__)

LOCAL_BOT_ID = 100000
TOKEN_BYTES = 32
LOCAL_BOT_USERNAME = "duban_local_bot"
DEFAULT_CLOCK_START = datetime(2025, 12, 24, 8, 55, tzinfo=ZoneInfo("Asia/Shanghai"))
CLOCK_STATE_FILE = "local_clock.json"
_SHUTDOWN_SECONDS = 2.0


def data_dir_of(database_url: str) -> Path:
    """The folder of a file SQLite database (where local mode keeps its clock); else data/."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent
    return Path("data")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clock_start_of(settings: Settings, data_dir: Path) -> tuple[datetime, str]:
    """Where the clock starts, and why: CLOCK_START, the saved instant, or the default."""
    if settings.clock.start is not None:
        return settings.clock.start, "CLOCK_START"
    saved = _read_saved_clock(data_dir / CLOCK_STATE_FILE)
    if saved is not None and saved > DEFAULT_CLOCK_START:
        return saved, "resumed"
    return DEFAULT_CLOCK_START, "default"


def _read_saved_clock(path: Path) -> datetime | None:
    try:
        instant = datetime.fromisoformat(json.loads(path.read_text("utf-8"))["now"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return instant if instant.tzinfo is not None else None


def local_bot_token() -> str:
    """A Bot API token for one start: the local server accepts only it, the bot gets it from
    the runner (never a constant another program could guess)."""
    return f"{LOCAL_BOT_ID}:{secrets.token_urlsafe(TOKEN_BYTES)}"


def address_lines(url: str, host: str) -> tuple[str, str | None]:
    """The one line with the web chat's address, and a warning when not on loopback."""
    if is_loopback(host):
        return f"督办助手 local mode: open {url} (loopback only, not a public server)", None
    warning = (
        f"warning: local mode listens on {host}, reachable from other computers; it is for "
        "trying the bot, not a public server (the key in the address is its only login, and it "
        "travels unencrypted)"
    )
    return f"督办助手 local mode: open {url} (listening on {host}; not a public server)", warning


@dataclass
class LocalMode:
    """One running local mode. `start()` then `stop()`, or `async with`."""

    settings: Settings
    announce: bool = False  # print the one line with the address (the CLI does)
    clock: VirtualClock = field(init=False)
    clock_origin: str = field(init=False, default="")
    server: LocalBotApiServer = field(init=False)
    bot_settings: Settings = field(init=False)
    data_dir: Path = field(init=False)
    app: Any = None  # what bot.app.build_app returned
    scheduler: Any = None
    _runner: web.AppRunner | None = field(init=False, default=None)
    _polling: asyncio.Task[Any] | None = field(init=False, default=None)

    @property
    def url(self) -> str:
        """The web chat's address with this start's key, as printed (a wildcard bind is shown
        as this computer's loopback)."""
        if self.server.host in ("0.0.0.0", "::", ""):
            home = f"http://127.0.0.1:{self.server.port}/"
        else:
            home = self.server.base_url + "/"
        return f"{home}?{KEY_QUERY}={self.server.control_key}"

    @property
    def world(self) -> Any:
        return self.server.world

    @property
    def session_maker(self) -> Any:
        return getattr(self.app, "session_maker", None)

    async def start(self) -> None:
        settings = self.settings
        self.data_dir = data_dir_of(settings.database.url)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        start, self.clock_origin = clock_start_of(settings, self.data_dir)
        self.clock = VirtualClock(start)
        self.clock.on_jump(lambda _at: self.save_clock())
        token = local_bot_token()
        self.server = LocalBotApiServer(
            settings.local.host,
            settings.local.port,
            token=token,
            bot_username=LOCAL_BOT_USERNAME,
            bot_first_name=BOT_DISPLAY_NAME,
            now=lambda: self.clock.now().timestamp(),
            static_dir=STATIC_DIR,
        )
        app = self.server.build_app()
        add_webchat_routes(
            app,
            self.server.world,
            self.clock,
            settings.clock.zone,
            control_key=self.server.control_key,
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_SECONDS)
        await self._runner.setup()
        try:
            site = web.TCPSite(self._runner, settings.local.host, settings.local.port)
            await site.start()
            self.server.port = self._runner.addresses[0][1]
            seed_world(self.server.world)
            self.bot_settings = settings.replace(
                bot_token=token,
                telegram_api_base=self.server.base_url,
                admin_ids=list(dict.fromkeys([*settings.bot.admin_ids, COORDINATOR_ID])),
                clock_start=start,
            )
            await self._start_bot()
        except BaseException:
            await self.stop()
            raise
        if self.announce:
            self._print_address()

    async def _start_bot(self) -> None:
        """Build the real bot against our server (database migrated, plans loaded), register
        the people, then poll; the scheduler starts in the dispatcher's startup hook."""
        # aiogram still takes a second or more to import: import it off the event loop so that
        # the web chat answers meanwhile
        await asyncio.to_thread(_import_bot_modules)
        from bot.app import build_app
        from bot.heap import freeze_startup_heap

        self.app = await build_app(self.bot_settings, clock=self.clock)
        freeze_startup_heap()  # full collections then skip start-up's objects (bot.heap)
        missing = await seed_database(self.app.session_maker, at=self.clock.now())
        await continue_message_ids(self.server.world, self.app.session_maker)
        if missing:
            log.warning("local mode: units missing from the plans: %s", "、".join(missing))
        dispatcher, bot = self.app.dispatcher, self.app.bot
        started = asyncio.Event()

        async def mark_started() -> None:
            started.set()

        dispatcher.startup.register(mark_started)  # after the platform's hooks: runs last
        self._polling = asyncio.create_task(
            dispatcher.start_polling(
                bot,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=dispatcher.resolve_used_update_types(),
            ),
            name="local-mode polling",
        )
        waiter = asyncio.create_task(started.wait())
        done, _ = await asyncio.wait({waiter, self._polling}, return_when=asyncio.FIRST_COMPLETED)
        if self._polling in done:
            waiter.cancel()
            self._polling.result()  # raises what stopped it
            raise RuntimeError("the bot stopped while starting")

    def _print_address(self) -> None:
        line, warning = address_lines(self.url, self.settings.local.host)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        print(line, flush=True)

    def save_clock(self) -> None:
        """Keep the virtual clock's instant so that the next start resumes from it."""
        path = self.data_dir / CLOCK_STATE_FILE
        try:
            path.write_text(json.dumps({"now": self.clock.now().isoformat()}), "utf-8")
        except OSError as exc:
            log.warning("local mode: cannot save the clock to %s: %s", path, exc)

    async def stop(self) -> None:
        if self._polling is not None:
            dispatcher = self.app.dispatcher
            with contextlib.suppress(RuntimeError):  # polling already stopped
                await dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._polling, 10)
            self._polling = None
        if self.app is not None:
            await self.app.close()
            self.app = None
        if hasattr(self, "clock") and hasattr(self, "data_dir"):
            self.save_clock()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalMode:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def continue_message_ids(world: Any, session_maker: Any) -> None:
    """The server forgets its messages on restart, the database does not: make every chat's
    message ids continue after the highest the database knows, so that a reply to a new
    message never reaches the assignment of an old one with the same id."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from bot.storage.models import Outbox, SentMessage

    highest: dict[int, int] = {}
    async with session_maker() as session:
        rows = [
            *(
                await session.exec(
                    select(
                        col(SentMessage.chat_id), func.max(col(SentMessage.message_id))
                    ).group_by(col(SentMessage.chat_id))
                )
            ).all(),
            *(
                await session.exec(
                    select(
                        col(Outbox.chat_id),
                        func.max(col(Outbox.message_id) + col(Outbox.parts_sent)),
                    )
                    .where(col(Outbox.message_id).is_not(None))
                    .group_by(col(Outbox.chat_id))
                )
            ).all(),
        ]
    for chat_id, top in rows:
        if top is not None:
            highest[chat_id] = max(highest.get(chat_id, 0), int(top))
    for chat_id, top in highest.items():
        chat = world.chats.get(chat_id)
        if chat is not None and chat.next_message_id <= top:
            chat.next_message_id = top + 1


def _import_bot_modules() -> None:
    from bot.lazy_aiogram import import_aiogram

    import_aiogram()  # the bulk of the start-up unless its types are built lazily
    for name in ("bot.app", "bot.telegram.setup", "schedules.runtime"):
        importlib.import_module(name)


async def _serve(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    mode = LocalMode(settings, announce=True)
    try:
        await mode.start()
    except OSError as exc:
        print(
            f"error: local mode cannot listen on {settings.local.host}:"
            f"{settings.local.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:
        from bot.app import StartupError  # imported late: it brings aiogram

        if not isinstance(exc, StartupError):
            raise
        print(exc, file=sys.stderr)
        return 2
    try:
        polling = mode._polling
        waiters: set[asyncio.Task[Any]] = {asyncio.create_task(stop.wait())}
        if polling is not None:
            waiters.add(polling)
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await mode.stop()
    return 0


def run_local(settings: Settings) -> int:
    """Run local mode until Ctrl-C / SIGTERM; returns the exit status.

    Imports nothing of aiogram before the web chat listens, so that the page answers while
    the bot is still starting (the caller should not import `bot.app` first, for the same
    reason)."""
    configure_logging(settings.bot.log_level)
    return asyncio.run(_serve(settings))


__all__ = ["DEFAULT_CLOCK_START", "LOCAL_PEOPLE", "LocalMode", "local_bot_token", "run_local"]
