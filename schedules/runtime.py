"""APScheduler wiring: a `tick` plans what is due, then wakes the sender.

The schedule lives in the database, not in APScheduler: a tick asks the planner what is due at
the project clock's now (`bot.services.planning.plan_due`, which writes Outbox rows under
unique keys) and then wakes the sender, which delivers the Outbox
(`bot.telegram.delivery.sender.Sender.drain`).
APScheduler only says *when to look*, so its jobs hold no state worth keeping: an in-memory job
store, jobs registered by reference with plain ids, nothing pickled, nothing lost when the
process dies.

The sender runs in one task of its own, woken by every tick: sending a long backlog (a digest to
2,000 people takes over a minute at 30 messages a second, and one private chat takes one a
second) never delays planning, ticks stay short and never pile up, and there is never more than
one sender.

Jobs
- `tick`: every `settings.scheduler.tick_seconds`, and once right at start-up.
- `weekly-kick`: Monday 09:00 in the plans' time zone (real time), an extra tick so the weekly
  digest goes out on time even with a long tick interval. The digest itself is decided by the
  planner from the project clock, so a missed kick loses nothing.
- A jump of a `VirtualClock` (`on_jump`) runs a tick at once.

Overlap: `max_instances=1` keeps ticks from running side by side; a kick during a running tick
makes that tick plan once more instead. One sender task, its lock and the claim in the database
(see `bot.telegram.delivery.sender`) stop a double send even if two drains did overlap.

One sender per database: planning, sending and the start-up requeue of interrupted sends run
only while this process holds the database's `sender` lease (`bot.storage.lease`). Another
`python -m bot run` on the same database logs that the lease is held elsewhere and retries
every `lease_check` seconds; it sends nothing and requeues nothing meanwhile. The holder renews
the lease at the same pace, releases it on a clean stop (the waiting process takes over at its
next try) and, if it dies, lets it expire after SENDER_LEASE_SECONDS of real time (60; tries
and renewals every quarter of it). Taking the lease (at start-up or later) requeues the rows
left `sending` by the previous holder, then ticks. A holder that fails to renew (the database
unreachable, the lease taken) stops sending before the lease can expire for the others
(`Lease.valid`).

Checkpoints: after every tick, in a task of its own, each process folds SQLite's write-ahead
log into the database (PASSIVE, on a connection of its own: `bot.storage.db.checkpoint`), so
that no commit of an update (an approve, a withdrawal) has to do it on the way
(bot.storage.db).

Shutdown (`stop_scheduler`): the sender stops taking new rows; the message in flight may finish
within `grace` seconds, else it is cancelled. A cancelled in-flight message stays `sending` in
the Outbox and is sent again after the next start (`Sender.recover`): at worst one duplicate,
never a loss. Then the lease is released.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import partial
from typing import Any

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.core.policy import Policy
from bot.services.planning import ensure_schedule_policy, plan_due
from bot.storage.db import checkpoint
from bot.storage.lease import Lease, holder_id
from bot.telegram.delivery.sender import Sender

log = logging.getLogger(__name__)

TICK_JOB = "tick"
WEEKLY_JOB = "weekly-kick"

Planner = Callable[[datetime], Awaitable[Any]]
Checkpoint = Callable[[], Awaitable[Any]]

LEASE_CHECK = 15.0  # seconds between renewals (holder) and tries (waiting process)


@dataclass
class TickReport:
    at: datetime
    planned: Any = None  # the planner's result (bot.services.planning.PlanResult), if it ran


def default_planner(session_maker: Any, policy: Policy, *, default_locale: str) -> Planner:
    """`plan_due` with the deployment's policy (loaded once, by `bot.app.build_app`)."""

    checked = False

    async def plan(at: datetime) -> Any:
        nonlocal checked
        if not checked:  # the stored next instants were computed with this policy?
            await ensure_schedule_policy(session_maker, policy)
            checked = True
        return await plan_due(session_maker, at, policy, default_locale=default_locale)

    return plan


class SchedulerRuntime:
    """The scheduler, the sender and the planner of one running bot."""

    def __init__(
        self,
        *,
        sender: Sender,
        clock: Clock,
        settings: Settings,
        tz: tzinfo,
        planner: Planner | None,
        wall_clock: Clock | None = None,
        lease: Lease | None = None,
        lease_check: float = LEASE_CHECK,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        """`tz`: the deployment's time zone (TIMEZONE) for the weekly kick; `lease`: the
        database's sender lease; None runs as if alone (single-process tests); `checkpoint`:
        run after every tick (SQLite's write-ahead log folded into the database, off the
        commits of the bot's updates: bot.storage.db.checkpoint)."""
        self.sender = sender
        self.clock = clock
        self.settings = settings
        self.tz = tz
        self.planner = planner
        self.checkpoint = checkpoint
        self.lease = lease
        self.lease_check = lease_check
        self._holding = lease is None  # True once the lease is ours and the outbox recovered
        self._waiting_for: str | None = None  # the holder last logged while waiting
        self._keeper: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        sender.gate = self.may_send
        self._wall = wall_clock or SystemClock()  # APScheduler lives in real time
        self.scheduler = AsyncIOScheduler(timezone=tz)
        self._rerun = False
        self._stopped = False
        self._current: asyncio.Task[Any] | None = None
        self._wake = asyncio.Event()
        self._sending: asyncio.Task[None] | None = None
        self._checkpointing: asyncio.Task[None] | None = None
        self.ticks = 0
        self.drains = 0
        self.last_tick: float | None = None  # time.monotonic() of the last tick (or the start)

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
                seconds=self.settings.scheduler.tick_seconds, timezone=self.tz
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
            trigger=CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=self.tz),
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
                if self.planner is not None and not self.sender.stopping and self.may_send():
                    try:
                        report.planned = await self.planner(report.at)
                    except asyncio.CancelledError:
                        raise
                    except Exception:  # planning trouble must not stop what is already due
                        log.exception("planning failed at %s; sending what is queued", report.at)
                self.ticks += 1
                self.last_tick = time.monotonic()
                self._wake.set()
                if not self._rerun or self.sender.stopping:
                    self._start_checkpoint()
                    return report
        finally:
            self._current = None

    def _start_checkpoint(self) -> None:
        """The checkpoint in a task of its own: the tick (and a kick during it) never waits
        for it; one at a time."""
        if self.checkpoint is None or self._stopped:
            return
        if self._checkpointing is not None and not self._checkpointing.done():
            return
        self._checkpointing = asyncio.create_task(self._checkpoint(), name="checkpoint")

    async def _checkpoint(self) -> None:
        """Every process checkpoints, the sender or not: any process's writes are in the log."""
        if self.checkpoint is None:
            return
        try:
            await self.checkpoint()
        except asyncio.CancelledError:
            raise
        except Exception:  # e.g. the database is locked: the next tick tries again
            log.exception("checkpointing the database's write-ahead log failed")

    async def _send_loop(self) -> None:
        """The one sender: drains the Outbox whenever a tick wakes it."""
        while not self.sender.stopping:
            await self._wake.wait()
            self._wake.clear()
            if not self.may_send():
                continue
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
                    sent.sent,
                    sent.retried,
                    sent.failed,
                    sent.dead,
                )

    def kick(self, _instant: datetime | None = None) -> None:
        """Tick as soon as possible (a clock jump, the weekly digest). Safe from any thread."""
        if self._stopped:
            return
        self._rerun = True  # a running tick goes round once more
        if self._current is None and self.scheduler.running:
            self.scheduler.modify_job(TICK_JOB, next_run_time=self._wall.now())

    # --- the lease ------------------------------------------------------------------------
    def may_send(self) -> bool:
        """Plan and send only while this process is the database's sender."""
        return self._holding and (self.lease is None or self.lease.valid())

    async def check_lease(self) -> bool:
        """Take or renew the sender lease (the keeper calls this every `lease_check` seconds).
        On taking it: requeue what the previous holder left `sending`, then tick."""
        if self.lease is None:
            return True
        lapsed = not self.may_send()  # another process may have held it meanwhile
        try:
            held = await self.lease.acquire()
        except asyncio.CancelledError:
            raise
        except Exception:  # e.g. the database is locked: keep what we have until it expires
            log.exception(
                "checking the sender lease failed; trying again in %ss", self.lease_check
            )
            return self.may_send()
        if held and lapsed:
            recovered = await self.sender.recover()
            self._holding = True
            self._waiting_for = None
            log.info(
                "this process is the sender of the database now (lease holder %s); "
                "%d interrupted message(s) requeued",
                self.lease.holder,
                recovered,
            )
            self._wake.set()
            self.kick()
        elif not held:
            if self._holding:
                log.error("the sender lease was lost; this process stops sending")
            self._holding = False
            await self._log_waiting()
        return held

    async def _log_waiting(self) -> None:
        assert self.lease is not None
        info = await self.lease.info()
        holder = info.holder if info is not None and info.holder else "another process"
        if holder == self._waiting_for:
            return  # said once per holder, not every try
        self._waiting_for = holder
        until = info.expires_at.isoformat() if info is not None and info.expires_at else "?"
        log.warning(
            "another instance (%s) is the sender of this database (its lease runs until %s "
            "UTC unless renewed); this process plans and sends nothing and requeues nothing "
            "until that lease is released or expires, trying again every %ss",
            holder,
            until,
            self.lease_check,
        )

    async def _keep_lease(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.lease_check)
            except TimeoutError:
                pass
            if self._stop.is_set():
                return
            try:
                await self.check_lease()
            except asyncio.CancelledError:
                raise
            except Exception:  # the keeper must outlive a bad moment of the database
                log.exception(
                    "the sender lease check failed; trying again in %ss", self.lease_check
                )

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self.last_tick = time.monotonic()  # the first tick comes right after
        await self.check_lease()  # requeues interrupted sends only if the lease is ours
        self.add_jobs()
        on_jump = getattr(self.clock, "on_jump", None)
        if callable(on_jump):
            on_jump(self.kick)
        self._sending = asyncio.create_task(self._send_loop(), name="outbox sender")
        if self.lease is not None:
            self._keeper = asyncio.create_task(self._keep_lease(), name="sender lease")
        self.scheduler.start()
        log.info(
            "scheduler started: tick every %ss, time zone %s, %s",
            self.settings.scheduler.tick_seconds,
            self.tz,
            "sending" if self.may_send() else "waiting for the sender lease",
        )

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop sending; give the message in flight `grace` seconds, then cancel it."""
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
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
        try:  # the next sender takes our interrupted row at once, not after its claim's lease
            await self.sender.release_claims()
        except Exception:
            log.exception("releasing the outbox claims failed; they expire by themselves")
        if self._keeper is not None:
            await asyncio.gather(self._keeper, return_exceptions=True)
        if self._checkpointing is not None:  # PASSIVE: it waits for nobody, soon done
            await asyncio.gather(self._checkpointing, return_exceptions=True)
        if self.lease is not None and self._holding:
            self._holding = False
            try:  # the waiting process takes over at its next try instead of after expiry
                await self.lease.release()
            except Exception:
                log.exception("releasing the sender lease failed; it expires by itself")
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
    policy: Policy,
    tz: tzinfo,
    planner: Planner | bool | None = True,
    sender: Sender | None = None,
    lease: Lease | bool = True,
    pictures: Any = None,
) -> SchedulerRuntime:
    """Start planning and sending; call from the dispatcher's startup hook (a running loop is
    needed) and keep the result for `stop_scheduler`. `policy` and `tz` are the deployment's,
    loaded once by `bot.app.build_app`.

    `planner`: True for `plan_due` with `policy`, None/False for none (send only), or any
    `async (at) -> result` callable (tests). `lease`: True for the database's sender lease, a
    `Lease` (tests: its clocks), False to run as if alone. `pictures`
    (`bot.telegram.charts.Pictures`): draws the scorecard picture sent before a digest and a
    leader's 督办汇总; None: text only.
    """
    ttl = settings.scheduler.sender_lease_seconds
    if lease is True:
        lease = Lease(
            session_maker, ttl=ttl, margin=ttl / 4, holder=holder_id(settings.bot.instance)
        )
    if planner is True:
        planner = default_planner(
            session_maker, policy, default_locale=settings.bot.default_locale
        )
    elif planner is False:
        planner = None
    engine = getattr(session_maker, "kw", {}).get("bind")  # an async_sessionmaker's engine
    runtime = SchedulerRuntime(
        sender=sender
        or Sender(
            bot=bot,
            session_maker=session_maker,
            clock=clock,
            zone=tz,
            default_locale=settings.bot.default_locale,
            holder=lease.holder if isinstance(lease, Lease) else holder_id(settings.bot.instance),
            claim_seconds=ttl,
            wall=lease.wall if isinstance(lease, Lease) else None,  # one real clock for both
            pictures=pictures,
        ),
        clock=clock,
        settings=settings,
        tz=tz,
        planner=planner,
        lease=lease or None,
        lease_check=ttl / 4,
        checkpoint=partial(checkpoint, engine) if engine is not None else None,
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
