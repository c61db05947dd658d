"""逾期事项清单: a liaison whom one pass would flood with overdue notices and 督办 gets one list
per plan and day instead (policy `overdue.liaison_batch_over`), below the threshold one
message per item; the stages stay planned exactly once and their ladder goes on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.core.policy import PolicyError, load_policy
from bot.services.planning import plan_due
from bot.storage.models import ROLE_LIAISON, Membership
from bot.telegram.limits import MAX_TEXT
from bot.telegram.notices import render as render_in
from tests.schedules.sched_helpers import ZONE, local
from tests.schedules.sched_world import T0


def render(row, *, locale: str):
    return render_in(row, locale=locale, zone=ZONE)


MONDAY = "2025-03-24 09:00"  # a working Monday


async def _overdue(world, n: int, unit: str = "市卫健委", *, first: int = 1, prefix: str = "SR"):
    """`n` items of `unit`, 1.. days overdue on MONDAY (7 and more: 督办)."""
    out = []
    for k in range(n):
        due = date(2025, 3, 24) - timedelta(days=first + k)
        [a] = await world.item(f"{prefix}-{first + k}", due, [unit])
        out.append(a)
    return out


def _chat(world, name: str) -> int:
    return world.people[name].telegram_id


async def test_up_to_the_threshold_a_liaison_gets_one_message_per_item(world, policy):
    await _overdue(world, 5)  # 1..5 days overdue: 逾期提醒 only
    result = await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    rows = await world.shown()
    assert result.lists == 0 and result.by_kind == {"overdue": 5}
    assert all(r.chat_id == _chat(world, "张联络") for r in rows)
    assert all(render(r, locale="zh_CN").reply_markup for r in rows)  # buttons on each


async def test_over_the_threshold_one_list_per_liaison_plan_and_day(world, policy):
    items = await _overdue(world, 9)  # 1..9 days overdue: 6 notices, 3 督办
    [other] = await _overdue(world, 1, "市财政局", first=3, prefix="CZ")
    result = await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    rows = await world.shown()
    zhang = _chat(world, "张联络")
    [listing] = [r for r in rows if r.kind == "overdue_batch"]
    assert listing.key == f"overdue_batch:SR:2025-03-24|{zhang}"
    assert listing.chat_id == zhang and listing.assignment_id is None
    assert listing.payload["audience"] == "liaisons" and listing.payload["total"] == 9
    assert listing.payload["counts"] == {"overdue": 6, "escalation": 3}
    refs = [i["ref"] for i in listing.payload["items"]]
    assert refs == [f"SR-{k}" for k in range(9, 0, -1)]  # worst first, every item
    assert all("chased" not in i for i in listing.payload["items"])
    # the liaison has no per-item message; the other unit's liaison (one item) still has one
    sent = [r for r in rows if r.chat_id and r.kind in ("overdue", "escalation")]
    assert {(r.chat_id, r.assignment_id) for r in sent if r.payload["audience"] == "liaisons"} == {
        (_chat(world, "Li Liaison"), other.id)
    }
    # leaders and coordinators: their 督办汇总 as before (the three 督办 of 市卫健委)
    summaries = {r.chat_id: r for r in rows if r.kind == "escalation_batch"}
    assert set(summaries) == {_chat(world, "王领导"), _chat(world, "赵督办")}
    assert [i["ref"] for i in summaries[_chat(world, "王领导")].payload["items"]] == [
        "SR-9",
        "SR-8",
        "SR-7",
    ]
    # every listed stage is marked planned (never sent, not in the Outbox), with its liaison
    assert not [r for r in rows if r.chat_id == 0 or r.status == "batched"]
    markers = await world.marks()
    assert len(markers) == 9
    assert {r.assignment_id for r in markers} == {a.id for a in items}
    assert all(r.key == f"{r.kind}:{r.assignment_id}:{r.stage}" for r in markers)
    assert all(r.liaisons == [world.people["张联络"].id] for r in markers)
    assert (result.lists, result.batches, result.markers) == (1, 2, 9)
    text = render(listing, locale="zh_CN").text
    assert "逾期事项清单" in text and "SR-9" in text and "SR-1" in text
    assert "逾期 9 天" in text and "已督办" in text and "截止" in text
    assert text.rstrip().endswith("用 /my 查看并逐项报告，或 /task 编号")
    assert render(listing, locale="zh_CN").reply_markup is None
    en = render(listing, locale="en").text
    assert "Overdue items" in en and "9 items are overdue" in en and "/my" in en


async def test_planning_again_restarts_and_later_ticks_insert_nothing(world, policy):
    await _overdue(world, 8)
    first = await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    assert first.lists == 1
    before = len(await world.shown())
    for instant in (
        "2025-03-24 09:00",
        "2025-03-24 09:00:30",
        "2025-03-24 15:00",
        "2025-03-24 17:59",
    ):
        again = await plan_due(world.session_maker, local(instant), policy, digests=False)
        assert (again.inserted, again.lists, again.markers) == (0, 0, 0), instant
    # a restart: a new engine on the same file plans nothing either
    from bot.storage.db import make_engine, make_session_maker

    engine = make_engine(world.engine.url)
    try:
        again = await plan_due(make_session_maker(engine), local(MONDAY), policy, digests=False)
    finally:
        await engine.dispose()
    assert again.inserted == 0
    assert len(await world.shown()) == before


async def test_threshold_zero_or_null_means_one_message_per_item(world):
    await _overdue(world, 8)
    for overrides in (
        {"overdue": {"liaison_batch_over": 0}},
        {"overdue": {"liaison_batch_over": None}},
        {"plans": {"SR": {"overdue": {"liaison_batch_over": 0}}}},
    ):
        policy = load_policy(overrides={**overrides, "brief": {"audiences": []}})
        assert policy.for_plan("SR").liaison_batch_over == 0
    result = await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    assert result.lists == 0
    liaison = [r for r in await world.shown() if r.chat_id == _chat(world, "张联络")]
    assert len(liaison) == 8 and {r.kind for r in liaison} == {"overdue", "escalation"}
    assert load_policy().defaults.liaison_batch_over == 5


async def test_a_higher_threshold_per_plan(world):
    await _overdue(world, 8)
    policy = load_policy(overrides={"plans": {"SR": {"overdue": {"liaison_batch_over": 10}}}})
    result = await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    assert result.lists == 0 and result.by_audience["liaisons"] == 8


@pytest.mark.parametrize("value", [-1, "many", 2.5, True])
def test_a_bad_threshold_names_the_field(value):
    with pytest.raises(PolicyError, match=r"plans\.SR\.overdue\.liaison_batch_over"):
        load_policy(overrides={"plans": {"SR": {"overdue": {"liaison_batch_over": value}}}})


async def test_reminders_and_acknowledgement_chases_are_never_listed(world, policy):
    for k in range(8):  # 8 reminders the same morning: due in 7 days
        await world.item(f"SR-{k}", date(2025, 3, 31), ["市卫健委"])
    for k in range(8):  # 8 acknowledgement chases: assigned 3 working days ago
        await world.item(
            f"AK-{k}",
            date(2025, 9, 30),
            ["市卫健委"],
            acknowledged=False,
            assigned_at=local("2025-03-19 08:00"),
        )
    result = await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    assert result.lists == 0
    assert result.by_kind == {"reminder": 8, "ack_chase": 8}


async def test_the_next_stage_of_a_listed_item_still_comes(world):
    policy = load_policy(
        overrides={"overdue": {"liaison_weekday": False}, "brief": {"audiences": []}}
    )
    items = await _overdue(world, 6)  # 1..6 days overdue: six 逾期提醒 in a list
    await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    await world.mark_sent()
    # Tuesday: SR-6 reaches day 7 (督办); alone that day, so the liaison gets it per item
    await plan_due(world.session_maker, local("2025-03-25 09:00"), policy, digests=False)
    rows = await world.shown()
    sr6 = items[-1]
    new = [r for r in rows if r.status == "pending"]
    mine = [r for r in new if r.chat_id == _chat(world, "张联络")]
    assert [(r.kind, r.assignment_id, r.stage) for r in mine] == [
        ("escalation", sr6.id, "od7@2025-03-18")
    ]
    assert render(mine[0], locale="zh_CN").reply_markup is not None
    # the leader's 督办汇总 counts the list as the unit having been chased, naming the liaison
    [summary] = [
        r for r in new if r.kind == "escalation_batch" and r.payload["audience"] == "leaders"
    ]
    chased = summary.payload["items"][0]["chased"]
    assert chased["n"] == 1 and chased["kind"] == "overdue" and chased["to"] == ["张联络"]
    assert "张联络" in render(summary, locale="zh_CN").text
    # the next Monday SR-1..SR-5 reach day 7: five 督办, over a threshold of 4: a new list
    await world.mark_sent()
    lower = load_policy(
        overrides={
            "overdue": {"liaison_batch_over": 4, "liaison_weekday": 0},
            "brief": {"audiences": []},
        }
    )
    later = await plan_due(world.session_maker, local("2025-03-31 09:00"), lower, digests=False)
    assert later.lists == 1
    lists = [r for r in await world.shown() if r.kind == "overdue_batch"]
    assert [r.key for r in lists] == [
        f"overdue_batch:SR:2025-03-24|{_chat(world, '张联络')}",
        f"overdue_batch:SR:2025-03-31|{_chat(world, '张联络')}",
    ]
    listed = lists[1].payload["items"]
    assert [i["ref"] for i in listed] == ["SR-5", "SR-4", "SR-3", "SR-2", "SR-1"]
    assert {i["kind"] for i in listed} == {"escalation"}  # SR-6 is still at its od7
    assert all("chased" not in i for i in listed)  # the liaison's own list: no chase history


async def test_an_item_due_later_the_same_day_gets_a_follow_up_list(world, policy):
    await _overdue(world, 7)
    await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    await _overdue(world, 6, first=20, prefix="LT")  # loaded in the afternoon
    result = await plan_due(world.session_maker, local("2025-03-24 15:00"), policy, digests=False)
    assert result.lists == 1
    zhang = _chat(world, "张联络")
    keys = sorted(r.key for r in await world.shown() if r.kind == "overdue_batch")
    assert keys == [
        f"overdue_batch:SR:2025-03-24#2|{zhang}",
        f"overdue_batch:SR:2025-03-24|{zhang}",
    ]
    follow = next(r for r in await world.shown() if "#2" in r.key)
    assert "（补充）" in render(follow, locale="zh_CN").text


async def test_a_liaison_of_two_units_is_counted_once_and_sees_the_units(world, policy):
    zhang = world.people["张联络"]
    await world.add(
        Membership(
            person_id=zhang.id, role=ROLE_LIAISON, unit_id=world.units["市人社局"], created_at=T0
        )
    )
    await _overdue(world, 3)
    await _overdue(world, 3, "市人社局", first=4, prefix="RS")
    result = await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    assert result.lists == 1  # 3 + 3 > 5: one list with both units' items
    [listing] = [r for r in await world.shown() if r.kind == "overdue_batch"]
    assert listing.payload["total"] == 6
    text = render(listing, locale="zh_CN").text
    assert "市人社局，截止" in text and "市卫健委，截止" in text


async def test_a_long_list_is_split_under_the_telegram_limit(world, policy):
    for k in range(100):
        await world.item(f"SR-{k}", date(2025, 3, 10), ["市卫健委"], title="很长的任务标题" * 8)
    await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    [row] = [r for r in await world.shown() if r.kind == "overdue_batch"]
    assert row.payload["total"] == 100 and len(row.payload["items"]) == 100
    parts = render(row, locale="zh_CN").parts
    assert len(parts) > 1
    assert all(len(p.text.encode("utf-16-le")) // 2 <= MAX_TEXT for p in parts)
    assert "/my" in parts[-1].text and "SR-99" in "".join(p.text for p in parts)
