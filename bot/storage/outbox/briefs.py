"""The brief composer's SQL (`bot.services.briefs`): the rows waiting for a liaison's brief,
the day's briefs, and carrying, holding or cancelling rows. SQLAlchemy Core on the caller's
connection (SQLite and PostgreSQL); instants are passed in UTC, as the sender's are.

Set-based: a first pass bundles ten thousand rows into hundreds of briefs, so nothing here
costs a statement per row or per brief. The waiting rows come with their assignment's state
read a hundred at a time by id; the briefs go in multi-row INSERTs; carrying, holding and
cancelling are UPDATEs over lists of ids (at most `CHUNK` per statement)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import String, cast, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.notices import OutboxKind, OutboxStatus
from bot.storage.models import Outbox
from bot.storage.outbox.raw import (
    CHUNK,
    as_json,
    chunks,
    fetch,
    fetch_ids,
    in_list,
    is_postgres,
)

OB = Outbox.__table__  # type: ignore[attr-defined]
PENDING, HELD, BRIEFED = OutboxStatus.PENDING, OutboxStatus.HELD, OutboxStatus.BRIEFED
SENT, CANCELLED = OutboxStatus.SENT, OutboxStatus.CANCELLED


_PARTITION = 100  # waiting rows handed over between two yields to the loop (the caller
# reads their payloads)


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


@dataclass(slots=True)
class Waiting:
    """A row that may go into a brief, with its assignment's state as read with it:
    (status, archived, acknowledged), None when the row has no assignment or it is gone."""

    id: int
    key: str
    kind: str
    chat_id: int
    person_id: int | None
    assignment_id: int | None
    locale: str | None
    payload: dict[str, Any]
    state: tuple[str, bool, bool] | None


# the waiting rows of some kinds (`_WAITING_SQL`'s {kinds}: one `?` each), in the order the
# composer reads them: chat by chat, each chat's oldest first
_WAITING = (
    f"o.status IN ('{PENDING}', '{HELD}') AND o.not_before <= ? AND o.chat_id > 0 "
    "AND o.kind IN ({kinds})"
)
_ORDER = "ORDER BY o.chat_id, o.not_before, o.id"
_WAITING_IDS_SQL = f"SELECT o.id FROM outbox o WHERE {_WAITING} {_ORDER}"
_WAITING_SQL = (
    "SELECT o.id, o.key, o.kind, o.chat_id, o.person_id, o.assignment_id, o.locale, o.payload, "
    "a.id, a.status, a.archived_at, a.acknowledged_at "
    "FROM outbox o LEFT JOIN assignment a ON a.id = o.assignment_id "
    f"WHERE {_WAITING} AND {{ids}} {_ORDER}"
)


async def waiting_rows(
    conn: AsyncConnection, at: datetime, kinds: Collection[str]
) -> AsyncIterator[list[Waiting]]:
    """Pending or held rows of `kinds` due at `at`, to people (chat > 0), chat by chat, each
    chat's oldest first, each with its assignment's state. A hundred rows at a time: a first
    pass has tens of thousands, and the caller keeps what it needs of each payload, not the
    payloads. Their ids are read first (in that order), then the rows by id (`CHUNK` a query),
    so that no cursor stays open while the caller writes between two parts (a row that left
    the waiting states meanwhile is not read). Plain tuples from the driver (`raw.fetch`):
    SQLAlchemy's rows and JSON processing of a first pass's ten thousand rows cost more
    than reading them."""
    chosen = sorted(str(kind) for kind in kinds)
    marks = ",".join("?" * len(chosen))
    params = (_utc(at), *chosen)
    ids = await fetch_ids(conn, _WAITING_IDS_SQL.format(kinds=marks), params)
    for begin in range(0, len(ids), CHUNK):
        where, some = in_list("o.id", ids[begin : begin + CHUNK].tolist())
        sql = _WAITING_SQL.format(kinds=marks, ids=where)
        rows = await fetch(conn, sql, (*params, *some))
        del some
        for first in range(0, len(rows), _PARTITION):
            yield [
                Waiting(
                    aid,
                    key,
                    kind,
                    chat_id,
                    person_id,
                    assignment_id,
                    locale,
                    as_json(payload),
                    None
                    if found is None
                    else (str(status), archived is not None, acked is not None),
                )
                for (
                    aid,
                    key,
                    kind,
                    chat_id,
                    person_id,
                    assignment_id,
                    locale,
                    payload,
                    found,
                    status,
                    archived,
                    acked,
                ) in rows[first : first + _PARTITION]
            ]


async def briefs_today(conn: AsyncConnection, day: date) -> Counter[int]:
    """chat → how many briefs it has for local `day` (keys "brief:DAY…|CHAT")."""
    prefix = f"{OutboxKind.BRIEF}:{day.isoformat()}"
    # LIKE, not a range: PostgreSQL's collation may not order '|', '#' and '~' bytewise
    query = select(OB.c.key).where(OB.c.key.like(prefix + "%"))
    found: Counter[int] = Counter()
    for (key,) in (await conn.execute(query)).all():
        found[int(str(key).rpartition("|")[2])] += 1
    return found


_ITEMS_AT_ONCE = 1000  # brief items per INSERT: the payloads are encoded on the event loop


def _batches(rows: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """The rows in order, cut into INSERTs of about `_ITEMS_AT_ONCE` items (a brief lists one
    item to hundreds)."""
    out: list[list[Mapping[str, Any]]] = []
    items = _ITEMS_AT_ONCE
    for row in rows:
        size = len(row["payload"].get("items") or ()) + 1
        if items + size > _ITEMS_AT_ONCE:
            out.append([])
            items = 0
        out[-1].append(row)
        items += size
    return out


async def insert_briefs(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Write brief rows, a few at a time (multi-row INSERTs of about `_ITEMS_AT_ONCE` items:
    the loop runs between them); a key that exists already (an overlapping pass wrote it) is
    skipped. Returns the keys written."""
    dialect = postgresql if is_postgres(conn) else sqlite
    statement = (
        dialect.insert(OB).on_conflict_do_nothing(index_elements=["key"]).returning(OB.c.key)
    )
    written: set[str] = set()
    for number, batch in enumerate(_batches(rows)):
        if number:
            await asyncio.sleep(0)
        values = [
            {
                **row,
                "created_at": _utc(row["created_at"]),
                "not_before": _utc(row["not_before"]),
                "attempts": 0,
                "last_error": "",
                "parts_sent": 0,
            }
            for row in batch
        ]
        written.update(str(key) for (key,) in (await conn.execute(statement, values)).all())
    return written


async def carry(conn: AsyncConnection, ids_by_head: Mapping[str, Sequence[int]]) -> int:
    """Mark rows as carried by their chat's brief (only those still waiting). A brief's key is
    its head ("brief:DAY|", "brief:DAY#2|": `bot.core.brief.brief_head`) and the chat id, so
    each row's `via` is computed from its own chat: one UPDATE per `CHUNK` rows, whatever the
    number of briefs. Returns how many rows were carried."""
    done = 0
    for head, ids in ids_by_head.items():
        via = literal(head, String) + cast(OB.c.chat_id, String)
        for part in chunks(sorted(ids)):
            result = await conn.execute(
                update(OB)
                .where(OB.c.id.in_(part), OB.c.status.in_([PENDING, HELD]))
                .values(status=BRIEFED, via=via)
            )
            done += max(result.rowcount or 0, 0)
    return done


async def hold(conn: AsyncConnection, ids: Sequence[int], until: datetime) -> None:
    """Keep rows for the brief at `until` (the sender never takes a held row)."""
    for part in chunks(sorted(ids)):
        await conn.execute(
            update(OB)
            .where(OB.c.id.in_(part), OB.c.status.in_([PENDING, HELD]))
            .values(status=HELD, not_before=_utc(until))
        )


async def cancel(conn: AsyncConnection, ids_by_reason: Mapping[str, Sequence[int]]) -> None:
    """Rows whose assignment moved on (done, closed, archived, acknowledged): not carried.
    One UPDATE per reason and `CHUNK` rows."""
    for reason, ids in ids_by_reason.items():
        for part in chunks(sorted(ids)):
            await conn.execute(
                update(OB)
                .where(OB.c.id.in_(part), OB.c.status.in_([PENDING, HELD]))
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
