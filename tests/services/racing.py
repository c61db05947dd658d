"""Sessions that race: each one, once it has looked an invitation up, waits until every racer
has looked it up too (or has finished), then the racers go on one at a time in the order given
to `race`. This forces the interleaving in which a check-then-update lets several people through
the same single-use invitation (everyone has seen it unused before anyone writes), and makes
the winner known; without it the outcome of a race would depend on thread timing.

The waits are asyncio conditions, never sleeps: a racer that finishes without reading an
invitation (an error, a refusal) releases the others.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.sql import Select
from sqlalchemy.sql.util import find_tables
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Invite
from bot.storage.typed_sql import table_of

_RACER: contextvars.ContextVar[int] = contextvars.ContextVar("racer")


class Rendezvous:
    def __init__(self, racers: int) -> None:
        self.racers = racers
        self.arrived: set[int] = set()
        self.finished: set[int] = set()
        self.changed = asyncio.Condition()

    async def arrive(self) -> None:
        """Racer has read the invitation: wait for everyone, then for the racers before it."""
        me = _RACER.get()
        async with self.changed:
            self.arrived.add(me)
            self.changed.notify_all()
            await self.changed.wait_for(
                lambda: (
                    len(self.arrived | self.finished) >= self.racers
                    and all(r in self.finished for r in range(me))
                )
            )

    async def _finish(self, racer: int) -> None:
        async with self.changed:
            self.finished.add(racer)
            self.changed.notify_all()

    async def race(self, *runs: Any) -> list[Any]:
        """Run the coroutines together, racer 0 first after the meeting point, then racer 1…
        Exceptions are returned, not raised."""

        async def run(racer: int, coroutine: Any) -> Any:
            _RACER.set(racer)  # each gathered task has its own context
            try:
                return await coroutine
            finally:
                await self._finish(racer)

        return await asyncio.gather(
            *(run(i, c) for i, c in enumerate(runs)), return_exceptions=True
        )


def _reads(statement: Any, model: Any) -> bool:
    if not isinstance(statement, Select):
        return False
    table = table_of(model)
    # a join counts too (the tables it joins)
    return any(t is table for f in statement.get_final_froms() for t in find_tables(f))


def racing_session_maker(engine: AsyncEngine, rendezvous: Rendezvous, model: Any = Invite) -> Any:
    """Sessions that meet at the rendezvous once they have read a row of `model`'s table
    (an invitation by default; an assignment for two coordinators deciding at once)."""

    class RacingSession(AsyncSession):
        looked = False

        async def exec(self, statement: Any, *args: Any, **kw: Any) -> Any:
            result = await super().exec(statement, *args, **kw)
            racing = _RACER.get(None) is not None
            if racing and not self.looked and _reads(statement, model):
                self.looked = True
                await rendezvous.arrive()
            return result

    return async_sessionmaker(engine, class_=RacingSession, expire_on_commit=False)
