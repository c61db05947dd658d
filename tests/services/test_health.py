"""/healthz's verdict: the database answers, the scheduler ticked lately; the Outbox lag is
reported (the age of the oldest due message not sent yet)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services.health import check_health, outbox_lag
from bot.storage.db import create_all, make_engine, make_session_maker
from bot.storage.models import Outbox
from tests.dbs import database_url

NOW = datetime(2025, 12, 24, 1, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path):
    engine = make_engine(database_url(tmp_path / "health.sqlite3"))
    await create_all(engine)
    yield make_session_maker(engine)
    await engine.dispose()


async def add(db, key: str, *, due: datetime, status: str = "pending") -> None:
    async with db() as session:
        session.add(
            Outbox(
                key=key,
                kind="notice",
                chat_id=1,
                payload={"text": key},
                created_at=due,
                not_before=due,
                status=status,
            )
        )
        await session.commit()


async def test_healthy_with_the_oldest_due_unsent_message_as_lag(db) -> None:
    assert await outbox_lag(db, NOW) == 0.0
    await add(db, "sent long ago", due=NOW - timedelta(hours=5), status="sent")
    await add(db, "failed", due=NOW - timedelta(hours=4), status="failed")
    await add(db, "later", due=NOW + timedelta(minutes=5))
    assert await outbox_lag(db, NOW) == 0.0  # nothing due and unsent
    await add(db, "waiting", due=NOW - timedelta(seconds=42))
    await add(db, "in flight", due=NOW - timedelta(seconds=90), status="sending")

    health = await check_health(session_maker=db, now=NOW, tick_seconds=30, last_tick_age=12.0)

    assert health.healthy
    assert health.report == {
        "status": "ok",
        "database": "ok",
        "outbox_lag_seconds": 90.0,
        "scheduler": "alive",
        "last_tick_seconds_ago": 12.0,
    }


async def test_a_backlog_alone_is_not_unhealthy(db) -> None:
    await add(db, "old", due=NOW - timedelta(hours=1))
    health = await check_health(session_maker=db, now=NOW, tick_seconds=30, last_tick_age=0.5)
    assert health.healthy and health.report["outbox_lag_seconds"] == 3600.0


@pytest.mark.parametrize(
    ("age", "healthy", "state"),
    [(90.0, True, "alive"), (90.5, False, "stalled"), (None, False, "stopped")],
)
async def test_a_scheduler_silent_for_more_than_three_ticks_is_unhealthy(
    db, age, healthy, state
) -> None:
    health = await check_health(session_maker=db, now=NOW, tick_seconds=30, last_tick_age=age)
    assert (health.healthy, health.report["scheduler"]) == (healthy, state)
    assert health.report["status"] == ("ok" if healthy else "unhealthy")


async def test_an_unreachable_database_is_unhealthy() -> None:
    def unreachable():  # what a session maker does when the server refuses connections
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    health = await check_health(
        session_maker=unreachable, now=NOW, tick_seconds=30, last_tick_age=1.0
    )
    assert not health.healthy
    assert health.report["database"] == "unreachable"
    assert health.report["outbox_lag_seconds"] is None
    assert health.report["scheduler"] == "alive"
