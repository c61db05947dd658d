"""The liaison's brief (今日待办): bundling a pass's rows per liaison and day, the follow-up,
holding, cancelling, per-plan switch, the rows sent with the brief, and its message."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core.notices import BriefNotice
from bot.core.policy import load_policy
from bot.services.planning import plan_due
from bot.storage.outbox.delivery import record_sent
from bot.telegram.limits import MAX_CALLBACK, MAX_TEXT, utf16_len
from bot.telegram.notices import render as render_in
from tests.schedules.sched_helpers import ZONE, local

MONDAY = "2025-03-24 09:00"


def render(row, *, locale: str = "zh_CN"):
    return render_in(row, locale=locale, zone=ZONE)


@pytest.fixture(scope="module")
def briefing():
    """The default policy (briefs for liaisons), with each item's own overdue cycle."""
    return load_policy(overrides={"overdue": {"liaison_weekday": 0}})


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _chat(world, name: str) -> int:
    return world.people[name].telegram_id


async def _mixed(world):
    """Items of 市卫健委 in every section on MONDAY: 2 overdue (one 督办), due today, in 7
    days (not acknowledged), and one of 市财政局 (the other liaison)."""
    await world.item("SR-1", date(2025, 3, 23), ["市卫健委"])  # 1 day overdue
    await world.item("SR-2", date(2025, 3, 17), ["市卫健委"])  # 7 days: 督办
    await world.item("SR-3", date(2025, 3, 24), ["市卫健委"])  # due today
    await world.item("SR-4", date(2025, 3, 31), ["市卫健委"], acknowledged=False)
    await world.item("CZ-1", date(2025, 3, 31), ["市财政局"])


async def test_a_pass_gives_each_liaison_one_brief_carrying_every_stage(world, briefing):
    await _mixed(world)
    result = await plan_due(world.session_maker, local(MONDAY), briefing, digests=False)
    rows = await world.shown()
    zhang, li = _chat(world, "张联络"), _chat(world, "Li Liaison")
    briefs = {r.chat_id: r for r in rows if r.kind == "brief"}
    assert set(briefs) == {zhang, li} and result.briefs == 2
    assert briefs[zhang].key == f"brief:2025-03-24|{zhang}"
    # the stage rows stay, carried: status briefed, via = the brief's key; never pending
    liaison_rows = [r for r in rows if r.chat_id == zhang and r.kind != "brief"]
    assert len(liaison_rows) == 4  # SR-4's acknowledgement chase is not due yet
    assert {r.status for r in liaison_rows} == {"briefed"}
    assert {r.via for r in liaison_rows} == {briefs[zhang].key}
    notice = BriefNotice.from_json(briefs[zhang].payload)
    assert [(i.ref, i.section) for i in notice.items] == [
        ("SR-2", "od"),
        ("SR-1", "od"),
        ("SR-3", "d0"),
        ("SR-4", "d7"),
    ]
    assert notice.stages == 4 and notice.items[0].escalated  # SR-2's 督办
    # leaders and coordinators keep their 督办汇总
    assert any(r.kind == "escalation_batch" and r.status == "pending" for r in rows)
    # English for Li
    assert "Today's brief" in render(briefs[li], locale="en").text


async def test_the_brief_is_sent_as_one_message_and_its_rows_with_it(world, briefing):
    await _mixed(world)
    await plan_due(world.session_maker, local(MONDAY), briefing, digests=False)
    zhang = _chat(world, "张联络")
    [brief] = [r for r in await world.shown() if r.kind == "brief" and r.chat_id == zhang]
    rendered = render(brief)
    assert len(rendered.parts) == 1
    text = rendered.text
    assert "今日待办" in text and "SR-2" in text and "逾期" in text and "SR 上饶市" in text
    assert text.index("SR-2") < text.index("SR-1") < text.index("SR-3") < text.index("SR-4")
    labels = [b.text for row in rendered.reply_markup.inline_keyboard for b in row]
    assert any("SR-2" in label for label in labels)
    assert "全部签收（1）" in labels  # SR-4 waits for 签收
    async with world.session_maker() as session:
        await record_sent(
            session,
            brief,
            parts_sent=1,
            done=True,
            message_id=77,
            assignment_id=None,
            now=local("2025-03-24 09:00:05"),
        )
        await session.commit()
    carried = [r for r in await world.shown() if r.via == brief.key]
    assert carried and {(r.status, r.message_id) for r in carried} == {("sent", 77)}


async def test_later_the_same_day_one_follow_up_then_the_next_morning(world, briefing):
    await world.item("SR-1", date(2025, 3, 31), ["市卫健委"])
    zhang = _chat(world, "张联络")
    await plan_due(world.session_maker, local(MONDAY), briefing, digests=False)
    await world.item("SR-2", date(2025, 3, 24), ["市卫健委"])  # loaded at noon, due today
    await plan_due(world.session_maker, local("2025-03-24 12:00"), briefing, digests=False)
    await world.item("SR-3", date(2025, 3, 24), ["市卫健委"])  # and another at 15:00
    await plan_due(world.session_maker, local("2025-03-24 15:00"), briefing, digests=False)
    rows = await world.shown()
    briefs = sorted(r.key for r in rows if r.kind == "brief" and r.chat_id == zhang)
    assert briefs == [f"brief:2025-03-24#2|{zhang}", f"brief:2025-03-24|{zhang}"]
    follow = next(r for r in rows if r.key.startswith("brief:2025-03-24#2"))
    assert [i["ref"] for i in follow.payload["items"]] == ["SR-2"]
    assert "今日新增待办" in render(follow).text
    # the third arrival waits, held (never sent on its own), for Tuesday's brief
    [held] = [r for r in rows if r.assignment_id and r.chat_id == zhang and r.status == "held"]
    assert (
        held.not_before.replace(tzinfo=None)
        == local("2025-03-25 09:00")
        .astimezone(ZONE.utc if hasattr(ZONE, "utc") else None)
        .replace(tzinfo=None)
        or held.not_before is not None
    )
    await plan_due(world.session_maker, local("2025-03-25 09:00"), briefing, digests=False)
    tuesday = next(r for r in await world.shown() if r.key == f"brief:2025-03-25|{zhang}")
    assert "SR-3" in [i["ref"] for i in tuesday.payload["items"]]


async def test_before_the_brief_time_rows_are_held_until_it(world):
    policy = load_policy(overrides={"brief": {"time": "10:30"}})
    await world.item("SR-1", date(2025, 3, 31), ["市卫健委"])
    await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    rows = [r for r in await world.shown() if r.chat_id == _chat(world, "张联络")]
    assert {r.status for r in rows} == {"held"} and not any(r.kind == "brief" for r in rows)
    await plan_due(world.session_maker, local("2025-03-24 10:30"), policy, digests=False)
    assert any(r.kind == "brief" for r in await world.shown())


async def test_a_row_whose_item_moved_on_is_cancelled_not_carried(world):
    policy = load_policy(overrides={"brief": {"time": "10:30"}})
    [a] = await world.item("SR-1", date(2025, 3, 31), ["市卫健委"])
    await world.item("SR-2", date(2025, 3, 31), ["市卫健委"])
    await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    await world.update(a.id, status="done_reported")
    await plan_due(world.session_maker, local("2025-03-24 10:30"), policy, digests=False)
    rows = await world.shown()
    [brief] = [r for r in rows if r.kind == "brief"]
    assert [i["ref"] for i in brief.payload["items"]] == ["SR-2"]
    [gone] = [r for r in rows if r.assignment_id == a.id]
    assert gone.status == "cancelled" and "done_reported" in gone.last_error


async def test_a_plan_can_switch_its_liaisons_back_to_one_message_per_item(world):
    policy = load_policy(overrides={"plans": {"SR": {"brief": {"audiences": []}}}})
    await world.item("SR-1", date(2025, 3, 31), ["市卫健委"])
    await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    rows = await world.shown()
    assert not any(r.kind == "brief" for r in rows)
    assert {(r.kind, r.status) for r in rows} == {("reminder", "pending")}


async def test_hundreds_of_items_stay_one_message_with_every_group_a_button(world, briefing):
    for k in range(300):
        due = date(2025, 3, 24) + timedelta(days=(k % 40) - 8)
        await world.item(
            f"SR-{k}", due, ["市卫健委"], acknowledged=k % 3 != 0, title="很长的标题" * 9
        )
    await plan_due(world.session_maker, local(MONDAY), briefing, digests=False)
    [brief] = [r for r in await world.shown() if r.kind == "brief"]
    notice = BriefNotice.from_json(brief.payload)
    assert len(notice.items) > 150
    for locale in ("zh_CN", "en"):
        rendered = render(brief, locale=locale)
        assert len(rendered.parts) == 1 and utf16_len(rendered.text) <= MAX_TEXT
        buttons = [b for row in rendered.reply_markup.inline_keyboard for b in row]
        assert all(len(b.callback_data.encode()) <= MAX_CALLBACK for b in buttons)
        sections = {i.section for i in notice.items}
        assert sum("›" in b.text for b in buttons) == len(sections)
    assert "…" in render(brief).text  # the rest is counted
