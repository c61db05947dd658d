"""A first pass writes hundreds of briefs and a hundred thousand instants: the brief composer
and the storing of the next instants cost a few statements, not one per brief, row or group of
rows sharing an instant (on PostgreSQL each statement is a round trip)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text, update
from sqlalchemy.exc import DBAPIError

import bot.storage.outbox.snapshots as snapshots
from bot.core.notices import BriefNotice
from bot.core.policy import load_policy
from bot.services.briefs import compose_briefs
from bot.services.planning import plan_due
from bot.storage.models import ROLE_LIAISON, Assignment, Outbox
from bot.storage.next_at import touch_membership
from bot.storage.outbox.snapshots import load_due, store_next
from tests.dbs import on_postgres
from tests.schedules.sched_helpers import local

A = Assignment.__table__  # type: ignore[attr-defined]
LIAISONS = 30


def _ids(brief: Outbox) -> list[int]:
    """The assignments a brief row lists."""
    return [i.id for i in BriefNotice.from_json(brief.payload).items]


@contextmanager
def counting(engine: Any):
    """The statements sent through SQLAlchemy while inside (a list of their first words)."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def _liaisons_with_items(world) -> dict[str, list[Assignment]]:
    """LIAISONS units, each with its own liaison and two items due next Monday."""
    items: dict[str, list[Assignment]] = {}
    for n in range(LIAISONS):
        name = f"区{n}"
        world.units[name] = await world.ledger.unit(name, f"上饶{name}", short_name=name)
        await world.person(f"联络{n}", ROLE_LIAISON, unit=name)
        items[name] = [
            *await world.item(f"Q-{n}", date(2025, 3, 31), [name]),
            *await world.item(f"R-{n}", date(2025, 3, 31), [name]),
        ]
    return items


async def test_briefs_for_many_liaisons_cost_a_few_statements(world):
    """Thirty liaisons' briefs, thirty rows to cancel: the composer reads once (the waiting
    rows' ids, then the rows by id), inserts the briefs at once and updates lists of rows (the
    old one spent three statements per brief and one per cancelled row)."""
    policy = load_policy(overrides={"brief": {"time": "10:30"}})
    items = await _liaisons_with_items(world)
    # 09:00: every stage is held for the 10:30 brief
    await plan_due(world.session_maker, local("2025-03-24 09:00"), policy, digests=False)
    moved_on = [found[1].id for found in items.values()]
    async with world.engine.begin() as conn:
        await conn.execute(update(A).where(A.c.id.in_(moved_on)).values(status="done_reported"))
    with counting(world.engine) as statements:
        async with world.engine.begin() as conn:
            result = await compose_briefs(conn, policy, local("2025-03-24 10:30"))
    assert result.briefs == LIAISONS and result.carried == LIAISONS
    assert result.cancelled == LIAISONS and result.held == 0
    assert len(statements) <= 7, statements
    rows = await world.outbox()
    briefs = {r.key: r for r in rows if r.kind == "brief"}
    assert len(briefs) == LIAISONS
    for r in rows:
        if r.assignment_id in moved_on:
            assert r.status == "cancelled" and "done_reported" in r.last_error
        elif r.assignment_id is not None:
            assert r.status == "briefed" and r.via == f"brief:2025-03-24|{r.chat_id}"
            assert _ids(briefs[r.via]) == [r.assignment_id]


async def test_a_brief_an_overlapping_pass_wrote_meanwhile_is_left_alone(world, monkeypatch):
    """Between reading the day's briefs and writing its own, another pass wrote one liaison's
    brief: that brief stays as written, this pass's rows of the liaison wait for the next pass
    (held until now), and the other liaisons' briefs are written and carry their rows."""
    from bot.core.notices import Audience, BriefNotice
    from bot.storage.outbox import briefs as sql

    policy = load_policy(overrides={"brief": {"time": "10:30"}})
    await _liaisons_with_items(world)
    await plan_due(world.session_maker, local("2025-03-24 09:00"), policy, digests=False)
    chat = world.people["联络7"].telegram_id
    at = local("2025-03-24 10:30")
    theirs = BriefNotice(date(2025, 3, 24), (), 0, 0, Audience.LIAISONS, 30).to_json()
    async with world.engine.begin() as conn:
        row = {
            "key": f"brief:2025-03-24|{chat}",
            "kind": "brief",
            "chat_id": chat,
            "person_id": None,
            "assignment_id": None,
            "stage": "2025-03-24",
            "locale": "zh_CN",
            "payload": theirs,
            "created_at": at,
            "not_before": at,
            "status": "pending",
            "attempts": 0,
            "last_error": "",
            "parts_sent": 0,
        }
        await conn.execute(insert(Outbox.__table__).values(**row))  # type: ignore[attr-defined]

    async def none_yet(_conn, _day):  # read before the other pass wrote it
        return Counter()

    monkeypatch.setattr(sql, "briefs_today", none_yet)
    async with world.engine.begin() as conn:
        result = await compose_briefs(conn, policy, at)
    assert result.briefs == LIAISONS - 1 and chat not in result.chats
    assert result.carried == 2 * (LIAISONS - 1) and result.held == 2
    rows = await world.outbox()
    [brief] = [r for r in rows if r.kind == "brief" and r.chat_id == chat]
    assert brief.payload == theirs
    mine = [r for r in rows if r.chat_id == chat and r.assignment_id is not None]
    assert len(mine) == 2 and {r.status for r in mine} == {"held"}
    assert {_utc(r.not_before) for r in mine} == {_utc(at)}


async def test_briefs_are_written_a_few_chats_at_a_time_as_their_rows_are_read(world, monkeypatch):
    """A first pass has tens of thousands of waiting rows for thousands of briefs: the
    composer reads them chat by chat and writes the briefs of the chats read whole every few
    items, before reading on, so it never holds every item nor every encoded brief at once.
    The briefs are the same as when they are written at once."""
    import bot.services.briefs as composer
    from bot.storage.outbox import briefs as sql

    policy = load_policy(overrides={"brief": {"time": "10:30"}})
    await _liaisons_with_items(world)
    await plan_due(world.session_maker, local("2025-03-24 09:00"), policy, digests=False)
    monkeypatch.setattr(sql, "_PARTITION", 7)  # waiting rows read at a time
    monkeypatch.setattr(composer, "_GROUP_ITEMS", 5)  # items read before chats are bundled
    reading, writes = sql.waiting_rows, []
    parts = 0

    async def counted(*args: Any) -> Any:
        nonlocal parts
        async for part in reading(*args):
            parts += 1
            yield part

    inserting = sql.insert_briefs

    async def insert(conn: Any, rows: Any) -> set[str]:
        writes.append((parts, [row["chat_id"] for row in rows]))
        return await inserting(conn, rows)

    monkeypatch.setattr(sql, "waiting_rows", counted)
    monkeypatch.setattr(sql, "insert_briefs", insert)
    async with world.engine.begin() as conn:
        result = await compose_briefs(conn, policy, local("2025-03-24 10:30"))
    assert result.briefs == LIAISONS and result.carried == 2 * LIAISONS and result.held == 0
    # a few chats per write, the first ones written long before the last rows were read
    assert len(writes) >= LIAISONS // 3 and all(len(chats) <= 3 for _, chats in writes)
    assert writes[0][0] < parts // 2
    written = [chat for _, chats in writes for chat in chats]
    assert written == sorted(set(written)) == sorted(result.chats)  # each chat's brief once
    rows = await world.outbox()
    briefs = {r.key: r for r in rows if r.kind == "brief"}
    assert len(briefs) == LIAISONS
    for r in rows:
        if r.assignment_id is not None:  # every stage row carried by its own chat's brief
            assert r.status == "briefed" and r.via == f"brief:2025-03-24|{r.chat_id}"
            assert r.assignment_id in _ids(briefs[r.via])
    for brief in briefs.values():
        assert len(brief.payload["items"]) == 2


class _CountingDriver:
    """The driver's connection, counting the statements sent through it."""

    def __init__(self, raw: Any, seen: list[str]) -> None:
        self._raw, self._seen = raw, seen

    async def execute(self, sql: str, *args: Any) -> Any:
        self._seen.append(sql.split()[0].upper())
        return await self._raw.execute(sql, *args)

    async def executemany(self, sql: str, *args: Any) -> Any:
        self._seen.append(sql.split()[0].upper())
        return await self._raw.executemany(sql, *args)


async def test_new_instants_go_in_one_statement_and_spare_a_row_changed_since(
    world, monkeypatch: pytest.MonkeyPatch
):
    """Every row gets its own instant (a first pass gives thousands of different ones) in one
    statement; a row whose instant changed after the tick read it keeps the change."""
    await _liaisons_with_items(world)
    at = local("2025-03-24 09:00")
    statements: list[str] = []
    real = snapshots.driver

    async def counted(conn: Any) -> Any:
        return _CountingDriver(await real(conn), statements)

    monkeypatch.setattr(snapshots, "driver", counted)
    async with world.engine.begin() as conn:  # instants stored by an earlier tick, now due
        await conn.execute(update(A).values(next_at=at - timedelta(hours=1)))
    async with world.engine.begin() as conn:
        due = await load_due(conn, at)
        ids = sorted(due.loaded)
        assert len(ids) == 2 * LIAISONS
        changed = ids[0]  # a report since the read: recompute at the next tick
        await conn.execute(update(A).where(A.c.id == changed).values(next_at=None))
        wanted = {aid: at + timedelta(hours=i + 1) for i, aid in enumerate(ids)}
        with counting(world.engine) as sent:
            written = await store_next(conn, due, dict(wanted))
        assert len(sent) + len(statements) == 1
        stored = dict((await conn.execute(select(A.c.id, A.c.next_at))).all())
    assert written == len(ids) - 1
    assert stored[changed] is None
    for aid in ids[1:]:
        assert _utc(stored[aid]) == wanted[aid]


async def _write_at_once(world, aid: int) -> None:
    """Take, from another connection and without waiting, the lock a change of the row needs
    (PostgreSQL: the row's; SQLite: the database's write lock). Raises when it is held."""
    if on_postgres():
        async with world.engine.connect() as other:
            await other.execute(
                text("SELECT 1 FROM assignment WHERE id = :id FOR NO KEY UPDATE NOWAIT"),
                {"id": aid},
            )
        return
    other = sqlite3.connect(world.engine.url.database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_row_read_with_no_instant_cannot_change_until_the_tick_commits(world):
    """A change sets the instant to NULL ("look again"); a row the tick read with NULL would
    keep NULL through such a change, so the tick holds it locked from before the read until
    its commit: the change waits and lands after the stored instant."""
    await _liaisons_with_items(world)
    at = local("2025-03-24 09:00")
    async with world.engine.connect() as conn:
        await conn.begin()
        due = await load_due(conn, at)
        ids = sorted(due.loaded)
        assert len(ids) == 2 * LIAISONS and set(due.loaded.values()) == {None}
        with pytest.raises((DBAPIError, sqlite3.OperationalError)):
            await _write_at_once(world, ids[0])
        await store_next(conn, due, {aid: at + timedelta(hours=1) for aid in ids})
        await conn.commit()
    await _write_at_once(world, ids[0])  # free once the tick has committed
    async with world.engine.begin() as conn:
        stored = dict((await conn.execute(select(A.c.id, A.c.next_at))).all())
    assert {_utc(stored[aid]) for aid in ids} == {at + timedelta(hours=1)}


async def _waits_for_a_lock(world, task: asyncio.Task) -> bool:
    """Whether `task` (a statement on another connection) ends up waiting for a lock (True)
    or finishes without waiting (False). Asks PostgreSQL, no sleeping for a fixed time."""
    async with world.engine.connect() as watcher:
        while not task.done():
            waiting = (
                await watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND datname = current_database()"
                    )
                )
            ).scalar_one()
            if waiting:
                return True
            await asyncio.sleep(0)
    return False


@pytest.mark.skipif(not on_postgres(), reason="PostgreSQL's row locks (SQLite: one writer)")
async def test_a_touch_during_a_tick_lands_after_the_stored_instant(world):
    """Someone bound to a unit while a tick holds that unit's NULL rows: the touch waits for
    the tick, then sets NULL over the instant the tick stored (computed without the binding),
    so the next tick plans the unit's assignments with the new liaison."""
    await _liaisons_with_items(world)
    at = local("2025-03-24 09:00")
    async with world.engine.connect() as conn:
        await conn.begin()
        due = await load_due(conn, at)
        ids = sorted(due.loaded)
        unit = (await conn.execute(select(A.c.unit_id).where(A.c.id == ids[0]))).scalar_one()

        async def bind_someone() -> None:
            async with world.engine.begin() as other:
                await touch_membership(
                    other,
                    SimpleNamespace(role=ROLE_LIAISON, unit_id=unit, plan_id=None),
                )

        touch = asyncio.create_task(bind_someone())
        assert await _waits_for_a_lock(world, touch), "the touch did not wait for the tick"
        await store_next(conn, due, {aid: at + timedelta(hours=1) for aid in ids})
        await conn.commit()
    await touch
    async with world.engine.begin() as conn:
        stored = dict(
            (await conn.execute(select(A.c.id, A.c.next_at).where(A.c.unit_id == unit))).all()
        )
    assert stored and set(stored.values()) == {None}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
