"""`python -m bot run`: start-up, long polling, graceful shutdown.

Start-up order: settings → reminder policy and time zone → database (migrated in place) →
tasks_data loaded (idempotent, one log line per plan; a plan file that lost items is reported to
the coordinators, or held back: bot.services.plan_reload; a plan whose file left the folder is
withdrawn: bot.services.plan_withdraw; the files are read and loaded in a worker thread, off
the event loop: bot.services.plan_loading) → ADMIN_IDS synced (listed ids are
coordinators; ids taken out of it lose that role, logged) → expired /import uploads purged →
clock → Bot and Dispatcher (with the out-of-process plan parser) → command menus → scheduler (in
the dispatcher's startup hook, stopped in its shutdown hook) → long polling, or with WEBHOOK_URL
set the webhook and /healthz (bot.webhook), until SIGINT/SIGTERM.
`build_app` returns the pieces so that an in-process local mode can reuse them.

Built once, injected: the Settings, the Policy, the time zone, the clock and the session maker
are made here and nowhere else; handlers receive them as the dispatcher's workflow data
(`settings`, `policy`, `tz`, `clock`, `session_maker`), the scheduler through its constructor.
The time zone has one source, TIMEZONE (`settings.clock.zone`): the policy is built in it, and
a POLICY_FILE that names another `timezone` is refused at start.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.utils.i18n import I18n
from aiogram.utils.token import TokenValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock, SystemClock, VirtualClock
from bot.config import Settings, SettingsError, load_settings
from bot.core.errors import DubanError, InvalidInput
from bot.core.policy import Policy, PolicyError, load_policy
from bot.heap import freeze_startup_heap
from bot.i18n import make_i18n
from bot.logs import configure_logging
from bot.storage.db import SessionMaker, make_engine, make_session_maker

if TYPE_CHECKING:
    from bot.webhook import HealthCheck, WebhookConfig

log = logging.getLogger("bot")

LOCAL_TOKEN = "123456:LOCAL"  # any well-formed token does for a local Bot API server
TELEGRAM_HOSTS = ("api.telegram.org",)


class StartupError(DubanError):
    """Start-up cannot go on; the message is one line for the operator."""


@dataclass
class App:
    """The running pieces: what `python -m bot run` and a later local mode share."""

    settings: Settings
    policy: Policy
    tz: ZoneInfo
    bot: Bot
    dispatcher: Dispatcher
    engine: AsyncEngine
    session_maker: SessionMaker
    clock: Clock
    directory: Any
    i18n: I18n
    coordinator_chat_ids: list[int] = field(default_factory=list)
    former_coordinator_ids: list[int] = field(default_factory=list)  # their menus are dropped
    plan_parser: Any = None  # bot.services.parse_runner.ProcessParser: /import parses
    pictures: Any = None  # bot.telegram.charts.Pictures: the scorecard and trend pictures
    background: set[Any] = field(default_factory=set)  # start-up tasks still running

    async def close(self) -> None:
        await self.bot.session.close()
        await self.engine.dispose()


def is_telegram(api_base: str) -> bool:
    host = (urlparse(api_base).hostname or "").lower()
    return host in TELEGRAM_HOSTS or host.endswith(".telegram.org")


def bot_token(settings: Settings) -> str:
    """The configured token; a local Bot API server gets a dummy one. Raises StartupError."""
    if settings.bot.token is not None and settings.bot.token.get_secret_value().strip():
        return settings.bot.token.get_secret_value().strip()
    if is_telegram(settings.bot.api_base):
        raise StartupError(
            "setting BOT_TOKEN: missing; set it to the token from @BotFather "
            "(or run `python -m bot` without a command to try local mode)"
        )
    return LOCAL_TOKEN


def load_deployment_policy(settings: Settings) -> Policy:
    """The reminder policy: the defaults with POLICY_FILE merged on top, in the deployment's
    time zone (TIMEZONE). Raises StartupError naming the file and the field."""
    path = settings.data.policy_file
    try:
        policy = load_policy(path, timezone=settings.clock.timezone)
    except PolicyError as exc:
        raise StartupError(f"setting POLICY_FILE: {exc}") from exc
    stated = _stated_zone(path) if path is not None else None
    if stated is not None and stated != settings.clock.timezone:
        raise StartupError(
            f"setting POLICY_FILE: {path} says timezone {stated!r} but TIMEZONE is "
            f"{settings.clock.timezone!r}; the time zone is set by TIMEZONE only: remove "
            "`timezone` from the policy file or make the two agree"
        )
    return policy


def _stated_zone(path: Path) -> str | None:
    """The `timezone` a policy file writes, if any (the file already read by load_policy)."""
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    zone = data.get("timezone") if isinstance(data, dict) else None
    return None if zone is None else str(zone)


def make_clock(settings: Settings) -> Clock:
    if settings.clock.start is not None:
        return VirtualClock(settings.clock.start)
    return SystemClock()


def make_bot(settings: Settings, token: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.bot.api_base))
    from bot.telegram.middlewares import CommitBeforeAnswer

    session.middleware(CommitBeforeAnswer())  # nobody is told before the change is stored
    try:
        return Bot(
            token=token,
            session=session,
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
    except TokenValidationError as exc:
        raise StartupError("setting BOT_TOKEN: malformed (expected digits:letters)") from exc


async def prepare_database(settings: Settings, engine: AsyncEngine) -> None:
    """Create or upgrade the schema in place (the storage migrations); one log line when it
    changed something. A database at the newest migration already is left as it is without
    importing Alembic (bot.storage.schema_version: ~7 MB less for the life of the process)."""
    from bot.storage.schema_version import at_head

    if await at_head(engine):
        return
    from bot.storage.migrate import current_revision, head_revision, upgrade_database

    before = await current_revision(settings.database.url)
    await upgrade_database(settings.database.url)
    head = head_revision()
    if before != head:
        log.info("database migrated from %s to %s", before or "nothing", head)


def load_directory(settings: Settings) -> Any:
    from bot.core.units import load_unit_directory

    return load_unit_directory(Path(settings.data.tasks_data) / "units.yaml")


async def load_tasks_data(
    settings: Settings,
    session_maker: SessionMaker,
    directory: Any,
    clock: Clock,
    *,
    runner: Any = None,
) -> int:
    """Load the reviewed plans of tasks_data (idempotent) off the event loop; one log line per
    plan. A plan file that would archive items is loaded with a warning to the coordinators,
    or not at all when it would archive a large share (bot.services.plan_reload); a plan whose
    file left the folder is withdrawn (bot.services.plan_withdraw). The files are read and
    loaded in a worker thread (a child process, `runner`, for a long file only PyYAML reads:
    bot.services.plan_loading). Returns the number of
    plans read."""
    folder = Path(settings.data.tasks_data)
    plans_dir = folder / "plans" if (folder / "plans").is_dir() else folder
    if not plans_dir.is_dir():
        log.warning("TASKS_DATA %s is not a directory; no plans loaded", folder)
        return 0
    from bot.services.plan_loading import reload_folder

    loaded = await reload_folder(
        session_maker,
        plans_dir,
        directory,
        at=clock.now(),
        default_locale=settings.bot.default_locale,
        runner=runner,
    )
    if not loaded.files:
        log.info("no plans in %s (no plan is withdrawn for want of its file)", plans_dir)
        return 0
    for result in loaded.results:
        if result.skipped:
            state = "unchanged"
        elif result.new_plan:
            state = "new"
        else:
            state = "updated"
        log.info(
            "plan %s %s: %d tasks, %d projects, %d indicators, %d assignments (%s)",
            result.code,
            result.title,
            result.tasks,
            result.key_projects,
            result.indicators,
            result.assignments,
            state,
        )
    return loaded.files


async def bootstrap(settings: Settings, session_maker: SessionMaker, clock: Clock) -> list[int]:
    """Make ADMIN_IDS the admins (ids no longer listed lose the role, logged); return the
    Telegram ids of every coordinator."""
    from bot.services.admins import sync_admins
    from bot.services.people import coordinators

    async with session_maker() as session:
        await sync_admins(session, settings.bot.admin_ids, at=clock.now())
        await session.commit()
        return [p.telegram_id for p in await coordinators(session) if p.telegram_id]


async def former_coordinator_ids(session_maker: SessionMaker) -> list[int]:
    from bot.services.admins import former_coordinators

    async with session_maker() as session:
        return await former_coordinators(session)


async def purge_uploads(session_maker: SessionMaker, clock: Clock) -> None:
    """Forget /import uploads left unfinished for longer than their time to live."""
    from bot.services.import_review import purge_expired

    purged = await purge_expired(session_maker, now=clock.now())
    if purged:
        log.info("%d unfinished plan uploads expired", purged)


async def build_app(settings: Settings, *, clock: Clock | None = None) -> App:
    """Everything but polling: database ready, plans loaded, Bot and Dispatcher built, the
    scheduler hooked to the dispatcher's startup/shutdown. Raises StartupError."""
    token = bot_token(settings)
    policy = load_deployment_policy(settings)
    tz = settings.clock.zone
    clock = clock or make_clock(settings)
    engine = make_engine(settings.database.url)
    try:
        from bot.storage.startup_lock import startup_lock

        session_maker = make_session_maker(engine)
        directory = load_directory(settings)
        # several instances starting at once: one migrates and loads, the others wait
        async with startup_lock(settings.database.url):
            await prepare_database(settings, engine)
            await load_tasks_data(settings, session_maker, directory, clock)
            coordinator_ids = await bootstrap(settings, session_maker, clock)
        former_ids = await former_coordinator_ids(session_maker)
        await purge_uploads(session_maker, clock)
        i18n = make_i18n(default_locale=settings.bot.default_locale)
        bot = make_bot(settings, token)
    except BaseException as exc:
        await engine.dispose()
        if _is_input_error(exc):
            raise StartupError(f"{type(exc).__name__}: {exc}") from exc
        raise

    from bot.services.parse_runner import ProcessParser
    from bot.services.plan_loading import load_runner
    from bot.telegram.charts import Pictures
    from bot.telegram.setup import build_dispatcher

    plan_parser = ProcessParser()
    plan_parser.warm_up()
    plan_loader = load_runner()
    pictures = Pictures(settings.bot.chart_font)
    dispatcher = build_dispatcher(
        settings=settings,
        policy=policy,
        tz=tz,
        clock=clock,
        session_maker=session_maker,
        directory=directory,
        i18n=i18n,
        plan_parser=plan_parser,
        pictures=pictures,
        plan_loader=plan_loader,
    )
    app = App(
        settings=settings,
        policy=policy,
        tz=tz,
        bot=bot,
        dispatcher=dispatcher,
        engine=engine,
        session_maker=session_maker,
        clock=clock,
        directory=directory,
        i18n=i18n,
        coordinator_chat_ids=coordinator_ids,
        former_coordinator_ids=former_ids,
        plan_parser=plan_parser,
        pictures=pictures,
    )
    install_hooks(app)
    return app


def _is_input_error(exc: BaseException) -> bool:
    """Bad data or an unsafe database: the operator must fix something; no traceback."""
    return isinstance(exc, InvalidInput)


def install_hooks(app: App) -> None:
    """Command menus and the scheduler start with polling and stop with it."""
    dp = app.dispatcher

    async def on_startup(bot: Bot) -> None:
        from bot.telegram.commands import register_commands

        me = await bot.me()
        log.info("bot @%s (id %s) on %s", me.username, me.id, app.settings.bot.api_base)
        await register_commands(
            bot,
            default_locale=app.settings.bot.default_locale,
            coordinator_chat_ids=app.coordinator_chat_ids,
        )
        from bot.telegram.commands import clear_coordinator_commands

        for chat_id in app.former_coordinator_ids:  # e.g. taken out of ADMIN_IDS
            await clear_coordinator_commands(bot, chat_id)
        from schedules.runtime import start_scheduler

        dp["scheduler"] = await start_scheduler(
            bot=bot,
            session_maker=app.session_maker,
            clock=app.clock,
            settings=app.settings,
            policy=app.policy,
            tz=app.tz,
            pictures=app.pictures,
        )
        log.info("scheduler started (tick %ss)", app.settings.scheduler.tick_seconds)
        if app.pictures is not None:
            # the CJK font is looked for off the event loop, after polling starts: no font,
            # one warning (bot.telegram.charts) and text only
            task = asyncio.create_task(app.pictures.check())
            app.background.add(task)
            task.add_done_callback(app.background.discard)

    async def on_shutdown() -> None:
        scheduler = dp.workflow_data.get("scheduler")
        if scheduler is None:
            return
        from schedules.runtime import stop_scheduler

        await stop_scheduler(scheduler)
        dp["scheduler"] = None
        log.info("scheduler stopped")

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)


def webhook_config(settings: Settings) -> WebhookConfig | None:
    """bot.webhook.WebhookConfig with WEBHOOK_URL set, else None (long polling). Raises
    StartupError."""
    from bot.webhook import WebhookError
    from bot.webhook import webhook_config as check

    secret = settings.webhook.secret.get_secret_value() if settings.webhook.secret else None
    try:
        return check(settings.webhook.url, secret, settings.webhook.address)
    except WebhookError as exc:
        raise StartupError(str(exc)) from exc


def health_check(app: App) -> HealthCheck:
    """What `/healthz` reports for this process: bot.services.health with the scheduler's last
    tick."""
    import time

    from bot.services.health import Health, check_health

    async def check() -> Health:
        runtime = app.dispatcher.workflow_data.get("scheduler")
        last = getattr(runtime, "last_tick", None)
        return await check_health(
            session_maker=app.session_maker,
            now=app.clock.now(),
            tick_seconds=app.settings.scheduler.tick_seconds,
            last_tick_age=None if last is None else time.monotonic() - last,
        )

    return check


async def serve(app: App) -> None:
    """Long polling (or the webhook, bot.webhook) until SIGINT/SIGTERM, then a clean
    shutdown."""
    config = webhook_config(app.settings)
    if config is not None:
        from bot.webhook import WebhookError, serve_webhook

        try:
            await serve_webhook(
                dispatcher=app.dispatcher,
                bot=app.bot,
                config=config,
                health=health_check(app),
            )
        except WebhookError as exc:
            raise StartupError(str(exc)) from exc
        finally:
            await app.close()
        return
    try:
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dispatcher.start_polling(
            app.bot,
            handle_signals=True,
            close_bot_session=False,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
    finally:
        await app.close()


def run_app() -> int:
    """`python -m bot run`. Exit 0 after a clean stop, 2 on a bad setting, 1 on a failure."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    token = settings.bot.token.get_secret_value().strip() if settings.bot.token else ""
    secret = settings.webhook.secret.get_secret_value() if settings.webhook.secret else ""
    # a secret of a few letters would blank those letters out of every log line
    configure_logging(
        settings.bot.log_level,
        secrets=[token, secret if len(secret) >= 8 else ""],
        instance=settings.bot.instance,
    )

    async def main() -> None:
        webhook_config(settings)  # a bad webhook setting stops before any work
        app = await build_app(settings)
        freeze_startup_heap()  # before serving: full collections then skip start-up's objects
        await serve(app)

    try:
        asyncio.run(main())
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0
