"""The sender's lease in the database (issue 10, finding 10): taken atomically, renewed by its
holder, released on a clean exit, taken over once expired; its migration upgrades in place."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

from bot.storage.db import make_engine, make_session_maker
from bot.storage.lease import Lease
from bot.storage.migrate import upgrade_database
from tests.dbs import database_url

from .test_migrations import differences, sqlite_path

TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


class Wall:
    """Real UTC time, moved by the test."""

    def __init__(self) -> None:
        self.at = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


class Mono:
    def __init__(self) -> None:
        self.at = 100.0

    def __call__(self) -> float:
        return self.at


async def open_leases(db_url: str, names: list[str], wall: Wall, mono: Mono):
    await upgrade_database(db_url)
    engines = [make_engine(db_url) for _ in names]  # one engine each, as two processes
    leases = [
        Lease(make_session_maker(e), holder=n, ttl=60, margin=15, wall=wall, monotonic=mono)
        for e, n in zip(engines, names, strict=True)
    ]
    return engines, leases


async def test_one_holder_at_a_time_then_take_over_after_expiry_or_release(db_url):
    wall, mono = Wall(), Mono()
    engines, (a, b) = await open_leases(db_url, ["A", "B"], wall, mono)
    try:
        assert await a.acquire() and a.valid()
        assert not await b.acquire() and not b.valid()
        wall.at += timedelta(seconds=30)
        mono.at += 30
        assert await a.acquire()  # renewed: expires 60 s from now
        wall.at += timedelta(seconds=45)
        mono.at += 45
        assert not await b.acquire()  # 75 s after A took it, 45 s after its renewal
        assert not a.valid()  # but A no longer trusts it: within the margin of expiry
        wall.at += timedelta(seconds=16)
        mono.at += 16
        assert await b.acquire()  # A died (stopped renewing): B takes over
        assert not await a.acquire()
        info = await a.info()
        assert info is not None and info.holder == "B"

        await b.release()
        assert (await a.info()).holder is None
        assert await a.acquire()  # at once after a clean exit
    finally:
        for e in engines:
            await e.dispose()


async def test_racing_takers_get_one_holder(db_url):
    wall, mono = Wall(), Mono()
    names = [f"P{i}" for i in range(6)]
    engines, leases = await open_leases(db_url, names, wall, mono)
    try:
        results = await asyncio.gather(*(lease.acquire() for lease in leases))
        assert results.count(True) == 1
    finally:
        for e in engines:
            await e.dispose()


async def test_a_database_without_the_row_gets_it_on_first_take(tmp_path):
    """Databases created from the models (tests, stamped databases) have no row yet."""
    from bot.storage.db import create_all

    url = database_url(tmp_path / "models.sqlite3", empty=True)
    engine = make_engine(url)
    await create_all(engine)
    wall, mono = Wall(), Mono()
    first = Lease(make_session_maker(engine), holder="A", wall=wall, monotonic=mono)
    second = Lease(make_session_maker(engine), holder="B", wall=wall, monotonic=mono)
    try:
        assert await first.acquire()
        assert not await second.acquire()
    finally:
        await engine.dispose()


async def test_upgrading_an_existing_database_adds_the_lease_and_scrubs_tokens(sqlite_db_url):
    """An SQLite file of revision 0003 with a row as SQLite stores it."""
    await upgrade_database(sqlite_db_url, revision="0003")
    leaked = (
        "TelegramNetworkError: ClientResponseError: 400, message='Invalid header token', "
        f"url='http://127.0.0.1:8081/bot{TOKEN}/sendMessage'"
    )
    with sqlite3.connect(sqlite_path(sqlite_db_url)) as conn:
        conn.execute(
            "INSERT INTO outbox (id, key, kind, chat_id, stage, payload, created_at, not_before,"
            " status, attempts, last_error, parts_sent) VALUES (1, 'k', 'notice', 5, '', '{}',"
            " '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'pending', 1, ?, 0)",
            (leaked,),
        )

    await upgrade_database(sqlite_db_url)

    with sqlite3.connect(sqlite_path(sqlite_db_url)) as conn:
        assert conn.execute("SELECT name, holder FROM instance_lock").fetchall() == [
            ("sender", None)
        ]
        (error,) = conn.execute("SELECT last_error FROM outbox").fetchone()
    assert TOKEN.split(":")[1] not in error
    assert "/bot<redacted>/sendMessage" in error and error.startswith("TelegramNetworkError")
    assert await differences(sqlite_db_url) == []
