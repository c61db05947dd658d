"""Planning against a real database: recipients, idempotency, escalation history, digests,
rendering in the recipient's language."""

from __future__ import annotations

from datetime import date

from bot.core.policy import load_policy
from bot.services.planning import plan_due
from bot.storage.models import CLOSED, ROLE_COORDINATOR, ROLE_LEADER
from bot.telegram.limits import MAX_TEXT
from bot.telegram.notices import picture_view
from bot.telegram.notices import render as render_in
from tests.schedules.sched_helpers import ZONE, local


def render(row, *, locale: str):
    return render_in(row, locale=locale, zone=ZONE)


async def test_a_reminder_goes_to_each_liaison_of_the_unit_in_their_language(world, policy):
    await world.item(
        "SR-1", date(2025, 6, 20), ["市卫健委", "市财政局"], target="设立<公共卫生科>"
    )
    result = await plan_due(world.session_maker, local("2025-06-13 09:00"), policy, digests=False)
    assert result.inserted == 2
    rows = await world.shown()
    assert {r.key for r in rows} == {
        f"reminder:1:d7@2025-06-20|{world.people['张联络'].telegram_id}",
        f"reminder:2:d7@2025-06-20|{world.people['Li Liaison'].telegram_id}",
    }
    zh = next(r for r in rows if r.locale == "zh_CN")
    en = next(r for r in rows if r.locale == "en")
    text_zh = render(zh, locale=zh.locale).text
    text_en = render(en, locale=en.locale).text
    assert "SR-1" in text_zh and "&lt;公共卫生科&gt;" in text_zh  # plan text is escaped
    assert "&lt;实施意见&gt;" in text_zh
    assert "市财政局" in text_zh and "市卫健委" in text_zh
    assert "Reminder" in text_en and "7 days left" in text_en
    keyboard = render(zh, locale="zh_CN").reply_markup
    datas = [b.callback_data for line in keyboard.inline_keyboard for b in line]
    assert "sz:1" in datas  # 稍后提醒


async def test_planning_twice_inserts_nothing(world, policy):
    await world.item("SR-1", date(2025, 3, 14), ["市卫健委"])
    first = await plan_due(world.session_maker, local("2025-03-21 10:00"), policy, digests=False)
    second = await plan_due(
        world.session_maker, local("2025-03-21 10:00:30"), policy, digests=False
    )
    assert first.inserted == 3  # 督办: liaison, leader, coordinator
    assert (second.new, second.inserted) == (0, 0)  # skipped in SQL: its stage has rows
    assert len(await world.shown()) == 3


async def test_escalation_names_who_was_chased_and_when(world, policy):
    [a] = await world.item("SR-1", date(2025, 3, 14), ["市卫健委"])
    await plan_due(world.session_maker, local("2025-03-17 09:00"), policy)  # day 3: 逾期提醒
    await world.mark_sent()
    await plan_due(world.session_maker, local("2025-03-21 09:00"), policy)  # day 7: 督办
    rows = await world.shown()
    [liaison] = [r for r in rows if r.kind == "escalation"]
    assert liaison.payload["audience"] == "liaisons" and liaison.assignment_id == a.id
    batches = [r for r in rows if r.kind == "escalation_batch"]
    assert {r.payload["audience"] for r in batches} == {"leaders", "coordinators"}
    leader = next(r for r in batches if r.payload["audience"] == "leaders")
    text = render(leader, locale="zh_CN").text
    assert "张联络" in text and "2025" in text and "SR-1" in text
    assert leader.assignment_id is None  # a summary is about several items
    # a leader's 督办汇总 carries the plan's scorecard picture (sent first); a coordinator's not
    assert render(leader, locale="zh_CN").photo
    assert picture_view(leader, locale="zh_CN", zone=ZONE) is not None
    coordinator = next(r for r in batches if r.payload["audience"] == "coordinators")
    assert render(coordinator, locale="zh_CN").photo is None
    assert picture_view(coordinator, locale="zh_CN", zone=ZONE) is None


async def test_a_closed_item_is_not_chased_and_nobody_bound_means_nothing_yet(world, policy):
    await world.item("SR-1", date(2025, 3, 14), ["市卫健委"], status=CLOSED)
    await world.item("SR-2", date(2025, 3, 14), ["市人社局"])  # no liaison bound
    result = await plan_due(world.session_maker, local("2025-03-21 10:00"), policy, digests=False)
    assert result.inserted == 1  # only the coordinator hears about SR-2's 督办 (in a summary)
    assert result.by_audience == {"coordinators": 1}
    assert result.markers == 1  # the batched stage's bookkeeping: no per-item row shows it
    again = await plan_due(world.session_maker, local("2025-03-21 11:00"), policy, digests=False)
    assert (again.considered, again.new, again.inserted) == (0, 0, 0)


async def _leaders_and_coordinators(world):
    await world.person("钱领导", ROLE_LEADER, unit="市财政局", locale="en")
    await world.person("孙督办", ROLE_COORDINATOR, plan=True)


async def test_escalations_are_batched_once_a_day_per_leader_and_coordinator(world, policy):
    await _leaders_and_coordinators(world)
    for n, unit in enumerate(["市卫健委", "市卫健委", "市财政局", "市卫健委"]):
        await world.item(f"SR-{n}", date(2025, 3, 17 - n), [unit])  # 7..10 days overdue
    first = await plan_due(world.session_maker, local("2025-03-24 09:00"), policy, digests=False)
    rows = await world.shown()
    per_item = [r for r in rows if r.kind == "escalation" and r.chat_id]
    batches = [r for r in rows if r.kind == "escalation_batch"]
    # the liaisons: one message per item, with buttons
    assert sorted(r.payload["audience"] for r in per_item) == ["liaisons"] * 4
    assert all(render(r, locale="zh_CN").reply_markup for r in per_item)
    # one summary per leader (their unit's items) and per coordinator (every item)
    by_chat = {r.chat_id: r for r in batches}
    people = world.people
    names = ("王领导", "钱领导", "赵督办", "孙督办")
    assert set(by_chat) == {people[n].telegram_id for n in names}
    assert first.batches == 4 and first.markers == 0  # the liaison rows show every stage
    wang = by_chat[people["王领导"].telegram_id]
    assert wang.key == f"escalation_batch:SR:2025-03-24|{people['王领导'].telegram_id}"
    assert [i["ref"] for i in wang.payload["items"]] == ["SR-3", "SR-1", "SR-0"]  # worst first
    zhao = by_chat[people["赵督办"].telegram_id].payload
    assert zhao["total"] == 4 and [i["days"] for i in zhao["items"]] == [10, 9, 8, 7]
    text = render(by_chat[people["钱领导"].telegram_id], locale="en").text
    assert "Supervision summary" in text and "SR-2" in text and "/task" in text
    # later ticks the same day, a restart, the next days: nothing new until the next stage
    for instant in ("2025-03-24 09:00:30", "2025-03-24 15:00", "2025-03-25 09:00"):
        again = await plan_due(world.session_maker, local(instant), policy, digests=False)
        assert again.inserted == 0, instant
    # 03-28: SR-3 is 14 days overdue, its second 督办 goes to its leader and the coordinators
    await plan_due(world.session_maker, local("2025-03-28 09:00"), policy, digests=False)
    later = [r for r in await world.shown() if r.kind == "escalation_batch"]
    assert len(later) == 7 and len({r.key for r in later}) == 7
    new = [r for r in later if r.stage == "2025-03-28"]
    assert {tuple(i["ref"] for i in r.payload["items"]) for r in new} == {("SR-3",)}
    assert {r.chat_id for r in new} == {
        people[n].telegram_id for n in ("王领导", "赵督办", "孙督办")
    }


async def test_an_item_escalated_later_the_same_day_gets_a_follow_up_summary(world, policy):
    await world.item("SR-1", date(2025, 3, 17), ["市卫健委"])
    await plan_due(world.session_maker, local("2025-03-24 09:00"), policy, digests=False)
    [sr2] = await world.item("SR-2", date(2025, 3, 17), ["市人社局"])  # loaded in the afternoon
    result = await plan_due(world.session_maker, local("2025-03-24 15:00"), policy, digests=False)
    assert result.batches == 1  # the coordinator (市人社局 has no liaison nor leader)
    rows = [r for r in await world.shown() if r.kind == "escalation_batch"]
    chat = world.people["赵督办"].telegram_id
    assert sorted(r.key for r in rows if r.chat_id == chat) == [
        f"escalation_batch:SR:2025-03-24#2|{chat}",
        f"escalation_batch:SR:2025-03-24|{chat}",
    ]
    follow = next(r for r in rows if "#2" in r.key)
    assert [i["id"] for i in follow.payload["items"]] == [sr2.id]
    assert "（补充）" in render(follow, locale="zh_CN").text


async def test_switching_batching_off_sends_one_message_per_item(world):
    policy = load_policy(
        overrides={
            "brief": {"audiences": []},
            "overdue": {"liaison_weekday": 0, "batch_for": False},
        }
    )
    await world.item("SR-1", date(2025, 3, 14), ["市卫健委"])
    await world.item("SR-2", date(2025, 3, 13), ["市卫健委"])
    result = await plan_due(world.session_maker, local("2025-03-21 10:00"), policy, digests=False)
    assert result.batches == 0 and result.by_kind == {"escalation": 6}
    assert result.by_audience == {"liaisons": 2, "leaders": 2, "coordinators": 2}
    only_leaders = load_policy(
        overrides={"overdue": {"liaison_weekday": 0, "batch_for": ["leaders"]}}
    )
    assert only_leaders.defaults.batch_for == {"leaders"}


async def test_a_big_summary_is_capped_and_split_under_the_telegram_limit(world):
    policy = load_policy(
        overrides={
            "brief": {"audiences": []},
            "overdue": {"liaison_weekday": 0, "batch_max_items": 200},
        }
    )
    for n in range(150):
        await world.item(f"SR-{n}", date(2025, 3, 14), ["市卫健委"], title="很长的任务标题" * 8)
    await plan_due(world.session_maker, local("2025-03-21 09:00"), policy, digests=False)
    row = next(r for r in await world.shown() if r.kind == "escalation_batch")
    parts = render(row, locale="zh_CN").parts
    assert len(parts) > 1
    assert all(len(p.text.encode("utf-16-le")) // 2 <= MAX_TEXT for p in parts)
    capped = load_policy(
        overrides={
            "brief": {"audiences": []},
            "overdue": {"liaison_weekday": 0, "batch_max_items": 10},
        }
    )
    assert capped.defaults.batch_max_items == 10


async def test_the_digest_goes_once_a_week_to_each_chat(world, policy):
    await world.subscribe(-100123)
    await world.item("SR-1", date(2025, 3, 14), ["市卫健委"])
    await world.item("SR-2", date(2025, 3, 28), ["市财政局"])
    await world.item("SR-3", date(2025, 3, 1), ["市卫健委"], status=CLOSED)
    digests = []
    for instant in (
        "2025-03-24 08:59",
        "2025-03-24 09:00",
        "2025-03-24 09:00:30",
        "2025-03-26 15:00",
        "2025-03-31 09:05",
    ):
        result = await plan_due(world.session_maker, local(instant), policy)
        digests.append(result.digests)
    # coordinator, unit leader, group: once in week 13, once again in week 14
    assert digests == [0, 3, 0, 0, 3]
    rows = [r for r in await world.shown() if r.kind == "digest"]
    assert len({r.key for r in rows}) == 6
    assert {r.key for r in rows if r.chat_id == -100123} == {
        "digest:2025-W13:-100123",
        "digest:2025-W14:-100123",
    }
    coordinator = next(r for r in rows if r.payload["audience"] == "coordinators")
    text = render(coordinator, locale="zh_CN").text
    assert "SR-1" in text and "SR-2" in text
    leader = next(r for r in rows if r.payload["audience"] == "leaders")
    plan = leader.payload["plans"][0]
    assert [i["ref"] for i in plan["overdue"] + plan["newly_overdue"]] == ["SR-1"]  # their unit
    # the ranking is whole (every unit of the plan), so a leader sees where their unit stands
    assert {r["unit"] for r in leader.payload["ranking"]["rows"]} == {"市卫健委", "市财政局"}


async def test_a_long_digest_is_split_under_the_telegram_limit(world):
    policy = load_policy(
        overrides={"digest": {"max_items": 500}, "overdue": {"liaison_weekday": 0}}
    )
    for n in range(120):
        await world.item(f"SR-{n}", date(2025, 3, 1), ["市卫健委"], title="很长的任务标题" * 8)
    await plan_due(world.session_maker, local("2025-03-24 09:00"), policy)
    row = next(r for r in await world.shown() if r.kind == "digest")
    parts = render(row, locale="zh_CN").parts
    assert len(parts) > 1
    assert all(len(p.text.encode("utf-16-le")) // 2 <= MAX_TEXT for p in parts)
    assert parts[0].text.endswith(f"(1/{len(parts)})</i>")


async def test_the_acknowledgement_ladder_escalates_to_the_unit_leader(world, policy):
    await world.item(
        "SR-1",
        date(2025, 12, 31),
        ["市卫健委"],
        acknowledged=False,
        assigned_at=local("2025-06-09 10:00"),
    )
    await plan_due(world.session_maker, local("2025-06-12 10:00"), policy, digests=False)
    await world.mark_sent()
    second = await plan_due(world.session_maker, local("2025-06-16 10:00"), policy, digests=False)
    rows = await world.shown()
    assert [(r.kind, r.payload["audience"], r.status) for r in rows] == [
        ("ack_chase", "liaisons", "sent"),
        ("escalation_batch", "leaders", "pending"),  # the leader's 督办汇总
    ]
    # the mark: ack5 was planned (it has no Outbox row of its own), carried by the summary
    [mark] = await world.marks()
    assert (mark.kind, mark.stage) == ("escalation", "ack5")
    assert mark.liaisons == []  # no liaison got it in a list
    text = render(rows[1], locale="zh_CN").text
    assert "张联络" in text and "签收" in text
    assert second.batched_items == 1
    # the marker keeps the stage from being planned again, even after a restart
    again = await plan_due(world.session_maker, local("2025-06-17 10:00"), policy, digests=False)
    assert (again.considered, again.inserted) == (0, 0)


async def test_every_kind_renders_in_both_languages(world, policy):
    from bot.storage.models import Outbox

    base = {
        "plan": "SR",
        "plan_title": "P",
        "ref": "SR-1",
        "title": "T",
        "due": "2025-03-14",
        "days": 3,
        "unit": "U",
        "units": [{"name": "U", "role": "lead"}],
        "status": "in_progress",
        "acknowledged": False,
        "audience": "liaisons",
        "period_end": "2025-12-31",
        "note": "<b>快</b>",
        "by": "赵",
    }
    for kind in ("reminder", "ack_chase", "overdue", "escalation", "periodic", "chase"):
        for locale in ("zh_CN", "en"):
            row = Outbox(
                key=f"{kind}:1:x",
                kind=kind,
                chat_id=1,
                assignment_id=1,
                stage="x",
                payload=base,
                created_at=local("2025-01-01 00:00"),
                not_before=local("2025-01-01 00:00"),
            )
            rendered = render(row, locale=locale)
            assert "SR-1" in rendered.text and rendered.assignment_id == 1
    t0 = local("2025-01-01 00:00")
    row = Outbox(
        key="n",
        kind="notice",
        chat_id=1,
        payload={"text": "<b>hi</b>"},
        created_at=t0,
        not_before=t0,
    )
    assert render(row, locale="en").text == "<b>hi</b>"
    assert (
        "&lt;b&gt;快"
        in render(
            Outbox(
                key="c",
                kind="chase",
                chat_id=1,
                assignment_id=1,
                payload=base,
                created_at=local("2025-01-01 00:00"),
                not_before=local("2025-01-01 00:00"),
            ),
            locale="zh_CN",
        ).text
    )


async def test_snooze_defers_a_reminder_once_to_the_next_working_morning(world, policy):
    from bot.services.snooze import snooze_reminder

    await world.item("SR-1", date(2025, 10, 18), ["市卫健委"])
    await plan_due(world.session_maker, local("2025-09-30 10:00"), policy, digests=False)  # d30
    async with world.session_maker() as s:
        [row] = [r for r in await world.outbox() if r.kind == "reminder"]
        row.status, row.message_id = "sent", 77
        s.add(row)
        await s.commit()
    chat = world.people["张联络"].telegram_id

    async def snooze(at: str):
        async with world.session_maker() as s:
            outcome = await snooze_reminder(
                s,
                chat_id=chat,
                message_id=77,
                assignment_id=row.assignment_id,
                at=local(at),
                policy=policy,
            )
            await s.commit()
            return outcome

    first = await snooze("2025-09-30 10:05")
    assert first.code == "snoozed"
    assert first.not_before == local("2025-10-09 09:00")  # 国庆: the next working morning
    assert (await snooze("2025-09-30 10:06")).code == "already"
    rows = await world.shown()
    assert [r.key.endswith(":snoozed") for r in rows] == [False, True]
    assert "sz:" not in str(render(rows[1], locale="zh_CN").reply_markup)  # no second snooze


async def test_snooze_never_goes_past_the_due_date(world, policy):
    from bot.services.snooze import snooze_reminder

    await world.item("SR-1", date(2025, 10, 11), ["市卫健委"])  # d1 = Friday 10-10
    await plan_due(world.session_maker, local("2025-10-10 10:00"), policy, digests=False)
    async with world.session_maker() as s:
        [row] = await world.outbox()
        row.status, row.message_id = "sent", 5
        s.add(row)
        await s.commit()
    async with world.session_maker() as s:
        outcome = await snooze_reminder(
            s,
            chat_id=row.chat_id,
            message_id=5,
            assignment_id=row.assignment_id,
            at=local("2025-10-10 11:00"),
            policy=policy,
        )
    # 10-11 is a 调休 working Saturday and the due date itself: allowed
    assert outcome.code == "snoozed" and outcome.not_before == local("2025-10-11 09:00")
    async with world.session_maker() as s:
        late = await snooze_reminder(
            s,
            chat_id=row.chat_id,
            message_id=5,
            assignment_id=row.assignment_id,
            at=local("2025-10-11 11:00"),
            policy=policy,
        )
    assert late.code in ("already", "past_due")


async def test_a_first_start_sends_no_digest_for_a_week_it_did_not_track(world, policy):
    """Plans loaded (a fresh database's first start) on Wednesday: Monday's digest, about the
    week before, is not sent that week; the next Monday's is."""
    await world.subscribe(-100123)
    await world.item(
        "SR-1", date(2025, 3, 14), ["市卫健委"], assigned_at=local("2025-03-26 08:59")
    )
    digests = []
    for instant in ("2025-03-26 09:00", "2025-03-28 15:00", "2025-03-31 09:00"):
        digests.append((await plan_due(world.session_maker, local(instant), policy)).digests)
    assert digests == [0, 0, 3]
    assert {r.payload["week"] for r in await world.shown() if r.kind == "digest"} == {"2025-W14"}


async def test_a_restart_after_downtime_still_sends_the_weeks_digest(world, policy):
    """The ledger existed at Monday 09:00 and the bot was down until Wednesday: the week's
    digest goes out late, once (the documented catch-up)."""
    await world.item(
        "SR-1", date(2025, 3, 14), ["市卫健委"], assigned_at=local("2025-03-20 10:00")
    )
    result = await plan_due(world.session_maker, local("2025-03-26 10:00"), policy)
    assert result.digests == 2  # the coordinator and the unit's leader
