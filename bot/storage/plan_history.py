"""A plan's own history (PlanEvent): one row per act on the plan as a whole, never one per
assignment. Append-only, like the assignments' StatusEvents.

- "load": the loader wrote the plan (its first load, or a reload whose content changed, or a
  withdrawn plan whose file came back); `assignments` is how many assignments it created.
  An assignment created by a load has its `assigned_at` equal to that load's instant: the
  load is not repeated in each assignment's history (bot.storage.loader; databases loaded
  before this change keep the per-assignment "import" StatusEvent they were given, which
  every reader of the history leaves out or reads as the assignment's start);
- "withdraw" / "restore": the plan withdrawn (撤回) or restored as a whole
  (bot.storage.withdraw), with the number of assignments archived or brought back.

Runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.outbox import raw

LOAD, WITHDRAW, RESTORE = "load", "withdraw", "restore"  # PlanEvent.kind

# written out in qmark style and run on the driver (bot.storage.outbox.raw.execute, numbered
# for PostgreSQL): one row per act, compiling SQLAlchemy's construct would cost more than
# running it
_PLAN_EVENT = (
    "INSERT INTO planevent (plan_id, at, kind, actor_id, actor_label, note, assignments)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


async def plan_event(
    conn: AsyncConnection,
    plan_id: int,
    *,
    at: datetime,
    kind: str,
    actor_label: str,
    assignments: int,
    actor_id: int | None = None,
    note: str = "",
) -> None:
    """Append one act to the plan's history."""
    await raw.execute(
        conn, _PLAN_EVENT, [plan_id, at, kind, actor_id, actor_label, note, assignments]
    )
