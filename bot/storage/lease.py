"""A lease in the database: which process may do a job that must run once per database.

One row per job in `instance_lock` (today only "sender": planning and sending the Outbox).
Every step is one statement with bound parameters, the same SQL on SQLite and PostgreSQL (no
advisory locks, no SELECT … FOR UPDATE), so its atomicity is the database's own:

- take or renew: `UPDATE instance_lock SET holder=:me, expires_at=:now+ttl … WHERE name=:job
  AND (holder=:me OR holder IS NULL OR expires_at < :now)`; one row changed means held. A
  missing row is INSERTed; of two processes inserting at once, one loses on the primary key.
- release (clean exit): `UPDATE … SET holder=NULL WHERE name=:job AND holder=:me`.

A holder that dies stops renewing; its lease is free once `expires_at` has passed. The same
shape (holder, expires_at, conditional UPDATE) can later move onto the Outbox rows themselves
as per-row claims, when several instances send (PostgreSQL, `FOR UPDATE SKIP LOCKED`).

Which time: leases are about processes being alive, so they are measured in real UTC time,
never the project clock. The project clock of local mode and demos jumps (+7 days from the
web chat's clock panel) and may start anywhere (CLOCK_START): a lease on it would expire at
every jump, and two processes would not agree on it at all. Real UTC is shared by every
process (and host, with NTP); `time.monotonic` is not (its origin is per boot), so it only
serves the holder's own check, `valid()`: the holder stops trusting its lease `margin`
seconds before the expiry others see, measured on its monotonic clock from its last renewal,
so a stalled process (a slow disk, a suspended VM, a wall clock stepped by NTP by less than
the margin) stops sending before anyone else may start.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, insert, literal, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.clock import Clock, SystemClock
from bot.storage.db import SessionMaker
from bot.storage.models import InstanceLock
from bot.storage.typed_sql import table_of

SENDER = "sender"


def holder_id(instance: str | None = None) -> str:
    """Who a process is, in the lease row and on the Outbox rows it claims: the instance's name
    (INSTANCE_NAME, by default host:pid) and a random part (two runtimes in one process, a
    reused pid or two instances given the same name are still told apart)."""
    return f"{instance or f'{socket.gethostname()}:{os.getpid()}'}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class LeaseInfo:
    """The lease row as another process sees it."""

    holder: str | None
    heartbeat_at: datetime | None
    expires_at: datetime | None


class Lease:
    """One process's handle on the lease of job `name`. `acquire()` takes or renews it."""

    def __init__(
        self,
        session_maker: SessionMaker,
        *,
        name: str = SENDER,
        holder: str | None = None,
        ttl: float = 60.0,
        margin: float = 15.0,
        wall: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= margin < ttl:
            raise ValueError("the margin must be shorter than the lease")
        self.session_maker = session_maker
        self.name = name
        self.holder = holder or holder_id()
        self.ttl = ttl
        self.margin = margin
        self._wall = wall or SystemClock()  # real UTC: see the module docstring
        self._monotonic = monotonic
        self._renewed: float | None = None  # monotonic time of the last successful renewal

    @property
    def wall(self) -> Clock:
        """The real UTC clock the lease is measured on (the sender's claims use it too)."""
        return self._wall

    async def acquire(self) -> bool:
        """Take the lease if it is free or expired, renew it if it is ours. True when held."""
        now = self._wall.now()
        expires = now + timedelta(seconds=self.ttl)
        started = self._monotonic()
        table = table_of(InstanceLock)
        async with self.session_maker() as session:
            result = await session.exec(
                update(table)
                .where(
                    table.c.name == self.name,
                    or_(
                        table.c.holder == self.holder,
                        table.c.holder.is_(None),
                        table.c.expires_at < now,
                    ),
                )
                .values(
                    holder=self.holder,
                    # changes only when the lease changes hands
                    acquired_at=case(
                        (table.c.holder == self.holder, table.c.acquired_at),
                        else_=literal(now, type_=table.c.acquired_at.type),
                    ),
                    heartbeat_at=now,
                    expires_at=expires,
                )
            )
            held = result.rowcount == 1
            if held:
                await session.commit()
            else:
                await session.rollback()
                held = await self._insert(now, expires)
        self._renewed = started if held else None
        return held

    async def _insert(self, now: datetime, expires: datetime) -> bool:
        """The first process on a database creates the row; a racing one loses on the key."""
        async with self.session_maker() as session:
            exists = await session.exec(
                select(col(InstanceLock.name)).where(col(InstanceLock.name) == self.name)
            )
            if exists.first() is not None:
                return False
            try:
                row = {
                    "name": self.name,
                    "holder": self.holder,
                    "acquired_at": now,
                    "heartbeat_at": now,
                    "expires_at": expires,
                }
                await session.exec(insert(table_of(InstanceLock)).values(**row))
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return False
        return True

    async def release(self) -> None:
        """Give the lease up (clean exit): another process may take it at once."""
        self._renewed = None
        table = table_of(InstanceLock)
        async with self.session_maker() as session:
            await session.exec(
                update(table)
                .where(table.c.name == self.name, table.c.holder == self.holder)
                .values(holder=None, expires_at=self._wall.now())
            )
            await session.commit()

    async def info(self) -> LeaseInfo | None:
        """Who holds the lease, as stored (for the waiting process's log line)."""
        async with self.session_maker() as session:
            row = await session.get(InstanceLock, self.name)
            if row is None:
                return None
            return LeaseInfo(row.holder, row.heartbeat_at, row.expires_at)

    def valid(self) -> bool:
        """Held, and renewed recently enough that nobody else can have taken it yet."""
        if self._renewed is None:
            return False
        return self._monotonic() - self._renewed < self.ttl - self.margin
