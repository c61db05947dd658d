"""The weekly digest's SQL on both backends (the PostgreSQL run of the suite runs these against
the real server): its rows, their content, and scorecards counted in the plans' own time zone,
daylight saving time included."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.core.digest_slot import digest_due
from bot.core.policy import load_policy
from bot.core.status import CLOSED
from bot.services.digest import digest_rows
from bot.services.ranking import policy_ranking
from bot.services.stats import Scope
from bot.storage.outbox.raw import insert_rows


async def _rows(world, policy, at):
    slot = digest_due(policy, at)
    assert slot is not None
    async with world.session_maker() as session, session.begin():
        rows = await digest_rows(session, slot, policy, at)
        await insert_rows(await session.connection(), rows)
    return rows


async def test_the_digest_is_written_once_per_chat_and_week(world, policy):
    await world.subscribe(-100123)
    await world.item("SR-1", date(2025, 3, 20), ["市卫健委"])
    await world.item("SR-2", date(2025, 3, 28), ["市财政局"])
    await world.item("SR-3", date(2025, 3, 1), ["市财政局"])
    at = datetime(2025, 3, 24, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
    first = await _rows(world, policy, at)
    assert {r["chat_id"] for r in first} == {
        -100123,
        world.people["王领导"].telegram_id,
        world.people["赵督办"].telegram_id,
    }
    assert await _rows(world, policy, at) == []  # every chat has this week's row
    stored = [r for r in await world.outbox() if r.kind == "digest"]
    assert len(stored) == 3
    shown = [r for r in await world.shown() if r.kind == "digest"]  # as the sender renders it
    coordinator = next(r for r in shown if r.payload["audience"] == "coordinators")
    plan = coordinator.payload["plans"][0]
    assert [i["ref"] for i in plan["newly_overdue"]] == ["SR-1"]
    assert plan["newly_overdue"][0]["due"] == "2025-03-20"
    assert [(i["ref"], i["days"]) for i in plan["overdue"]] == [("SR-3", 23)]
    assert [i["ref"] for i in plan["due_soon"]] == ["SR-2"]
    assert {r["unit"] for r in coordinator.payload["ranking"]["rows"]} == {"市卫健委", "市财政局"}


async def test_on_time_is_judged_on_the_local_day_in_a_zone_with_daylight_saving(world):
    policy = load_policy(timezone="America/New_York")
    zone = ZoneInfo("America/New_York")
    # due 30 June; closed at 00:30 EDT on 1 July (04:30 UTC): late. The digest runs in
    # November (EST, UTC-5), where a fixed offset would put the closing on 30 June.
    (late,) = await world.item("SR-1", date(2025, 6, 30), ["市卫健委"], status=CLOSED)
    (on_time,) = await world.item("SR-2", date(2025, 6, 30), ["市卫健委"], status=CLOSED)
    await world.update(late.id, closed_at=datetime(2025, 7, 1, 0, 30, tzinfo=zone).astimezone(UTC))
    await world.update(
        on_time.id, closed_at=datetime(2025, 6, 30, 23, 30, tzinfo=zone).astimezone(UTC)
    )
    at = datetime(2025, 11, 10, 9, 0, tzinfo=zone)
    async with world.session_maker() as session:
        ranking = await policy_ranking(
            session, scope=Scope(plan_ids=frozenset({world.plan_id})), at=at, policy=policy
        )
    (row,) = ranking.rows
    assert (row.name, row.closed) == ("市卫健委", 2)
    assert (row.on_time.numerator, row.on_time.denominator) == (1, 2)


async def test_the_digest_content_is_read_a_part_at_a_time_with_one_copy_of_each_text(
    world, policy, monkeypatch
):
    """The rows come a few at a time (never all of them as tuples at once) and the items share
    one string per title, unit and date: a title comes once per unit of its task, a unit's
    name once per assignment (at 100,000 assignments the pass's peak was 28 MiB of Python
    objects, 14 MiB this way)."""
    from bot.storage.outbox import digest as digest_sql
    from bot.storage.outbox import raw

    parts: list[int] = []
    reading = raw.fetch_parts

    async def counted(*args, **kwargs):
        async for part in reading(*args, **{**kwargs, "size": 2}):
            parts.append(len(part))
            yield part

    monkeypatch.setattr(digest_sql, "fetch_parts", counted)
    await world.item("SR-1", date(2025, 3, 20), ["市卫健委", "市财政局"], title="两个单位的任务")
    await world.item("SR-2", date(2025, 3, 20), ["市卫健委"])
    at = datetime(2025, 3, 24, 1, 0, tzinfo=UTC)
    async with world.engine.connect() as conn:
        plans = await digest_sql.build_plan_digests(conn, policy, at)
    assert parts == [2, 1]
    items = [item for d in plans.values() for _, item in d.lists["newly_overdue"]]
    assert sorted((i.ref, i.unit) for i in items) == sorted(
        [("SR-1", "市财政局"), ("SR-1", "市卫健委"), ("SR-2", "市卫健委")]
    )
    sr1 = [i for i in items if i.ref == "SR-1"]
    assert sr1[0].title is sr1[1].title and sr1[0].ref is sr1[1].ref
    assert len({id(i.due) for i in items}) == 1
    assert len({id(i.unit) for i in items if i.unit == "市卫健委"}) == 1
