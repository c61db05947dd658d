"""The weekly digest's SQL on both backends (the PostgreSQL run of the suite runs these against
the real server): its rows, their content, and scorecards counted in the plans' own time zone,
daylight saving time included."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text

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


async def test_the_digest_content_is_read_a_part_at_a_time(world, policy, monkeypatch):
    """The rows come a few at a time (never all of them as tuples at once)."""
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
    (digest,) = plans.values()
    cut = digest.cut(None)
    assert cut is not None
    assert sorted((i.ref, i.unit) for i in cut.lists["newly_overdue"]) == sorted(
        [("SR-1", "市财政局"), ("SR-1", "市卫健委"), ("SR-2", "市卫健委")]
    )


async def _python_peak(work):
    """The peak of Python's allocations while `work` (a coroutine) runs, in bytes."""
    import tracemalloc

    tracemalloc.start()
    try:
        await work
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _cut_of_everything(everything, unit_ids, limit):
    """The reference cut: every listed item kept (no limit while reading), then the
    recipient's units chosen and the lists cut, as the digest did before it kept only the
    first items of each list."""
    lists, more, totals = {}, {}, {}
    for name, listing in everything.lists.items():
        entries = [e for e in listing.first() if unit_ids is None or e[1] in unit_ids]
        totals[name] = len(entries)
        lists[name] = [e[2] for e in entries[:limit]]
        if len(entries) > limit:
            more[name] = len(entries) - limit
    return lists, more, totals


async def test_each_list_keeps_only_its_first_items_yet_cuts_as_if_it_kept_all(
    tmp_path, monkeypatch
):
    """Per plan and list, the digest keeps the count and the first `max_items` items for
    every unit together and for each leader's unit; any cut (all units, one unit, several)
    is the same as keeping every item and cutting afterwards. Memory (tracemalloc, not
    timing): reading a synthetic ledger 100 rows at a time, the Python peak is a fraction
    of what keeping every listed item takes, so it does not grow with the ledger."""
    from benchmarks.synthetic import build_synthetic_ledger
    from bot.storage.db import make_engine, make_session_maker
    from bot.storage.migrate import upgrade_database
    from bot.storage.outbox import digest as digest_sql
    from bot.storage.outbox import raw
    from tests.dbs import database_url

    url = database_url(tmp_path / "ledger.sqlite3")
    await upgrade_database(url)
    engine = make_engine(url)
    at = datetime(2025, 12, 1, 1, 0, tzinfo=UTC)
    await build_synthetic_ledger(make_session_maker(engine), assignments=6_000, at=at, seed=3)
    limit = 5
    policy = load_policy(overrides={"digest": {"max_items": limit}})
    everything_policy = load_policy(overrides={"digest": {"max_items": 10**9}})
    reading = raw.fetch_parts

    async def small_parts(*args, **kwargs):
        async for part in reading(*args, **{**kwargs, "size": 100}):
            yield part

    monkeypatch.setattr(digest_sql, "fetch_parts", small_parts)
    try:
        async with engine.connect() as conn:
            (unit_ids,) = await raw.fetch(conn, "SELECT min(id), max(id) FROM unit")
            leaders = {unit_ids[0], unit_ids[0] + 1, unit_ids[1]}
            # once before measuring: the statement's first run fills the engine's caches
            everything = await digest_sql.build_plan_digests(conn, everything_policy, at)
            keeping_all = await _python_peak(
                digest_sql.build_plan_digests(conn, everything_policy, at, units=leaders)
            )
            peak = await _python_peak(
                digest_sql.build_plan_digests(conn, policy, at, units=leaders)
            )
            plans = await digest_sql.build_plan_digests(conn, policy, at, units=leaders)
    finally:
        await engine.dispose()
    listed = sum(x.count for d in everything.values() for x in d.lists.values())
    assert listed > 2_000
    assert peak * 3 < keeping_all, (peak, keeping_all)  # SQLite 13x, PostgreSQL 4.8x
    scopes = [None, {unit_ids[0]}, {unit_ids[1]}, {unit_ids[0], unit_ids[0] + 1}]
    seen = set()
    for plan_id, digest in plans.items():
        assert digest.closed_week == everything[plan_id].closed_week
        assert digest.overdue_week == everything[plan_id].overdue_week
        for scope in scopes:
            cut = digest.cut(scope)
            if cut is None:
                assert scope is not None and not scope & everything[plan_id].unit_ids
                continue
            lists, more, totals = _cut_of_everything(everything[plan_id], scope, limit)
            assert {k: list(v) for k, v in cut.lists.items() if v} == {
                k: v for k, v in lists.items() if v
            }
            assert (cut.more, {k: v for k, v in cut.totals.items() if v}) == (
                more,
                {k: v for k, v in totals.items() if v},
            )
            seen |= {k for k, v in more.items() if v}
    assert {"overdue", "due_soon"} <= seen  # lists longer than the limit were cut
    for digest in plans.values():  # a unit not kept on its own cannot be cut to
        outside = next(iter(digest.unit_ids - leaders), None)
        if outside is not None:
            try:
                digest.cut({outside})
            except ValueError:
                break
    else:
        raise AssertionError("no plan has a unit outside the leaders' units")


async def test_a_digest_pass_hands_its_memory_back_and_a_quiet_tick_does_not(
    world, policy, monkeypatch
):
    """After a heavy pass (a digest, a first pass) its pooled connection is closed with its
    caches (SQLite; the server caches PostgreSQL's) and the C heap hands back its free pages
    (a bot at 100,000 assignments kept 5-7 MB more otherwise, benchmarks/bot_memory_bench.py);
    a tick with little to do does neither."""
    from sqlalchemy import event

    from bot.services import planning

    released: list[str] = []
    monkeypatch.setattr(planning, "release_free_memory", lambda: released.append("heap"))
    closed: list[object] = []
    event.listen(world.engine.sync_engine, "close", lambda conn, record: closed.append(conn))
    await world.subscribe(-100123)
    await world.item("SR-1", date(2025, 3, 20), ["市卫健委"])
    at = datetime(2025, 3, 24, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai: the digest slot
    result = await planning.plan_due(world.session_maker, at, policy)
    assert result.digests > 0
    assert released == ["heap"]
    assert len(closed) == (0 if world.engine.dialect.name == "postgresql" else 1)
    async with world.session_maker() as session:  # the pool opens another one
        conn = await session.connection()
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    released.clear()
    closed.clear()
    quiet = await planning.plan_due(world.session_maker, at.replace(minute=1), policy)
    assert (quiet.digests, quiet.inserted) == (0, 0)
    assert (released, closed) == ([], [])
