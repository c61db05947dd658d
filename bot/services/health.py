"""Is this instance healthy? What a load balancer asks `/healthz` (bot.webhook).

Healthy means: the database answers, and the scheduler ticked within the last three tick
intervals. The Outbox lag (age of the oldest due message not yet sent) is reported but does
not make an instance unhealthy: with several instances one of them sends, and a backlog (a
digest to thousands at 30 messages a second) is not a fault of the instance asked.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bot.storage.db import SessionMaker
from bot.storage.models import Outbox

log = logging.getLogger(__name__)

UNSENT = ("pending", "sending")  # the Outbox states of a message still to deliver
STALE_TICKS = 3  # a scheduler that has not ticked for more tick intervals than this is dead
DATABASE_TIMEOUT = 3.0  # seconds the database may take to answer the health query


@dataclass(frozen=True)
class Health:
    healthy: bool
    report: dict[str, Any]


async def outbox_lag(session_maker: SessionMaker, now: datetime) -> float:
    """Seconds since the oldest due, unsent Outbox message became due (0 when none)."""
    async with session_maker() as session:
        oldest = (
            await session.exec(
                select(func.min(Outbox.not_before)).where(
                    col(Outbox.status).in_(UNSENT), col(Outbox.not_before) <= now
                )
            )
        ).one()
    oldest = oldest[0] if isinstance(oldest, tuple) else oldest
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # a backend that hands back naive UTC
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (now - oldest).total_seconds())


async def check_health(
    *,
    session_maker: SessionMaker,
    now: datetime,
    tick_seconds: float,
    last_tick_age: float | None,
    timeout: float = DATABASE_TIMEOUT,
) -> Health:
    """The health of one instance at `now` (the project clock, for the Outbox lag).

    `last_tick_age`: seconds since the scheduler last ticked (or started), None when it is
    not running."""
    report: dict[str, Any] = {}
    database_ok = True
    try:
        async with asyncio.timeout(timeout):  # the lag query is the database's check too
            lag = await outbox_lag(session_maker, now)
    except Exception as exc:  # any failure means the same to a load balancer
        log.warning("health: the database did not answer: %s", type(exc).__name__)
        database_ok = False
        report["database"] = "unreachable"
        report["outbox_lag_seconds"] = None
    else:
        report["database"] = "ok"
        report["outbox_lag_seconds"] = round(lag, 1)

    if last_tick_age is None:
        report["scheduler"] = "stopped"
        scheduler_ok = False
    else:
        scheduler_ok = last_tick_age <= STALE_TICKS * tick_seconds
        report["scheduler"] = "alive" if scheduler_ok else "stalled"
        report["last_tick_seconds_ago"] = round(last_tick_age, 1)
    healthy = database_ok and scheduler_ok
    return Health(healthy=healthy, report={"status": "ok" if healthy else "unhealthy", **report})
