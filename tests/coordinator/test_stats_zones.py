"""/status's SQL is right in any TIMEZONE, on SQLite and PostgreSQL alike: the counts of
bot.services.stats equal the pure-Python definitions (bot.core.stats, bot.core.lights) for zones
with and without daylight saving time, at instants around local midnight and around the
changes of the clocks, on ledgers whose items were finished around the ends of those days."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core import stats as core
from bot.core.lights import LightPolicy
from bot.services import stats

from .ledger import World, instant, random_world

POLICY = LightPolicy()

ZONES = [
    "Asia/Shanghai",  # the plans' own: +08:00, no daylight saving time
    "Europe/Berlin",  # DST, clocks change at 02:00/03:00
    "America/New_York",  # behind UTC, DST
    "America/Havana",  # DST changing at midnight: some days have no 00:00
    "Australia/Lord_Howe",  # half an hour of DST, southern hemisphere
    "Asia/Kolkata",  # +05:30
]


def clock_changes(zone: ZoneInfo, year: int) -> list[date]:
    """The local days on which the zone's offset changes."""
    out = []
    day = date(year, 1, 1)
    while day.year == year:
        noon = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
        before = datetime.combine(day - timedelta(days=1), time(12), tzinfo=zone).utcoffset()
        if noon != before:
            out.append(day)
        day += timedelta(days=1)
    return out


def instants(zone: ZoneInfo) -> list[tuple[str, datetime]]:
    """Questions asked just before and just after local midnight, on an ordinary day and on
    the night of a change of the clocks (or an ordinary one where there is none)."""
    changes = clock_changes(zone, 2025) or [date(2025, 3, 30)]
    out = []
    for label, day in (("ordinary", date(2025, 6, 18)), ("clock change", changes[0])):
        midnight = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        out.append((f"{label}, 1 s before midnight", midnight - timedelta(seconds=1)))
        out.append((f"{label}, midnight", midnight))
    return out


CASES = [
    pytest.param(name, label, at, id=f"{name}-{label}")
    for name in ZONES
    for label, at in instants(ZoneInfo(name))
]


def add_items_around_the_ends_of_days(w: World) -> None:
    """Closed items due on each day around every change of the clocks of this year and the
    last one, finished a minute before, at, and a minute after the end of that day (and at
    the start of the local day of the change), each its own unit and milestone."""
    zone = w.zone
    aid = max(a["id"] for a in w.assignments)
    mid = max(m["id"] for m in w.milestones)
    uid = max(u["id"] for u in w.units)
    days = [w.today]
    for change in clock_changes(zone, 2024) + clock_changes(zone, 2025):
        days += [change + timedelta(days=k) for k in (-1, 0, 1)]
    for due in days:
        end = datetime.combine(due + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        for finished in (
            end - timedelta(minutes=1),
            end,
            end + timedelta(minutes=1),
            instant(due, 0, 30, zone),
            instant(due, 23, 30, zone),
        ):
            if finished > w.at:
                continue
            mid, aid, uid = mid + 1, aid + 1, uid + 1
            w.units.append(dict(id=uid, name=f"单位{uid}", short_name=""))
            w.milestones.append(
                dict(
                    id=mid,
                    task_id=1,
                    seq=100 + mid,
                    due=due,
                    original_due=due,
                    phrase="",
                    target="",
                    archived_at=None,
                    window_start=None,
                )
            )
            w.assignments.append(
                dict(
                    id=aid,
                    milestone_id=mid,
                    unit_id=uid,
                    role="lead",
                    status="closed",
                    progress=None,
                    due=due,
                    extension_requested_to=None,
                    assigned_at=finished - timedelta(days=30),
                    acknowledged_at=finished - timedelta(days=29),
                    last_report_at=finished,
                    done_reported_at=finished if aid % 2 else None,
                    closed_at=finished,
                    archived_at=None,
                )
            )


@pytest.mark.parametrize(("zone_name", "label", "at"), CASES)
async def test_status_counts_equal_the_definitions_in_any_zone(tmp_path, zone_name, label, at):
    zone = ZoneInfo(zone_name)
    w = random_world(
        tmp_path / "zone.sqlite3", 11, n_tasks=25, zone=zone, at=at, hours=(0, 1, 2, 3, 23)
    )
    add_items_around_the_ends_of_days(w)
    await w.write()
    try:
        for scope, rows in ((stats.Scope(), w.active()), (stats.Scope(plan_id=1), w.active(1))):
            async with w.session_maker() as session:
                report = await stats.status_report(
                    session, scope=scope, at=at, zone=zone, policy=POLICY, ack_window=2
                )
            expected = core.summarize([w.facts(a) for a in rows], today=w.today, ack_window=2)
            t = report.totals
            assert report.today == w.today
            assert (t.total, t.buckets, t.overdue) == (
                expected.total,
                expected.buckets,
                expected.overdue,
            )
            assert t.on_time == expected.on_time, scope
            assert t.acknowledgement == expected.acknowledgement, scope
            lights = Counter(w.light(a) for a in rows)
            assert t.lights == {k: lights.get(k, 0) for k in ("red", "yellow", "green", "grey")}
    finally:
        await w.engine.dispose()


def test_day_end_runs_follow_the_clock_changes():
    berlin = ZoneInfo("Europe/Berlin")
    runs = stats.day_end_runs(berlin, date(2025, 1, 1), date(2025, 12, 31))
    # the day before the change ends in the new offset: 2025-03-30 00:00 is still +01:00
    assert runs == [(date(2025, 1, 1), 60), (date(2025, 3, 30), 120), (date(2025, 10, 26), 60)]
    shanghai = stats.day_end_runs(ZoneInfo("Asia/Shanghai"), date(2020, 1, 1), date(2030, 1, 1))
    assert shanghai == [(date(2020, 1, 1), 480)]
