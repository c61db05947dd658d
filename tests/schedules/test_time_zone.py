"""TIMEZONE is the one source of local time: with TIMEZONE=Europe/Berlin (and a policy file that
says the same) reminders open with Berlin's sending window, a chase names the earlier notice at
its Berlin time, and the weekly digest goes out at Monday 09:00 in Berlin."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.app import StartupError, load_deployment_policy
from bot.config import load_settings
from bot.services.planning import plan_due
from bot.telegram.notices import render

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.fixture
def settings(monkeypatch, tmp_path):
    policy_file = tmp_path / "policy.yaml"
    # the item's own 7-day cycle (no weekly chase day): the dates below follow it
    policy_file.write_text(
        "timezone: Europe/Berlin\noverdue: {liaison_weekday: false}\nbrief: {audiences: []}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("POLICY_FILE", str(policy_file))
    return load_settings(env_file=None)


@pytest.fixture
def policy(settings):
    policy = load_deployment_policy(settings)
    assert policy.zone == settings.clock.zone == BERLIN
    return policy


def test_a_policy_file_in_another_zone_is_refused_at_start(monkeypatch, tmp_path):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("timezone: Asia/Shanghai\n", encoding="utf-8")
    monkeypatch.setenv("TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("POLICY_FILE", str(policy_file))
    with pytest.raises(StartupError, match="TIMEZONE is 'Europe/Berlin'"):
        load_deployment_policy(load_settings(env_file=None))


async def test_a_reminder_waits_for_nine_in_berlin(world, policy):
    await world.item("SR-1", date(2025, 6, 20), ["市卫健委"])
    # 08:30 in Berlin is 14:30 in Shanghai: inside Shanghai's window, not Berlin's
    early = await plan_due(world.session_maker, berlin("2025-06-13 08:30"), policy, digests=False)
    assert early.inserted == 0
    await plan_due(world.session_maker, berlin("2025-06-13 09:00"), policy, digests=False)
    [row] = await world.shown()
    assert row.kind == "reminder" and row.not_before == berlin("2025-06-13 09:00")
    assert "7 days left" in render(row, locale="en", zone=policy.zone).text


async def test_the_digest_goes_at_monday_nine_in_berlin(world, policy):
    await world.subscribe(-100123)
    await world.item("SR-1", date(2025, 3, 14), ["市卫健委"])
    # Monday 08:59 in Berlin is 15:59 in Shanghai, long after Shanghai's 09:00
    early = await plan_due(world.session_maker, berlin("2025-03-24 08:59"), policy)
    assert early.digests == 0
    on_time = await plan_due(world.session_maker, berlin("2025-03-24 09:00"), policy)
    assert on_time.digests == 3  # coordinator, unit leader, group
    rows = [r for r in await world.shown() if r.kind == "digest"]
    assert {r.not_before for r in rows} == {berlin("2025-03-24 09:00")}
    assert "SR-1" in render(rows[0], locale="zh_CN", zone=policy.zone).text


async def _chase(world, policy):
    await world.item("SR-1", date(2025, 3, 14), ["市卫健委"])
    await plan_due(world.session_maker, berlin("2025-03-17 09:00"), policy, digests=False)
    await world.mark_sent()  # the 逾期提醒 went out at 09:00 Berlin time
    await plan_due(world.session_maker, berlin("2025-03-21 09:00"), policy, digests=False)
    return next(
        r
        for r in await world.shown()
        if r.kind == "escalation_batch" and r.payload["audience"] == "leaders"
    )  # the 督办 summary to the unit's leader names the earlier notice


async def test_a_chase_is_planned_at_nine_in_berlin(world, policy):
    chase = await _chase(world, policy)
    assert chase.not_before == berlin("2025-03-21 09:00")
    [item] = chase.payload["items"]
    assert datetime.fromisoformat(item["chased"]["at"]) == berlin("2025-03-17 09:00")


async def test_a_chase_names_the_earlier_notice_at_its_berlin_time(world, policy):
    text = render(await _chase(world, policy), locale="en", zone=policy.zone).text
    text = text.replace("\u202f", " ")  # CLDR puts a narrow no-break space before AM
    assert "3/17/25, 9:00 AM overdue notice" in text  # not 4:00 PM, Shanghai's time
