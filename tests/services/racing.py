"""Sessions that race: each one, once it has looked an invitation up, waits until every racer
has looked it up too (or has finished). This forces the interleaving in which a
check-then-update lets several people through the same single-use invitation; without it the
outcome of a race would depend on thread timing.

The wait is an asyncio event, never a sleep: a racer that finishes without reading an
invitation (an error, a refusal) releases the others.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.sql import Select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Invite

_RACER: contextvars.ContextVar[int] = contextvars.ContextVar("racer")


class Rendezvous:
    def __init__(self, racers: int) -> None:
        self.racers = racers
        self.arrived: set[int] = set()
        self.everyone = asyncio.Event()

    def arrive(self) -> None:
        self.arrived.add(_RACER.get())
        if len(self.arrived) >= self.racers:
            self.everyone.set()

    async def race(self, *runs: Any) -> list[Any]:
        """Run the coroutines together, each as one racer; one that ends counts as arrived
        (it holds nobody up). Exceptions are returned, not raised."""

        async def run(racer: int, coroutine: Any) -> Any:
            _RACER.set(racer)  # each gathered task has its own context
            try:
                return await coroutine
            finally:
                self.arrive()

        return await asyncio.gather(
            *(run(i, c) for i, c in enumerate(runs)), return_exceptions=True
        )


def _reads_invites(statement: Any) -> bool:
    if not isinstance(statement, Select):
        return False
    table = Invite.__table__  # type: ignore[attr-defined]
    return any(f is table for f in statement.get_final_froms())


def racing_session_maker(engine: AsyncEngine, rendezvous: Rendezvous) -> Any:
    class RacingSession(AsyncSession):
        looked = False

        async def exec(self, statement: Any, *args: Any, **kw: Any) -> Any:
            result = await super().exec(statement, *args, **kw)
            racing = _RACER.get(None) is not None
            if racing and not self.looked and _reads_invites(statement):
                self.looked = True
                rendezvous.arrive()
                await rendezvous.everyone.wait()
            return result

    return async_sessionmaker(engine, class_=RacingSession, expire_on_commit=False)
