"""APScheduler wiring: a `tick` plans what is due, then wakes the sender.

The schedule lives in the database, not in APScheduler: a tick asks the planner what is due at
the project clock's now (`schedules.enqueue.plan_due`, which writes Outbox rows under unique
keys) and then wakes the sender, which delivers the Outbox (`schedules.sender.Sender.drain`).
APScheduler only says *when to look*, so its jobs hold no state worth keeping: an in-memory job
store, jobs registered by reference with plain ids, nothing pickled, nothing lost when the
process dies.

The sender runs in one task of its own, woken by every tick: sending a long backlog (a digest to
2,000 people takes over a minute at 30 messages a second, and one private chat takes one a
second) never delays planning, ticks stay short and never pile up, and there is never more than
one sender.

Jobs
- `tick`: every `settings.scheduler_tick_seconds`, and once right at start-up.
- `weekly-kick`: Monday 09:00 in the plans' time zone (real time), an extra tick so the weekly
  digest goes out on time even with a long tick interval. The digest itself is decided by the
  planner from the project clock, so a missed kick loses nothing.
- A jump of a `VirtualClock` (`on_jump`) runs a tick at once.

Overlap: `max_instances=1` keeps ticks from running side by side; a kick during a running tick
makes that tick plan once more instead. One sender task, its lock and the claim in the database
(see `schedules.sender`) stop a double send even if two drains did overlap.

Shutdown (`stop_scheduler`): the sender stops taking new rows; the message in flight may finish
within `grace` seconds, else it is cancelled. A cancelled in-flight message stays `sending` in
the Outbox and is sent again after the next start (`Sender.recover`): at worst one duplicate,
never a loss.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock, SystemClock
from bot.config import Settings
from schedules.sender import Sender

log = logging.getLogger(__name__)

TICK_JOB = "tick"
WEEKLY_JOB = "weekly-kick"

Planner = Callable[[datetime], Awaitable[Any]]


@dataclass
class TickReport:
    at: datetime
    planned: Any = None  # the planner's result (schedules.enqueue.PlanResult), if it ran


def default_planner(session_maker: Any, settings: Settings) -> Planner | None:
    """`plan_due` with the deployment's policy, or None while schedules.enqueue is absent."""
    try:
        from schedules.enqueue import plan_due
        from schedules.policy import load_policy
    except ImportError:  # pragma: no cover - only before the planner exists
        log.warning("schedules.enqueue is not available: the tick only sends the Outbox")
        return None
    policy = load_policy(settings.policy_file, timezone=settings.timezone)

    async def plan(at: datetime) -> Any:
        return await plan_due(session_maker, at, policy, default_locale=settings.default_locale)

    return plan


class SchedulerRuntime:
    """The scheduler, the sender and the planner of one running bot."""

    def __init__(
        self,
        *,
        sender: Sender,
        clock: Clock,
        settings: Settings,
        planner: Planner | None,
        wall_clock: Clock | None = None,
    ) -> None:
        self.sender = sender
        self.clock = clock
        self.settings = settings
        self.planner = planner
        self._wall = wall_clock or SystemClock()  # APScheduler lives in real time
        self.scheduler = AsyncIOScheduler(timezone=settings.zone)
        self._rerun = False
        self._stopped = False
        self._current: asyncio.Task[Any] | None = None
        self._wake = asyncio.Event()
        self._sending: asyncio.Task[None] | None = None
        self.ticks = 0
        self.drains = 0

    # --- jobs -----------------------------------------------------------------------------
    def add_jobs(self) -> None:
        # misfire_grace_time=None: a tick that wakes late (event loop busy, machine asleep)
        # still runs, however late; APScheduler's default of 1 s would silently drop it.
        # coalesce=True: several missed ticks run once; a tick looks at the whole database,
        # so running it twice in a row adds nothing.
        # max_instances=1: ticks never overlap (a kick during a tick reruns that tick instead).
        self.scheduler.add_job(
            f"{__name__}:run_tick",
            trigger=IntervalTrigger(
                seconds=self.settings.scheduler_tick_seconds, timezone=self.settings.zone
            ),
            args=[self],
            id=TICK_JOB,
            name="plan due notifications, then wake the sender",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=self._wall.now(),
            replace_existing=True,
        )
        # The same choice for the weekly kick: late is fine, twice is pointless.
        self.scheduler.add_job(
            f"{__name__}:kick",
            trigger=CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=self.settings.zone),
            args=[self],
            id=WEEKLY_JOB,
            name="weekly digest: tick at Monday 09:00",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            replace_existing=True,
        )

    async def tick(self) -> TickReport:
        """Plan what is due at the project clock's now, then wake the sender. Plans again when
        a kick (clock jump) arrived meanwhile."""
        self._current = asyncio.current_task()
        try:
            while True:
                self._rerun = False
                report = TickReport(at=self.clock.now())
                if self.planner is not None and not self.sender.stopping:
                    try:
                        report.planned = await self.planner(report.at)
                    except asyncio.CancelledError:
                        raise
                    except Exception:  # planning trouble must not stop what is already due
                        log.exception("planning failed at %s; sending what is queued", report.at)
                self.ticks += 1
                self._wake.set()
                if not self._rerun or self.sender.stopping:
                    return report
        finally:
            self._current = None

    async def _send_loop(self) -> None:
        """The one sender: drains the Outbox whenever a tick wakes it."""
        while not self.sender.stopping:
            await self._wake.wait()
            self._wake.clear()
            try:
                sent = await self.sender.drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # e.g. the database is locked: the next tick tries again
                log.exception("sending the outbox failed; retrying at the next tick")
                continue
            self.drains += 1
            if sent.sent or sent.retried or sent.failed or sent.dead:
                log.info(
                    "outbox: %d message(s) sent, %d retrying, %d failed, %d dead",
                    sent.sent, sent.retried, sent.failed, sent.dead,
                )  # fmt: skip

    def kick(self, _instant: datetime | None = None) -> None:
        """Tick as soon as possible (a clock jump, the weekly digest). Safe from any thread."""
        if self._stopped:
            return
        self._rerun = True  # a running tick goes round once more
        if self._current is None and self.scheduler.running:
            self.scheduler.modify_job(TICK_JOB, next_run_time=self._wall.now())

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        recovered = await self.sender.recover()
        self.add_jobs()
        on_jump = getattr(self.clock, "on_jump", None)
        if callable(on_jump):
            on_jump(self.kick)
        self._sending = asyncio.create_task(self._send_loop(), name="outbox sender")
        self.scheduler.start()
        log.info(
            "scheduler started: tick every %ss, time zone %s, %d interrupted message(s) requeued",
            self.settings.scheduler_tick_seconds, self.settings.timezone, recovered,
        )  # fmt: skip

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop sending; give the message in flight `grace` seconds, then cancel it."""
        if self._stopped:
            return
        self._stopped = True
        self.sender.stop()
        if self.scheduler.running:
            self.scheduler.pause()  # no new ticks while we wait
        self._wake.set()  # an idle sender wakes up to see the stop
        sending = self._sending
        if sending is not None and not sending.done():
            done, _ = await asyncio.wait({sending}, timeout=grace)
            if not done:
                log.warning(
                    "cancelling the send in flight; its row stays 'sending' and is sent again "
                    "after the next start"
                )
                sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        log.info("scheduler stopped")


async def run_tick(runtime: SchedulerRuntime) -> None:
    """The `tick` job (registered by reference)."""
    try:
        await runtime.tick()
    except asyncio.CancelledError:
        log.info("tick cancelled by shutdown")  # planning is one transaction: nothing half-done


def kick(runtime: SchedulerRuntime) -> None:
    """The `weekly-kick` job (registered by reference)."""
    runtime.kick()


async def start_scheduler(
    *,
    bot: Bot,
    session_maker: Any,
    clock: Clock,
    settings: Settings,
    planner: Planner | bool | None = True,
    sender: Sender | None = None,
) -> SchedulerRuntime:
    """Start planning and sending; call from the dispatcher's startup hook (a running loop is
    needed) and keep the result for `stop_scheduler`.

    `planner`: True for `plan_due` with the deployment's policy, None/False for none (send
    only), or any `async (at) -> result` callable (tests).
    """
    if planner is True:
        planner = default_planner(session_maker, settings)
    elif planner is False:
        planner = None
    runtime = SchedulerRuntime(
        sender=sender
        or Sender(
            bot=bot,
            session_maker=session_maker,
            clock=clock,
            default_locale=settings.default_locale,
        ),
        clock=clock,
        settings=settings,
        planner=planner,
    )
    await runtime.start()
    return runtime


async def stop_scheduler(
    runtime: SchedulerRuntime | None = None,
    *,
    scheduler: SchedulerRuntime | None = None,
    grace: float = 10.0,
    **_: Any,
) -> None:
    """Stop what `start_scheduler` started (shutdown hook). Accepts the runtime positionally
    or as `scheduler=`; None does nothing."""
    target = runtime or scheduler
    if target is not None:
        await target.stop(grace=grace)
