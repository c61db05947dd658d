"""Lean rows: a planned row refers to its item (the row's assignment and stage, what the stage
says) instead of copying it; the sender completes it from the ledger when it renders the
message, so the message shows the item as it is then. Rows written by earlier releases carry a
copy of their item and are sent as they are."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlmodel import select

from bot.core.notices import ItemNotice, UnitRef
from bot.services.planning import plan_due
from bot.storage.models import Assignment, Milestone, Outbox, Task
from bot.storage.outbox.delivery import as_rendered
from bot.telegram.notices import render as render_in
from tests.schedules.sched_helpers import ZONE, local
from tests.schedules.sched_world import T0

MONDAY = "2025-03-24 09:00"  # a working Monday


def render(row, *, locale: str = "zh_CN"):
    return render_in(row, locale=locale, zone=ZONE)


async def _retitle(world, assignment_id: int, title: str) -> None:
    async with world.session_maker() as s:
        a = await s.get(Assignment, assignment_id)
        m = await s.get(Milestone, a.milestone_id)
        task = await s.get(Task, m.task_id)
        task.title = title
        s.add(task)
        await s.commit()


async def _rendered(world, row: Outbox):
    async with world.session_maker() as s:
        return await as_rendered(s, row)


async def test_a_planned_row_refers_to_its_item_and_is_rendered_as_the_ledger_has_it(
    world, policy
):
    [a] = await world.item(
        "SR-1", date(2025, 3, 27), ["市卫健委"]
    )  # due in 3 days: the 7-day reminder
    await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    [row] = await world.outbox()
    # the stage, not the item: no title, ref, plan title or units in the payload
    assert row.assignment_id == a.id and row.stage == "d7@2025-03-27"
    assert set(row.payload) <= {"plan", "audience", "due", "days", "ladder", "period_end"}
    assert row.payload["days"] == 3 and row.payload["audience"] == "liaisons"
    assert len(json.dumps(row.payload, ensure_ascii=False)) < 120
    await _retitle(world, a.id, "新标题：建立长效机制")
    text = render(await _rendered(world, row)).text
    assert "SR-1" in text and "新标题：建立长效机制" in text and "市卫健委" in text
    assert "3" in text  # days left, from the row


async def test_summaries_and_lists_refer_to_their_items(world, policy):
    for k in range(1, 10):  # 1..9 days overdue: a flooded liaison's list, 督办 to leaders
        await world.item(f"SR-{k}", date(2025, 3, 24) - timedelta(days=k), ["市卫健委"])
    await plan_due(world.session_maker, local(MONDAY), policy, digests=False)
    stored = await world.outbox()
    lists = [r for r in stored if r.kind in ("overdue_batch", "escalation_batch")]
    assert {r.kind for r in lists} == {"overdue_batch", "escalation_batch"}
    for row in lists:
        assert "plan_title" not in row.payload
        for item in row.payload["items"]:  # [id, ref, kind, days, …]: no title, no unit
            assert isinstance(item, list) and item[1].startswith("SR-")
            assert not any("市卫健委" in str(value) for value in item)
    [listing] = [r for r in lists if r.kind == "overdue_batch"]
    first = listing.payload["items"][0]
    await _retitle(world, first[0], "改过的标题")
    text = render(await _rendered(world, listing)).text
    assert "改过的标题" in text and "SR-9" in text


async def test_rows_of_earlier_releases_are_sent_with_the_item_they_copied(world, policy):
    [a] = await world.item("SR-1", date(2025, 3, 20), ["市卫健委"])
    copied = ItemNotice(
        plan="SR",
        plan_title="上饶市<实施意见>",
        ref="SR-1",
        title="旧版本复制的标题",
        unit="市卫健委",
        unit_id=a.unit_id,
        status="not_started",
        units=(UnitRef("市卫健委", "lead"),),
        audience="liaisons",
        stage="od4@2025-03-20",
        due=date(2025, 3, 20),
        days=4,
        ladder="due",
    ).to_json()
    old_list = {
        "plan": "SR",
        "plan_title": "上饶市<实施意见>",
        "date": "2025-03-24",
        "audience": "liaisons",
        "total": 1,
        "counts": {"overdue": 1},
        "items": [
            {
                "id": a.id,
                "ref": "SR-1",
                "title": "旧清单里的标题",
                "unit": "市卫健委",
                "status": "not_started",
                "kind": "overdue",
                "ladder": "due",
                "days": 4,
                "due": "2025-03-20",
                "stage": "od4@2025-03-20",
            }
        ],
        "more": 0,
        "follow_up": 0,
    }
    chat = world.people["张联络"].telegram_id
    for key, kind, aid, payload in (
        (f"overdue:{a.id}:od4@2025-03-20|{chat}", "overdue", a.id, copied),
        (f"overdue_batch:SR:2025-03-24|{chat}", "overdue_batch", None, old_list),
    ):
        await world.add(
            Outbox(
                key=key,
                kind=kind,
                chat_id=chat,
                assignment_id=aid,
                stage="od4@2025-03-20" if aid else "2025-03-24",
                locale="zh_CN",
                payload=payload,
                created_at=T0,
                not_before=T0,
            )
        )
    await _retitle(world, a.id, "账本里的新标题")
    async with world.session_maker() as s:
        rows = (await s.exec(select(Outbox).order_by(Outbox.id))).all()
        shown = [await as_rendered(s, row) for row in rows]
    assert [r is row for r, row in zip(shown, rows, strict=True)] == [True, True]
    assert "旧版本复制的标题" in render(shown[0]).text
    assert "旧清单里的标题" in render(shown[1]).text
