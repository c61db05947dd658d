"""The brief composer's SQL (`bot.services.briefs`): the rows waiting for a liaison's brief,
the day's briefs, and carrying, holding or cancelling rows. SQLAlchemy Core on the caller's
connection (SQLite and PostgreSQL); instants are passed in UTC, as the sender's are."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.notices import OutboxKind, OutboxStatus
from bot.storage.models import Assignment, Outbox
from bot.storage.outbox.raw import chunks

OB = Outbox.__table__  # type: ignore[attr-defined]
A = Assignment.__table__  # type: ignore[attr-defined]
PENDING, HELD, BRIEFED = OutboxStatus.PENDING, OutboxStatus.HELD, OutboxStatus.BRIEFED
SENT, CANCELLED = OutboxStatus.SENT, OutboxStatus.CANCELLED


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


@dataclass(slots=True)
class Waiting:
    """A row that may go into a brief."""

    id: int
    key: str
    kind: str
    chat_id: int
    person_id: int | None
    assignment_id: int | None
    locale: str | None
    payload: dict[str, Any]


async def waiting_rows(
    conn: AsyncConnection, at: datetime, kinds: Collection[str]
) -> AsyncIterator[list[Waiting]]:
    """Pending or held rows of `kinds` due at `at`, to people (chat > 0), oldest first, a few
    hundred at a time (a first pass has tens of thousands: the caller keeps what it needs of
    each payload, not the payloads)."""
    query = (
        select(
            OB.c.id,
            OB.c.key,
            OB.c.kind,
            OB.c.chat_id,
            OB.c.person_id,
            OB.c.assignment_id,
            OB.c.locale,
            OB.c.payload,
        )
        .where(
            OB.c.status.in_([PENDING, HELD]),
            OB.c.not_before <= _utc(at),
            OB.c.chat_id > 0,
            OB.c.kind.in_(sorted(kinds)),
        )
        .order_by(OB.c.not_before, OB.c.id)
    )
    stream = await conn.stream(query)
    async for part in stream.partitions(500):
        yield [Waiting(*row) for row in part]


async def assignment_states(
    conn: AsyncConnection, ids: Sequence[int]
) -> dict[int, tuple[str, bool, bool]]:
    """assignment id → (status, archived, acknowledged)."""
    out: dict[int, tuple[str, bool, bool]] = {}
    for part in chunks(sorted(set(ids))):
        query = select(A.c.id, A.c.status, A.c.archived_at, A.c.acknowledged_at).where(
            A.c.id.in_(part)
        )
        for aid, status, archived, acked in (await conn.execute(query)).all():
            out[int(aid)] = (str(status), archived is not None, acked is not None)
    return out


async def briefs_today(conn: AsyncConnection, day: date) -> Counter[int]:
    """chat → how many briefs it has for local `day` (keys "brief:DAY…|CHAT")."""
    prefix = f"{OutboxKind.BRIEF}:{day.isoformat()}"
    # LIKE, not a range: PostgreSQL's collation may not order '|', '#' and '~' bytewise
    query = select(OB.c.key).where(OB.c.key.like(prefix + "%"))
    found: Counter[int] = Counter()
    for (key,) in (await conn.execute(query)).all():
        found[int(str(key).rpartition("|")[2])] += 1
    return found


async def insert_brief(conn: AsyncConnection, row: dict[str, Any]) -> bool:
    """Write a brief row unless its key exists (then False: an overlapping pass wrote it)."""
    exists = (await conn.execute(select(OB.c.id).where(OB.c.key == row["key"]))).first()
    if exists is not None:
        return False
    values = dict(row)
    values["created_at"] = _utc(values["created_at"])
    values["not_before"] = _utc(values["not_before"])
    await conn.execute(insert(OB).values(**values, attempts=0, last_error="", parts_sent=0))
    return True


async def carry(conn: AsyncConnection, ids: Sequence[int], brief: str) -> int:
    """Mark rows as carried by the brief keyed `brief` (only those still waiting)."""
    done = 0
    for part in chunks(list(ids)):
        result = await conn.execute(
            update(OB)
            .where(OB.c.id.in_(part), OB.c.status.in_([PENDING, HELD]))
            .values(status=BRIEFED, via=brief)
        )
        done += result.rowcount or 0
    return done


async def hold(conn: AsyncConnection, ids: Sequence[int], until: datetime) -> None:
    """Keep rows for the brief at `until` (the sender never takes a held row)."""
    for part in chunks(list(ids)):
        await conn.execute(
            update(OB)
            .where(OB.c.id.in_(part), OB.c.status.in_([PENDING, HELD]))
            .values(status=HELD, not_before=_utc(until))
        )


async def cancel(conn: AsyncConnection, reasons: dict[int, str]) -> None:
    """Rows whose assignment moved on (done, closed, archived, acknowledged): not carried."""
    for row_id, reason in reasons.items():
        await conn.execute(
            update(OB)
            .where(OB.c.id == row_id, OB.c.status.in_([PENDING, HELD]))
            .values(status=CANCELLED, last_error=reason)
        )


async def release_carried(
    conn: AsyncConnection, brief: str, at: datetime, message_id: int | None
) -> int:
    """The brief keyed `brief` was sent: its carried rows are sent with it."""
    result = await conn.execute(
        update(OB)
        .where(OB.c.via == brief, OB.c.status == BRIEFED)
        .values(status=SENT, sent_at=_utc(at), message_id=message_id)
    )
    return result.rowcount or 0


async def brief_row(conn: AsyncConnection, row_id: int) -> tuple[int, str, dict[str, Any]] | None:
    """(chat, kind, payload) of the Outbox row `row_id` (a brief's buttons read it)."""
    found = (
        await conn.execute(select(OB.c.chat_id, OB.c.kind, OB.c.payload).where(OB.c.id == row_id))
    ).first()
    return None if found is None else (int(found[0]), str(found[1]), dict(found[2] or {}))
